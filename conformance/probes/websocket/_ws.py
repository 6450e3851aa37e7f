"""The WebSocket opening handshake and frames, raw: requests built field by field (so a
probe can omit, double or spoil any of them), the accept value, the
Sec-WebSocket-Extensions grammar, and a minimal frame codec for after the handshake.

RFC 6455 §4.1 (client handshake), §4.2.2 (accept value), §5.2 (framing), §9.1
(extension header grammar); RFC 7692 §7 (permessage-deflate parameters).
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
import time
import zlib
from dataclasses import dataclass

from conformance.probes.http1._wire import (
    Exchange,
    Response,
    _End,
    open_exchange,
    request,
)
from conformance.probes.target import ProbeContext

WS = frozenset({"ws", "wss"})
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 §1.3's example; accept s3pPLMBiTxaQ9kYGzzhZRbK+xOo=

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def new_key() -> str:
    return base64.b64encode(os.urandom(16)).decode()


def accept_for(key: str) -> str:
    """RFC 6455 §4.2.2 item 5.4: base64(SHA-1(key + GUID))."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


#: The fields of a valid client handshake, in the order a probe sends them (RFC 6455 §4.1).
def handshake_fields(key: str, *, extensions: str | None = None,
                     protocols: str | None = None) -> list[tuple[str, str]]:
    fields = [("Upgrade", "websocket"), ("Connection", "Upgrade"),
              ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "13")]
    if extensions is not None:
        fields.append(("Sec-WebSocket-Extensions", extensions))
    if protocols is not None:
        fields.append(("Sec-WebSocket-Protocol", protocols))
    return fields


def handshake_bytes(ctx: ProbeContext, fields: list[tuple[str, str]], *, method: str = "GET",
                    version: str = "HTTP/1.1", host: str | None = "") -> bytes:
    return request(method, ctx=ctx, headers=fields, version=version, host=host)


@dataclass
class Handshake:
    ex: Exchange
    got: Response | _End
    key: str

    @property
    def response(self) -> Response | None:
        return self.got if isinstance(self.got, Response) else None

    @property
    def switched(self) -> bool:
        return isinstance(self.got, Response) and self.got.status == 101


def open_handshake(ctx: ProbeContext, fields: list[tuple[str, str]] | None = None, *,
                   key: str | None = None, extensions: str | None = None,
                   protocols: str | None = None, method: str = "GET",
                   version: str = "HTTP/1.1", host: str | None = "") -> Handshake:
    """Send one handshake (the valid one unless *fields* is given) and read the answer."""
    key = key or new_key()
    if fields is None:
        fields = handshake_fields(key, extensions=extensions, protocols=protocols)
    ex = open_exchange(ctx)
    ex.send(handshake_bytes(ctx, fields, method=method, version=version, host=host))
    got, _ = ex.final()
    return Handshake(ex, got, key)


# -- Sec-WebSocket-Extensions (RFC 6455 §9.1) -----------------------------------------------

Params = list[tuple[str, str | None]]


def parse_extensions(values: list[str]) -> list[tuple[str, Params]] | str:
    """Elements of the header's values: ``[(name, [(param, value or None)])]``, or why the
    text does not match the grammar (a quoted value is unquoted, RFC 6455 §9.1)."""
    elements: list[tuple[str, Params]] = []
    for value in values:
        for element in _split(value, ","):
            if not element.strip():
                continue
            parts = _split(element, ";")
            name = parts[0].strip()
            if not _is_token(name):
                return f"extension name {name!r} is not a token"
            params: Params = []
            for part in parts[1:]:
                pname, eq, pvalue = part.partition("=")
                pname = pname.strip()
                if not _is_token(pname):
                    return f"parameter name {pname!r} is not a token"
                if not eq:
                    params.append((pname, None))
                    continue
                pvalue = pvalue.strip()
                if len(pvalue) >= 2 and pvalue[0] == pvalue[-1] == '"':
                    pvalue = pvalue[1:-1].replace('\\"', '"').replace("\\\\", "\\")
                if not _is_token(pvalue):
                    return f"parameter value {pvalue!r} is not a token"
                params.append((pname, pvalue))
            elements.append((name, params))
    return elements


def _split(text: str, sep: str) -> list[str]:
    out, cur, quoted, escaped = [], [], False, False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            out.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    out.append("".join(cur))
    return out


_TCHAR = set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _is_token(text: str) -> bool:
    return bool(text) and all(c in _TCHAR for c in text)


# -- frames (RFC 6455 §5.2) -----------------------------------------------------------------

