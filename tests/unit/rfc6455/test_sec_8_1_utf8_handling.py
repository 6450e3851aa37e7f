"""RFC 6455 §8.1 (and §5.6): text messages must be UTF-8; fail as early as possible."""
from __future__ import annotations

import pytest

from blackbull.protocol.websocket import CloseCode, Opcode, TextMessage

from .wsutil import client_frame, failure, feed, server_core

VALID = "κόσμε — 𝄞 ﻿"


def test_valid_utf8_split_inside_a_code_point_across_fragments() -> None:
    """RFC 6455 §8.1: a code point may span fragments; validity is of the whole message."""
    raw = VALID.encode()
    core = server_core()
    frames = [client_frame(Opcode.TEXT, raw[:1], fin=False)]
    frames += [client_frame(Opcode.CONTINUATION, raw[i:i + 1], fin=False)
               for i in range(1, len(raw))]
    frames.append(client_frame(Opcode.CONTINUATION, b""))
    assert feed(core, *frames) == [TextMessage(VALID)]


@pytest.mark.parametrize("bad", [
    b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",  # surrogate
    b"\xc0\xaf",            # overlong
    b"\xf4\x90\x80\x80",    # above U+10FFFF
    b"\xff",
    b"\xe0\x80\xaf",
])
def test_invalid_utf8_in_a_text_message_fails_with_1007(bad: bytes) -> None:
    """RFC 6455 §8.1: invalid UTF-8 → _Fail the WebSocket Connection_ (1007, §7.4.1)."""
    events = feed(server_core(), client_frame(Opcode.TEXT, bad))
    assert failure(events).code == CloseCode.INVALID_PAYLOAD


def test_incomplete_code_point_at_message_end_fails_with_1007() -> None:
    """RFC 6455 §8.1: a message that ends mid code point is not valid UTF-8."""
    events = feed(server_core(), client_frame(Opcode.TEXT, "é".encode()[:1]))
    assert failure(events).code == CloseCode.INVALID_PAYLOAD


@pytest.mark.parametrize("first", [
    b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90",   # > U+10FFFF prefix
    b"\xce\xba\xed\xa0",                                        # surrogate prefix
    b"hello\xc0",
])
def test_invalid_utf8_fails_in_the_first_fragment_before_the_message_ends(first: bytes) -> None:
    """RFC 6455 §8.1 (fail fast): the failure comes with the fragment that makes the
    bytes impossible, not at the end of the message."""
    core = server_core()
    events = feed(core, client_frame(Opcode.TEXT, first, fin=False))
    assert failure(events).code == CloseCode.INVALID_PAYLOAD


def test_invalid_utf8_fails_inside_a_single_frame_still_arriving() -> None:
    """RFC 6455 §8.1 (fail fast): a frame whose received part is already invalid fails
    before the rest of its payload arrives."""
    frame = client_frame(Opcode.TEXT, b"\xce\xba\xf4\x90\x80\x80" + b"a" * 200)
    core = server_core()
    events = feed(core, frame[:12])
    assert failure(events).code == CloseCode.INVALID_PAYLOAD


def test_binary_messages_are_not_checked_for_utf8() -> None:
    """RFC 6455 §5.6: only text frames carry UTF-8."""
    events = feed(server_core(), client_frame(Opcode.BINARY, b"\xff\xfe"))
    assert failure(events) is None
