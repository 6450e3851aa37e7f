"""RFC 9113 §5.1: the stream state machine — the Stream type and the connection's
answers (error code and scope) to frames in each state."""
from __future__ import annotations

import pytest

from blackbull.protocol.http2 import (
    ErrorCode,
    H2ConnectionError,
    ProtocolError,
    RequestReceived,
    Stream,
    StreamError,
    StreamState,
)
from blackbull.protocol.http2.stream import CloseReason
from tests.conftest_h2 import Raw, goaway_of, parse_frames, rst_of, server_core


def opened(end_stream: bool = False) -> tuple:
    server = server_core()
    raw = Raw()
    flags = ("END_HEADERS", "END_STREAM") if end_stream else ("END_HEADERS",)
    server.receive_data(Raw.preface() + raw.headers(1, flags=flags))
    server.data_to_send()
    return server, raw


# --- the Stream type: every transition of figure 2 ------------------------------------
def test_idle_to_open_to_half_closed_remote_to_closed() -> None:
    """RFC 9113 §5.1: idle -HEADERS-> open -END_STREAM recv-> half-closed (remote)
    -END_STREAM sent-> closed."""
    s = Stream(1, 65535, 65535, remote_initiated=True)
    assert s.state is StreamState.IDLE
    s.on_headers_received(end_stream=False)
    assert s.state is StreamState.OPEN
    s.on_data_received(3, end_stream=True)
    assert s.state is StreamState.HALF_CLOSED_REMOTE
    s.mark_locally_closed()
    assert s.state is StreamState.CLOSED and s.close_reason is CloseReason.END_STREAM


def test_open_to_half_closed_local_to_closed() -> None:
    """RFC 9113 §5.1: open -END_STREAM sent-> half-closed (local) -END_STREAM recv-> closed."""
    s = Stream(1, 65535, 65535, remote_initiated=True)
    s.on_headers_received(end_stream=False)
    s.mark_locally_closed()
    assert s.state is StreamState.HALF_CLOSED_LOCAL
    s.on_data_received(0, end_stream=True)
    assert s.state is StreamState.CLOSED


def test_reserved_local_to_half_closed_remote() -> None:
    """RFC 9113 §5.1: idle -PUSH_PROMISE sent-> reserved (local) -HEADERS sent->
    half-closed (remote)."""
    s = Stream(2, 65535, 65535, remote_initiated=False)
    s.on_push_promise_sent()
    assert s.state is StreamState.RESERVED_LOCAL
    s.on_headers_sent(end_stream=False)
    assert s.state is StreamState.HALF_CLOSED_REMOTE


def test_reserved_remote_to_half_closed_local() -> None:
    """RFC 9113 §5.1: idle -PUSH_PROMISE recv-> reserved (remote) -HEADERS recv->
    half-closed (local)."""
    s = Stream(2, 65535, 65535, remote_initiated=True)
    s.on_push_promise_received()
    assert s.state is StreamState.RESERVED_REMOTE
    s.on_headers_received(end_stream=False)
    assert s.state is StreamState.HALF_CLOSED_LOCAL


def test_rst_closes_from_any_state_but_idle() -> None:
    """RFC 9113 §5.1: RST_STREAM moves every non-idle state to closed; on idle it is a
    connection error PROTOCOL_ERROR."""
    s = Stream(1, 65535, 65535, remote_initiated=True)
    with pytest.raises(ProtocolError):
        s.on_rst_received()
    s.on_headers_received(end_stream=False)
    s.on_rst_received()
    assert s.state is StreamState.CLOSED and s.close_reason is CloseReason.RESET_RECEIVED


def test_data_in_half_closed_remote_is_stream_closed_stream_error() -> None:
    """RFC 9113 §5.1 half-closed (remote): other frames → stream error STREAM_CLOSED."""
    s = Stream(1, 65535, 65535, remote_initiated=True)
    s.on_headers_received(end_stream=True)
    with pytest.raises(StreamError) as exc:
        s.on_data_received(1, end_stream=False)
    assert exc.value.code == ErrorCode.STREAM_CLOSED


