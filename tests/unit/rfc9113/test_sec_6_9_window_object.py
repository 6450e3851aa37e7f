"""RFC 9113 §6.9: the flow-control window object the core uses for the connection
and for each stream, in both directions."""
from __future__ import annotations

from blackbull.protocol.http2 import Window
from tests.conftest_h2 import connected_pair

MAX = 2**31 - 1


def test_grow_past_2_31_minus_1_reports_overflow() -> None:
    """RFC 9113 §6.9.1: a window above 2^31-1 octets is a FLOW_CONTROL_ERROR of the
    window's scope; ``grow`` says so and the caller picks the scope."""
    window = Window(65535)
    assert window.grow(MAX - 65535)
    assert window.size == MAX
    assert not window.grow(1)


def test_negative_window_after_a_settings_decrease_is_allowed() -> None:
    """RFC 9113 §6.9.2: a smaller SETTINGS_INITIAL_WINDOW_SIZE can make a send window
    negative; it stays so until WINDOW_UPDATEs lift it, and nothing fits meanwhile."""
    window = Window(100)
    assert window.grow(-1000)
    assert window.size == -900
    assert window.grow(901) and window.size == 1


def test_credit_is_given_back_once_half_the_window_is_owed() -> None:
    """RFC 9113 §6.9: WINDOW_UPDATE is the receiver's choice; credit goes back in one
    increment per ``threshold`` octets consumed, not one per DATA frame."""
    window = Window(65535)
    window.size -= 40000  # DATA received
    assert window.credit(30000, 32767) == 0
    assert window.unacked == 30000
    assert window.credit(10000, 32767) == 40000
    assert window.unacked == 0 and window.size == 65535


def test_credit_never_raises_the_window_above_2_31_minus_1() -> None:
    """RFC 9113 §6.9.1: the receiver must not let its own window exceed 2^31-1."""
    window = Window(MAX - 10)
    assert window.credit(100, 0) == 10
    assert window.size == MAX
    assert window.credit(100, 0) == 0


def test_raise_to_announces_only_the_missing_credit() -> None:
    """RFC 9113 §6.9.2: the connection window can only grow by WINDOW_UPDATE; raising
    it to a target sends the difference once, and nothing if already there."""
    window = Window(65535)
    assert window.raise_to(1 << 20) == (1 << 20) - 65535
    assert window.target == 1 << 20
    assert window.raise_to(1000) == 0


def test_core_streams_and_connection_share_the_window_type() -> None:
    """RFC 9113 §6.9: one window object per scope and direction — DATA sent spends
    the stream's and the connection's send windows by the same amount."""
    server, client = connected_pair()
    client.send_headers(1, [(":method", "GET"), (":scheme", "https"), (":path", "/"),
                            (":authority", "example.com")], end_stream=True)
    server.receive_data(client.data_to_send())
    stream = server.streams[1]
    assert isinstance(stream.send, Window) and isinstance(stream.recv, Window)
    before_stream, before_conn = stream.outbound_window, server.outbound_window
    server.send_headers(1, [(b":status", b"200")])
    server.send_data(1, b"x" * 1000)
    assert stream.outbound_window == before_stream - 1000
    assert server.outbound_window == before_conn - 1000
    assert server.local_flow_control_window(1) == min(stream.send.size, server.outbound_window)
