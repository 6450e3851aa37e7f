"""RFC 7692 §6 and §7.2: compressed messages, RSV1, and bounded inflation."""
from __future__ import annotations

import os
import zlib

import pytest

from blackbull.protocol.websocket import (
    BytesMessage,
    CloseCode,
    DeflateParams,
    Opcode,
    PerMessageDeflate,
    Role,
    TextMessage,
    WebSocketConnection,
)

from ..rfc6455.wsutil import client_frame, failure, feed, server_core


def deflate_raw(data: bytes, wbits: int = 15) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -wbits)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def pair(params: DeflateParams, **kw: int) -> tuple[WebSocketConnection, WebSocketConnection]:
    server = WebSocketConnection(Role.SERVER, deflate=PerMessageDeflate(params, is_server=True),
                                 **kw)
    client = WebSocketConnection(Role.CLIENT,
                                 deflate=PerMessageDeflate(params, is_server=False), **kw)
    return server, client


def test_rfc_example_hello_is_inflated() -> None:
    """RFC 7692 §7.2.3.1: "Hello" compressed is f2 48 cd c9 c9 07 00 with RSV1 set."""
    server, _ = pair(DeflateParams())
    frame = client_frame(Opcode.TEXT, bytes.fromhex("f248cdc9c90700"), rsv1=True)
    assert feed(server, frame) == [TextMessage("Hello")]


def test_compressed_message_fragmented_with_rsv1_on_the_first_frame_only() -> None:
    """RFC 7692 §6.1: RSV1 is set on the first frame of a compressed message only."""
    server, _ = pair(DeflateParams())
    body = deflate_raw(b"Hello, fragmented world" * 10)
    half = len(body) // 2
    events = feed(server, client_frame(Opcode.BINARY, body[:half], fin=False, rsv1=True),
                  client_frame(Opcode.CONTINUATION, body[half:]))
    assert events == [BytesMessage(b"Hello, fragmented world" * 10)]


def test_rsv1_on_a_continuation_frame_fails_with_1002() -> None:
    """RFC 7692 §6.1: RSV1 on a non-first frame is a protocol error."""
    server, _ = pair(DeflateParams())
    body = deflate_raw(b"abc")
    events = feed(server, client_frame(Opcode.BINARY, body[:1], fin=False, rsv1=True),
                  client_frame(Opcode.CONTINUATION, body[1:], rsv1=True))
    assert failure(events).code == CloseCode.PROTOCOL_ERROR


def test_rsv1_on_a_control_frame_fails_with_1002() -> None:
    """RFC 7692 §6.1: control frames are never compressed."""
    server, _ = pair(DeflateParams())
    events = feed(server, client_frame(Opcode.PING, b"x", rsv1=True))
    assert failure(events).code == CloseCode.PROTOCOL_ERROR


def test_rsv1_without_negotiation_fails_with_1002() -> None:
    """RFC 6455 §5.2 / RFC 7692 §6: RSV1 without the extension agreed → 1002."""
    events = feed(server_core(), client_frame(Opcode.TEXT, deflate_raw(b"x"), rsv1=True))
    assert failure(events).code == CloseCode.PROTOCOL_ERROR


def test_uncompressed_message_is_allowed_when_deflate_is_agreed() -> None:
    """RFC 7692 §6: a message without RSV1 is not compressed, even with the extension."""
    server, _ = pair(DeflateParams())
    assert feed(server, client_frame(Opcode.TEXT, b"plain")) == [TextMessage("plain")]


@pytest.mark.parametrize("params", [
    DeflateParams(),
    DeflateParams(server_no_context_takeover=True, client_no_context_takeover=True),
    DeflateParams(server_max_window_bits=8, client_max_window_bits=8),
    DeflateParams(server_max_window_bits=9, client_max_window_bits=15),
    DeflateParams(server_no_context_takeover=True, server_max_window_bits=8),
])
def test_round_trip_both_directions_with_every_parameter_combination(params) -> None:
    """RFC 7692 §7.2.1/§7.2.2: what one side compresses the other inflates, message
    after message (context takeover or not)."""
    server, client = pair(params)
    messages = [os.urandom(50) + b"repeat " * 200, b"", "texte répété ".encode() * 300]
    for data in messages:
        client.send_bytes(data)
        assert server.receive_data(client.data_to_send()) == [BytesMessage(data)]
        server.send_bytes(data)
        assert client.receive_data(server.data_to_send()) == [BytesMessage(data)]


