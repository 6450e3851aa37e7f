"""RFC 6455 §10.4, §7.4.1: a message being assembled holds part of the worker's inbound
budget until it completes. A peer that sends part of a message and then nothing is
closed with 1008 after BB_WS_MESSAGE_STALL_TIMEOUT, and what it held is given back; a
peer whose message keeps growing, or that waits because the server stopped reading it,
is not."""
from __future__ import annotations

import asyncio
import struct
import zlib
from typing import Any

from blackbull.config import Settings
from blackbull.protocol.websocket import Opcode

from .test_sec_10_4_inbound_bytes import gated_app, open_ws, settle
from .wsutil import client_frame

MiB = 1024 * 1024


async def echo_app(scope: dict, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "bytes": message["bytes"]})


def compressed(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return (c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]


async def close_code(reader: asyncio.StreamReader, timeout: float) -> int | None:
    """The code of the server's Close frame, or None if none came in ``timeout``."""
    buf = b""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        while len(buf) >= 2:
            opcode, n, pos = buf[0] & 0x0F, buf[1] & 0x7F, 2
            if n == 126:
                n, pos = struct.unpack("!H", buf[2:4])[0], 4
            elif n == 127:
                n, pos = struct.unpack("!Q", buf[2:10])[0], 10
            if len(buf) < pos + n:
                break
            payload, buf = buf[pos:pos + n], buf[pos + n:]
            if opcode == Opcode.CLOSE:
                return struct.unpack("!H", payload[:2])[0]
        remaining = deadline - loop.time()
        if remaining <= 0:
            return None
        try:
            chunk = await asyncio.wait_for(reader.read(65536), remaining)
        except TimeoutError:
            return None
        if not chunk:
            return None
        buf += chunk


async def test_half_sent_message_that_stalls_is_closed_with_1008(serve) -> None:
    """§10.4: 2 MiB of a message (inflated from a few kB), then nothing: close 1008 once
    BB_WS_MESSAGE_STALL_TIMEOUT (0.5 s here) has passed, and the budget is given back."""
    settings = Settings(ws_message_stall_timeout=0.5)
    srv = await serve(echo_app, settings)
    reader, writer = await open_ws(srv.bound_port, 0)
    loop = asyncio.get_running_loop()
    start = loop.time()
    writer.write(client_frame(Opcode.BINARY, compressed(b"\0" * 2 * MiB), fin=False,
                              rsv1=True))
    await writer.drain()
    assert await close_code(reader, 5.0) == 1008
    assert loop.time() - start >= 0.45  # not before the timeout (ms clock resolution)
    assert await settle(srv) == 0
    writer.close()


async def test_a_message_that_keeps_growing_is_not_a_stall(serve) -> None:
    """§10.4: a fragment every 0.2 s for 1.6 s, with a 0.5 s stall timeout: the message
    grows, so it is delivered whole, and the connection stays open."""
    settings = Settings(ws_message_stall_timeout=0.5)
    srv = await serve(gated_app, settings)
    box = srv.state.lifespan_state
    box.update(gate=asyncio.Event(), got=[])
    box["gate"].set()
    reader, writer = await open_ws(srv.bound_port, 0)
    writer.write(client_frame(Opcode.BINARY, b"a" * 1000, fin=False))
    for _ in range(8):
        await asyncio.sleep(0.2)
        writer.write(client_frame(Opcode.CONTINUATION, b"b" * 1000, fin=False))
    writer.write(client_frame(Opcode.CONTINUATION, b"c"))
    for _ in range(100):
        if box["got"]:
            break
        await asyncio.sleep(0.05)
    assert box["got"] == [("/0", 9001, int.from_bytes(b"aaaa", "big"))]
    assert await close_code(reader, 0.7) is None
    writer.close()


async def test_waiting_for_the_server_to_read_is_not_a_stall(serve) -> None:
    """§10.4: with the app behind, the server stops reading in the middle of a message
    (BB_WS_MAX_QUEUE_BYTES spent: one 768 KiB message queued, a quarter of the next
    assembled); the peer waits for it far longer than the stall timeout and is not
    closed: every message arrives once the app reads."""
    size = 768 * 1024
    settings = Settings(ws_message_stall_timeout=0.3, ws_max_queue_bytes=MiB,
                        ws_bytes_per_turn=64 * 1024)
    srv = await serve(gated_app, settings)
    box = srv.state.lifespan_state
    box.update(gate=asyncio.Event(), got=[])
    reader, writer = await open_ws(srv.bound_port, 0)
    for i in range(3):
        payload = i.to_bytes(4, "big") + b"\0" * (size - 4)
        writer.write(client_frame(Opcode.BINARY, compressed(payload), rsv1=True))
    await writer.drain()
    await asyncio.sleep(1.5)  # five stall timeouts with a message half assembled
    assert srv.state.ws_inbound.used > size
    box["gate"].set()
    while len(box["got"]) < 3:
        await asyncio.sleep(0.05)
    assert box["got"] == [("/0", size, i) for i in range(3)]
    writer.close()


async def test_the_stall_timeout_can_be_turned_off(serve) -> None:
    """BB_WS_MESSAGE_STALL_TIMEOUT=0: a half-sent message is kept (the worker's budget
    alone bounds it)."""
    settings = Settings(ws_message_stall_timeout=0)
    srv = await serve(echo_app, settings)
    reader, writer = await open_ws(srv.bound_port, 0)
    writer.write(client_frame(Opcode.BINARY, b"x" * 1000, fin=False))
    await writer.drain()
    assert await close_code(reader, 1.0) is None
    assert srv.state.ws_inbound.used == 1000
    writer.close()
