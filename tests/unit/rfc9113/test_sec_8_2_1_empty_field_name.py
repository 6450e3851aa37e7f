"""RFC 9113 §8.2.1 with §5.4.1: a field section with an empty field name (CVE-2019-9516,
"0-length headers") is malformed; decoding stops at that field, so the HPACK context
(RFC 7541 §2.2) is lost and the stream error is raised to a connection error:
GOAWAY PROTOCOL_ERROR, naming the last stream processed."""
from __future__ import annotations

from blackbull.protocol.http2 import ErrorCode, RequestReceived
from tests.conftest_h2 import REQUEST, Raw, goaway_of, rst_of, server_core

EMPTY_NAME = b"\x00\x00\x00"  # literal without indexing, name "" (length 0), value ""


def _open():
    server = server_core()
    server.receive_data(Raw.preface())
    server.data_to_send()
    return server


def test_empty_field_name_in_request_is_connection_protocol_error() -> None:
    """RFC 9113 §8.2.1, §5.4.1: HEADERS with 200 empty names → GOAWAY PROTOCOL_ERROR,
    no request reaches the application, no RST_STREAM is spent on it."""
    server = _open()
    raw = Raw()
    events = server.receive_data(Raw.frame(0x1, 0x5, 1, raw.block() + EMPTY_NAME * 200))
    out = server.data_to_send()
    assert not any(isinstance(e, RequestReceived) for e in events)
    goaway = goaway_of(out)
    assert goaway is not None and goaway.error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway.last_stream_id == 0
    assert rst_of(out) is None
    assert server.terminated


def test_requests_before_the_malformed_one_are_kept() -> None:
    """RFC 9113 §6.8: the GOAWAY's last stream id covers the request already taken
    (stream 1); stream 3, with an empty name, is not processed."""
    server = _open()
    raw = Raw()
    events = server.receive_data(raw.headers(1, REQUEST)
                                 + Raw.frame(0x1, 0x5, 3, raw.block() + EMPTY_NAME))
    goaway = goaway_of(server.data_to_send())
    assert [e.stream_id for e in events if isinstance(e, RequestReceived)] == [1]
    assert goaway.error_code == ErrorCode.PROTOCOL_ERROR and goaway.last_stream_id == 1


def test_empty_field_name_in_trailers_is_connection_protocol_error() -> None:
    """RFC 9113 §8.1, §8.2.1: trailers are a field section too; an empty name there
    ends the connection the same way."""
    server = _open()
    raw = Raw()
    server.receive_data(raw.headers(1, REQUEST, flags=("END_HEADERS",)))
    server.data_to_send()
    server.receive_data(Raw.frame(0x1, 0x5, 1, b"\x00\x01x\x01y" + EMPTY_NAME))
    goaway = goaway_of(server.data_to_send())
    assert goaway is not None and goaway.error_code == ErrorCode.PROTOCOL_ERROR


def test_other_invalid_names_stay_stream_errors() -> None:
    """RFC 9113 §8.2.1, §8.1.1: a non-empty invalid name (uppercase) is decoded in full
    and costs only its stream (RST_STREAM PROTOCOL_ERROR); the connection goes on."""
    server = _open()
    raw = Raw()
    server.receive_data(Raw.frame(0x1, 0x5, 1, raw.block() + b"\x00\x01X\x00" * 50))
    out = server.data_to_send()
    assert rst_of(out, 1).error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_of(out) is None
    events = server.receive_data(raw.headers(3, REQUEST))
    assert any(isinstance(e, RequestReceived) for e in events)
