"""RFC 9113 §8.1–§8.3: message framing, field validity, pseudo-headers (server role)."""
from __future__ import annotations

import pytest

from blackbull.protocol.http2 import (
    DataReceived,
    ErrorCode,
    RequestReceived,
    StreamEnded,
    TrailersReceived,
)
from tests.conftest_h2 import REQUEST, Raw, goaway_of, rst_of, server_core


def send(headers: list[tuple[str, str]], *extra: bytes, flags=("END_HEADERS", "END_STREAM")):
    server = server_core()
    server.receive_data(Raw.preface())
    server.data_to_send()
    events = server.receive_data(Raw().headers(1, headers, flags=flags) + b"".join(extra))
    return server, events, server.data_to_send()


GET = [(":method", "GET"), (":scheme", "https"), (":path", "/"), (":authority", "a")]


@pytest.mark.parametrize("headers", [
    GET + [("X-Upper", "1")],
    GET + [("connection", "keep-alive")],
    GET + [("transfer-encoding", "chunked")],
    GET + [("upgrade", "h2c")],
    GET + [("keep-alive", "1")],
    GET + [("proxy-connection", "1")],
    GET + [("te", "gzip")],
    GET + [(":unknown", "x")],
    [(":status", "200")] + GET,
    GET[:2] + [("x", "1"), (":path", "/")],
    GET + [(":path", "/again")],
    [(":method", "GET"), (":scheme", "https"), (":authority", "a")],
    [(":method", "GET"), (":scheme", "https"), (":path", ""), (":authority", "a")],
    [(":scheme", "https"), (":path", "/"), (":authority", "a")],
    [(":method", "GET"), (":path", "/"), (":authority", "a")],
    GET + [("x-bad", "a\nb")],
    GET + [("x-bad", " leading")],
    GET + [("x:colon", "1")],
    [(":method", "CONNECT"), (":authority", "a"), (":path", "/")],
    [(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "https"), (":path", "/"),
     (":authority", "a")],
    [(":method", "GET"), (":scheme", "https"), (":path", "index.html"), (":authority", "a")],
    [(":method", "GET"), (":scheme", "https"), (":path", "*"), (":authority", "a")],
], ids=["uppercase", "connection", "transfer-encoding", "upgrade", "keep-alive",
        "proxy-connection", "te-gzip", "unknown-pseudo", "response-pseudo",
        "pseudo-after-regular", "duplicate-pseudo", "no-path", "empty-path", "no-method",
        "no-scheme", "newline-value", "leading-space", "colon-in-name", "connect-with-path",
        "protocol-not-enabled", "relative-path", "asterisk-path-on-get"])
def test_malformed_request_is_stream_protocol_error(headers) -> None:
    """RFC 9113 §8.1.1/§8.2/§8.3.1: a malformed request → stream error PROTOCOL_ERROR."""
    server, events, out = send(headers)
    assert not any(isinstance(e, RequestReceived) for e in events)
    assert rst_of(out, 1).error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_of(out) is None


def test_te_trailers_and_connect_and_extended_connect_are_accepted() -> None:
    """RFC 9113 §8.2.2 (te: trailers), §8.5 (CONNECT), RFC 8441 §4 (:protocol)."""
    _, events, _ = send(GET + [("te", "trailers")])
    assert isinstance(events[0], RequestReceived)
    _, events, _ = send([(":method", "OPTIONS"), (":scheme", "https"), (":path", "*"),
                         (":authority", "a")])
    assert isinstance(events[0], RequestReceived)  # §8.3.1: "*" for server-wide OPTIONS
    _, events, _ = send([(":method", "CONNECT"), (":authority", "a:443")])
    assert isinstance(events[0], RequestReceived)
    server = server_core({8: 1})
    server.receive_data(Raw.preface() + Raw.frame(0x4, 1, 0, b""))
    events = server.receive_data(Raw().headers(1, [
        (":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "https"),
        (":path", "/chat"), (":authority", "a")], flags=("END_HEADERS",)))
    assert isinstance(events[0], RequestReceived)


def test_content_length_mismatch_is_stream_protocol_error() -> None:
    """RFC 9113 §8.1.1: content-length not equal to the DATA payload → malformed."""
    _, events, out = send(GET + [("content-length", "10")], Raw.data(1, b"short", end=True),
                          flags=("END_HEADERS",))
    assert rst_of(out, 1).error_code == ErrorCode.PROTOCOL_ERROR
    _, _, out = send(GET + [("content-length", "2")], Raw.data(1, b"toolong"),
                     flags=("END_HEADERS",))
    assert rst_of(out, 1).error_code == ErrorCode.PROTOCOL_ERROR
    _, _, out = send(GET + [("content-length", "3")])  # END_STREAM on HEADERS, no DATA
    assert rst_of(out, 1).error_code == ErrorCode.PROTOCOL_ERROR


def test_matching_content_length_is_accepted() -> None:
    """RFC 9113 §8.1.1: DATA summing to content-length is a well-formed body."""
    _, events, out = send(GET + [("content-length", "5")], Raw.data(1, b"he"),
                          Raw.data(1, b"llo", end=True), flags=("END_HEADERS",))
    assert [type(e) for e in events] == [RequestReceived, DataReceived, DataReceived, StreamEnded]
    assert rst_of(out) is None


def test_trailers_end_the_stream_and_must_not_carry_pseudo_headers() -> None:
    """RFC 9113 §8.1: a trailer section follows the body with END_STREAM and has no
    pseudo-header fields."""
    server = server_core()
    raw = Raw()
    server.receive_data(Raw.preface())
    events = server.receive_data(raw.headers(1, GET, flags=("END_HEADERS",))
                                 + Raw.data(1, b"body")
                                 + raw.headers(1, [("x-checksum", "abc")]))
    assert isinstance(events[2], TrailersReceived) and events[-1] == StreamEnded(1)
    server.data_to_send()
    server.receive_data(raw.headers(3, GET, flags=("END_HEADERS",))
                        + raw.headers(3, [(":path", "/x")]))
    assert rst_of(server.data_to_send(), 3).error_code == ErrorCode.PROTOCOL_ERROR


def test_request_with_body_keeps_the_stream_open() -> None:
    """RFC 9113 §8.1: a request's body follows in DATA frames until END_STREAM."""
    _, events, _ = send(REQUEST, flags=("END_HEADERS",))
    assert events == [RequestReceived(1, [(k.encode(), v.encode()) for k, v in REQUEST])]
