"""The ceiling: a bare uvloop ``asyncio.Protocol`` with no framework and no ASGI.

HTTP/1.1: answers every request head (``\\r\\n\\r\\n``) with a canned keep-alive
``Hello, world!`` response — just enough for ``wrk`` GETs without bodies; nothing else of
RFC 9112 is implemented, which is the point: it measures what the event loop and the
socket path can do on this machine. WebSocket: the RFC 6455 §4.2.2 handshake, then every
frame is unmasked (§5.3) and echoed back unmasked, frame by frame. It exists to show the
head-room above every real server and the ceiling of the load clients.

Run: ``python bare_server.py PORT`` (uvloop when installed).
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import sys
from typing import cast

_RESPONSE = (b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 13\r\n\r\n"
             b"Hello, world!")
_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _unmask(payload: bytes, mask: bytes) -> bytes:
    """RFC 6455 §5.3: XOR with the 4-byte key, done on one big int for speed."""
    n = len(payload)
    if n == 0:
        return payload
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


def _frame_head(b0: int, length: int) -> bytes:
    """Server frame header (RFC 6455 §5.2), never masked."""
    if length < 126:
        return bytes((b0, length))
    if length < 65536:
        return bytes((b0, 126)) + length.to_bytes(2, "big")
    return bytes((b0, 127)) + length.to_bytes(8, "big")


class BareProtocol(asyncio.Protocol):
    """One connection: HTTP/1.1 hello until an Upgrade, then WebSocket echo."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.websocket = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.websocket:
            self._ws_frames()
        else:
            self._http_requests()

    def _http_requests(self) -> None:
        assert self.transport is not None
        count = self.buf.count(b"\r\n\r\n")
        if not count:
            return
        end = self.buf.rfind(b"\r\n\r\n") + 4
        head = bytes(self.buf[:end])
        del self.buf[:end]
        if b"websocket" in head.lower():
            self._ws_handshake(head)
            return
        self.transport.write(_RESPONSE * count)

    def _ws_handshake(self, head: bytes) -> None:
        """RFC 6455 §4.2.2: 101 with Sec-WebSocket-Accept = b64(sha1(key + GUID))."""
        assert self.transport is not None
        key = b""
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"sec-websocket-key":
                key = value.strip()
        accept = base64.b64encode(hashlib.sha1(key + _WS_GUID).digest())
        self.transport.write(b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n"
                             b"connection: Upgrade\r\nsec-websocket-accept: " + accept
                             + b"\r\n\r\n")
        self.websocket = True
        self._ws_frames()

    def _ws_frames(self) -> None:
        assert self.transport is not None
        buf = self.buf
        while len(buf) >= 2:
            b0, b1 = buf[0], buf[1]
            length, pos = b1 & 0x7F, 2
            if length == 126:
                if len(buf) < 4:
                    return
                length, pos = int.from_bytes(buf[2:4], "big"), 4
            elif length == 127:
                if len(buf) < 10:
                    return
                length, pos = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < pos + 4 + length:
                return
            mask = bytes(buf[pos:pos + 4])
            payload = _unmask(bytes(buf[pos + 4:pos + 4 + length]), mask)
            del buf[:pos + 4 + length]
            opcode = b0 & 0x0F
            if opcode == 0x9:  # ping → pong (§5.5.3)
                b0 = (b0 & 0xF0) | 0xA
            self.transport.write(_frame_head(b0, length) + payload)
            if opcode == 0x8:  # close: echo it back, then close the TCP connection (§5.5.1)
                self.transport.close()
                return


async def _main(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(BareProtocol, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        import uvloop
    except ImportError:
        asyncio.run(_main(int(sys.argv[1])))
    else:
        uvloop.run(_main(int(sys.argv[1])))