def test_closed_after_rst_received_is_stream_error_after_end_stream_connection_error() -> None:
    """RFC 9113 §5.1 closed: frames after RST_STREAM → stream error STREAM_CLOSED; after
    END_STREAM → connection error STREAM_CLOSED; after our RST_STREAM → ignored."""
    reset = Stream(1, 65535, 65535, True)
    reset.on_headers_received(False)
    reset.on_rst_received()
    with pytest.raises(StreamError):
        reset.on_data_received(1, False)
    ended = Stream(3, 65535, 65535, True)
    ended.on_headers_received(True)
    ended.mark_locally_closed()
    with pytest.raises(H2ConnectionError) as exc:
        ended.on_headers_received(True)
    assert exc.value.code == ErrorCode.STREAM_CLOSED
    ours = Stream(5, 65535, 65535, True)
    ours.on_headers_received(False)
    ours.reset_locally()
    ours.on_data_received(1, False)  # no error: in flight when we reset it


def test_trailers_without_end_stream_are_malformed() -> None:
    """RFC 9113 §8.1: a second HEADERS block must carry END_STREAM."""
    s = Stream(1, 65535, 65535, True)
    s.on_headers_received(False)
    with pytest.raises(StreamError):
        s.on_headers_received(False)


# --- the connection, fed bytes -------------------------------------------------------------
@pytest.mark.parametrize("frame", [
    Raw.data(1, b"x"),
    Raw.frame(0x3, 0, 1, b"\0\0\0\x08"),     # RST_STREAM
    Raw.frame(0x8, 0, 1, b"\0\0\0\x01"),     # WINDOW_UPDATE
    Raw.frame(0x9, 0x4, 1, b""),             # CONTINUATION
], ids=["DATA", "RST_STREAM", "WINDOW_UPDATE", "CONTINUATION"])
def test_frames_on_idle_stream_are_protocol_error(frame: bytes) -> None:
    """RFC 9113 §5.1 idle: any frame other than HEADERS or PRIORITY → connection error
    PROTOCOL_ERROR."""
    server = server_core()
    server.receive_data(Raw.preface() + frame)
    assert goaway_of(server.data_to_send()).error_code == ErrorCode.PROTOCOL_ERROR


def test_priority_on_idle_stream_is_allowed_and_does_not_open_it() -> None:
    """RFC 9113 §5.1 idle: PRIORITY may be received; the stream stays idle so a later
    HEADERS on a lower id still opens."""
    server = server_core()
    raw = Raw()
    server.receive_data(Raw.preface() + Raw.frame(0x2, 0, 7, b"\0\0\0\0\x0f")
                        + raw.headers(1))
    out = server.data_to_send()
    assert goaway_of(out) is None
    assert server.streams[1].state is StreamState.HALF_CLOSED_REMOTE


@pytest.mark.parametrize("late", ["data", "headers"])
def test_half_closed_remote_answers_rst_stream_closed(late: str) -> None:
    """RFC 9113 §5.1 half-closed (remote): DATA or HEADERS → RST_STREAM STREAM_CLOSED."""
    server, raw = opened(end_stream=True)
    frame = Raw.data(1, b"x") if late == "data" else raw.headers(1)
    server.receive_data(frame)
    out = server.data_to_send()
    assert rst_of(out, 1).error_code == ErrorCode.STREAM_CLOSED
    assert goaway_of(out) is None


def test_closed_by_peer_rst_then_data_is_stream_closed() -> None:
    """RFC 9113 §5.1 closed: DATA after RST_STREAM → stream error STREAM_CLOSED."""
    server, raw = opened()
    server.receive_data(Raw.frame(0x3, 0, 1, b"\0\0\0\x08") + Raw.data(1, b"x"))
    out = server.data_to_send()
    assert rst_of(out, 1).error_code == ErrorCode.STREAM_CLOSED


def test_closed_by_end_stream_then_headers_is_stream_closed_connection_error() -> None:
    """RFC 9113 §5.1 closed: after END_STREAM both ways, a HEADERS → STREAM_CLOSED."""
    server, raw = opened(end_stream=True)
    server.send_headers(1, [(b":status", b"204")], end_stream=True)
    server.data_to_send()
    server.receive_data(raw.headers(1))
    assert goaway_of(server.data_to_send()).error_code == ErrorCode.STREAM_CLOSED


