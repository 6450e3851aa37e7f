"""RFC 6455 §4.2: the server's side of the opening handshake, driven by real clients."""
from __future__ import annotations

import asyncio
import base64
import os
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.conftest import raw_exchange

from .wsutil import echo_app

UPGRADE = (b"GET /chat?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
           b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")


async def test_websockets_client_completes_the_handshake(serve) -> None:
    """RFC 6455 §4.2.2: 101, Upgrade, Connection and the right Sec-WebSocket-Accept."""
    srv = await serve(echo_app)
    async with connect(f"ws://127.0.0.1:{srv.bound_port}/") as ws:
        assert ws.response.status_code == 101
        await ws.send("hi")
        assert await ws.recv() == "hi"


async def test_raw_handshake_answer_has_the_rfc_accept_value(serve) -> None:
    """RFC 6455 §1.3/§4.2.2: the example key yields s3pPLMBiTxaQ9kYGzzhZRbK+xOo=."""
    srv = await serve(echo_app)
    answer = await raw_exchange(srv.bound_port, UPGRADE + b"Sec-WebSocket-Version: 13\r\n\r\n",
                                read_until_close=False)
    assert answer.startswith(b"HTTP/1.1 101 ")
    assert b"\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in answer.lower() \
        or b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in answer


async def test_unsupported_version_gets_426_with_version_13(serve) -> None:
    """RFC 6455 §4.2.2 / §4.4: a version we do not speak → 426 + Sec-WebSocket-Version."""
    srv = await serve(echo_app)
    answer = await raw_exchange(srv.bound_port, UPGRADE + b"Sec-WebSocket-Version: 8\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 426 ")
    assert b"sec-websocket-version: 13" in answer.lower()


async def test_bad_key_gets_400_and_the_connection_closes(serve) -> None:
    """RFC 6455 §4.2.1 item 5: the key must be base64 of 16 bytes, else 400."""
    srv = await serve(echo_app)
    request = (b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               b"Sec-WebSocket-Key: " + base64.b64encode(os.urandom(8)) +
               b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
    answer = await raw_exchange(srv.bound_port, request)
    assert answer.startswith(b"HTTP/1.1 400 ")


async def subprotocol_app(scope: dict, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "websocket.accept", "headers": [(b"x-seen", ",".join(
        scope["subprotocols"]).encode())]})
    await receive()


subprotocol_app.available_ws_protocols = [b"graphql-ws", "chat"]  # type: ignore[attr-defined]


async def test_subprotocol_is_the_first_client_offer_the_app_supports(serve) -> None:
    """RFC 6455 §4.2.2 item 5.4: the server selects one of the client's subprotocols."""
    srv = await serve(subprotocol_app)
    async with connect(f"ws://127.0.0.1:{srv.bound_port}/",
                       subprotocols=["mqtt", "chat", "graphql-ws"]) as ws:
        assert ws.subprotocol == "chat"
        assert ws.response.headers["x-seen"] == "mqtt,chat,graphql-ws"


async def explicit_subprotocol_app(scope: dict, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "websocket.accept", "subprotocol": scope["subprotocols"][-1]})
    await receive()


async def test_app_chosen_subprotocol_wins(serve) -> None:
    """RFC 6455 §4.2.2: the subprotocol named in websocket.accept is answered."""
    srv = await serve(explicit_subprotocol_app)
    async with connect(f"ws://127.0.0.1:{srv.bound_port}/", subprotocols=["a", "b"]) as ws:
        assert ws.subprotocol == "b"


async def deny_app(scope: dict, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "websocket.close"})


async def test_app_closing_before_accept_denies_with_403(serve) -> None:
    """RFC 6455 §4.2.2 / ASGI: websocket.close before accept → HTTP 403."""
    srv = await serve(deny_app)
    with pytest.raises(InvalidStatus) as info:
        async with connect(f"ws://127.0.0.1:{srv.bound_port}/"):
            pass
    assert info.value.response.status_code == 403


async def custom_denial_app(scope: dict, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "websocket.http.response.start", "status": 401,
                "headers": [(b"www-authenticate", b"Bearer")]})
    await send({"type": "websocket.http.response.body", "body": b"who ", "more_body": True})
    await send({"type": "websocket.http.response.body", "body": b"are you?"})


async def test_websocket_http_response_extension_sends_the_apps_denial(serve) -> None:
    """RFC 6455 §4.2.2 (any other status rejects) via the ASGI http.response extension."""
    srv = await serve(custom_denial_app)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await session.ws_connect(f"http://127.0.0.1:{srv.bound_port}/")
    assert info.value.status == 401


async def scope_app(scope: dict, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": repr(
        (scope["type"], scope["scheme"], scope["path"], scope["query_string"],
         scope["http_version"], "websocket.http.response" in scope["extensions"]))})
    await receive()


async def test_asgi_scope_of_a_websocket(serve) -> None:
    """RFC 6455 §3 (ws URI) as the ASGI websocket scope: scheme, path, query."""
    srv = await serve(scope_app)
    async with connect(f"ws://127.0.0.1:{srv.bound_port}/a%20b?q=1") as ws:
        text = await ws.recv()
    assert text == repr(("websocket", "ws", "/a b", b"q=1", "1.1", True))


async def test_frames_sent_right_after_the_handshake_are_kept(serve) -> None:
    """RFC 6455 §4.1: a client may send frames as soon as it sent the handshake; bytes
    that arrive before the app accepts are processed after the 101."""
    srv = await serve(echo_app)
    mask = b"\x01\x02\x03\x04"
    frame = bytes((0x81, 0x82)) + mask + bytes(a ^ b for a, b in zip(b"hi", mask[:2], strict=True))
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    writer.write(UPGRADE + b"Sec-WebSocket-Version: 13\r\n\r\n" + frame)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 101")
    assert await asyncio.wait_for(reader.readexactly(4), 5) == b"\x81\x02hi"
    writer.close()
