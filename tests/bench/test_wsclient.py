"""Smoke tests of the WebSocket load client against real servers (no timing asserted)."""
from __future__ import annotations

import asyncio
import zlib

from bench.wsclient import (
    WsLoadConfig,
    client_frame,
    deflate_message,
    make_payload,
    mask_bytes,
    run_load,
)


def test_masking_is_an_involution_with_the_key_repeated() -> None:
    """RFC 6455 §5.3: octet i is XORed with key[i mod 4]; masking twice restores it."""
    key = b"\x01\x02\x03\x04"
    data = bytes(range(10))
    masked = mask_bytes(data, key)
    assert masked == bytes(b ^ key[i % 4] for i, b in enumerate(data))
    assert mask_bytes(masked, key) == data


def test_client_frame_uses_the_16_and_64_bit_length_forms() -> None:
    """RFC 6455 §5.2: 126 → 16-bit length, 127 → 64-bit length; client frames are masked."""
    small = client_frame(b"x" * 125, 0x2, False, b"abcd")
    medium = client_frame(b"x" * 126, 0x2, False, b"abcd")
    large = client_frame(b"x" * 65536, 0x2, False, b"abcd")
    assert small[1] == 0x80 | 125
    assert medium[1] == 0x80 | 126 and int.from_bytes(medium[2:4], "big") == 126
    assert large[1] == 0x80 | 127 and int.from_bytes(large[2:10], "big") == 65536


def test_deflated_message_inflates_back_after_appending_the_tail() -> None:
    """RFC 7692 §7.2.1–7.2.2: the sender strips 00 00 ff ff; the receiver appends it."""
    payload = make_payload(1024)
    body = deflate_message(payload)
    assert not body.endswith(b"\x00\x00\xff\xff")
    assert zlib.decompressobj(-15).decompress(body + b"\x00\x00\xff\xff") == payload


async def test_echo_loop_against_the_bare_ceiling_server(bare_port: int) -> None:
    """RFC 6455 §4.1 handshake then §5.2 frames: every connection opens and echoes."""
    result = await run_load(WsLoadConfig(port=bare_port, conns=4, size=64, duration=0.3,
                                         warmup=0.1))
    assert result.connected == 4
    assert result.errors == []
    assert result.messages > 0


async def test_one_mebibyte_echoes_are_length_checked(websockets_port: int) -> None:
    """RFC 6455 §5.2: 64-bit payload lengths, possibly fragmented (§5.4), reassembled."""
    result = await run_load(WsLoadConfig(port=websockets_port, conns=2, size=1 << 20,
                                         duration=0.3, warmup=0.1))
    assert result.connected == 2
    assert result.errors == []
    assert result.messages > 0


async def test_permessage_deflate_is_negotiated_and_inflated(websockets_port: int) -> None:
    """RFC 7692 §5 and §7.2.2: the offer is accepted, echoes carry RSV1 and inflate to the
    original length (a wrong length would be reported as an error)."""
    result = await run_load(WsLoadConfig(port=websockets_port, conns=3, size=1024,
                                         duration=0.3, warmup=0.1, deflate=True))
    assert result.deflate_negotiated == 3
    assert result.errors == []
    assert result.messages > 0


async def test_a_refused_handshake_is_an_error_not_a_connection() -> None:
    """RFC 6455 §4.1: without a 101 and a matching Sec-WebSocket-Accept the client must
    fail the connection; the load client reports it instead of counting it."""

    async def http_only(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(http_only, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        result = await run_load(WsLoadConfig(port=port, conns=2, duration=0.1, warmup=0.0))
    finally:
        server.close()
        await server.wait_closed()
    assert result.connected == 0
    assert result.errors and "handshake refused" in result.errors[0]
