"""Fuzz targets: each takes arbitrary bytes and must return without an exception.

Protocol errors are values in these cores (GOAWAY/RST_STREAM, RequestRejected events,
close codes), so any exception that escapes a target is a bug. The first input byte
picks where the rest is cut in two, so split reads are exercised too.
"""
from __future__ import annotations

import struct
from collections.abc import Callable

from blackbull.protocol.http1.events import Data, EndOfMessage, Request, RequestRejected
from blackbull.protocol.http1.parser import RequestParser
from blackbull.protocol.http2 import H2Connection, RequestReceived, UsageError
from blackbull.protocol.http2.connection import PREFACE
from blackbull.protocol.websocket.connection import Role, WebSocketConnection
from blackbull.protocol.websocket.deflate import DeflateParams, PerMessageDeflate
from blackbull.protocol.websocket.errors import WebSocketProtocolError

Target = Callable[[bytes], None]
_H1_EVENTS = (Request, Data, EndOfMessage, RequestRejected)


def _split(data: bytes) -> tuple[bytes, bytes]:
    if not data:
        return b"", b""
    body = data[1:]
    cut = data[0] * len(body) // 256
    return body[:cut], body[cut:]


def http1_request_parser(data: bytes) -> None:
    """RFC 9112 request parsing with small limits (so the limit paths are reached)."""
    parser = RequestParser(max_request_line=512, max_header_bytes=2048, max_headers=16,
                           max_body=4096)
    for piece in _split(data):
        for event in parser.feed(piece):
            if not isinstance(event, _H1_EVENTS):
                raise AssertionError(f"unexpected event {event!r}")


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


def _h2_server() -> H2Connection:
    conn = H2Connection("server", {0x1: 4096, 0x3: 16, 0x4: 65535, 0x6: 8192},
                        reset_burst=50, flood_burst=50, clock=_Clock())
    conn.initiate_connection()
    conn.data_to_send()
    return conn


def _answer(conn: H2Connection, events: list) -> None:
    """Serve what the peer asked for, as the server would (exercises the send half)."""
    for event in events:
        if isinstance(event, RequestReceived):
            try:
                conn.send_headers(event.stream_id, [(b":status", b"200")])
                conn.send_data(event.stream_id, b"ok", end_stream=True)
            except UsageError:
                pass  # the stream went away meanwhile: a legal outcome
    conn.data_to_send()


def h2_server_frames(data: bytes) -> None:
    """RFC 9113: any frame sequence after a valid preface and SETTINGS."""
    conn = _h2_server()
    first, second = _split(data)
    _answer(conn, conn.receive_data(PREFACE + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00" + first))
    _answer(conn, conn.receive_data(second))


def h2_preface(data: bytes) -> None:
    """RFC 9113 §3.4: anything at all as the first bytes of a connection."""
    conn = _h2_server()
    for piece in _split(data):
        _answer(conn, conn.receive_data(piece))


def hpack_header_block(data: bytes) -> None:
    """RFC 7541 via RFC 9113 §4.3: the bytes are one header block (HEADERS, then
    CONTINUATION when the first byte says so) of a new stream."""
    conn = _h2_server()
    first, second = _split(data)
    start = PREFACE + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
    if data and data[0] & 1 and second:
        frames = (_frame(0x1, 0x1, 1, first) + _frame(0x9, 0x4, 1, second))
    else:
        frames = _frame(0x1, 0x5, 1, first + second)
    _answer(conn, conn.receive_data(start + frames))


def _frame(ftype: int, flags: int, sid: int, payload: bytes) -> bytes:
    payload = payload[:16384]
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", sid) + payload


def websocket_server_frames(data: bytes) -> None:
    """RFC 6455 §5: any bytes from a client, with permessage-deflate on when the first
    byte is odd (RFC 7692)."""
    deflate = PerMessageDeflate(DeflateParams(), is_server=True) if data and data[0] & 1 \
        else None
    conn = WebSocketConnection(Role.SERVER, deflate=deflate, max_frame_size=4096,
                               max_message_size=8192)
    for piece in _split(data):
        conn.receive_data(piece)
        conn.data_to_send()


def websocket_inflater(data: bytes) -> None:
    """RFC 7692 §7.2.2: a compressed message payload, capped at 64 KiB inflated."""
    codec = PerMessageDeflate(DeflateParams(), is_server=True)
    codec.start_message()
    try:
        for piece in _split(data):
            codec.inflate(piece, 65536)
        codec.finish_message(65536)
    except WebSocketProtocolError as exc:
        if exc.code not in (1007, 1009):
            raise


TARGETS: dict[str, Target] = {
    "http1": http1_request_parser,
    "h2-frames": h2_server_frames,
    "h2-preface": h2_preface,
    "hpack": hpack_header_block,
    "ws-frames": websocket_server_frames,
    "ws-inflate": websocket_inflater,
}
