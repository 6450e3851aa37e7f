"""Property tests of the WebSocket codec (RFC 6455 §5) and inflater (RFC 7692)."""
from __future__ import annotations

import os
import zlib

from hypothesis import given
from hypothesis import strategies as st

from blackbull.protocol.websocket.connection import Role, WebSocketConnection
from blackbull.protocol.websocket.deflate import DeflateParams, PerMessageDeflate
from blackbull.protocol.websocket.events import BytesMessage, TextMessage
from fuzz.targets import websocket_inflater, websocket_server_frames


def _frame(opcode: int, payload: bytes, fin: bool, rsv1: bool = False) -> bytes:
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i & 3] for i, b in enumerate(payload))


@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    """RFC 6455 §7.1.7: invalid input fails the connection with a close code; the codec
    never raises."""
    websocket_server_frames(data)


@given(st.binary(max_size=3000))
def test_arbitrary_deflate_data_never_raises(data: bytes) -> None:
    """RFC 7692 §7.2.2: bad compressed data is 1007, too much is 1009; nothing else."""
    websocket_inflater(data)


@given(st.one_of(st.text(max_size=2000), st.binary(max_size=5000)),
       st.lists(st.integers(1, 5000), max_size=8), st.integers(0, 20_000))
def test_fragmented_message_reassembles_identically(message, sizes, cut: int) -> None:
    """RFC 6455 §5.4: a message split into any fragments, masked with fresh keys and
    delivered in any two reads, is received unchanged."""
    payload = message.encode() if isinstance(message, str) else message
    opcode = 0x1 if isinstance(message, str) else 0x2
    pieces, pos = [], 0
    for size in sizes:
        pieces.append(payload[pos:pos + size])
        pos += size
    pieces.append(payload[pos:])
    wire = b"".join(_frame(opcode if i == 0 else 0x0, p, i == len(pieces) - 1)
                    for i, p in enumerate(pieces))
    conn = WebSocketConnection(Role.SERVER)
    cut %= len(wire) + 1
    events = conn.receive_data(wire[:cut]) + conn.receive_data(wire[cut:])
    expected = TextMessage(message) if isinstance(message, str) else BytesMessage(message)
    assert events == [expected]


@given(st.binary(max_size=20_000))
def test_deflated_message_inflates_identically(data: bytes) -> None:
    """RFC 7692 §7.2.2: a message compressed by zlib (sync flush, trailer removed) is
    inflated back exactly by the server side of the extension."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    compressed = (c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]
    conn = WebSocketConnection(Role.SERVER,
                               deflate=PerMessageDeflate(DeflateParams(), is_server=True))
    events = conn.receive_data(_frame(0x2, compressed, True, rsv1=True))
    assert events == [BytesMessage(data)]
