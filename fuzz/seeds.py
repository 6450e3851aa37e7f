"""Seed inputs of each target (valid messages), so the fuzzer starts from real shapes.

The first byte of every input is the split selector of :mod:`fuzz.targets`.
"""
from __future__ import annotations

import hashlib
import zlib
from pathlib import Path

import hpack

from fuzz.targets import _frame


def _h1() -> list[bytes]:
    return [
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"POST /x?y=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;ext=1\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n",
        b"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
    ]


def _block(**extra: str) -> bytes:
    headers = [(":method", "POST"), (":scheme", "http"), (":authority", "a"), (":path", "/")]
    return hpack.Encoder().encode(headers + list(extra.items()))


def _h2() -> list[bytes]:
    block = _block(**{"content-length": "2", "x-a": "b"})
    return [
        _frame(0x1, 0x4, 1, block) + _frame(0x0, 0x1, 1, b"hi"),
        _frame(0x1, 0x5, 1, block) + _frame(0x3, 0, 1, b"\0\0\0\x08"),
        _frame(0x1, 0x0, 1, block[:5]) + _frame(0x9, 0x4, 1, block[5:]),
        _frame(0x6, 0, 0, b"12345678") + _frame(0x8, 0, 0, b"\0\0\x10\0")
        + _frame(0x2, 0, 3, b"\0\0\0\x01\x10") + _frame(0x7, 0, 0, b"\0\0\0\0\0\0\0\0"),
        _frame(0x4, 0, 0, b"\0\x04\0\0\xff\xff") + _frame(0x10, 0, 0, b"\0\0\0\x01u=1"),
    ]


def _ws_frame(opcode: int, payload: bytes, fin: bool = True, rsv1: bool = False) -> bytes:
    mask = b"\x01\x02\x03\x04"
    head = bytes([(0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode, 0x80 | len(payload)])
    return head + mask + bytes(b ^ mask[i & 3] for i, b in enumerate(payload))


def _deflated(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return (c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]


def seeds() -> dict[str, list[bytes]]:
    ws = [_ws_frame(0x1, b"hello"), _ws_frame(0x2, b"\0\1", fin=False) + _ws_frame(0x0, b"x"),
          _ws_frame(0x9, b"ping") + _ws_frame(0x8, b"\x03\xe8bye"),
          _ws_frame(0x1, _deflated(b"hello hello hello"), rsv1=True)]
    return {
        "http1": [b"\x80" + s for s in _h1()],
        "h2-frames": [b"\x80" + s for s in _h2()],
        "h2-preface": [b"\x40PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0" + s
                       for s in _h2()],
        "hpack": [b"\x80" + _block(), b"\x81" + _block(**{"cookie": "a=b", "x": "y" * 50})],
        "ws-frames": [b"\x81" + s for s in ws] + [b"\x80" + s for s in ws[:3]],
        "ws-inflate": [b"\x80" + _deflated(b"a" * 1000), b"\x80" + _deflated(b"")],
    }


def write_seeds(name: str, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for data in seeds()[name]:
        (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)
