"""RFC 8441 §5 readiness: the ASGI WebSocket bridge runs over a carrier that is not an
HTTP/1.1 connection (no key, no accept, success is an HTTP/2-style 200)."""
from __future__ import annotations

import asyncio
from typing import Any

from blackbull.config import Settings
from blackbull.protocol.websocket import (
    BytesMessage,
    CloseReceived,
    Role,
    TextMessage,
    WebSocketConnection,
)
from blackbull.protocol.websocket.handshake import validate_extended_connect
from blackbull.server.state import ServerState
from blackbull.server.ws_bridge import WebSocketBridge


class StreamCarrier:
    """Stands where an HTTP/2 stream would: records what the bridge asks of it."""

    def __init__(self) -> None:
        self.accepted: list[tuple[bytes, bytes]] | None = None
        self.refusal: tuple[int, bytes] | None = None
        self.sent = bytearray()
        self.ended = False
        self.closed = False

    def send_accept(self, headers: list[tuple[bytes, bytes]]) -> None:
        self.accepted = headers

    def send_refusal(self, status: int, headers: list, body: bytes) -> None:
        self.refusal = (status, body)
        self.ended = True

    def write(self, data: bytes) -> None:
        self.sent += data

    def writelines(self, parts: list[bytes]) -> None:
        for part in parts:
            self.sent += part

    def end(self) -> None:
        self.ended = True

    def end_after_failure(self, timeout: float) -> None:
        self.ended = True

    def abort(self) -> None:
        self.ended = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


CONNECT = [(b":method", b"CONNECT"), (b":protocol", b"websocket"), (b":scheme", b"https"),
           (b":path", b"/chat"), (b":authority", b"localhost"),
           (b"sec-websocket-version", b"13"), (b"sec-websocket-protocol", b"chat")]


async def echo(scope: dict, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "websocket.accept", "subprotocol": "chat"})
    while (message := await receive())["type"] == "websocket.receive":
        await send({"type": "websocket.send", "text": message.get("text"),
                    "bytes": message.get("bytes")})


async def test_bridge_accepts_without_upgrade_fields_and_echoes() -> None:
    """RFC 8441 §5: the accepting response has no Upgrade/Sec-WebSocket-Accept; frames
    then flow as in RFC 6455 (§5.6) and the closing handshake works (§7.1.2)."""
    carrier = StreamCarrier()
    state = ServerState(app=echo, settings=Settings())
    bridge = WebSocketBridge(state, carrier, validate_extended_connect(CONNECT), None)
    bridge.start({"type": "websocket", "path": "/chat", "extensions": {}})
    for _ in range(50):
        if carrier.accepted is not None:
            break
        await asyncio.sleep(0.01)
    assert carrier.accepted == [(b"sec-websocket-protocol", b"chat")]

    client = WebSocketConnection(Role.CLIENT)
    client.send_text("over a stream")
    client.send_bytes(b"\x01\x02")
    bridge.feed(client.data_to_send())
    events: list = []
    for _ in range(50):
        events += client.receive_data(bytes(carrier.sent))
        carrier.sent.clear()
        if len(events) >= 2:
            break
        await asyncio.sleep(0.01)
    assert events == [TextMessage("over a stream"), BytesMessage(b"\x01\x02")]

    client.send_close(1000)
    bridge.feed(client.data_to_send())
    for _ in range(50):
        if carrier.ended:
            break
        await asyncio.sleep(0.01)
    assert client.receive_data(bytes(carrier.sent)) == [CloseReceived(1000, "")]
    assert carrier.ended
    await asyncio.wait_for(bridge.task, 5)
