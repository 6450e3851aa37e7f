"""A raw WebSocket attacker over loopback (RFC 6455 §5), with permessage-deflate
(RFC 7692) frames compressed by :mod:`zlib` here."""
from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
import zlib

TEXT, BINARY, CONT, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA


def ws_frame(opcode: int, payload: bytes = b"", *, fin: bool = True, mask: bool = True,
             rsv1: bool = False, length: int | None = None) -> bytes:
    """One frame; ``length`` overrides the declared payload length (a lie)."""
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode])
    bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 1 << 16:
        head += bytes([bit | 126]) + struct.pack(">H", n)
    else:
        head += bytes([bit | 127]) + struct.pack(">Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    masked = bytes(b ^ key[i & 3] for i, b in enumerate(payload)) if len(payload) < 256 else \
        _mask_fast(payload, key)
    return head + key + masked


def _mask_fast(payload: bytes, key: bytes) -> bytes:
    n = len(payload)
    k = int.from_bytes((key * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(payload, "big") ^ k).to_bytes(n, "big")


def deflate_message(data: bytes) -> bytes:
    """RFC 7692 §7.2.1: raw DEFLATE with the trailing 00 00 ff ff removed."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4]


class WsAttacker:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 response: bytes) -> None:
        self.reader = reader
        self.writer = writer
        self.response = response
        self.close_code: int | None = None
        self.closed = False
        self.pongs = 0
        self._buf = b""

    @classmethod
    async def open(cls, port: int, deflate: bool = False, path: str = "/ws",
                   rcvbuf: int | None = None) -> WsAttacker:
        """``rcvbuf`` fixes our socket's receive buffer (no autotuning, up to 32 MiB
        here): a peer that does not read then holds little of what the server sends."""
        if rcvbuf is None:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        else:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
            reader, writer = await asyncio.open_connection(sock=sock)
        key = base64.b64encode(os.urandom(16)).decode()
        ext = "Sec-WebSocket-Extensions: permessage-deflate\r\n" if deflate else ""
        writer.write((f"GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                      f"Sec-WebSocket-Version: 13\r\n{ext}\r\n").encode())
        response = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        if not response.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(f"no upgrade: {response[:80]!r}")
        if deflate and b"permessage-deflate" not in response.lower():
            raise ConnectionError("permessage-deflate not negotiated")
        return cls(reader, writer, response)

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def drain(self, timeout: float = 2.0) -> bool:
        try:
            await asyncio.wait_for(self.writer.drain(), timeout)
            return True
        except (TimeoutError, ConnectionError):
            return False

    def _parse(self) -> None:
        buf = self._buf
        while len(buf) >= 2:
            opcode = buf[0] & 0x0F
            n = buf[1] & 0x7F
            pos = 2
            if n == 126:
                if len(buf) < 4:
                    break
                n, pos = struct.unpack(">H", buf[2:4])[0], 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n, pos = struct.unpack(">Q", buf[2:10])[0], 10
            if len(buf) < pos + n:
                break
            payload = buf[pos:pos + n]
            buf = buf[pos + n:]
            if opcode == CLOSE:
                self.close_code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 \
                    else 1005
            elif opcode == PONG:
                self.pongs += 1
        self._buf = buf

    async def read_close(self, timeout: float = 5.0) -> int | None:
        """Read until the server's Close frame (its code) or EOF/timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.close_code is None and not self.closed:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                chunk = await asyncio.wait_for(self.reader.read(65536), remaining)
            except TimeoutError:
                break
            except ConnectionError:
                chunk = b""
            if not chunk:
                self.closed = True
                break
            self._buf += chunk
            self._parse()
        return self.close_code

    def answer(self) -> str:
        if self.close_code is not None:
            return f"close {self.close_code}"
        return "EOF without close" if self.closed else "no answer"

    def close(self) -> None:
        self.writer.close()
