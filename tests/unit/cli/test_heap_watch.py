"""Memory of closed connections is given back: after a burst of connections closed,
the server trims the C heap (heap.HeapReleaser fed once a second with the connections
held), so freed buffers between live ones do not stay resident."""
from __future__ import annotations

import asyncio
from typing import Any

from blackbull.config import Settings
from blackbull.server import heap, serve
from blackbull.server.serve import Server


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def _keepalive(port: int) -> asyncio.StreamWriter:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await reader.readuntil(b"ok")
    return writer


async def test_heap_trimmed_after_a_burst_of_closed_connections(monkeypatch) -> None:
    """160 connections (at 8 KiB each: 1.25 MiB, over heap.IDLE_RELEASE) all closed: one
    trim follows; while they are held, none."""
    trims: list[int] = []
    monkeypatch.setattr(heap, "trim_heap", lambda pad: trims.append(pad) or True)
    monkeypatch.setattr(serve, "HEAP_WATCH_INTERVAL", 0.05)
    server = Server(hello, Settings(lifespan="off"), port=0)
    await server.start()
    try:
        writers = [await _keepalive(server.bound_port) for _ in range(160)]
        await asyncio.sleep(0.5)
        assert trims == []
        for writer in writers:
            writer.close()
        for _ in range(100):
            if trims:
                break
            await asyncio.sleep(0.05)
        assert trims == [Settings().malloc_threshold]
    finally:
        await server.shutdown()
