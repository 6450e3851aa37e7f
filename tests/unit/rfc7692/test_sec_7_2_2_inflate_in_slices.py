"""RFC 7692 §7.2.2 with RFC 6455 §10.4: a compressed message is inflated in slices of at
most ``max_bytes`` per ``receive_data`` call, so a few kilobytes that inflate to
megabytes cost the host one bounded slice per call, and the bytes the core holds
(:attr:`~WebSocketConnection.inbound_bytes`) are known at every step."""
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

from ..rfc6455.wsutil import client_frame, failure

SLICE = 64 * 1024
ZEROS = 4 * 1024 * 1024


def deflate_raw(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return (c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]


def core(**kw: int) -> WebSocketConnection:
    return WebSocketConnection(Role.SERVER, deflate=PerMessageDeflate(
        DeflateParams(), is_server=True), **kw)


def drain(ws: WebSocketConnection, data: bytes, max_bytes: int) -> tuple[list, list[int]]:
    """Feed ``data`` once, then empty reads while a backlog waits; the events, and the
    core's held bytes after each call."""
    events = ws.receive_data(data, 128, max_bytes)
    held = [ws.inbound_bytes]
    while ws.input_backlog:
        events += ws.receive_data(b"", 128, max_bytes)
        held.append(ws.inbound_bytes)
        assert len(held) < 10_000
    return events, held


@pytest.mark.parametrize("shape", ["one frame", "fragments", "text"])
def test_a_bomb_is_inflated_one_slice_per_call(shape: str) -> None:
    """RFC 7692 §7.2.2: 4 MiB of zeros (~4 kB compressed) with max_bytes=64 KiB: each
    call adds at most one slice to what the core holds, the message needs at least
    4 MiB / 64 KiB calls, and it arrives complete and intact — read whole (the one-frame
    fast path), in fragments (§5.4; RSV1 on the first only, §6.1), or as text (UTF-8
    checked slice by slice, RFC 6455 §8.1)."""
    payload = b"\0" * ZEROS if shape != "text" else b"a" * ZEROS
    compressed = deflate_raw(payload)
    opcode = Opcode.TEXT if shape == "text" else Opcode.BINARY
    if shape == "fragments":
        half = len(compressed) // 2
        data = client_frame(opcode, compressed[:half], fin=False, rsv1=True) + \
            client_frame(Opcode.CONTINUATION, compressed[half:])
    else:
        data = client_frame(opcode, compressed, rsv1=True)
    ws = core()
    events, held = drain(ws, data, SLICE)
    assert len(events) == 1
    message = events[0]
    assert isinstance(message, TextMessage if shape == "text" else BytesMessage)
    assert (message.data.encode() if shape == "text" else message.data) == payload
    assert len(held) >= ZEROS // SLICE
    steps = [b - a for a, b in zip([0, *held], held, strict=False)]
    assert max(steps) <= SLICE + len(data)  # a slice, plus the frame bytes buffered
    assert held[-1] == 0  # delivered: the core holds nothing of it any more


def test_no_room_only_buffers() -> None:
    """RFC 6455 §10.4: max_bytes=0 (the host has no room for its application) keeps the
    bytes without parsing them; they come out once room is given."""
    ws = core()
    frame = client_frame(Opcode.BINARY, deflate_raw(b"hello"), rsv1=True)
    assert ws.receive_data(frame, 128, 0) == [] and ws.input_backlog
    assert ws.inbound_bytes == len(frame)
    events, _ = drain(ws, b"", SLICE)
    assert [e.data for e in events] == [b"hello"]


def test_the_message_limit_still_applies_across_slices() -> None:
    """RFC 7692 §8.1, RFC 6455 §7.4.1: slicing does not lift BB_WS_MAX_MESSAGE_SIZE: a
    bomb of 4 MiB against a 1 MiB limit → 1009 after at most 1 MiB was produced."""
    ws = core(max_message_size=1 << 20)
    frame = client_frame(Opcode.BINARY, deflate_raw(b"\0" * ZEROS), rsv1=True)
    events, held = drain(ws, frame, SLICE)
    fail = failure(events)
    assert fail is not None and fail.code == CloseCode.MESSAGE_TOO_BIG
    assert max(held) <= (1 << 20) + len(frame)


def test_messages_after_a_sliced_one_keep_their_order() -> None:
    """RFC 6455 §5.4 / §6.2: messages behind a sliced one wait; all arrive in order."""
    ws = core()
    big = os.urandom(100) * 3000  # 300 kB, compresses well, not all zeros
    data = client_frame(Opcode.BINARY, deflate_raw(big), rsv1=True) + \
        b"".join(client_frame(Opcode.BINARY, deflate_raw(b"%d" % i), rsv1=True)
                 for i in range(5))
    events, _ = drain(ws, data, SLICE)
    assert [e.data for e in events] == [big] + [b"%d" % i for i in range(5)]


def test_without_max_bytes_the_message_is_inflated_at_once() -> None:
    """No byte budget (clients, tests): one call, as before."""
    ws = core()
    frame = client_frame(Opcode.BINARY, deflate_raw(b"\0" * ZEROS), rsv1=True)
    events = ws.receive_data(frame)
    assert [len(e.data) for e in events] == [ZEROS] and not ws.input_backlog


@pytest.mark.parametrize("takeover", [True, False])
def test_a_large_message_is_deflated_in_steps(takeover: bool) -> None:
    """RFC 7692 §7.2.1: a 1 MiB message compressed 64 KiB per step is queued only after
    the last step, as one frame with RSV1, and reads back intact; the message after it
    shares the context when it is taken over (§7.1.1) and not otherwise."""
    params = DeflateParams(server_no_context_takeover=not takeover)
    server = WebSocketConnection(Role.SERVER, deflate=PerMessageDeflate(params, is_server=True))
    client = WebSocketConnection(Role.CLIENT, deflate=PerMessageDeflate(params, is_server=False))
    big = (os.urandom(200) * 50 + b"text " * 2000) * 60
    steps = 0
    for _ in server.send_message_in_steps(big, text=False, step=SLICE):
        assert server.output_parts() == []  # nothing goes out before the last step
        steps += 1
    assert steps >= len(big) // SLICE
    server.send_text("after")
    events = client.receive_data(server.data_to_send())
    assert [e.data for e in events] == [big, "after"]
    assert all(isinstance(e, BytesMessage | TextMessage) for e in events)
