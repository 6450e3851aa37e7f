"""RFC 9113 §6.1–§6.4, §6.7, §6.10 and §5.5: per-frame rules on the core."""
from __future__ import annotations

import pytest

from blackbull.protocol.http2 import (
    DataReceived,
    ErrorCode,
    PingAckReceived,
    PingReceived,
    RequestReceived,
    StreamReset,
)
from tests.conftest_h2 import Raw, goaway_of, parse_frames, rst_of, server_core


def ready() -> tuple:
    server = server_core()
    server.receive_data(Raw.preface())
    server.data_to_send()
    return server, Raw()


def test_padded_data_is_stripped_and_padding_counts_for_flow_control() -> None:
    """RFC 9113 §6.1: padding is removed; the whole payload counts toward flow control."""
    server, raw = ready()
    events = server.receive_data(raw.headers(1, flags=("END_HEADERS",))
                                 + Raw.data(1, b"hello", end=True, pad=10))
    data = next(e for e in events if isinstance(e, DataReceived))
    assert data.data == b"hello" and data.flow_controlled_length == 5 + 10 + 1


def test_padding_longer_than_payload_is_protocol_error() -> None:
    """RFC 9113 §6.1: Pad Length ≥ payload length → connection error PROTOCOL_ERROR."""
    server, raw = ready()
    server.receive_data(raw.headers(1, flags=("END_HEADERS",))
                        + Raw.frame(0x0, 0x8, 1, b"\x05abc"))
    assert goaway_of(server.data_to_send()).error_code == ErrorCode.PROTOCOL_ERROR


def test_data_on_stream_zero_is_protocol_error() -> None:
    """RFC 9113 §6.1: DATA frames MUST be associated with a stream."""
    server, _ = ready()
    server.receive_data(Raw.frame(0x0, 0, 0, b"x"))
    assert goaway_of(server.data_to_send()).error_code == ErrorCode.PROTOCOL_ERROR


def test_padded_headers_with_priority_fields_are_decoded() -> None:
    """RFC 9113 §6.2: Pad Length, the priority fields and padding surround the block."""
    server, raw = ready()
    block = raw.block()
    payload = bytes([4]) + (0).to_bytes(4, "big") + b"\x10" + block + b"\0" * 4
    events = server.receive_data(Raw.frame(0x1, 0x1 | 0x4 | 0x8 | 0x20, 1, payload))
    req = events[0]
    assert isinstance(req, RequestReceived) and req.priority.weight == 17


def test_headers_depending_on_itself_is_stream_protocol_error() -> None:
    """RFC 9113 §5.3.1: a stream cannot depend on itself → stream error PROTOCOL_ERROR."""
    server, raw = ready()
    payload = (1).to_bytes(4, "big") + b"\x10" + raw.block()
    server.receive_data(Raw.frame(0x1, 0x5 | 0x20, 1, payload))
    out = server.data_to_send()
    assert rst_of(out, 1).error_code == ErrorCode.PROTOCOL_ERROR and goaway_of(out) is None


def test_priority_frame_with_wrong_length_is_stream_frame_size_error() -> None:
    """RFC 9113 §6.3: a PRIORITY frame not 5 octets long → stream error FRAME_SIZE_ERROR."""
    server, raw = ready()
    server.receive_data(raw.headers(1, flags=("END_HEADERS",))
                        + Raw.frame(0x2, 0, 1, b"\0\0\0\0"))
    out = server.data_to_send()
    assert rst_of(out, 1).error_code == ErrorCode.FRAME_SIZE_ERROR and goaway_of(out) is None


def test_rst_stream_wrong_length_is_frame_size_error() -> None:
    """RFC 9113 §6.4: RST_STREAM of a length other than 4 → FRAME_SIZE_ERROR."""
    server, raw = ready()
    server.receive_data(raw.headers(1, flags=("END_HEADERS",)) + Raw.frame(0x3, 0, 1, b"\0\0\0"))
    assert goaway_of(server.data_to_send()).error_code == ErrorCode.FRAME_SIZE_ERROR


def test_rst_stream_reports_the_reset_and_closes_the_stream() -> None:
    """RFC 9113 §6.4: RST_STREAM terminates the stream immediately."""
    server, raw = ready()
    events = server.receive_data(raw.headers(1, flags=("END_HEADERS",))
                                 + Raw.frame(0x3, 0, 1, b"\0\0\0\x08"))
    assert events[-1] == StreamReset(1, ErrorCode.CANCEL, remote=True)
    assert 1 not in server.streams


def test_rapid_reset_token_bucket_ends_in_enhance_your_calm() -> None:
    """RFC 9113 §10.5: a flood of opened-then-reset streams (CVE-2023-44487) is
    answered with GOAWAY ENHANCE_YOUR_CALM once the token bucket is empty."""
    now = [0.0]
    server = server_core(reset_burst=5, reset_rate=1.0, clock=lambda: now[0])
    server.receive_data(Raw.preface())
    raw = Raw()
    for sid in range(1, 12, 2):
        server.receive_data(raw.headers(sid, flags=("END_HEADERS",))
                            + Raw.frame(0x3, 0, sid, b"\0\0\0\x08"))
    assert goaway_of(server.data_to_send()).error_code == ErrorCode.ENHANCE_YOUR_CALM


