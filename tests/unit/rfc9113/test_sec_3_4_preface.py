"""RFC 9113 §3.4: the HTTP/2 connection preface, checked on the sans-I/O core."""
from __future__ import annotations

from blackbull.protocol.http2 import ConnectionTerminated, ErrorCode, RemoteSettingsChanged
from tests.conftest_h2 import PREFACE, Raw, goaway_of, server_core


def test_preface_split_across_reads_is_reassembled() -> None:
    """RFC 9113 §3.4: the 24-octet preface may arrive in pieces."""
    server = server_core()
    data = Raw.preface()
    events = []
    for i in range(len(data)):
        events += server.receive_data(data[i:i + 1])
    assert [type(e) for e in events] == [RemoteSettingsChanged]
    assert not server.terminated


def test_invalid_preface_is_a_protocol_error_with_goaway() -> None:
    """RFC 9113 §3.4: an invalid preface MUST be treated as a connection error
    PROTOCOL_ERROR."""
    server = server_core()
    events = server.receive_data(b"INVALID CONNECTION PREFACE\r\n\r\n")
    assert isinstance(events[-1], ConnectionTerminated)
    assert goaway_of(server.data_to_send()).error_code == ErrorCode.PROTOCOL_ERROR
    assert server.terminated


def test_first_frame_other_than_settings_is_a_protocol_error() -> None:
    """RFC 9113 §3.4: the preface MUST be followed by a SETTINGS frame."""
    server = server_core()
    server.receive_data(PREFACE + Raw.frame(0x6, 0, 0, b"\0" * 8))  # PING first
    assert goaway_of(server.data_to_send()).error_code == ErrorCode.PROTOCOL_ERROR


def test_server_preface_is_a_settings_frame_acked_by_the_peer() -> None:
    """RFC 9113 §3.4: the server preface is a (possibly empty) SETTINGS frame, and the
    server ACKs the client's SETTINGS."""
    from tests.conftest_h2 import parse_frames
    server = server_core(discard=False)
    out = parse_frames(server.data_to_send())
    assert type(out[0]).__name__ == "SettingsFrame" and "ACK" not in out[0].flags
    server.receive_data(Raw.preface())
    acks = parse_frames(server.data_to_send())
    assert [type(f).__name__ for f in acks] == ["SettingsFrame"] and "ACK" in acks[0].flags


def test_input_after_a_connection_error_is_ignored() -> None:
    """RFC 9113 §5.4.1: after GOAWAY for an error the endpoint closes; further bytes
    produce nothing."""
    server = server_core()
    server.receive_data(b"GET / HTTP/1.1\r\n\r\n")
    server.data_to_send()
    assert server.receive_data(Raw.preface()) == []
    assert server.data_to_send() == b""
