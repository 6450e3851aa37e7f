"""RFC 6455 §5.5: control frames (Close, Ping, Pong)."""
from __future__ import annotations

from blackbull.protocol.websocket import CloseCode, Opcode, Ping, Pong

from .wsutil import client_frame, failure, feed, sent_frames, server_core


def test_ping_is_answered_with_a_pong_carrying_the_same_payload() -> None:
    """RFC 6455 §5.5.2/§5.5.3: the Pong echoes the Ping's application data."""
    core = server_core()
    assert feed(core, client_frame(Opcode.PING, b"hello")) == [Ping(b"hello")]
    assert sent_frames(core) == [(Opcode.PONG, b"hello")]


def test_ping_with_125_byte_payload_is_valid() -> None:
    """RFC 6455 §5.5: control payloads up to 125 bytes are valid."""
    core = server_core()
    feed(core, client_frame(Opcode.PING, b"x" * 125))
    assert sent_frames(core) == [(Opcode.PONG, b"x" * 125)]


def test_control_frame_over_125_bytes_fails_with_1002() -> None:
    """RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less"."""
    events = feed(server_core(), client_frame(Opcode.PING, b"x" * 126))
    assert failure(events).code == CloseCode.PROTOCOL_ERROR


def test_fragmented_control_frame_fails_with_1002() -> None:
    """RFC 6455 §5.5: "Control frames themselves MUST NOT be fragmented"."""
    events = feed(server_core(), client_frame(Opcode.PING, b"x", fin=False))
    assert failure(events).code == CloseCode.PROTOCOL_ERROR


def test_unsolicited_pong_is_reported_and_not_answered() -> None:
    """RFC 6455 §5.5.3: an unsolicited Pong expects no response."""
    core = server_core()
    assert feed(core, client_frame(Opcode.PONG, b"hb")) == [Pong(b"hb")]
    assert core.data_to_send() == b""
