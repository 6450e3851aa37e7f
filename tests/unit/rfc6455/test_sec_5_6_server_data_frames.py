"""RFC 6455 §5.6 data frames through the server, with independent peers; plus TLS (wss,
§3/§4.1) and back-pressure (§10.4 resource limits)."""
from __future__ import annotations

import asyncio
import os
import ssl
from typing import Any

import aiohttp
from websockets.asyncio.client import connect

from blackbull.config import Settings

from .wsutil import echo_app


async def test_aiohttp_client_text_and_binary_echo(serve) -> None:
    """RFC 6455 §5.6: text stays text, binary stays binary (aiohttp as the peer)."""
    srv = await serve(echo_app)
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"http://127.0.0.1:{srv.bound_port}/") as ws:
            await ws.send_str("ünïcode ✓")
            msg = await ws.receive(timeout=5)
            assert msg.type is aiohttp.WSMsgType.TEXT and msg.data == "ünïcode ✓"
            await ws.send_bytes(b"\x00\xff" * 1000)
            msg = await ws.receive(timeout=5)
            assert msg.type is aiohttp.WSMsgType.BINARY and msg.data == b"\x00\xff" * 1000


async def test_large_message_echo_of_8_mib(serve) -> None:
    """RFC 6455 §5.2: a 64-bit length frame of 8 MiB is echoed intact."""
    srv = await serve(echo_app)
    payload = os.urandom(8 << 20)
    async with connect(f"ws://127.0.0.1:{srv.bound_port}/", max_size=None,
                       compression=None) as ws:
        await ws.send(payload)
        assert await asyncio.wait_for(ws.recv(), 30) == payload


async def test_message_over_the_limit_is_closed_with_1009(serve) -> None:
    """RFC 6455 §7.4.1: 1009 when a message is too big to process."""
    srv = await serve(echo_app, Settings(ws_max_message_size=1000))
    async with connect(f"ws://127.0.0.1:{srv.bound_port}/", compression=None) as ws:
        await ws.send(b"x" * 1001)
        await ws.wait_closed()
        assert ws.close_code == 1009


async def test_wss_over_tls_echo(serve, server_ssl_context, tls_certs) -> None:
    """RFC 6455 §3/§4.1: wss is the same protocol inside TLS; scheme is wss."""
    async def app(scope: dict, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": scope["scheme"]})
        await echo_app_tail(receive, send)

    srv = await serve(app, ssl_context=server_ssl_context)
    client_ctx = ssl.create_default_context(cafile=tls_certs["ca"])
    async with connect(f"wss://localhost:{srv.bound_port}/", ssl=client_ctx) as ws:
        assert await ws.recv() == "wss"
        await ws.send("secure")
        assert await ws.recv() == "secure"


async def echo_app_tail(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "text": message.get("text"),
                    "bytes": message.get("bytes")})


async def test_slow_app_pauses_reading_and_every_message_arrives_in_order(serve) -> None:
    """RFC 6455 §10.4 (resource limits): when the app's queue is full the server stops
    reading the socket; once the app drains it, nothing is lost or reordered."""
    gate = asyncio.Event()
    got: list[bytes] = []
    seen_paused: list[bool] = []

    async def app(scope: dict, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await gate.wait()
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            got.append(message["bytes"])
            if len(got) == 200:
                await send({"type": "websocket.send", "text": "done"})

    srv = await serve(app, Settings(ws_queue_depth=4))
    async with connect(f"ws://127.0.0.1:{srv.bound_port}/", compression=None,
                       write_limit=2**16) as ws:
        async def produce() -> None:
            for i in range(200):
                await ws.send(i.to_bytes(4, "big") + b"x" * 16000)

        producer = asyncio.create_task(produce())  # may block: the server stops reading
        await asyncio.sleep(0.5)
        for conn in srv.state.connections:
            seen_paused.append(conn.paused_reading)
            assert len(conn.handler.bridge.inbox) < 200
        gate.set()
        await asyncio.wait_for(producer, 10)
        assert await asyncio.wait_for(ws.recv(), 10) == "done"
    assert seen_paused == [True]
    assert [int.from_bytes(m[:4], "big") for m in got] == list(range(200))
