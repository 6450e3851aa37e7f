"""A plain ASGI 3 echo application, runnable under any ASGI server.

* ``websocket``: accepts every handshake and echoes each message back with the
  same opcode (text stays text, binary stays binary), as the Autobahn
  fuzzingclient expects of the server under test (RFC 6455 §5.6 data frames).
* ``http``: answers any request with ``200`` and a short non-empty body after
  reading the request body, which is what h2spec needs from ``GET /`` and
  ``POST /``.
* ``lifespan``: acknowledges startup and shutdown.

No framework import on purpose: the same callable runs under blackbull,
uvicorn, hypercorn, daphne and granian so that their results compare.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

HTTP_BODY = b"blackbull conformance echo app\n"


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """ASGI 3 entry point dispatching on the scope type."""
    kind = scope["type"]
    if kind == "websocket":
        await _websocket(receive, send)
    elif kind == "http":
        await _http(receive, send)
    elif kind == "lifespan":
        await _lifespan(receive, send)


async def _websocket(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        event = message["type"]
        if event == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif event == "websocket.receive":
            # Exactly one of "text"/"bytes" is set (ASGI spec); echo that one.
            if message.get("text") is not None:
                await send({"type": "websocket.send", "text": message["text"]})
            else:
                await send({"type": "websocket.send", "bytes": message.get("bytes") or b""})
        elif event == "websocket.disconnect":
            return


async def _http(receive: Receive, send: Send) -> None:
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        more = bool(message.get("more_body"))
    await send({
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"text/plain"),
                    (b"content-length", str(len(HTTP_BODY)).encode())],
    })
    await send({"type": "http.response.body", "body": HTTP_BODY})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
