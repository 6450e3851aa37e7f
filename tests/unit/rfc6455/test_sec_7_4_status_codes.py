"""RFC 6455 §5.5.1, §7.1.5, §7.4: the Close frame and its status codes."""
from __future__ import annotations

import struct

import pytest

from blackbull.protocol.websocket import (
    CloseCode,
    CloseReceived,
    Opcode,
    State,
    build_close_payload,
    is_valid_wire_code,
)

from .wsutil import client_frame, failure, feed, sent_frames, server_core

VALID = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000,
         3999, 4000, 4999]
INVALID = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]


@pytest.mark.parametrize("code", VALID)
def test_valid_close_code_is_echoed_and_reported(code: int) -> None:
    """RFC 6455 §5.5.1: the answering Close typically echoes the status code."""
    core = server_core()
    events = feed(core, client_frame(Opcode.CLOSE, struct.pack("!H", code) + b"bye"))
    assert events == [CloseReceived(code, "bye")]
    assert sent_frames(core) == [(Opcode.CLOSE, struct.pack("!H", code))]
    assert core.state is State.CLOSED


@pytest.mark.parametrize("code", INVALID)
def test_invalid_close_code_fails_with_1002(code: int) -> None:
    """RFC 6455 §7.4: codes outside the defined ranges are a protocol error."""
    core = server_core()
    events = feed(core, client_frame(Opcode.CLOSE, struct.pack("!H", code)))
    assert failure(events).code == CloseCode.PROTOCOL_ERROR


def test_empty_close_is_reported_as_1005_and_answered_without_a_code() -> None:
    """RFC 6455 §7.1.5: no status code → 1005 is reported, never sent."""
    core = server_core()
    assert feed(core, client_frame(Opcode.CLOSE)) == [CloseReceived(1005, "")]
    assert sent_frames(core) == [(Opcode.CLOSE, b"")]


def test_one_byte_close_payload_fails_with_1002() -> None:
    """RFC 6455 §5.5.1: a body, if present, starts with a 2-byte status code."""
    events = feed(server_core(), client_frame(Opcode.CLOSE, b"\x03"))
    assert failure(events).code == CloseCode.PROTOCOL_ERROR


def test_close_reason_that_is_not_utf8_fails_with_1007() -> None:
    """RFC 6455 §5.5.1: the reason is UTF-8 encoded data."""
    events = feed(server_core(),
                  client_frame(Opcode.CLOSE, b"\x03\xe8\xce\xba\xed\xa0\x80"))
    assert failure(events).code == CloseCode.INVALID_PAYLOAD


def test_frames_after_a_close_are_ignored() -> None:
    """RFC 6455 §5.5.1: the application MUST NOT send data after a Close; we stop."""
    core = server_core()
    events = feed(core, client_frame(Opcode.CLOSE, b"\x03\xe8") +
                  client_frame(Opcode.TEXT, b"after"))
    assert events == [CloseReceived(1000, "")]


def test_our_close_then_theirs_completes_the_handshake() -> None:
    """RFC 6455 §7.1.2–§7.1.3: after both Close frames the connection is closed."""
    core = server_core()
    core.send_close(1001, "bye")
    assert core.state is State.CLOSING
    assert sent_frames(core) == [(Opcode.CLOSE, b"\x03\xe9bye")]
    assert feed(core, client_frame(Opcode.CLOSE, b"\x03\xe9")) == [CloseReceived(1001, "")]
    assert core.state is State.CLOSED
    assert core.data_to_send() == b""  # no second Close


@pytest.mark.parametrize("code", [1006, 1015, 999, 2000])
def test_reserved_codes_cannot_be_sent(code: int) -> None:
    """RFC 6455 §7.4.1: 1006 and 1015 MUST NOT be set in a Close frame."""
    assert not is_valid_wire_code(code)
    with pytest.raises(ValueError):
        build_close_payload(code)


def test_1005_means_a_close_frame_without_a_body() -> None:
    """RFC 6455 §7.4.1: 1005 is never sent; asking for it sends an empty Close body."""
    assert not is_valid_wire_code(1005)
    assert build_close_payload(1005) == b""


def test_long_reason_is_cut_to_fit_a_control_frame() -> None:
    """RFC 6455 §5.5: the Close body fits in 125 bytes, cut at a character boundary."""
    payload = build_close_payload(1000, "é" * 100)
    assert len(payload) <= 125
    payload[2:].decode("utf-8")
