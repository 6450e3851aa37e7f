"""RFC 6455 §7.4.1 codes the server chooses itself: 1001 on shutdown, 1011 on an app
error; and the HTTP answer when the app never accepts (§4.2.2)."""
from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from blackbull.config import Settings

from .wsutil import echo_app


async def test_server_shutdown_closes_open_websockets_with_1001(serve) -> None:
    """RFC 6455 §7.4.1: 1001 "going away" when the server goes down."""
    srv = await serve(echo_app, Settings(graceful_timeout=5.0))
    async with connect(f"ws://127.0.0.1:{srv.bound_port}/") as ws:
        await ws.send("x")
        assert await ws.recv() == "x"
        await asyncio.wait_for(srv.shutdown(), 10)
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 1001


async def crashing_app(scope: dict, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    await receive()
    raise RuntimeError("application bug")


async def test_application_error_closes_with_1011(serve, caplog) -> None:
    """RFC 6455 §7.4.1: 1011 when the server hits an unexpected condition."""
    srv = await serve(crashing_app)
    async with connect(f"ws://127.0.0.1:{srv.bound_port}/") as ws:
        await ws.send("boom")
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 1011
    # Logged once, with its traceback (the app's bug, as on HTTP/1.1 and HTTP/2).
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(failures) == 1 and failures[0].exc_info, failures


async def silent_app(scope: dict, receive: Any, send: Any) -> None:
    await receive()


async def test_app_that_returns_without_accepting_gets_500(serve) -> None:
    """RFC 6455 §4.2.2: without an accept there is no 101; the server answers an error."""
    srv = await serve(silent_app)
    with pytest.raises(InvalidStatus) as info:
        async with connect(f"ws://127.0.0.1:{srv.bound_port}/"):
            pass
    assert info.value.response.status_code == 500


async def test_keepalive_pings_are_sent_when_configured(serve) -> None:
    """RFC 6455 §5.5.2: a Ping may serve as a keepalive (Settings.ws_ping_interval)."""
    srv = await serve(echo_app, Settings(ws_ping_interval=0.05))
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    writer.write(b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 b"Sec-WebSocket-Version: 13\r\n\r\n")
    await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    first = await asyncio.wait_for(reader.readexactly(2), 5)
    assert first[0] == 0x89  # FIN + Ping, unmasked from a server
    writer.close()
