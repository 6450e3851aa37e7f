"""RFC 9113 §6.8: GOAWAY — sent with the right last-stream-id, received, graceful."""
from __future__ import annotations

from blackbull.protocol.http2 import ConnectionTerminated, ErrorCode, RequestReceived
from tests.conftest_h2 import Raw, goaway_of, server_core


def test_connection_error_goaway_names_the_last_processed_stream() -> None:
    """RFC 9113 §6.8: Last-Stream-ID is the highest peer stream we may have acted on."""
    server = server_core()
    raw = Raw()
    server.receive_data(Raw.preface() + raw.headers(1) + raw.headers(3)
                        + Raw.frame(0x6, 0, 1, b"\0" * 8))
    goaway = goaway_of(server.data_to_send())
    assert goaway.last_stream_id == 3 and goaway.error_code == ErrorCode.PROTOCOL_ERROR


def test_graceful_goaway_ignores_newer_streams_but_finishes_older_ones() -> None:
    """RFC 9113 §6.8: after GOAWAY, streams above its last id are ignored; lower ones
    complete normally."""
    server = server_core()
    raw = Raw()
    server.receive_data(Raw.preface() + raw.headers(1, flags=("END_HEADERS",)))
    server.close_connection(ErrorCode.NO_ERROR)
    assert goaway_of(server.data_to_send()).last_stream_id == 1
    events = server.receive_data(raw.headers(3) + Raw.data(1, b"body", end=True))
    assert not any(isinstance(e, RequestReceived) for e in events)
    assert not server.terminated and 1 in server.streams
    server.send_headers(1, [(b":status", b"200")], end_stream=True)
    assert 1 not in server.streams


def test_goaway_received_is_reported() -> None:
    """RFC 9113 §6.8: the peer's GOAWAY surfaces with its code and last stream id."""
    server = server_core()
    server.receive_data(Raw.preface())
    events = server.receive_data(Raw.frame(0x7, 0, 0, (0).to_bytes(4, "big")
                                           + (0).to_bytes(4, "big") + b"bye"))
    assert events == [ConnectionTerminated(ErrorCode.NO_ERROR, 0, b"bye", remote=True)]


def test_goaway_on_a_stream_is_protocol_error() -> None:
    """RFC 9113 §6.8: GOAWAY applies to the connection; a stream id → PROTOCOL_ERROR."""
    server = server_core()
    server.receive_data(Raw.preface() + Raw.frame(0x7, 0, 1, b"\0" * 8))
    assert goaway_of(server.data_to_send()).error_code == ErrorCode.PROTOCOL_ERROR


def test_goaway_with_unknown_error_code_triggers_nothing_special() -> None:
    """RFC 9113 §7: unknown error codes MUST NOT trigger special behaviour; a PING after
    the peer's GOAWAY is still answered."""
    server = server_core()
    server.receive_data(Raw.preface())
    server.data_to_send()
    events = server.receive_data(Raw.frame(0x7, 0, 0, (0).to_bytes(4, "big")
                                           + (0x1234).to_bytes(4, "big"))
                                 + Raw.frame(0x6, 0, 0, b"h2spec  "))
    assert events[0].error_code == 0x1234 and not server.terminated
    from tests.conftest_h2 import parse_frames
    (ack,) = parse_frames(server.data_to_send())
    assert "ACK" in ack.flags and ack.opaque_data == b"h2spec  "