def test_window_bits_8_output_inflates_with_a_256_byte_window() -> None:
    """RFC 7692 §7.1.2.1: with server_max_window_bits=8 our output must be readable by an
    inflater limited to a 256-byte window."""
    codec = PerMessageDeflate(DeflateParams(server_max_window_bits=8), is_server=True)
    data = (b"0123456789abcdef" * 64 + os.urandom(300)) * 20
    inflater = zlib.decompressobj(-8)
    for _ in range(3):
        assert inflater.decompress(codec.compress(data) + b"\x00\x00\xff\xff") == data


def test_server_no_context_takeover_makes_each_message_independent() -> None:
    """RFC 7692 §7.1.1.1: each message inflates with a fresh inflater."""
    codec = PerMessageDeflate(DeflateParams(server_no_context_takeover=True), is_server=True)
    data = b"the same text again and again " * 20
    for _ in range(3):
        fresh = zlib.decompressobj(-15)
        assert fresh.decompress(codec.compress(data) + b"\x00\x00\xff\xff") == data


def test_deflate_bomb_fails_with_1009_without_inflating_everything() -> None:
    """RFC 6455 §7.4.1 (1009) / RFC 7692 §8: a tiny payload inflating past the message
    limit fails while inflating."""
    server, _ = pair(DeflateParams(), max_message_size=1 << 20)
    bomb = deflate_raw(b"\x00" * (64 << 20))   # 64 MiB of zeros → ~64 KiB compressed
    assert len(bomb) < 100_000
    events = feed(server, client_frame(Opcode.BINARY, bomb, rsv1=True))
    assert failure(events).code == CloseCode.MESSAGE_TOO_BIG


def test_invalid_utf8_inside_a_compressed_text_message_fails_with_1007() -> None:
    """RFC 6455 §8.1 applies to the inflated text."""
    server, _ = pair(DeflateParams())
    events = feed(server, client_frame(Opcode.TEXT, deflate_raw(b"ok \xff no"), rsv1=True))
    assert failure(events).code == CloseCode.INVALID_PAYLOAD


def test_corrupt_deflate_data_fails_the_connection() -> None:
    """RFC 7692 §7.2.2: data that does not inflate cannot be a valid message."""
    server, _ = pair(DeflateParams())
    events = feed(server, client_frame(Opcode.BINARY, b"\xff\xff\xff\xff", rsv1=True))
    assert failure(events) is not None


def _far_repeat() -> bytes:
    block = os.urandom(10_000)
    return block + block  # the second copy is a back-reference 10 000 bytes away


@pytest.mark.parametrize("cap,offer,bits", [(12, None, 12), (12, 10, 10), (15, None, 15)])
def test_compressor_window_is_capped_by_setting_and_by_the_offer(cap: int, offer: int | None,
                                                                 bits: int) -> None:
    """RFC 7692 §7.1.2.1: our compressor may use any window up to the agreed one; with
    BB_WS_DEFLATE_WINDOW_BITS=12 its output never refers back more than 4096 bytes, so an
    inflater with a 12-bit window reads it (one with fewer bits would not), and a client's
    smaller server_max_window_bits lowers it further."""
    codec = PerMessageDeflate(DeflateParams(server_max_window_bits=offer), is_server=True,
                              max_window_bits=cap)
    data = _far_repeat()
    out = codec.compress(data) + b"\x00\x00\xff\xff"
    assert zlib.decompressobj(-bits).decompress(out) == data
    if bits < 15:  # the window really is that small: no 10 000-byte back-reference
        assert len(out) > len(data)
    else:
        assert len(out) < len(data) * 0.6


def test_window_bits_setting_outside_8_to_15_is_refused() -> None:
    """RFC 7692 §7.1.2: window sizes are 8..15 bits."""
    from blackbull.config import Settings

    assert Settings().ws_deflate_window_bits == 12
    for bad in ("7", "16"):
        with pytest.raises(ValueError):
            Settings.from_env({"BB_WS_DEFLATE_WINDOW_BITS": bad})
