"""The HTTP/2 wire helper the h2 families share: raw frames out, parsed frames in, verdicts.

A probe opens an :class:`H2` on a connection from ``ctx.connect()`` (TLS brings ALPN
``h2``), sends the client preface and SETTINGS (RFC 9113 §3.4), and then exactly the frames
it needs: :func:`frame` builds any frame from type, flags, stream and payload bytes, so a
violation can be sent that a client library's state machine would refuse.  Incoming frames
are parsed with ``hyperframe`` (``Frame.parse_frame_header`` + ``parse_body``); a frame that
hyperframe refuses keeps its raw bytes and the reason, so it is shown rather than crashing
the probe.  Response header blocks are decoded with ``hpack`` (one decoder per connection,
as the RFC's shared compression context requires).

The judging helpers turn what arrived into a :class:`Verdict`:

* :meth:`H2.expect_connection_error` — GOAWAY with the code, or the connection closed or
  reset (RFC 9113 §5.4.1 lets the endpoint close without GOAWAY);
* :meth:`H2.expect_stream_error` — RST_STREAM on the stream with the code, or a connection
  error of the same code (RFC 9113 §5.4: an endpoint MAY treat a stream error as a
  connection error);
* :meth:`H2.expect_response` — a complete response on the stream.

After sending the violation a probe may send a PING: its ACK proves that the server read
past the violation, so "nothing happened" becomes a definite answer instead of a guess.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import hpack
from hyperframe.frame import Frame

from conformance.probes.model import Level, Verdict, probe
from conformance.probes.target import ProbeContext

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# Frame types (RFC 9113 §6, RFC 9218 §7.1).
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY = range(8)
WINDOW_UPDATE, CONTINUATION, PRIORITY_UPDATE = 0x8, 0x9, 0x10
TYPE_NAMES = {DATA: "DATA", HEADERS: "HEADERS", PRIORITY: "PRIORITY", RST_STREAM: "RST_STREAM",
              SETTINGS: "SETTINGS", PUSH_PROMISE: "PUSH_PROMISE", PING: "PING", GOAWAY: "GOAWAY",
              WINDOW_UPDATE: "WINDOW_UPDATE", CONTINUATION: "CONTINUATION",
              PRIORITY_UPDATE: "PRIORITY_UPDATE"}

# Flags.
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20

# Error codes (RFC 9113 §7).
NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR = 0x0, 0x1, 0x2, 0x3
SETTINGS_TIMEOUT, STREAM_CLOSED, FRAME_SIZE_ERROR, REFUSED_STREAM = 0x4, 0x5, 0x6, 0x7
CANCEL, COMPRESSION_ERROR, CONNECT_ERROR, ENHANCE_YOUR_CALM = 0x8, 0x9, 0xA, 0xB
INADEQUATE_SECURITY, HTTP_1_1_REQUIRED = 0xC, 0xD
CODE_NAMES = {NO_ERROR: "NO_ERROR", PROTOCOL_ERROR: "PROTOCOL_ERROR",
              INTERNAL_ERROR: "INTERNAL_ERROR", FLOW_CONTROL_ERROR: "FLOW_CONTROL_ERROR",
              SETTINGS_TIMEOUT: "SETTINGS_TIMEOUT", STREAM_CLOSED: "STREAM_CLOSED",
              FRAME_SIZE_ERROR: "FRAME_SIZE_ERROR", REFUSED_STREAM: "REFUSED_STREAM",
              CANCEL: "CANCEL", COMPRESSION_ERROR: "COMPRESSION_ERROR",
              CONNECT_ERROR: "CONNECT_ERROR", ENHANCE_YOUR_CALM: "ENHANCE_YOUR_CALM",
              INADEQUATE_SECURITY: "INADEQUATE_SECURITY", HTTP_1_1_REQUIRED: "HTTP_1_1_REQUIRED"}

# SETTINGS parameters (RFC 9113 §6.5.2, RFC 8441 §3, RFC 9218 §2.1).
HEADER_TABLE_SIZE, ENABLE_PUSH, MAX_CONCURRENT_STREAMS = 0x1, 0x2, 0x3
INITIAL_WINDOW_SIZE, MAX_FRAME_SIZE, MAX_HEADER_LIST_SIZE = 0x4, 0x5, 0x6
ENABLE_CONNECT_PROTOCOL, NO_RFC7540_PRIORITIES = 0x8, 0x9

PING_PAYLOAD = b"bbprobe!"

#: Both HTTP/2 transports: prior knowledge over TCP and ALPN h2 over TLS.
H2_TRANSPORTS = frozenset({"h2c", "h2"})


def code_name(code: int) -> str:
    return CODE_NAMES.get(code, f"0x{code:x}")


class Undecidable(Exception):
    """Raised when the probe cannot get far enough to judge (no server preface, no ALPN h2)."""


class NotApplicable(Exception):
    """Raised when the target does not offer what the probe needs."""


# -- building frames ------------------------------------------------------------------------

def frame(ftype: int, flags: int, stream: int, payload: bytes = b"", *,
          length: int | None = None) -> bytes:
    """Any frame, byte for byte (RFC 9113 §4.1); *length* overrides the length field."""
    n = len(payload) if length is None else length
    if not 0 <= n < 1 << 24:
        raise ValueError(f"a frame length of {n} does not fit the 24-bit length field")
    return struct.pack(">I", n)[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def settings_payload(pairs: Iterable[tuple[int, int]]) -> bytes:
    return b"".join(struct.pack(">HI", ident, value) for ident, value in pairs)


def settings(pairs: Iterable[tuple[int, int]] = (), *, ack: bool = False, stream: int = 0) -> bytes:
    return frame(SETTINGS, ACK if ack else 0, stream, settings_payload(pairs))


def ping(payload: bytes = PING_PAYLOAD, *, ack: bool = False, stream: int = 0) -> bytes:
    return frame(PING, ACK if ack else 0, stream, payload)


def rst_stream(stream: int, code: int = CANCEL) -> bytes:
    return frame(RST_STREAM, 0, stream, struct.pack(">I", code))


def window_update(stream: int, increment: int) -> bytes:
    return frame(WINDOW_UPDATE, 0, stream, struct.pack(">I", increment & 0xFFFFFFFF))


def goaway(last_stream: int = 0, code: int = NO_ERROR, debug: bytes = b"", *,
           stream: int = 0) -> bytes:
    return frame(GOAWAY, 0, stream, struct.pack(">II", last_stream, code) + debug)


def priority(stream: int, depends_on: int = 0, weight: int = 15, *, exclusive: bool = False) -> bytes:
    return frame(PRIORITY, 0, stream, priority_fields(depends_on, weight, exclusive))


def priority_fields(depends_on: int, weight: int = 15, exclusive: bool = False) -> bytes:
    return struct.pack(">IB", depends_on | (0x80000000 if exclusive else 0), weight)


def data(stream: int, payload: bytes = b"", *, end_stream: bool = False,
         pad: int | None = None, flags: int = 0) -> bytes:
    flags |= END_STREAM if end_stream else 0
    if pad is not None:
        return frame(DATA, flags | PADDED, stream, bytes([pad]) + payload + b"\0" * pad)
    return frame(DATA, flags, stream, payload)


def priority_update(prioritized: int, value: bytes, *, stream: int = 0) -> bytes:
    """RFC 9218 §7.1: PRIORITY_UPDATE (type 0x10) on stream 0 names the prioritized stream."""
    return frame(PRIORITY_UPDATE, 0, stream, struct.pack(">I", prioritized) + value)


# -- what arrives ---------------------------------------------------------------------------

@dataclass
class Got:
    """One frame the server sent; ``parsed`` is hyperframe's view (None when it refused)."""

    type: int
    flags: int
    stream: int
    payload: bytes
    parsed: Frame | None = None
    problem: str = ""
    reserved: int = 0  # the R bit of the stream identifier field

    @property
    def name(self) -> str:
        return TYPE_NAMES.get(self.type, f"type 0x{self.type:x}")

    @property
    def error_code(self) -> int | None:
        if self.type == GOAWAY and len(self.payload) >= 8:
            return struct.unpack(">I", self.payload[4:8])[0]
        if self.type == RST_STREAM and len(self.payload) >= 4:
            return struct.unpack(">I", self.payload[:4])[0]
        return None

    @property
    def last_stream(self) -> int | None:
        if self.type == GOAWAY and len(self.payload) >= 4:
            return struct.unpack(">I", self.payload[:4])[0] & 0x7FFFFFFF
        return None

    def is_ack(self) -> bool:
        return bool(self.flags & ACK) and self.type in (SETTINGS, PING)

    def describe(self) -> str:
        text = f"{self.name} stream={self.stream} flags=0x{self.flags:02x} len={len(self.payload)}"
        code = self.error_code
        if code is not None:
            text += f" code={code_name(code)}"
            if self.type == GOAWAY:
                text += f" last_stream={self.last_stream}"
                if len(self.payload) > 8:
                    text += f" debug={self.payload[8:80]!r}"
        elif self.type == SETTINGS and not self.flags & ACK:
            text += f" {dict(parse_settings(self.payload))}"
        elif self.type == WINDOW_UPDATE and len(self.payload) == 4:
            text += f" increment={struct.unpack('>I', self.payload)[0] & 0x7FFFFFFF}"
        elif self.type == PING:
            text += f" opaque={self.payload!r}"
        if self.problem:
            text += f" (malformed: {self.problem})"
        return text


