"""The HTTP/2 core's abuse guards, sans I/O (RFC 9113 §10.5): a clock is injected, so
the token buckets are tested without waiting. The peer's bytes are written by the
``h2`` library where it can produce them, by hand where it refuses."""
from __future__ import annotations

import struct

import h2.config
import h2.connection

from blackbull.protocol.http2 import ConnectionTerminated, ErrorCode, H2Connection
from blackbull.protocol.http2.connection import PREFACE

SETTINGS = b"\0\0\0\x04\0\0\0\0\0"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _server(clock: Clock, **kw) -> H2Connection:
    conn = H2Connection("server", clock=clock, **kw)
    conn.initiate_connection()
    conn.data_to_send()
    conn.receive_data(PREFACE + SETTINGS)
    conn.data_to_send()
    return conn


def _frame(ftype: int, flags: int, sid: int, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", sid) + payload


def _terminated(events: list) -> ErrorCode | None:
    done = [e for e in events if isinstance(e, ConnectionTerminated)]
    return done[-1].error_code if done else None


def test_ping_flood_empties_the_flood_bucket() -> None:
    """RFC 9113 §6.7, §10.5 (CVE-2019-9512): PINGs beyond the burst → ENHANCE_YOUR_CALM."""
    conn = _server(Clock(), flood_burst=10)  # the client's SETTINGS took one token
    ping = _frame(0x6, 0, 0, b"12345678")
    assert _terminated(conn.receive_data(ping * 9)) is None
    assert _terminated(conn.receive_data(ping)) == ErrorCode.ENHANCE_YOUR_CALM


def test_flood_bucket_refills_with_time() -> None:
    """RFC 9113 §10.5: the bucket refills at its rate: a steady, slow PING is fine."""
    clock = Clock()
    conn = _server(clock, flood_burst=5, flood_rate=10.0)
    ping = _frame(0x6, 0, 0, b"12345678")
    for _ in range(100):
        clock.now += 0.1
        assert _terminated(conn.receive_data(ping)) is None


def test_empty_data_frames_count_as_flood_but_end_stream_does_not() -> None:
    """RFC 9113 §6.1, §10.5 (CVE-2019-9518): empty DATA without END_STREAM draws from the
    bucket; the one that ends the stream is a normal frame."""
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    client.initiate_connection()
    client.send_headers(1, [(":method", "POST"), (":scheme", "http"), (":authority", "a"),
                            (":path", "/")])
    conn = H2Connection("server", clock=Clock(), flood_burst=4)  # 1 for the SETTINGS
    conn.initiate_connection()
    assert _terminated(conn.receive_data(client.data_to_send())) is None
    empty = _frame(0x0, 0, 1)
    assert _terminated(conn.receive_data(empty * 3 + _frame(0x0, 0x1, 1))) is None


def test_server_sent_resets_draw_from_the_reset_bucket() -> None:
    """RFC 9113 §10.5 (MadeYouReset, CVE-2025-8671): stream errors the peer provokes
    (here WINDOW_UPDATE 0 on open streams) are counted like its own RST_STREAMs."""
    conn = _server(Clock(), reset_burst=5)
    encoder_client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    encoder_client.initiate_connection()
    encoder_client.data_to_send()
    data = b""
    for sid in range(1, 15, 2):
        encoder_client.send_headers(sid, [(":method", "GET"), (":scheme", "http"),
                                          (":authority", "a"), (":path", "/")])
        data += encoder_client.data_to_send() + _frame(0x8, 0, sid, b"\0\0\0\0")
    events = conn.receive_data(data)
    assert _terminated(events) == ErrorCode.ENHANCE_YOUR_CALM
    assert conn.data_to_send().count(b"\x00\x00\x04\x03") == 5  # five RST_STREAMs first
