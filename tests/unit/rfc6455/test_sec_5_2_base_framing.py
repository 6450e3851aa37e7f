"""RFC 6455 §5.2: the base framing protocol, checked on the sans-I/O core."""
from __future__ import annotations

import struct

import pytest

from blackbull.protocol.websocket import (
    BytesMessage,
    CloseCode,
    Opcode,
    TextMessage,
    WebSocketProtocolError,
    encode_frame,
)
from blackbull.protocol.websocket.frames import FrameParser

from .wsutil import client_frame, close_code_of, failure, feed, sent_frames, server_core


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
def test_all_three_length_encodings_round_trip(size: int) -> None:
    """RFC 6455 §5.2: 7-bit, 16-bit and 64-bit payload lengths all decode."""
    payload = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    events = feed(server_core(), client_frame(Opcode.BINARY, payload))
    assert events == [BytesMessage(payload)]


def test_encoder_uses_the_minimal_length_encoding() -> None:
    """RFC 6455 §5.2: "the minimal number of bytes MUST be used to encode the length"."""
    assert encode_frame(Opcode.BINARY, b"x" * 125)[1] == 125
    assert encode_frame(Opcode.BINARY, b"x" * 126)[1] == 126
    assert struct.unpack("!H", encode_frame(Opcode.BINARY, b"x" * 126)[2:4])[0] == 126
    assert encode_frame(Opcode.BINARY, b"x" * 65536)[1] == 127


def test_frame_split_at_every_byte_boundary_still_decodes() -> None:
    """RFC 6455 §5.2: a frame may arrive in any number of TCP segments."""
    frame = client_frame(Opcode.TEXT, "héllo wörld".encode())
    core = server_core()
    events = feed(core, *[frame[i:i + 1] for i in range(len(frame))])
    assert events == [TextMessage("héllo wörld")]


@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
def test_reserved_opcode_fails_with_1002(opcode: int) -> None:
    """RFC 6455 §5.2: reserved opcodes → _Fail the WebSocket Connection_ (1002)."""
    core = server_core()
    events = feed(core, client_frame(opcode, b"abc"))
    assert failure(events).code == CloseCode.PROTOCOL_ERROR
    assert close_code_of(sent_frames(core)) == 1002


@pytest.mark.parametrize("bits", [{"rsv1": True}, {"rsv2": True}, {"rsv3": True}])
def test_reserved_bits_without_extension_fail_with_1002(bits: dict) -> None:
    """RFC 6455 §5.2: RSV1-3 MUST be 0 unless an extension defines them."""
    core = server_core()
    events = feed(core, client_frame(Opcode.TEXT, b"hi", **bits))
    assert failure(events).code == CloseCode.PROTOCOL_ERROR


def test_64_bit_length_with_most_significant_bit_set_fails() -> None:
    """RFC 6455 §5.2: "the most significant bit MUST be 0" in the 64-bit length."""
    head = bytes((0x82, 0x80 | 127)) + struct.pack("!Q", 1 << 63) + b"\x00\x00\x00\x00"
    events = feed(server_core(), head)
    assert failure(events).code == CloseCode.PROTOCOL_ERROR


def test_frame_over_the_frame_limit_fails_with_1009_before_the_payload_arrives() -> None:
    """RFC 6455 §10.4 / §7.4.1: a frame too big to process → 1009 from its header alone."""
    core = server_core(max_frame_size=1000)
    head = bytes((0x82, 0x80 | 126)) + struct.pack("!H", 1001) + b"\x01\x02\x03\x04"
    events = feed(core, head)
    assert failure(events).code == CloseCode.MESSAGE_TOO_BIG


def test_parser_streams_large_payload_in_pieces() -> None:
    """RFC 6455 §5.2: the parser yields payload as it arrives (fail-fast, bounded memory)."""
    parser = FrameParser(expect_masked=False)
    frame = encode_frame(Opcode.BINARY, b"a" * 10000)
    parser.feed(frame[:5000])
    first = list(parser.chunks())
    parser.feed(frame[5000:])
    rest = list(parser.chunks())
    assert first and not first[-1].last and rest[-1].last
    assert b"".join(c.data for c in first + rest) == b"a" * 10000


