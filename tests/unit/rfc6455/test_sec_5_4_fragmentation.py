"""RFC 6455 §5.4: fragmentation."""
from __future__ import annotations

from blackbull.protocol.websocket import (
    BytesMessage,
    CloseCode,
    Opcode,
    Ping,
    TextMessage,
)

from .wsutil import client_frame, failure, feed, sent_frames, server_core


def test_fragmented_text_message_is_reassembled() -> None:
    """RFC 6455 §5.4: a message is the concatenation of its fragments, in order."""
    events = feed(server_core(),
                  client_frame(Opcode.TEXT, b"frag", fin=False),
                  client_frame(Opcode.CONTINUATION, b"men", fin=False),
                  client_frame(Opcode.CONTINUATION, b"ted", fin=True))
    assert events == [TextMessage("fragmented")]


def test_control_frame_in_the_middle_of_a_fragmented_message() -> None:
    """RFC 6455 §5.4: control frames MAY be injected between fragments."""
    core = server_core()
    events = feed(core,
                  client_frame(Opcode.BINARY, b"ab", fin=False),
                  client_frame(Opcode.PING, b"p"),
                  client_frame(Opcode.CONTINUATION, b"cd"))
    assert events == [Ping(b"p"), BytesMessage(b"abcd")]
    assert sent_frames(core) == [(Opcode.PONG, b"p")]


def test_continuation_without_a_message_fails_with_1002() -> None:
    """RFC 6455 §5.4: a continuation frame needs a started message."""
    events = feed(server_core(), client_frame(Opcode.CONTINUATION, b"x"))
    assert failure(events).code == CloseCode.PROTOCOL_ERROR


def test_new_data_frame_inside_a_fragmented_message_fails_with_1002() -> None:
    """RFC 6455 §5.4: fragments of one message MUST NOT interleave with another."""
    events = feed(server_core(),
                  client_frame(Opcode.TEXT, b"a", fin=False),
                  client_frame(Opcode.TEXT, b"b"))
    assert failure(events).code == CloseCode.PROTOCOL_ERROR


def test_empty_fragments_are_allowed() -> None:
    """RFC 6455 §5.4: fragments may have empty payloads."""
    events = feed(server_core(),
                  client_frame(Opcode.TEXT, b"", fin=False),
                  client_frame(Opcode.CONTINUATION, b"", fin=False),
                  client_frame(Opcode.CONTINUATION, b""))
    assert events == [TextMessage("")]


def test_message_over_the_message_limit_fails_with_1009() -> None:
    """RFC 6455 §7.4.1 (1009): the reassembled message exceeds what we process."""
    core = server_core(max_message_size=10)
    events = feed(core,
                  client_frame(Opcode.BINARY, b"123456", fin=False),
                  client_frame(Opcode.CONTINUATION, b"7890X"))
    assert failure(events).code == CloseCode.MESSAGE_TOO_BIG
