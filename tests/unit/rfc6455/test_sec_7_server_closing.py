"""RFC 6455 §7: closing the connection, as the server does it with real clients."""
from __future__ import annotations

import asyncio
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Request,
    TextMessage,
)

from .wsutil import client_frame


async def recording_app(scope: dict, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            scope["state"]["box"].append(message)
            return
        if message.get("text") == "close-me":
            await send({"type": "websocket.close", "code": 4001, "reason": "as asked"})
        else:
            await send({"type": "websocket.send", "text": message.get("text"),
                        "bytes": message.get("bytes")})


async def start(serve) -> tuple[Any, list]:
    srv = await serve(recording_app)
    box: list = []
    srv.state.lifespan_state["box"] = box
    return srv, box


async def wait_for(box: list) -> dict:
    for _ in range(100):
        if box:
            return box[0]
        await asyncio.sleep(0.02)
    raise AssertionError("the app saw no websocket.disconnect")


async def test_client_close_code_reaches_the_app(serve) -> None:
    """RFC 6455 §7.1.5: the close code the peer sent is the connection close code."""
    srv, box = await start(serve)
    async with connect(f"ws://127.0.0.1:{srv.bound_port}/") as ws:
        await ws.close(code=4321, reason="done")
        assert ws.close_code == 4321  # the server echoed the code (§5.5.1)
    assert (await wait_for(box))["code"] == 4321


async def test_app_initiated_close_reaches_the_client(serve) -> None:
    """RFC 6455 §7.1.2: the server starts the closing handshake with the app's code."""
    srv, box = await start(serve)
    async with connect(f"ws://127.0.0.1:{srv.bound_port}/") as ws:
        await ws.send("close-me")
        try:
            await asyncio.wait_for(ws.recv(), 5)
        except ConnectionClosed:
            pass
        assert ws.close_code == 4001 and ws.close_reason == "as asked"


async def test_dropped_connection_is_reported_as_1006(serve) -> None:
    """RFC 6455 §7.1.5: closed without a Close frame → 1006."""
    srv, box = await start(serve)
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    writer.write(b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 b"Sec-WebSocket-Version: 13\r\n\r\n")
    await reader.readuntil(b"\r\n\r\n")
    writer.close()
    assert (await wait_for(box))["code"] == 1006


async def wsproto_session(port: int, frames: list[bytes]) -> tuple[list, bytes]:
    """Handshake with wsproto, then send ``frames`` raw; return events and raw bytes."""
    conn = WSConnection(ConnectionType.CLIENT)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(conn.send(Request(host="127.0.0.1", target="/")))
    events: list = []
    while not any(isinstance(e, AcceptConnection) for e in events):
        conn.receive_data(await asyncio.wait_for(reader.read(65536), 5))
        events += list(conn.events())
    for frame in frames:
        writer.write(frame)
    raw = b""
    while True:
        data = await asyncio.wait_for(reader.read(65536), 5)
        if not data:
            break
        raw += data
    writer.close()
    conn.receive_data(raw)
    return events + list(conn.events()), raw


async def test_protocol_error_from_a_peer_is_answered_with_close_1002(serve) -> None:
    """RFC 6455 §7.1.7: fail the connection: a Close with 1002, then the TCP close."""
    srv, box = await start(serve)
    events, raw = await wsproto_session(srv.bound_port, [client_frame(0x3, b"bad")])
    closes = [e for e in events if isinstance(e, CloseConnection)]
    assert closes and closes[0].code == 1002
    assert (await wait_for(box))["code"] == 1002


async def test_invalid_utf8_from_a_peer_is_answered_with_close_1007(serve) -> None:
    """RFC 6455 §8.1: invalid UTF-8 in a text message → Close 1007."""
    srv, box = await start(serve)
    events, raw = await wsproto_session(srv.bound_port,
                                        [client_frame(0x1, b"\xce\xba\xed\xa0\x80")])
    closes = [e for e in events if isinstance(e, CloseConnection)]
    assert closes and closes[0].code == 1007


async def test_ping_from_wsproto_is_answered_and_messages_echo(serve) -> None:
    """RFC 6455 §5.5.2: Pong for Ping; data messages echo in order."""
    srv, box = await start(serve)
    frames = [client_frame(0x9, b"p1"), client_frame(0x1, b"one"),
              client_frame(0x2, b"\x00two"), client_frame(0x8, b"\x03\xe8")]
    events, raw = await wsproto_session(srv.bound_port, frames)
    from wsproto.events import Pong
    kinds = [type(e) for e in events if not isinstance(e, AcceptConnection)]
    assert kinds[:4] == [Pong, TextMessage, BytesMessage, CloseConnection]
    assert (await wait_for(box))["code"] == 1000