def test_frames_after_our_rst_are_ignored() -> None:
    """RFC 9113 §5.1 closed: frames in flight after we sent RST_STREAM are ignored,
    but DATA still counts toward the connection window (§6.9)."""
    server, raw = opened()
    server.reset_stream(1, ErrorCode.CANCEL)
    server.data_to_send()
    before = server.inbound_window + server._recv_window.unacked
    events = server.receive_data(Raw.data(1, b"y" * 100) + raw.headers(
        1, flags=("END_HEADERS", "END_STREAM")))
    out = server.data_to_send()
    assert events == [] and goaway_of(out) is None and rst_of(out) is None
    assert server.inbound_window + server._recv_window.unacked == before


def test_even_stream_id_from_client_is_protocol_error() -> None:
    """RFC 9113 §5.1.1: streams initiated by a client MUST use odd identifiers."""
    server = server_core()
    server.receive_data(Raw.preface() + Raw().headers(2))
    assert goaway_of(server.data_to_send()).error_code == ErrorCode.PROTOCOL_ERROR


def test_decreasing_stream_id_is_protocol_error() -> None:
    """RFC 9113 §5.1.1: a new stream id MUST be greater than all opened before."""
    server = server_core()
    raw = Raw()
    server.receive_data(Raw.preface() + raw.headers(5) + raw.headers(3))
    assert goaway_of(server.data_to_send()).error_code == ErrorCode.PROTOCOL_ERROR


def test_max_concurrent_streams_exceeded_is_refused_stream() -> None:
    """RFC 9113 §5.1.2: streams above SETTINGS_MAX_CONCURRENT_STREAMS → REFUSED_STREAM,
    and the HPACK context stays in sync so later streams still work."""
    server = server_core({3: 2})
    raw = Raw()
    server.receive_data(Raw.preface())
    server.receive_data(Raw.frame(0x4, 0x1, 0, b""))  # ACK our SETTINGS: limit applies
    open_flags = ("END_HEADERS",)
    events = server.receive_data(raw.headers(1, flags=open_flags) + raw.headers(3, flags=open_flags)
                                 + raw.headers(5, flags=open_flags))
    out = server.data_to_send()
    assert rst_of(out, 5).error_code == ErrorCode.REFUSED_STREAM
    assert [e.stream_id for e in events if isinstance(e, RequestReceived)] == [1, 3]
    server.receive_data(Raw.frame(0x3, 0, 1, b"\0\0\0\x08") + raw.headers(7, flags=open_flags))
    assert 7 in server.streams


def test_closed_stream_memory_is_bounded() -> None:
    """RFC 9113 §5.1: closed streams are remembered only up to h2_max_closed_streams."""
    server = server_core(max_closed_streams=10)
    raw = Raw()
    server.receive_data(Raw.preface())
    for sid in range(1, 60, 2):
        server.receive_data(raw.headers(sid))
        server.send_headers(sid, [(b":status", b"204")], end_stream=True)
    server.data_to_send()
    assert len(server._registry.closed) == 10 and not server.streams
    assert min(server._registry.closed) == 41


def test_reserved_local_stream_created_by_push_counts_not_as_open() -> None:
    """RFC 9113 §5.1.2: reserved streams do not count toward MAX_CONCURRENT_STREAMS."""
    server, raw = opened()
    promised = server.push_stream(1, [(b":method", b"GET"), (b":scheme", b"https"),
                                      (b":path", b"/p"), (b":authority", b"x")])
    assert promised == 2
    assert server.streams[2].state is StreamState.RESERVED_LOCAL
    assert server.open_outbound_streams == 0
    kinds = [type(f).__name__ for f in parse_frames(server.data_to_send())]
    assert kinds == ["PushPromiseFrame"]


def test_data_on_a_forgotten_closed_stream_is_ignored_with_credit_returned() -> None:
    """RFC 9113 §5.1 closed: once a closed stream has left the bounded memory, late DATA
    is ignored (as after our RST_STREAM) and its connection credit still comes back."""
    server = server_core(max_closed_streams=1)
    raw = Raw()
    server.receive_data(Raw.preface())
    for sid in (1, 3):
        server.receive_data(raw.headers(sid, flags=("END_HEADERS",)))
        server.reset_stream(sid)
    server.data_to_send()
    assert 1 not in server._registry.closed
    events = server.receive_data(Raw.data(1, b"z" * 1000))
    assert events == [] and goaway_of(server.data_to_send()) is None
    assert server.inbound_window + server._recv_window.unacked == 65535