def parse_settings(payload: bytes) -> list[tuple[int, int]]:
    return [struct.unpack(">HI", payload[i:i + 6]) for i in range(0, len(payload) - 5, 6)]


@dataclass
class Response:
    """What arrived on one stream: the header blocks, the body, how it ended."""

    stream: int
    blocks: list[list[tuple[str, str]]] = field(default_factory=list)
    raw_blocks: list[bytes] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    ended: bool = False
    reset: int | None = None
    data_frames: list[int] = field(default_factory=list)

    @property
    def headers(self) -> list[tuple[str, str]]:
        """The final response's header block (the first one with a non-1xx :status)."""
        for block in self.blocks:
            status = dict(block).get(":status", "")
            if not status.startswith("1"):
                return block
        return []

    @property
    def status(self) -> int | None:
        value = dict(self.headers).get(":status")
        return int(value) if value and value.isdigit() else None


class H2:
    """One HTTP/2 connection driven by hand, with a transcript of every frame both ways."""

    def __init__(self, ctx: ProbeContext, *, wire=None, alpn: list[str] | None = None) -> None:
        self.ctx = ctx
        self.wire = wire if wire is not None else ctx.connect(alpn)
        if ctx.tls and wire is None and alpn is None and self.wire.alpn != "h2":
            raise Undecidable(f"TLS handshake selected ALPN {self.wire.alpn!r}, not 'h2'")
        self.buf = b""
        self.frames: list[Got] = []
        self.closed = False
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.server_settings: dict[int, int] = {}
        self.server_settings_seen = False
        self.settings_acked = 0
        self.ping_acks: list[bytes] = []
        self.responses: dict[int, Response] = {}
        self.goaway: Got | None = None
        self.auto_ack_settings = True
        self._block: tuple[int, bytearray, int] | None = None  # stream, fragment, flags
        self.decode_problem = ""

    # -- connection setup ---------------------------------------------------------------

    @property
    def scheme(self) -> str:
        return "https" if self.ctx.tls else "http"

    @property
    def authority(self) -> str:
        return self.ctx.target.authority

    @property
    def path(self) -> str:
        return self.ctx.target.path

    def start(self, pairs: Iterable[tuple[int, int]] = (), *, wait_ack: bool = True,
              preface: bytes = PREFACE) -> H2:
        """Send the client preface and SETTINGS; wait for the server's SETTINGS (and our ACK)."""
        pairs = list(pairs)
        self.send(preface + settings(pairs), "client preface + SETTINGS " + str(pairs))
        deadline = time.monotonic() + self.ctx.timeout
        while time.monotonic() < deadline:
            if self.server_settings_seen and (self.settings_acked or not wait_ack):
                return self
            got = self.read(deadline - time.monotonic())
            if got is None and self.closed:
                break
            if got is not None and not self.server_settings_seen and got.type != SETTINGS:
                raise Undecidable(f"server preface did not start with SETTINGS: {got.describe()}")
        if not self.server_settings_seen:
            raise Undecidable("no server connection preface (SETTINGS) arrived"
                              + (" — the connection closed" if self.closed else ""))
        return self  # our SETTINGS not acknowledged in time; the probe can still judge

    # -- sending ------------------------------------------------------------------------

    def send(self, data: bytes, note: str = "") -> bool:
        return self.wire.send(data, note or describe_outgoing(data))

    def send_frames(self, *frames: bytes) -> bool:
        ok = True
        for f in frames:
            ok = self.send(f) and ok
        return ok

    def request_headers(self, method: str = "GET", path: str | None = None, *,
                        extra: Iterable[tuple[str, str]] = (), authority: bool = True,
                        scheme: str | None = None) -> list[tuple[str, str]]:
        headers = [(":method", method), (":scheme", scheme or self.scheme),
                   (":path", path if path is not None else self.path)]
        if authority:
            headers.append((":authority", self.authority))
        headers += list(extra)
        return headers

    def block(self, headers: Iterable[tuple[str, str]], *, huffman: bool = True) -> bytes:
        """An HPACK field block for *headers* (no validation: names and values as given)."""
        return self.encoder.encode([(n.encode("latin-1") if isinstance(n, str) else n,
                                     v.encode("latin-1") if isinstance(v, str) else v)
                                    for n, v in headers], huffman=huffman)

    def headers_frame(self, stream: int, block: bytes, *, end_stream: bool = True,
                      end_headers: bool = True, pad: int | None = None,
                      prio: bytes | None = None, flags: int = 0) -> bytes:
        flags |= (END_STREAM if end_stream else 0) | (END_HEADERS if end_headers else 0)
        payload = block
        if prio is not None:
            flags |= PRIORITY_FLAG
            payload = prio + payload
        if pad is not None:
            flags |= PADDED
            payload = bytes([pad]) + payload + b"\0" * pad
        return frame(HEADERS, flags, stream, payload)

    def send_request(self, stream: int, method: str = "GET", *, end_stream: bool = True,
                     extra: Iterable[tuple[str, str]] = (), headers: list[tuple[str, str]] | None = None,
                     **kw) -> bool:
        hs = headers if headers is not None else self.request_headers(method, extra=extra)
        return self.send(self.headers_frame(stream, self.block(hs), end_stream=end_stream, **kw),
                         f"HEADERS stream={stream}{' END_STREAM' if end_stream else ''} {hs}")

    def send_ping(self, payload: bytes = PING_PAYLOAD) -> bool:
        return self.send(ping(payload))

    # -- receiving ----------------------------------------------------------------------

    def read(self, timeout: float) -> Got | None:
        """The next frame within *timeout*; ``None`` on timeout or once closed (see ``closed``)."""
        deadline = time.monotonic() + max(timeout, 0)
        while True:
            got = self._take_frame()
            if got is not None:
                return got
            if self.closed:
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            chunk = self.wire.recv(left)
            if chunk is None:
                return None
            if chunk == b"":
                self.closed = True
                continue
            self.buf += chunk

    def _take_frame(self) -> Got | None:
        if len(self.buf) < 9:
            return None
        length = int.from_bytes(self.buf[:3], "big")
        if len(self.buf) < 9 + length:
            return None
        head, body = self.buf[:9], self.buf[9:9 + length]
        self.buf = self.buf[9 + length:]
        got = Got(type=head[3], flags=head[4],
                  stream=int.from_bytes(head[5:9], "big") & 0x7FFFFFFF, payload=bytes(body),
                  reserved=head[5] >> 7)
        try:
            parsed, _ = Frame.parse_frame_header(memoryview(head))
            parsed.parse_body(memoryview(body))
            got.parsed = parsed
        except Exception as exc:  # noqa: BLE001 - a malformed frame is shown, not fatal
            if got.type in TYPE_NAMES and got.type != PRIORITY_UPDATE:
                got.problem = f"{exc.__class__.__name__}: {exc}"
        self.frames.append(got)
        self.ctx.transcript.append("<< " + got.describe())
        self._track(got)
        return got

    def _track(self, got: Got) -> None:
        if got.type == SETTINGS:
            if got.flags & ACK:
                self.settings_acked += 1
            else:
                self.server_settings.update(parse_settings(got.payload))
                self.server_settings_seen = True
                if self.auto_ack_settings and not self.closed:
                    self.send(settings(ack=True), "SETTINGS ACK")
        elif got.type == PING and got.flags & ACK:
            self.ping_acks.append(got.payload)
        elif got.type == GOAWAY:
            self.goaway = got
        elif got.type == RST_STREAM:
            self.response(got.stream).reset = got.error_code
        elif got.type == DATA:
            resp = self.response(got.stream)
            body = got.payload
            if got.flags & PADDED and body:
                body = body[1:len(body) - body[0]] if body[0] < len(body) else b""
            resp.body += body
            resp.data_frames.append(len(got.payload))
            resp.ended = resp.ended or bool(got.flags & END_STREAM)
        elif got.type in (HEADERS, PUSH_PROMISE):
            payload = got.payload
            if got.flags & PADDED and payload:
                pad = payload[0]
                payload = payload[1:len(payload) - pad] if pad < len(payload) else b""
            if got.type == HEADERS and got.flags & PRIORITY_FLAG:
                payload = payload[5:]
            if got.type == PUSH_PROMISE:
                payload = payload[4:]
            self._block = (got.stream, bytearray(payload), got.flags)
            if got.flags & END_HEADERS:
                self._finish_block()
        elif got.type == CONTINUATION and self._block is not None:
            self._block[1].extend(got.payload)
            if got.flags & END_HEADERS:
                self._finish_block()

    def _finish_block(self) -> None:
        assert self._block is not None
        stream, fragment, flags = self._block
        self._block = None
        self.response(stream).raw_blocks.append(bytes(fragment))
        try:
            decoded = self.decoder.decode(bytes(fragment), raw=False)
        except Exception as exc:  # noqa: BLE001 - shown, not fatal
            self.decode_problem = f"HPACK decoding of the server's block failed: {exc}"
            self.ctx.transcript.append("!! " + self.decode_problem)
            return
        resp = self.response(stream)
        resp.blocks.append([(str(n), str(v)) for n, v in decoded])
        resp.ended = resp.ended or bool(flags & END_STREAM)
        self.ctx.transcript.append(f"   headers {decoded}")

    def response(self, stream: int) -> Response:
        return self.responses.setdefault(stream, Response(stream))

    def wait_for(self, pred: Callable[[Got], bool], timeout: float | None = None) -> Got | None:
        """Read until a frame matches *pred* (returned), the connection closes or time runs out."""
        deadline = time.monotonic() + (self.ctx.timeout if timeout is None else timeout)
        while True:
            got = self.read(deadline - time.monotonic())
            if got is None:
                return None
            if pred(got):
                return got

    def drain(self, timeout: float) -> list[Got]:
        """Every frame arriving within *timeout* (stops early when the connection closes)."""
        out: list[Got] = []
        deadline = time.monotonic() + timeout
        while not self.closed:
            got = self.read(deadline - time.monotonic())
            if got is None:
                break
            out.append(got)
        return out

    def seen(self) -> list[str]:
        return list(self.ctx.transcript[-40:])

    # -- judging ------------------------------------------------------------------------

    def expect_connection_error(self, code: int, *, ping: bool = True,
                                also: tuple[int, ...] = ()) -> Verdict:
        """GOAWAY with *code* (or one of *also*), or the connection closed/reset (§5.4.1).

        When several GOAWAY frames arrive the last one counts (RFC 9113 §6.8: receivers act
        on the most recent), so after a GOAWAY the probe reads on briefly.
        """
        codes = (code, *also)
        wanted = " or ".join(code_name(c) for c in codes)
        if ping and not self.closed:
            self.send_ping()
        deadline = time.monotonic() + self.ctx.timeout
        stream_reset: Got | None = None
        acked_at: float | None = None
        last_goaway: Got | None = None
        while True:
            left = deadline - time.monotonic()
            if acked_at is not None:
                left = min(left, acked_at + self._grace() - time.monotonic())
            if last_goaway is not None:
                left = min(left, 0.3)
            got = self.read(left)
            if got is None:
                break
            if got.type == GOAWAY:
                last_goaway = got
            if got.type == RST_STREAM and stream_reset is None:
                stream_reset = got
            if got.type == PING and got.flags & ACK and got.payload == PING_PAYLOAD:
                acked_at = time.monotonic()
        if last_goaway is not None:
            name = code_name(last_goaway.error_code or 0)
            if last_goaway.error_code in codes:
                return Verdict.passed(f"GOAWAY {name}")
            return Verdict.failed(f"GOAWAY {name}, expected {wanted}", self.seen())
        if self.closed:
            how = "reset" if self.wire.closed_by == "reset" else "closed"
            return Verdict.passed(f"connection {how} without GOAWAY (allowed by RFC 9113 §5.4.1)")
        if stream_reset is not None:
            early = self._closed_early(stream_reset.stream)
            if early:
                return early
            return Verdict.failed(f"only RST_STREAM {code_name(stream_reset.error_code or 0)} (a "
                                  f"stream error) where a connection error {wanted} is required",
                                  self.seen())
        if acked_at is not None:
            return Verdict.failed(f"no GOAWAY {wanted} and the connection stayed open (the PING "
                                  "sent after the violation was answered)", self.seen())
        return Verdict.undecided(f"nothing arrived within {self.ctx.timeout:g}s (not even a PING "
                                 "ACK)", self.seen())

    def _closed_early(self, stream: int) -> Verdict | None:
        """Undecided when the server completed a response on *stream* and reset it with
        NO_ERROR — RFC 9113 §8.1 lets a server answer before the request is complete and
        then abort the upload; frames on the stream after that are ignored by rule (§5.1),
        so the violation sent there may never have been judged by the server."""
        resp = self.responses.get(stream)
        if resp is not None and resp.ended and resp.reset == NO_ERROR:
            return Verdict.undecided(f"the server answered stream {stream} and reset it with "
                                     "NO_ERROR before the violation reached it (RFC 9113 §8.1): "
                                     "it then ignores frames on the stream", self.seen())
        return None

    def expect_stream_error(self, stream: int, code: int, *, ping: bool = True,
                            also: tuple[int, ...] = (), connection_ok: bool = True,
                            malformed: bool = False) -> Verdict:
        """RST_STREAM(*code*) on *stream*, or a connection error with *code* (RFC 9113 §5.4).

        A response before the reset is allowed.  With *malformed* (a malformed request,
        RFC 9113 §8.1.1: "a server MAY send an HTTP response prior to closing or resetting
        the stream"; §8.2.1: it SHOULD generate a 400) a 4xx response that closes the stream
        conforms as well; a successful response never does.
        """
        codes = (code, *also)
        wanted = " or ".join(code_name(c) for c in codes)
        if ping and not self.closed:
            self.send_ping()
        deadline = time.monotonic() + self.ctx.timeout
        settled_at: float | None = None
        while True:
            left = deadline - time.monotonic()
            if settled_at is not None:
                left = min(left, settled_at + self._grace() - time.monotonic())
            got = self.read(left)
            if got is None:
                break
            if got.type == RST_STREAM and got.stream == stream:
                early = self._closed_early(stream) if got.error_code == NO_ERROR else None
                if early:
                    return early
                if got.error_code in codes:
                    return Verdict.passed(f"RST_STREAM {code_name(got.error_code or 0)}")
                return Verdict.failed(f"RST_STREAM {code_name(got.error_code or 0)}, expected "
                                      f"{wanted}", self.seen())
            if got.type == GOAWAY:
                if got.error_code in codes and connection_ok:
                    return Verdict.passed(f"GOAWAY {code_name(got.error_code or 0)} (a connection "
                                          "error, allowed for a stream error by RFC 9113 §5.4)")
                return Verdict.failed(f"GOAWAY {code_name(got.error_code or 0)}, expected "
                                      f"RST_STREAM {wanted}", self.seen())
            if got.type == PING and got.flags & ACK and got.payload == PING_PAYLOAD:
                settled_at = settled_at or time.monotonic()
            resp = self.responses.get(stream)
            if resp is not None and resp.ended:
                settled_at = settled_at or time.monotonic()
        if self.closed and connection_ok:
            return Verdict.passed("connection closed (a connection error, allowed by RFC 9113 "
                                  "§5.4 and §5.4.1)")
        resp = self.responses.get(stream)
        if malformed and resp is not None and resp.ended and resp.status is not None \
                and 400 <= resp.status < 500:
            return Verdict.passed(f":status {resp.status} closing the stream (RFC 9113 §8.1.1 "
                                  "allows a response before closing a malformed request)")
        if resp is not None and resp.status is not None:
            how = "and ended the stream" if resp.ended else "without ending or resetting the stream"
            return Verdict.failed(f"answered :status {resp.status} {how}, no RST_STREAM {wanted}",
                                  self.seen())
        if settled_at is not None:
            return Verdict.failed(f"no RST_STREAM {wanted} on stream {stream}: the server went on "
                                  "(the PING after the violation was answered)", self.seen())
        return Verdict.undecided(f"nothing arrived within {self.ctx.timeout:g}s", self.seen())

    def expect_response(self, stream: int, *, ok_below: int = 400) -> Verdict:
        """A complete response on *stream* whose :status is below *ok_below*."""
        resp = self.wait_response(stream)
        if resp.status is None:
            return self._no_response(stream)
        if resp.status >= ok_below:
            return Verdict.failed(f":status {resp.status} where the request is valid", self.seen())
        return Verdict.passed(f":status {resp.status}, {len(resp.body)} body bytes")

    def wait_response(self, stream: int, timeout: float | None = None) -> Response:
        """Read until *stream* ended or was reset (or the connection went, or time ran out)."""
        def done(_: Got) -> bool:
            r = self.responses.get(stream)
            return r is not None and (r.ended or r.reset is not None) or self.goaway is not None
        r = self.responses.get(stream)
        if not (r is not None and (r.ended or r.reset is not None)):
            self.wait_for(done, timeout)
        return self.response(stream)

    def _no_response(self, stream: int) -> Verdict:
        resp = self.response(stream)
        if resp.reset is not None:
            return Verdict.failed(f"RST_STREAM {code_name(resp.reset)} instead of a response",
                                  self.seen())
        if self.goaway is not None:
            return Verdict.failed(f"GOAWAY {code_name(self.goaway.error_code or 0)} instead of a "
                                  "response", self.seen())
        if self.closed:
            return Verdict.failed("connection closed instead of a response", self.seen())
        if self.decode_problem:
            return Verdict.failed(self.decode_problem, self.seen())
        return Verdict.undecided(f"no response within {self.ctx.timeout:g}s", self.seen())

    def expect_alive(self) -> Verdict:
        """The connection is still usable: a PING sent now is answered, no GOAWAY/close."""
        payload = b"alive?!!"
        if not self.send_ping(payload):
            return Verdict.failed("the connection was closed", self.seen())
        got = self.wait_for(lambda g: g.type == GOAWAY or (g.type == PING and g.flags & ACK
                                                           and g.payload == payload))
        if got is not None and got.type == PING:
            return Verdict.passed("the connection stayed usable (PING answered)")
        if got is not None:
            return Verdict.failed(f"{got.describe()} where the frame must be ignored", self.seen())
        if self.closed:
            return Verdict.failed("connection closed where the frame must be ignored", self.seen())
        return Verdict.undecided("PING not answered in time", self.seen())

    def _grace(self) -> float:
        return min(1.0, self.ctx.timeout / 3)


