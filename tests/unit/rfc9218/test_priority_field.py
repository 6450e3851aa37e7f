"""RFC 9218 §4–§5, §7: the priority parameters, the header and PRIORITY_UPDATE on the core."""
from __future__ import annotations

import pytest

from blackbull.protocol.http2 import (
    ErrorCode,
    Priority,
    PriorityUpdated,
    RequestReceived,
    parse_priority_field,
)
from blackbull.protocol.http2.frames import priority_update_frame
from tests.conftest_h2 import Raw, goaway_of, server_core


@pytest.mark.parametrize("value,expected", [
    (b"", Priority(3, False)),
    (b"u=0", Priority(0, False)),
    (b"u=7, i", Priority(7, True)),
    (b"i", Priority(3, True)),
    (b"i=?0, u=2", Priority(2, False)),
    (b"i=?1", Priority(3, True)),
    (b"u=9", Priority(3, False)),         # out of range: ignored (§4.1)
    (b"u=-1", Priority(3, False)),
    (b"u=1.5", Priority(3, False)),       # not an integer: ignored
    (b"i=1", Priority(3, False)),         # not a boolean: ignored (§4.2)
    (b"u=2, x=foo, i", Priority(2, True)),  # unknown members ignored (§4)
    (b"u=4;p=1", Priority(4, False)),     # member parameters ignored
], ids=lambda v: repr(v))
def test_priority_field_parameters(value: bytes, expected: Priority) -> None:
    """RFC 9218 §4: u is 0..7 (default 3), i a boolean (default false); anything else is
    ignored."""
    assert parse_priority_field(value) == expected


def test_priority_serializes_to_its_shortest_form() -> None:
    """RFC 9218 §4: defaults are omitted from the field value."""
    assert Priority().serialize() == b""
    assert Priority(1, True).serialize() == b"u=1, i"
    assert parse_priority_field(Priority(6, True).serialize()) == Priority(6, True)


def ready():
    server = server_core()
    server.receive_data(Raw.preface())
    server.data_to_send()
    return server


def test_priority_update_before_headers_is_carried_by_the_request() -> None:
    """RFC 9218 §7.1: a PRIORITY_UPDATE may name a stream still idle; it applies when
    the stream opens."""
    server = ready()
    events = server.receive_data(priority_update_frame(1, b"u=6") + Raw().headers(1))
    request = events[0]
    assert isinstance(request, RequestReceived) and request.priority_update == Priority(6, False)


def test_priority_update_after_headers_is_an_event() -> None:
    """RFC 9218 §7.1: a PRIORITY_UPDATE for an open stream reprioritises it."""
    server = ready()
    server.receive_data(Raw().headers(1, flags=("END_HEADERS",)))
    events = server.receive_data(priority_update_frame(1, b"u=0, i"))
    assert events == [PriorityUpdated(1, 0, True, b"u=0, i")]


@pytest.mark.parametrize("frame,code", [
    (Raw.frame(0x10, 0, 1, b"\0\0\0\x01u=1"), ErrorCode.PROTOCOL_ERROR),   # on a stream
    (priority_update_frame(0, b"u=1"), ErrorCode.PROTOCOL_ERROR),        # names stream 0
    (Raw.frame(0x10, 0, 0, b"\0\0\x01"), ErrorCode.FRAME_SIZE_ERROR),     # too short
    (priority_update_frame(4, b"u=1"), ErrorCode.PROTOCOL_ERROR),        # unpromised push
], ids=["stream-id-not-0", "prioritized-0", "short", "push-not-promised"])
def test_invalid_priority_update(frame: bytes, code: ErrorCode) -> None:
    """RFC 9218 §7.1: PRIORITY_UPDATE on a stream other than 0, naming stream 0, or a
    push stream never promised → PROTOCOL_ERROR; shorter than 4 → FRAME_SIZE_ERROR."""
    server = ready()
    server.receive_data(frame)
    assert goaway_of(server.data_to_send()).error_code == code


def test_too_many_idle_stream_updates_is_protocol_error() -> None:
    """RFC 9218 §7.1: prioritised idle streams plus active ones MUST NOT exceed
    SETTINGS_MAX_CONCURRENT_STREAMS."""
    server = server_core({3: 3})
    server.receive_data(Raw.preface() + Raw.frame(0x4, 1, 0, b""))
    server.data_to_send()
    server.receive_data(b"".join(priority_update_frame(sid, b"u=1") for sid in (1, 3, 5, 7)))
    assert goaway_of(server.data_to_send()).error_code == ErrorCode.PROTOCOL_ERROR


def test_priority_update_for_a_closed_stream_is_ignored() -> None:
    """RFC 9218 §7.1: updates naming closed streams can be discarded."""
    server = ready()
    server.receive_data(Raw().headers(1))
    server.send_headers(1, [(b":status", b"204")], end_stream=True)
    server.data_to_send()
    assert server.receive_data(priority_update_frame(1, b"u=0")) == []
    assert goaway_of(server.data_to_send()) is None


def test_merge_keeps_absent_parameters_of_the_base() -> None:
    """RFC 9218 §8: merging a server signal overrides only the parameters it carries."""
    from blackbull.protocol.http2.priority import merge_priority, parse_priority_params
    assert parse_priority_params(b"u=1") == {"urgency": 1}
    assert parse_priority_params(b"i, u=9") == {"incremental": True}
    assert merge_priority(Priority(5, True), b"u=1") == Priority(1, True)
    assert merge_priority(Priority(5, True), b"i=?0") == Priority(5, False)
    assert merge_priority(Priority(2, False), b"garbage") == Priority(2, False)