def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv1: bool = False,
          mask: bool = True) -> bytes:
    head = bytes([(0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode])
    n = len(payload)
    bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


@dataclass
class Frame:
    fin: bool
    rsv1: bool
    rsv: int
    opcode: int
    masked: bool
    payload: bytes

    def describe(self) -> str:
        names = {0: "CONT", 1: "TEXT", 2: "BINARY", 8: "CLOSE", 9: "PING", 10: "PONG"}
        flags = ("FIN " if self.fin else "") + ("RSV1 " if self.rsv1 else "") + \
            ("MASKED " if self.masked else "")
        return f"{names.get(self.opcode, hex(self.opcode))} {flags}{self.payload[:40]!r}"


def read_frame(ex: Exchange, timeout: float) -> Frame | _End:
    """The next server frame, reading after the 101 (the reader keeps any extra bytes)."""
    from conformance.probes.http1._wire import CLOSED, SILENT

    reader = ex.reader
    deadline = time.monotonic() + timeout
    while True:
        parsed = _parse_frame(reader.buf)
        if parsed is not None:
            fr, used = parsed
            reader.buf = reader.buf[used:]
            ex.wire.transcript.append(f"<< frame {fr.describe()}")
            return fr
        if not reader._fill(deadline):
            if reader.eof:
                ex.wire.transcript.append("<< (closed)")
                return CLOSED
            return SILENT


def _parse_frame(buf: bytes) -> tuple[Frame, int] | None:
    if len(buf) < 2:
        return None
    b0, b1 = buf[0], buf[1]
    n, pos = b1 & 0x7F, 2
    if n == 126:
        if len(buf) < 4:
            return None
        n, pos = struct.unpack("!H", buf[2:4])[0], 4
    elif n == 127:
        if len(buf) < 10:
            return None
        n, pos = struct.unpack("!Q", buf[2:10])[0], 10
    masked = bool(b1 & 0x80)
    key = b""
    if masked:
        if len(buf) < pos + 4:
            return None
        key, pos = buf[pos:pos + 4], pos + 4
    if len(buf) < pos + n:
        return None
    payload = buf[pos:pos + n]
    if masked:
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return Frame(bool(b0 & 0x80), bool(b0 & 0x40), (b0 >> 4) & 0x7, b0 & 0x0F, masked,
                 payload), pos + n


def read_message(ex: Exchange, timeout: float) -> tuple[list[Frame], _End | None]:
    """Frames up to the end of the next data message (control frames in between kept)."""
    frames: list[Frame] = []
    deadline = time.monotonic() + timeout
    while True:
        fr = read_frame(ex, max(deadline - time.monotonic(), 0.0))
        if not isinstance(fr, Frame):
            return frames, fr
        frames.append(fr)
        if fr.opcode in (OP_TEXT, OP_BINARY, OP_CONT) and fr.fin:
            return frames, None
        if fr.opcode == OP_CLOSE:
            return frames, None


def deflate_message(payload: bytes) -> bytes:
    """RFC 7692 §7.2.1: compress, then drop the trailing 0x00 0x00 0xff 0xff."""
    comp = zlib.compressobj(wbits=-15)
    data = comp.compress(payload) + comp.flush(zlib.Z_SYNC_FLUSH)
    return data[:-4] if data.endswith(b"\x00\x00\xff\xff") else data


def inflate_message(data: bytes, wbits: int = 15,
                    inflater: zlib._Decompress | None = None) -> bytes:
    """RFC 7692 §7.2.2: append 0x00 0x00 0xff 0xff and inflate (raw DEFLATE)."""
    d = inflater or zlib.decompressobj(wbits=-wbits)
    return d.decompress(data + b"\x00\x00\xff\xff")


def connection_failed(ex: Exchange, timeout: float, what: str):
    """RFC 6455 §7.1.7 "Fail the WebSocket Connection": the server closes the connection
    (a Close frame first, 1002 typically, is fine; the probe answers it).  Data or a Pong
    in reply means *what* was processed instead."""
    from conformance.probes.http1._wire import CLOSED
    from conformance.probes.model import Verdict

    seen: list[Frame] = []
    while True:
        fr = read_frame(ex, timeout)
        if fr is CLOSED:
            break
        if not isinstance(fr, Frame):
            return Verdict.failed(f"the connection stayed open after {what}: "
                                  f"{[f.describe() for f in seen]}")
        seen.append(fr)
        if fr.opcode in (OP_TEXT, OP_BINARY, OP_CONT, OP_PONG):
            return Verdict.failed(f"{what} was processed: {fr.describe()}")
        if fr.opcode == OP_CLOSE:
            ex.send(frame(OP_CLOSE, fr.payload[:2]), note="Close (answering the server's)")
    codes = [struct.unpack("!H", f.payload[:2])[0] for f in seen
             if f.opcode == OP_CLOSE and len(f.payload) >= 2]
    return Verdict.passed(f"closed (close codes {codes})" if codes else "closed")