def test_rapid_reset_bucket_refills_with_time() -> None:
    """RFC 9113 §10.5: resets at a sustainable rate are not punished."""
    now = [0.0]
    server = server_core(reset_burst=2, reset_rate=1.0, clock=lambda: now[0])
    server.receive_data(Raw.preface())
    raw = Raw()
    for sid in range(1, 40, 2):
        now[0] += 1.5
        server.receive_data(raw.headers(sid, flags=("END_HEADERS",))
                            + Raw.frame(0x3, 0, sid, b"\0\0\0\x08"))
    assert goaway_of(server.data_to_send()) is None


def test_ping_is_acked_with_the_same_payload() -> None:
    """RFC 9113 §6.7: a PING without ACK is answered with an ACK carrying its data."""
    server, _ = ready()
    events = server.receive_data(Raw.frame(0x6, 0, 0, b"12345678"))
    assert events == [PingReceived(b"12345678")]
    (ack,) = parse_frames(server.data_to_send())
    assert "ACK" in ack.flags and ack.opaque_data == b"12345678"


def test_ping_ack_is_reported_and_not_answered() -> None:
    """RFC 9113 §6.7: an endpoint MUST NOT respond to PING frames with ACK set."""
    server, _ = ready()
    assert server.receive_data(Raw.frame(0x6, 1, 0, b"abcdefgh")) == [PingAckReceived(b"abcdefgh")]
    assert server.data_to_send() == b""


@pytest.mark.parametrize("sid,payload,code", [
    (1, b"12345678", ErrorCode.PROTOCOL_ERROR),
    (0, b"1234567", ErrorCode.FRAME_SIZE_ERROR),
], ids=["on-stream", "short"])
def test_invalid_ping(sid: int, payload: bytes, code: ErrorCode) -> None:
    """RFC 9113 §6.7: PING on a stream → PROTOCOL_ERROR; not 8 octets → FRAME_SIZE_ERROR."""
    server, _ = ready()
    server.receive_data(Raw.frame(0x6, 0, sid, payload))
    assert goaway_of(server.data_to_send()).error_code == code


def test_continuation_frames_complete_a_header_block() -> None:
    """RFC 9113 §6.10: HEADERS without END_HEADERS continues in CONTINUATION frames."""
    server, raw = ready()
    block = raw.block()
    data = (Raw.frame(0x1, 0x1, 1, block[:3]) + Raw.frame(0x9, 0, 1, block[3:5])
            + Raw.frame(0x9, 0x4, 1, block[5:]))
    events = server.receive_data(data)
    assert isinstance(events[0], RequestReceived) and events[0].headers[2] == (b":path", b"/")


@pytest.mark.parametrize("interrupt", [
    Raw.data(1, b"x"), Raw.frame(0x9, 0x4, 3, b""), Raw.frame(0x6, 0, 0, b"\0" * 8),
    Raw.frame(0xfa, 0, 0, b""),
], ids=["DATA", "CONTINUATION-other-stream", "PING", "unknown-type"])
def test_header_block_interrupted_is_protocol_error(interrupt: bytes) -> None:
    """RFC 9113 §6.10: anything but CONTINUATION of the same stream inside a header
    block is a connection error PROTOCOL_ERROR (unknown types included, §5.5)."""
    server, raw = ready()
    server.receive_data(Raw.frame(0x1, 0x1, 1, raw.block()) + interrupt)
    assert goaway_of(server.data_to_send()).error_code == ErrorCode.PROTOCOL_ERROR


def test_continuation_after_end_headers_is_protocol_error() -> None:
    """RFC 9113 §6.10: CONTINUATION not preceded by an unfinished block → PROTOCOL_ERROR."""
    server, raw = ready()
    server.receive_data(raw.headers(1, flags=("END_HEADERS",)) + Raw.frame(0x9, 0x4, 1, b""))
    assert goaway_of(server.data_to_send()).error_code == ErrorCode.PROTOCOL_ERROR


def test_continuation_flood_is_capped() -> None:
    """RFC 9113 §10.5: more CONTINUATION frames than h2_max_continuation_frames →
    ENHANCE_YOUR_CALM (the CONTINUATION-flood guard)."""
    server = server_core(max_continuation_frames=4)
    server.receive_data(Raw.preface() + Raw.frame(0x1, 0x1, 1, b""))
    for _ in range(5):
        server.receive_data(Raw.frame(0x9, 0, 1, b""))
    assert goaway_of(server.data_to_send()).error_code == ErrorCode.ENHANCE_YOUR_CALM


def test_unknown_frame_types_and_flags_are_ignored() -> None:
    """RFC 9113 §5.5/§4.1: unknown frame types are discarded; unknown flags ignored."""
    server, raw = ready()
    events = server.receive_data(Raw.frame(0xfa, 0xff, 0, b"junk")
                                 + Raw.frame(0x6, 0xfe, 0, b"\0" * 8)  # PING, odd flags
                                 + raw.headers(1))
    out = server.data_to_send()
    assert goaway_of(out) is None
    assert any(isinstance(e, RequestReceived) for e in events)
    assert any(type(f).__name__ == "PingFrame" for f in parse_frames(out))


def test_push_promise_from_a_client_is_protocol_error() -> None:
    """RFC 9113 §8.4: a client cannot push; PUSH_PROMISE received by a server is a
    connection error PROTOCOL_ERROR."""
    server, raw = ready()
    server.receive_data(raw.headers(1, flags=("END_HEADERS",))
                        + Raw.frame(0x5, 0x4, 1, b"\0\0\0\x02" + raw.block()))
    assert goaway_of(server.data_to_send()).error_code == ErrorCode.PROTOCOL_ERROR
