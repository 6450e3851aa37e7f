"""RFC 6455 §5.1, §5.3: masking of client frames."""
from __future__ import annotations

import os

import pytest

from blackbull.protocol.websocket import (
    BytesMessage,
    CloseCode,
    Opcode,
    Role,
    WebSocketConnection,
    apply_mask,
)
from blackbull.protocol.websocket.frames import FrameParser

from .wsutil import client_frame, failure, feed, server_core


def naive_mask(data: bytes, mask: bytes, offset: int = 0) -> bytes:
    return bytes(b ^ mask[(i + offset) % 4] for i, b in enumerate(data))


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 127, 1000, 4099, 65536, 65537, 200003])
@pytest.mark.parametrize("offset", [0, 1, 2, 3, 6])
def test_apply_mask_matches_the_section_5_3_definition(size: int, offset: int) -> None:
    """RFC 6455 §5.3: octet i is XORed with masking-key octet (i MOD 4), from any offset."""
    data, mask = os.urandom(size), os.urandom(4)
    assert apply_mask(data, mask, offset) == naive_mask(data, mask, offset)


def test_unmasked_client_frame_fails_with_1002() -> None:
    """RFC 6455 §5.1: a server MUST close on an unmasked client frame (1002)."""
    events = feed(server_core(), client_frame(Opcode.TEXT, b"hi", masked=False))
    assert failure(events).code == CloseCode.PROTOCOL_ERROR


def test_masked_server_frame_fails_a_client_with_1002() -> None:
    """RFC 6455 §5.1: a client MUST close on a masked server frame."""
    client = WebSocketConnection(Role.CLIENT)
    events = client.receive_data(client_frame(Opcode.TEXT, b"hi", masked=True))
    assert failure(events).code == CloseCode.PROTOCOL_ERROR


def test_client_role_masks_every_frame_with_a_fresh_key() -> None:
    """RFC 6455 §5.3: every client frame is masked, with an unpredictable key."""
    client = WebSocketConnection(Role.CLIENT)
    client.send_bytes(b"same payload")
    client.send_bytes(b"same payload")
    wire = client.data_to_send()
    half = len(wire) // 2
    first, second = wire[:half], wire[half:]
    assert first[1] & 0x80 and second[1] & 0x80
    assert first[2:6] != second[2:6]
    server = server_core()
    assert server.receive_data(wire) == [BytesMessage(b"same payload")] * 2


def test_masked_payload_unmasked_across_tcp_segments() -> None:
    """RFC 6455 §5.3: unmasking continues at the right key octet across reads."""
    payload = os.urandom(10001)
    frame = client_frame(Opcode.BINARY, payload)
    parser = FrameParser(expect_masked=True)
    got = b""
    for i in range(0, len(frame), 7):
        parser.feed(frame[i:i + 7])
        got += b"".join(c.data for c in parser.chunks())
    assert got == payload
