"""RFC 6455 §10.4 with RFC 7692 §8.1: what a WebSocket holds for an application that is
behind is bounded in bytes (inflated), per connection (``BB_WS_MAX_QUEUE_BYTES``) and
per worker (``BB_WS_MAX_WORKER_BYTES``), not in messages: past a budget the server stops
reading, and everything still arrives, in order, once the app takes it."""
from __future__ import annotations

import asyncio
import zlib
from typing import Any

from blackbull.config import Settings
from blackbull.protocol.websocket import Opcode

from .wsutil import client_frame

MiB = 1024 * 1024
UPGRADE = (b"GET /%d HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
           b"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n")


def bomb(index: int, size: int) -> bytes:
    """``size`` octets that compress to a few kB; the first says which message it is."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = index.to_bytes(4, "big") + b"\0" * (size - 4)
    compressed = (c.compress(payload) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]
    return client_frame(Opcode.BINARY, compressed, rsv1=True)


async def gated_app(scope: dict, receive: Any, send: Any) -> None:
    """Accepts, then takes nothing until the test opens the gate; records what came."""
    box = scope["state"]
    await receive()
    await send({"type": "websocket.accept"})
    await box["gate"].wait()
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        box["got"].append((scope["path"], len(message["bytes"]),
                           int.from_bytes(message["bytes"][:4], "big")))


async def open_ws(port: int, index: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(UPGRADE % index)
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101") and b"permessage-deflate" in head
    return reader, writer


async def settle(srv: Any) -> int:
    """The worker's held bytes once they stop changing."""
    budget = srv.state.ws_inbound
    last = -1
    while budget.used != last:
        last = budget.used
        await asyncio.sleep(0.2)
    return last


async def test_one_websocket_holds_at_most_its_queue_budget(serve) -> None:
    """§10.4: eight 3 MiB messages (~3 kB each on the wire) for an app that takes none:
    with BB_WS_MAX_QUEUE_BYTES=2 MiB the server holds one of them (3 MiB: with an empty
    queue a message is bounded by BB_WS_MAX_MESSAGE_SIZE alone) plus at most one slice,
    not eight; once the app reads, all eight arrive in order and nothing stays held."""
    settings = Settings(ws_max_queue_bytes=2 * MiB, ws_max_message_size=4 * MiB)
    srv = await serve(gated_app, settings)
    box = srv.state.lifespan_state
    box.update(gate=asyncio.Event(), got=[])
    reader, writer = await open_ws(srv.bound_port, 0)
    for i in range(8):
        writer.write(bomb(i, 3 * MiB))
    await writer.drain()
    held = await settle(srv)
    assert 3 * MiB <= held <= 3 * MiB + settings.ws_bytes_per_turn + 64 * 1024
    box["gate"].set()
    while len(box["got"]) < 8:
        await asyncio.sleep(0.05)
    assert box["got"] == [("/0", 3 * MiB, i) for i in range(8)]
    assert await settle(srv) == 0
    writer.close()


async def test_the_worker_budget_bounds_all_websockets_together(serve) -> None:
    """§10.4: four WebSockets, each allowed 16 MiB of its own, send five 3 MiB messages
    each while their apps take none: the worker's budget (4 MiB here) holds them all
    (at most the budget plus one message, BB_WS_MAX_MESSAGE_SIZE = 4 MiB here, allowed
    past it so that messages being assembled can finish); then every message arrives,
    per connection in order, and the budget is given back."""
    settings = Settings(ws_max_worker_bytes=4 * MiB, ws_max_message_size=4 * MiB)
    srv = await serve(gated_app, settings)
    box = srv.state.lifespan_state
    box.update(gate=asyncio.Event(), got=[])
    peers = [await open_ws(srv.bound_port, n) for n in range(4)]
    for _, writer in peers:
        for i in range(5):
            writer.write(bomb(i, 3 * MiB))
    await asyncio.gather(*(w.drain() for _, w in peers))
    held = await settle(srv)
    assert held <= 4 * MiB + 4 * MiB + 4 * settings.ws_bytes_per_turn
    box["gate"].set()
    while len(box["got"]) < 20:
        await asyncio.sleep(0.05)
    for n in range(4):
        assert [i for path, size, i in box["got"] if path == f"/{n}"] == list(range(5))
    assert await settle(srv) == 0
    for _, writer in peers:
        writer.close()


async def holding_app(scope: dict, receive: Any, send: Any) -> None:
    """Takes one message and works on it (holds it) until the test opens the gate."""
    box = scope["state"]
    await receive()
    await send({"type": "websocket.accept"})
    seen = box["seen"]  # the scope's state is a copy: write into a shared dict
    seen["first"] = await receive()
    box["took"].set()
    await box["gate"].wait()
    seen["next"] = await receive()


async def test_a_message_the_app_took_counts_until_it_asks_for_the_next(serve) -> None:
    """§10.4: the message the app took last is still held, by the app, until it calls
    ``receive`` again; its bytes stay on the budgets until then, so an app that works on
    one message while more inflate holds them all within the budget (a 4-connection
    deflate-bomb burst peaked at 73 MB over a 32 MiB worker budget before). Once the app
    asks for the next message they are given back."""
    settings = Settings(ws_max_worker_bytes=32 * MiB, ws_max_message_size=4 * MiB)
    srv = await serve(holding_app, settings)
    box = srv.state.lifespan_state
    box.update(gate=asyncio.Event(), took=asyncio.Event(), seen={})
    reader, writer = await open_ws(srv.bound_port, 0)
    writer.write(bomb(7, 3 * MiB))
    await writer.drain()
    await asyncio.wait_for(box["took"].wait(), 10)
    assert len(box["seen"]["first"]["bytes"]) == 3 * MiB
    assert await settle(srv) >= 3 * MiB  # the app holds it
    box["gate"].set()  # the app asks for the next message: the first is given back
    assert await settle(srv) < 64 * 1024
    writer.close()
    await asyncio.wait_for(_wait_for(box["seen"], "next"), 10)
    assert box["seen"]["next"]["type"] == "websocket.disconnect"


async def _wait_for(box: dict, key: str) -> None:
    while key not in box:
        await asyncio.sleep(0.02)
