"""RFC 6455 §10.4: the HTTP/1.1 WebSocket handler paces its input. A read full of small
frames is parsed over several event-loop turns with reading paused meanwhile (the
HTTP/2 handler's InputPacer), so one flooding peer cannot hold the loop."""
from __future__ import annotations

import asyncio
from typing import Any

from blackbull.config import Settings
from blackbull.protocol.websocket import Opcode
from blackbull.server.connection import Connection
from blackbull.server.http2_input import MAX_CHUNK
from blackbull.server.ws_bridge import WebSocketBridge

from .wsutil import client_frame

UPGRADE = (b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           b"Sec-WebSocket-Version: 13\r\n\r\n")
MESSAGES = 40_000


async def counting_app(scope: dict, receive: Any, send: Any) -> None:
    box = scope["state"]["box"]
    await receive()
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        box["messages"] += 1
        if box["messages"] == MESSAGES:
            box["done"].set()


async def test_a_read_full_of_frames_is_parsed_over_many_turns_with_reading_paused(
        serve, monkeypatch) -> None:
    """RFC 6455 §10.4: 40 000 one-byte messages (280 kB) sent in one write reach the
    core in pieces of at most MAX_CHUNK over many loop turns; reading is paused while a
    backlog waits and resumed at the end; every message arrives, in full."""
    loop = asyncio.get_running_loop()
    turn = 0
    ticking = True

    def tick() -> None:
        nonlocal turn
        turn += 1
        if ticking:
            loop.call_soon(tick)

    feeds: list[tuple[int, int]] = []
    reading: list[str] = []
    real_feed = WebSocketBridge.feed
    real_pause, real_resume = Connection.pause_reading, Connection.resume_reading

    def spy_feed(self: WebSocketBridge, data: bytes) -> None:
        feeds.append((turn, len(data)))
        real_feed(self, data)

    def spy_pause(self: Connection) -> None:
        reading.append("pause")
        real_pause(self)

    def spy_resume(self: Connection) -> None:
        reading.append("resume")
        real_resume(self)

    monkeypatch.setattr(WebSocketBridge, "feed", spy_feed)
    monkeypatch.setattr(Connection, "pause_reading", spy_pause)
    monkeypatch.setattr(Connection, "resume_reading", spy_resume)

    # a deep queue: the bridge's own back-pressure must not be what pauses reading here
    srv = await serve(counting_app, Settings(ws_queue_depth=10 * MESSAGES))
    box = {"messages": 0, "done": asyncio.Event()}
    srv.state.lifespan_state["box"] = box
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    writer.write(UPGRADE)
    await reader.readuntil(b"\r\n\r\n")
    await asyncio.sleep(0.05)  # the app has accepted; frames now go to the core
    feeds.clear()
    reading.clear()
    loop.call_soon(tick)
    writer.write(client_frame(Opcode.BINARY, b"x") * MESSAGES)
    await writer.drain()
    try:
        await asyncio.wait_for(box["done"].wait(), 30)
    finally:
        ticking = False
        writer.close()

    assert box["messages"] == MESSAGES
    assert sum(n for _, n in feeds) == 7 * MESSAGES
    assert max(n for _, n in feeds) <= MAX_CHUNK
    assert len({t for t, _ in feeds}) >= 5  # spread over many loop turns
    assert "pause" in reading and reading[-1] == "resume"
