"""The one ASGI 3 app every server under test runs (``bench_apps:app``).

* ``http``: ``GET``/``POST`` anything → ``200`` ``text/plain`` ``Hello, world!`` with a
  ``content-length`` (the request body, if any, is read and dropped).
* ``websocket``: accept (taking ``permessage-deflate`` if the server offers it) and echo
  every message back with the same type until the client goes away.
* ``lifespan``: acknowledge startup and shutdown, so no server complains.

This file is imported by the peers from their own venvs with only ``bench/apps`` on
``PYTHONPATH``, so it must import nothing from ``bench`` or ``blackbull``.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

BODY = b"Hello, world!"
_START: Message = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(BODY)).encode())],
}
_BODY: Message = {"type": "http.response.body", "body": BODY}


async def _hello(receive: Receive, send: Send) -> None:
    """Drain the request body (ASGI http.request events), then answer the fixed hello."""
    message = await receive()
    while message.get("more_body"):
        message = await receive()
    await send(_START)
    await send(_BODY)


async def _echo(receive: Receive, send: Send) -> None:
    """Accept, then echo text as text and bytes as bytes until ``websocket.disconnect``."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] != "websocket.receive":
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message.get("bytes") or b""})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """ASGI 3 entry point shared by every server under test."""
    kind = scope["type"]
    if kind == "http":
        await _hello(receive, send)
    elif kind == "websocket":
        await _echo(receive, send)
    elif kind == "lifespan":
        await _lifespan(receive, send)
