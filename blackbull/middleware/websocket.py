"""Accept the WebSocket handshake for the handler, and close when it returns."""
from __future__ import annotations

from ..types import ASGIApp, Message, Receive, Scope, Send


async def websocket(scope: Scope, receive: Receive, send: Send,
                    call_next: ASGIApp) -> None:
    """Consume ``websocket.connect`` and send ``websocket.accept`` (the server picks the
    subprotocol from ``app.available_ws_protocols``); after the handler returns, send
    ``websocket.close`` (1000) unless the session already ended."""
    if scope["type"] != "websocket":
        await call_next(scope, receive, send)
        return
    message = await receive()
    if message["type"] != "websocket.connect":
        return  # the client went away before the handshake completed
    closed = False

    async def receive_watch() -> Message:
        nonlocal closed
        event = await receive()
        if event["type"] == "websocket.disconnect":
            closed = True
        return event

    async def send_watch(event: Message) -> None:
        nonlocal closed
        if event["type"] == "websocket.close":
            closed = True
        await send(event)

    await send({"type": "websocket.accept"})
    try:
        await call_next(scope, receive_watch, send_watch)
    finally:
        if not closed:
            await send({"type": "websocket.close", "code": 1000})
