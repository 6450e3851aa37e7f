"""Our WebSocket client (RFC 6455 client role) against the independent `websockets` server."""
from __future__ import annotations

import asyncio
import ssl
import struct
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Response

from blackbull.client import HandshakeFailed, WebSocketClient, WSOpcode


async def echo(ws: ServerConnection) -> None:
    async for message in ws:
        if message == "close-4000":
            await ws.close(4000, "asked")
            return
        await ws.send(message)


@pytest.fixture
async def ws_server() -> AsyncIterator[int]:
    async with serve(echo, "127.0.0.1", 0, max_size=None) as server:
        yield server.sockets[0].getsockname()[1]


async def test_text_binary_and_pong(ws_server: int) -> None:
    """RFC 6455 §5.6/§5.5.3: data echoes with its opcode; a Ping gets its Pong."""
    async with WebSocketClient("127.0.0.1", ws_server) as client:
        ws = await client.connect("/")
        await ws.send_text("héllo")
        assert await ws.receive() == (WSOpcode.TEXT, "héllo")
        await ws.send_bytes(b"\x00\x01")
        assert await ws.receive() == (WSOpcode.BINARY, b"\x00\x01")
        await ws.ping(b"are you there")
        assert await ws.receive() == (WSOpcode.PONG, b"are you there")


async def test_permessage_deflate_is_offered_and_used(ws_server: int) -> None:
    """RFC 7692 §5: our offer is accepted by websockets; large messages round-trip."""
    async with WebSocketClient("127.0.0.1", ws_server) as client:
        ws = await client.connect("/")
        assert ws.core.deflate is not None
        assert any(b"permessage-deflate" in v for v in ws.extensions)
        text = "repetitive " * 100000
        await ws.send_text(text)
        assert await ws.receive() == (WSOpcode.TEXT, text)


async def test_without_compression_no_extension_is_used(ws_server: int) -> None:
    """RFC 7692 §5: no offer, no extension."""
    async with WebSocketClient("127.0.0.1", ws_server) as client:
        ws = await client.connect("/", compress=False)
        assert ws.core.deflate is None and ws.extensions == []
        await ws.send_bytes(b"y" * 70000)
        assert await ws.receive() == (WSOpcode.BINARY, b"y" * 70000)


async def test_subprotocol_negotiation() -> None:
    """RFC 6455 §4.1: the server picks one of our subprotocols."""
    async with serve(echo, "127.0.0.1", 0, subprotocols=["chat"]) as server:
        port = server.sockets[0].getsockname()[1]
        async with WebSocketClient("127.0.0.1", port) as client:
            ws = await client.connect("/", subprotocols=["v2", "chat"])
            assert ws.subprotocol == "chat"


async def test_close_is_idempotent_and_reports_the_echoed_code(ws_server: int) -> None:
    """RFC 6455 §7.1.2: our Close is answered; closing twice is harmless."""
    async with WebSocketClient("127.0.0.1", ws_server) as client:
        ws = await client.connect("/")
        await ws.close(code=1001)
        await ws.close(code=1001)
        assert ws.close_code == 1001 and ws.closed


async def test_server_initiated_close_is_received(ws_server: int) -> None:
    """RFC 6455 §7.1.2/§5.5.1: the server's Close reaches us with its code and reason."""
    async with WebSocketClient("127.0.0.1", ws_server) as client:
        ws = await client.connect("/")
        await ws.send_text("close-4000")
        opcode, payload = await ws.receive()
        assert opcode is WSOpcode.CLOSE
        assert payload == struct.pack("!H", 4000) + b"asked"
        assert ws.close_code == 4000


async def test_receive_times_out(ws_server: int) -> None:
    """RFC 6455 §6.2: nothing received yet, so receive(timeout) raises TimeoutError."""
    async with WebSocketClient("127.0.0.1", ws_server) as client:
        ws = await client.connect("/")
        with pytest.raises(TimeoutError):
            await ws.receive(timeout=0.2)


async def test_refused_handshake_raises() -> None:
    """RFC 6455 §4.1: a status other than 101 fails the connection."""
    def refuse(connection, request) -> Response:
        return connection.respond(403, "no\n")

    async with serve(echo, "127.0.0.1", 0, process_request=refuse) as server:
        port = server.sockets[0].getsockname()[1]
        async with WebSocketClient("127.0.0.1", port) as client:
            with pytest.raises(HandshakeFailed):
                await client.connect("/")


async def test_wss_client(tls_certs) -> None:
    """RFC 6455 §4.1: wss — the same handshake inside TLS."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(tls_certs["cert"], tls_certs["key"])
    client_ctx = ssl.create_default_context(cafile=tls_certs["ca"])
    async with serve(echo, "127.0.0.1", 0, ssl=server_ctx) as server:
        port = server.sockets[0].getsockname()[1]
        async with WebSocketClient("localhost", port, ssl=client_ctx) as client:
            ws = await client.connect("/")
            await ws.send_text("over tls")
            assert await asyncio.wait_for(ws.receive(), 5) == (WSOpcode.TEXT, "over tls")


async def test_client_against_our_own_server(serve) -> None:
    """RFC 6455 §4.1, §5.6: our client and our server interoperate (both on the core)."""
    from tests.unit.rfc6455.wsutil import echo_app

    srv = await serve(echo_app)
    async with WebSocketClient("127.0.0.1", srv.bound_port) as client:
        ws = await client.connect("/")
        await ws.send_text("self " * 1000)
        assert await ws.receive() == (WSOpcode.TEXT, "self " * 1000)
        await ws.close()
        assert ws.close_code == 1000


async def test_caller_can_answer_messages_that_precede_the_servers_close(serve) -> None:
    """RFC 6455 §5.5.1: the answering Close may wait until the current message is sent;
    our Close goes out when the caller receives the server's Close."""
    seen: list = []

    async def app(scope: dict, receive, send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "question"})
        await send({"type": "websocket.close", "code": 4002})
        seen.append(await receive())
        seen.append(await receive())

    srv = await serve(app)
    async with WebSocketClient("127.0.0.1", srv.bound_port) as client:
        ws = await client.connect("/")
        assert await ws.receive() == (WSOpcode.TEXT, "question")
        await asyncio.sleep(0.1)            # the server's Close is already here
        await ws.send_text("answer")        # still allowed: our Close is not sent yet
        opcode, payload = await ws.receive()
        assert opcode is WSOpcode.CLOSE and payload[:2] == struct.pack("!H", 4002)
        await ws.close()
    for _ in range(50):
        if len(seen) == 2:
            break
        await asyncio.sleep(0.02)
    assert seen[0] == {"type": "websocket.receive", "text": "answer"}
    assert seen[1]["type"] == "websocket.disconnect" and seen[1]["code"] == 4002