def test_parser_raises_protocol_error_value_with_close_code() -> None:
    """RFC 6455 §7.1.7: a failure carries the status code to send."""
    parser = FrameParser(expect_masked=True)
    parser.feed(bytes((0x83, 0x80)) + b"\x00" * 4)
    with pytest.raises(WebSocketProtocolError) as info:
        list(parser.chunks())
    assert info.value.code == 1002


def test_input_after_failure_is_ignored() -> None:
    """RFC 6455 §7.1.7: after failing, the endpoint MUST NOT process more data."""
    core = server_core()
    feed(core, client_frame(3))
    core.data_to_send()
    assert feed(core, client_frame(Opcode.TEXT, b"late")) == []
    assert core.data_to_send() == b""


def test_unfragmented_binary_frame_comes_in_one_piece_once_complete() -> None:
    """RFC 6455 §5.2, §5.3: an unfragmented binary frame (FIN, no RSV1) within
    ``whole_binary_limit`` has nothing to check early: it is held until complete and
    unmasked in one pass, one piece instead of one per read."""
    payload = bytes(range(256)) * 1200
    frame = client_frame(Opcode.BINARY, payload)
    parser = FrameParser(expect_masked=True, whole_binary_limit=len(payload))
    step = len(frame) // 7 + 1
    pieces = []
    for i in range(0, len(frame), step):
        parser.feed(frame[i:i + step])
        pieces.append(list(parser.chunks()))
    assert all(p == [] for p in pieces[:-1])
    [chunk] = pieces[-1]
    assert chunk.first and chunk.last and chunk.data == payload


def test_fragmented_or_larger_binary_frames_still_stream() -> None:
    """RFC 6455 §5.4: a fragment (FIN clear) or a frame over the limit streams as before."""
    for fin, limit in ((False, 1 << 20), (True, 9999)):
        parser = FrameParser(expect_masked=True, whole_binary_limit=limit)
        frame = client_frame(Opcode.BINARY, b"b" * 10000, fin=fin)
        parser.feed(frame[:5000])
        first = list(parser.chunks())
        assert first and first[0].first and not first[-1].last


def test_text_frame_still_fails_on_bad_utf8_before_it_ends() -> None:
    """RFC 6455 §8.1: text is checked as it arrives (fail fast, Autobahn 6.4.x), so a
    large text frame is never held whole: invalid UTF-8 in its first half is 1007 at once."""
    core = server_core()
    frame = client_frame(Opcode.TEXT, b"ok\xff" + b"a" * 100_000)
    assert failure(feed(core, frame[:50_000])).code == CloseCode.INVALID_PAYLOAD


def test_binary_frame_over_the_message_limit_fails_before_it_ends() -> None:
    """RFC 6455 §10.4: a frame within the frame limit but over the message limit is not
    held until complete: 1009 on its first bytes."""
    core = server_core(max_message_size=1000, max_frame_size=100_000)
    frame = client_frame(Opcode.BINARY, b"x" * 5000)
    assert failure(feed(core, frame[:2000])).code == CloseCode.MESSAGE_TOO_BIG


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 4096])
def test_server_data_frames_match_the_general_encoder(size: int) -> None:
    """RFC 6455 §5.2: the server's prebuilt heads for messages under 126 bytes give the
    same octets as :func:`encode_frame` (FIN, opcode, minimal length, no mask)."""
    payload = bytes(i & 0xFF for i in range(size))
    core = server_core()
    core.send_bytes(payload)
    core.send_text("é" * (size // 2))
    assert core.data_to_send() == (encode_frame(Opcode.BINARY, payload)
                                   + encode_frame(Opcode.TEXT, ("é" * (size // 2)).encode()))
