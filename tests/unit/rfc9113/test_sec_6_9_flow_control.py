"""RFC 9113 §6.9: flow control, connection and stream level, both directions."""
from __future__ import annotations

import pytest

from blackbull.protocol.http2 import ErrorCode, UsageError, WindowUpdated
from tests.conftest_h2 import (
    REQUEST,
    Raw,
    connected_pair,
    goaway_of,
    parse_frames,
    rst_of,
    server_core,
)


def window_updates(data: bytes) -> list:
    return [f for f in parse_frames(data) if type(f).__name__ == "WindowUpdateFrame"]


def ready() -> tuple:
    server = server_core()
    server.receive_data(Raw.preface())
    server.data_to_send()
    raw = Raw()
    server.receive_data(raw.headers(1, flags=("END_HEADERS",)))
    return server, raw


def test_data_beyond_the_stream_window_is_stream_flow_control_error() -> None:
    """RFC 9113 §6.9.1: a sender MUST NOT exceed the window; the receiver answers a
    stream-level violation with RST_STREAM FLOW_CONTROL_ERROR."""
    server, raw = ready()
    server.increment_connection_window(1 << 20)
    for _ in range(4):
        server.receive_data(Raw.data(1, b"x" * 16384))
    server.receive_data(Raw.data(1, b"x" * 100))
    out = server.data_to_send()
    assert rst_of(out, 1).error_code == ErrorCode.FLOW_CONTROL_ERROR
    assert goaway_of(out) is None


def test_data_beyond_the_connection_window_is_connection_flow_control_error() -> None:
    """RFC 9113 §6.9.1: exceeding the connection window is a connection error."""
    server, raw = ready()
    for sid in (3, 5):
        server.receive_data(raw.headers(sid, flags=("END_HEADERS",)))
    for sid in (1, 3, 5):
        server.receive_data(Raw.data(sid, b"x" * 16384) + Raw.data(sid, b"x" * 6000))
    assert goaway_of(server.data_to_send()).error_code == ErrorCode.FLOW_CONTROL_ERROR


def test_window_updates_are_batched_not_one_per_data_frame() -> None:
    """RFC 9113 §6.9: credit is returned once half a window is consumed, not per frame."""
    server, raw = ready()
    sent = []
    for _ in range(40):
        server.receive_data(Raw.data(1, b"x" * 1000))
        server.acknowledge_received_data(1000, 1)
        sent += window_updates(server.data_to_send())
    stream_updates = [f for f in sent if f.stream_id == 1]
    assert 0 < len(stream_updates) <= 2
    assert sum(f.window_increment for f in stream_updates) <= 40000


def test_window_update_never_raises_a_window_above_2_31_minus_1() -> None:
    """RFC 9113 §6.9.1: a flow-control window MUST NOT exceed 2^31-1."""
    server, raw = ready()
    server.increment_connection_window(2**31 - 1)
    assert server.inbound_window == 2**31 - 1
    server.acknowledge_received_data(10**6, 1)
    for f in window_updates(server.data_to_send()):
        if f.stream_id == 0:
            assert f.window_increment <= 2**31 - 1 - 65535
    assert server.inbound_window <= 2**31 - 1


@pytest.mark.parametrize("sid,expect_goaway", [(0, True), (1, False)])
def test_zero_increment_is_protocol_error_of_the_right_scope(sid: int, expect_goaway: bool) -> None:
    """RFC 9113 §6.9: increment 0 → PROTOCOL_ERROR, stream error unless on stream 0."""
    server, raw = ready()
    server.receive_data(Raw.frame(0x8, 0, sid, b"\0\0\0\0"))
    out = server.data_to_send()
    if expect_goaway:
        assert goaway_of(out).error_code == ErrorCode.PROTOCOL_ERROR
    else:
        assert rst_of(out, 1).error_code == ErrorCode.PROTOCOL_ERROR and goaway_of(out) is None


@pytest.mark.parametrize("sid", [0, 1])
def test_window_overflow_is_flow_control_error(sid: int) -> None:
    """RFC 9113 §6.9.1: a WINDOW_UPDATE making a window exceed 2^31-1 → FLOW_CONTROL_ERROR
    (RST_STREAM for a stream, GOAWAY for the connection)."""
    server, raw = ready()
    server.receive_data(Raw.frame(0x8, 0, sid, (2**31 - 1).to_bytes(4, "big")))
    out = server.data_to_send()
    if sid == 0:
        assert goaway_of(out).error_code == ErrorCode.FLOW_CONTROL_ERROR
    else:
        assert rst_of(out, 1).error_code == ErrorCode.FLOW_CONTROL_ERROR


def test_window_update_wrong_length_is_frame_size_error() -> None:
    """RFC 9113 §6.9: a WINDOW_UPDATE not 4 octets long → FRAME_SIZE_ERROR."""
    server, raw = ready()
    server.receive_data(Raw.frame(0x8, 0, 0, b"\0\0\0\0\x01"))
    assert goaway_of(server.data_to_send()).error_code == ErrorCode.FRAME_SIZE_ERROR


def test_sending_respects_both_windows_and_updates_reopen_them() -> None:
    """RFC 9113 §6.9: DATA must fit the stream and connection windows; WINDOW_UPDATE
    from the peer adds credit."""
    server, client = connected_pair()
    sid = client.get_next_available_stream_id()
    client.send_headers(sid, REQUEST, end_stream=True)
    server.receive_data(client.data_to_send())
    server.send_headers(sid, [(b":status", b"200")])
    server.send_data(sid, b"x" * 65535)
    assert server.local_flow_control_window(sid) == 0
    with pytest.raises(UsageError):
        server.send_data(sid, b"x")
    client.receive_data(server.data_to_send())
    client.increment_flow_control_window(10)
    client.increment_flow_control_window(20, stream_id=sid)
    events = server.receive_data(client.data_to_send())
    assert WindowUpdated(0, 10) in events and WindowUpdated(sid, 20) in events
    assert server.local_flow_control_window(sid) == 10


def test_data_on_a_closed_stream_still_returns_connection_credit() -> None:
    """RFC 9113 §6.9: flow-controlled frames on a closed stream still count toward the
    connection window, which must not shrink forever."""
    server, raw = ready()
    server.reset_stream(1)
    server.data_to_send()
    for _ in range(8):
        server.receive_data(Raw.data(1, b"x" * 16000))
    assert server.inbound_window + server._recv_window.unacked == 65535
    assert any(f.stream_id == 0 for f in window_updates(server.data_to_send()))


def test_our_initial_window_change_counts_once_for_open_streams() -> None:
    """RFC 9113 §6.9.2: raising our SETTINGS_INITIAL_WINDOW_SIZE enlarges open streams'
    receive windows by the difference once (from sending, since the peer may use it at
    once); lowering it takes effect at the ACK."""
    server, raw = ready()
    server.receive_data(Raw.frame(0x4, 1, 0, b""))  # ACK of the preface SETTINGS
    assert server.streams[1].inbound_window == 65535
    server.update_settings({4: 100_000})
    assert server.streams[1].inbound_window == 100_000
    server.receive_data(Raw.frame(0x4, 1, 0, b""))
    assert server.streams[1].inbound_window == 100_000
    server.update_settings({4: 1000})
    assert server.streams[1].inbound_window == 100_000  # the peer may still use 100 000
    server.receive_data(Raw.frame(0x4, 1, 0, b""))
    assert server.streams[1].inbound_window == 1000
