"""RFC 6455 §10.4: the WebSocket bridge paces its input by frames. A read full of small
frames is parsed over several event-loop turns (at most ``BB_WS_FRAMES_PER_TURN`` frame
pieces each) with reading paused meanwhile, so one flooding peer cannot hold the loop;
large frames go through in whole reads."""
from __future__ import annotations

import asyncio
from typing import Any

from blackbull.config import Settings
from blackbull.protocol.websocket import Opcode, WebSocketConnection
from blackbull.server.connection import Connection

from .wsutil import client_frame

UPGRADE = (b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           b"Sec-WebSocket-Version: 13\r\n\r\n")
MESSAGES = 40_000
FRAMES_PER_TURN = 64  # BB_WS_FRAMES_PER_TURN for this test (default 128)


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
    """RFC 6455 §10.4: 40 000 one-byte messages (280 kB) sent in one write are parsed at
    most FRAMES_PER_TURN per call, one call per loop turn, so over at least
    40 000 / FRAMES_PER_TURN turns; reading is paused while a backlog waits and resumed
    at the end; every message arrives, in full."""
    loop = asyncio.get_running_loop()
    turn = 0
    ticking = True

    def tick() -> None:
        nonlocal turn
        turn += 1
        if ticking:
            loop.call_soon(tick)

    parses: list[tuple[int, int]] = []
    reading: list[str] = []
    real_receive = WebSocketConnection.receive_data
    real_pause, real_resume = Connection.pause_reading, Connection.resume_reading

    def spy_receive(self: WebSocketConnection, data: bytes, budget: int | None = None,
                    max_bytes: int | None = None):
        events = real_receive(self, data, budget, max_bytes)
        parses.append((turn, len(events)))
        return events

    def spy_pause(self: Connection) -> None:
        reading.append("pause")
        real_pause(self)

    def spy_resume(self: Connection) -> None:
        reading.append("resume")
        real_resume(self)

    monkeypatch.setattr(WebSocketConnection, "receive_data", spy_receive)
    monkeypatch.setattr(Connection, "pause_reading", spy_pause)
    monkeypatch.setattr(Connection, "resume_reading", spy_resume)

    # a deep queue: the bridge's own back-pressure must not be what pauses reading here
    srv = await serve(counting_app, Settings(ws_queue_depth=10 * MESSAGES,
                                             ws_frames_per_turn=FRAMES_PER_TURN))
    box = {"messages": 0, "done": asyncio.Event()}
    srv.state.lifespan_state["box"] = box
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    writer.write(UPGRADE)
    await reader.readuntil(b"\r\n\r\n")
    await asyncio.sleep(0.05)  # the app has accepted; frames now go to the core
    parses.clear()
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
    assert sum(n for _, n in parses) == MESSAGES
    assert max(n for _, n in parses) <= FRAMES_PER_TURN
    busy_turns = {t for t, n in parses if n}
    assert len(busy_turns) >= MESSAGES // FRAMES_PER_TURN  # one budget per loop turn
    assert "pause" in reading and reading[-1] == "resume"


def test_core_budget_leaves_the_rest_buffered_in_order() -> None:
    """RFC 6455 §10.4 (sans I/O): with a budget of 100 frame pieces, 1000 buffered
    messages come out 100 per call with ``input_backlog`` set until the last call, all
    of them, in order."""
    from blackbull.protocol.websocket import BytesMessage, Role

    ws = WebSocketConnection(Role.SERVER)
    data = b"".join(client_frame(Opcode.BINARY, b"%d" % i) for i in range(1000))
    got = ws.receive_data(data, 100)
    calls = 1
    assert len(got) == 100 and ws.input_backlog
    while ws.input_backlog:
        events = ws.receive_data(b"", 100)
        assert len(events) <= 100
        got += events
        calls += 1
    assert calls == 11  # the tenth full call cannot know nothing follows: one empty call
    assert all(isinstance(e, BytesMessage) for e in got)
    assert [e.data for e in got] == [b"%d" % i for i in range(1000)]


def test_core_without_budget_parses_everything_at_once() -> None:
    """RFC 6455 §10.4: no budget (the client side, tests) keeps the old behaviour."""
    from blackbull.protocol.websocket import Role

    ws = WebSocketConnection(Role.SERVER)
    events = ws.receive_data(client_frame(Opcode.BINARY, b"x") * 500)
    assert len(events) == 500 and not ws.input_backlog