def describe_outgoing(data: bytes) -> str:
    """A readable line for the transcript: the frames in *data* (or its bytes)."""
    parts, rest = [], data
    if rest.startswith(PREFACE):
        parts.append("PREFACE")
        rest = rest[len(PREFACE):]
    while len(rest) >= 9:
        length = int.from_bytes(rest[:3], "big")
        ftype, flags = rest[3], rest[4]
        stream = int.from_bytes(rest[5:9], "big")
        payload = rest[9:9 + length]
        name = TYPE_NAMES.get(ftype, f"type 0x{ftype:x}")
        parts.append(f"{name} stream={stream & 0x7FFFFFFF}{' R' if stream >> 31 else ''} "
                     f"flags=0x{flags:02x} len={length}"
                     + (f" payload={payload[:24].hex()}" if ftype not in (DATA, HEADERS) else ""))
        rest = rest[9 + length:]
    if rest:
        parts.append(repr(rest[:60]))
    return "; ".join(parts)


def h2_probe(id: str, *, level: Level, requirement: str, conforming: str,
             h2spec: tuple[str, ...] = (), transports: frozenset[str] = H2_TRANSPORTS,
             anchor: str = ""):
    """Register an HTTP/2 probe; an :class:`Undecidable` it raises becomes ``undecided``, a
    :class:`NotApplicable` becomes ``not-applicable``."""
    def register(func: Callable[[ProbeContext], Verdict]):
        def run(ctx: ProbeContext) -> Verdict:
            try:
                return func(ctx)
            except Undecidable as exc:
                return Verdict.undecided(str(exc), tuple(ctx.transcript[-40:]))
            except NotApplicable as exc:
                return Verdict.not_applicable(str(exc))
        run.__name__ = func.__name__
        run.__doc__ = func.__doc__
        probe(id, level=level, requirement=requirement, conforming=conforming,
              transports=transports, h2spec=h2spec, anchor=anchor)(run)
        return func
    return register


def started(ctx: ProbeContext, pairs: Iterable[tuple[int, int]] = (), **kw) -> H2:
    """A connection with the preface exchanged and our SETTINGS acknowledged."""
    return H2(ctx).start(pairs, **kw)


def opened(ctx: ProbeContext, stream: int = 1, method: str = "POST", **kw) -> H2:
    """A connection with *stream* open (HEADERS without END_STREAM) for the probe to go on."""
    h2 = started(ctx, **kw)
    h2.send_request(stream, method, end_stream=False)
    return h2


def half_closed_remote(ctx: ProbeContext, stream: int = 1) -> H2:
    """A connection where *stream* is half-closed (remote): our request ended, no response yet
    read.  The server may answer at once; probes judge frames it sends after."""
    h2 = started(ctx)
    h2.send_request(stream, "GET", end_stream=True)
    return h2


def completed(ctx: ProbeContext, stream: int = 1) -> H2:
    """A connection where *stream* is closed: a GET answered in full."""
    h2 = started(ctx)
    h2.send_request(stream, "GET")
    resp = h2.wait_response(stream)
    if not resp.ended:
        raise Undecidable(f"the GET on stream {stream} was not answered in full")
    return h2
