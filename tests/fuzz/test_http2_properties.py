"""Property tests of the HTTP/2 core (RFC 9113) against the ``h2`` library as the
client: what a real peer encodes, our server decodes, however the bytes are cut."""
from __future__ import annotations

import h2.config
import h2.connection
from hypothesis import given
from hypothesis import strategies as st

from blackbull.protocol.http2 import (
    ConnectionTerminated,
    DataReceived,
    H2Connection,
    RequestReceived,
)
from fuzz.targets import h2_preface, h2_server_frames, hpack_header_block

NAME = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=16).filter(
    lambda n: n not in {"connection", "te", "keep-alive", "proxy-connection",
                        "transfer-encoding", "upgrade", "host", "content-length"})
VALUE = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ;=/,.:",
                max_size=60).map(str.strip)


@given(st.binary(max_size=4000))
def test_arbitrary_frames_never_raise(data: bytes) -> None:
    """RFC 9113 §5.4: every error in received frames is a GOAWAY or RST_STREAM value."""
    h2_server_frames(data)


@given(st.binary(max_size=500))
def test_arbitrary_preface_never_raises(data: bytes) -> None:
    """RFC 9113 §3.4: any first bytes are a preface, or a connection error."""
    h2_preface(data)


@given(st.binary(max_size=2000))
def test_arbitrary_header_blocks_never_raise(data: bytes) -> None:
    """RFC 7541 §3, RFC 9113 §4.3: an undecodable block is COMPRESSION_ERROR, never an
    exception."""
    hpack_header_block(data)


@given(st.binary(min_size=1, max_size=2000))
def test_connection_error_ends_with_goaway(data: bytes) -> None:
    """RFC 9113 §5.4.1: a connection error sends GOAWAY as the last frame."""
    conn = H2Connection("server")
    conn.initiate_connection()
    conn.data_to_send()
    events = conn.receive_data(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0" + data)
    out = conn.data_to_send()
    if events and isinstance(events[-1], ConnectionTerminated):
        frames = []
        pos = 0
        while pos + 9 <= len(out):
            length = int.from_bytes(out[pos:pos + 3], "big")
            frames.append(out[pos + 3])
            pos += 9 + length
        assert frames and frames[-1] == 0x7


@given(st.lists(st.tuples(NAME, VALUE), max_size=10), st.binary(max_size=3000),
       st.lists(st.integers(0, 100_000), max_size=5))
def test_h2_library_requests_decode_identically(headers, body: bytes, cuts) -> None:
    """RFC 9113 §8.1, RFC 7541: a request the h2 library sends (HPACK with its own
    dynamic table, DATA frames) arrives with the same fields and body at any split."""
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    client.initiate_connection()
    request = [(":method", "POST"), (":scheme", "http"), (":authority", "example"),
               (":path", "/p")] + [(n, v) for n, v in headers]
    client.send_headers(1, request, end_stream=not body)
    if body:
        client.send_data(1, body, end_stream=True)
    wire = client.data_to_send()
    server = H2Connection("server")
    server.initiate_connection()
    points = sorted({c % (len(wire) + 1) for c in cuts} | {0, len(wire)})
    events = []
    for start, end in zip(points, points[1:], strict=False):
        events += server.receive_data(wire[start:end])
    assert not any(isinstance(e, ConnectionTerminated) for e in events), events
    (req,) = [e for e in events if isinstance(e, RequestReceived)]
    got = [(n.decode(), v.decode()) for n, v in req.headers]
    assert got == [(n, v) for n, v in request]
    assert b"".join(e.data for e in events if isinstance(e, DataReceived)) == body
