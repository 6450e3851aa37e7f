"""The plain ASGI 3 apps every server under test runs, and the pieces they are made of.

One callable runs unchanged under blackbull, uvicorn, hypercorn, daphne, granian and the
published blackbull 0.81, so results compare across servers. Each app:

* ``http``: reads the whole request body, then answers ``200`` with a fixed non-empty
  body, ``content-type`` and ``content-length`` (h2spec needs ``GET /`` and ``POST /`` to
  answer 200 with a body: RFC 9113 §8.1; bench needs a fixed-size answer);
* ``websocket``: accepts and echoes every message with its opcode, text as text and
  binary as binary (RFC 6455 §5.6; the Autobahn fuzzingclient's contract);
* ``lifespan``: acknowledges startup and shutdown (ASGI lifespan spec), so no server
  complains;
* ``bench_app`` only: ``/1m`` and ``/64m`` answer 1 MiB and 64 MiB (:data:`BIG_BODIES`).

The apps are named by ``module:attr`` paths: ``conformance.apps:h2spec_app``,
``conformance.apps:echo_app``, ``conformance.apps:bench_app``; the older paths
``conformance.h2spec.app:app``, ``conformance.autobahn.echo_app:app`` and
``bench_apps:app`` (``bench/apps/``) re-export them.

Standard library only, and nothing from ``blackbull`` or ``bench``: peers import this
module from their own venvs, where ``conformance/`` is the only thing of this repository
on the path.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


async def lifespan(receive: Receive, send: Send) -> None:
    """Acknowledge ``lifespan.startup`` and ``lifespan.shutdown`` (ASGI lifespan spec)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def echo_messages(receive: Receive, send: Send) -> None:
    """After the accept: send every message back with its opcode until the client goes.

    Exactly one of ``text`` and ``bytes`` is set on ``websocket.receive`` (ASGI WebSocket
    spec); text stays text and binary stays binary (RFC 6455 §5.6).
    """
    while True:
        message = await receive()
        if message["type"] != "websocket.receive":
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message.get("bytes") or b""})


async def echo_websocket(receive: Receive, send: Send) -> None:
    """Accept the handshake, then echo (:func:`echo_messages`)."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await echo_messages(receive, send)


def plain_app(body: bytes, content_type: bytes = b"text/plain", *,
              websocket: bool = True) -> App:
    """An ASGI 3 app answering every HTTP request ``200`` with *body*.

    With *websocket*, WebSocket connections are echoed; without, the app returns
    without accepting, so the server refuses the handshake.
    The two response events are built once: servers only read them.
    """
    start: Message = {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", content_type),
                    (b"content-length", str(len(body)).encode())],
    }
    answer: Message = {"type": "http.response.body", "body": body}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            # Read the body to its end (ASGI ``more_body``); after ``http.disconnect``
            # there is no one to answer.
            message = await receive()
            while message.get("more_body"):
                message = await receive()
            if message["type"] != "http.disconnect":
                await send(start)
                await send(answer)
        elif kind == "websocket":
            if websocket:
                await echo_websocket(receive, send)
        elif kind == "lifespan":
            await lifespan(receive, send)

    return app


#: What h2spec talks to (RFC 9113 §8.1: ``GET /`` and ``POST /`` → 200, non-empty body).
h2spec_app = plain_app(b"BlackBull conformance target: hello, h2spec\n",
                       b"text/plain; charset=utf-8", websocket=False)

#: What the Autobahn fuzzingclient and the HTTP/1.1 + WebSocket probes talk to.
echo_app = plain_app(b"blackbull conformance echo app\n")

#: ``python -m bench``'s large-body rows (issue 18): ``GET`` of one of these paths answers
#: that many bytes of :data:`FILL` (the request body, if any, is read and dropped first).
BIG_BODIES: dict[str, int] = {"/1m": 1 << 20, "/64m": 64 << 20}
#: The byte the large bodies are made of; a large body goes out in ``CHUNK``-byte
#: ``http.response.body`` messages with ``more_body`` (ASGI HTTP spec), as a streaming
#: app would send it, so no server is handed 64 MiB in one message.
FILL, CHUNK = b"x", 1 << 20


def with_big_bodies(app: App, sizes: dict[str, int] | None = None) -> App:
    """*app*, except that an HTTP request for a path of *sizes* gets that many bytes."""
    table = BIG_BODIES if sizes is None else sizes
    chunk = FILL * CHUNK
    starts = {path: {"type": "http.response.start", "status": 200,
                     "headers": [(b"content-type", b"application/octet-stream"),
                                 (b"content-length", str(size).encode())]}
              for path, size in table.items()}

    async def sized(scope: Scope, receive: Receive, send: Send) -> None:
        start = starts.get(scope.get("path", "")) if scope["type"] == "http" else None
        if start is None:
            await app(scope, receive, send)
            return
        message = await receive()
        while message.get("more_body"):
            message = await receive()
        if message["type"] == "http.disconnect":
            return
        await send(start)
        left = table[scope["path"]]
        while left > 0:
            piece = chunk if left >= CHUNK else chunk[:left]
            left -= len(piece)
            await send({"type": "http.response.body", "body": piece, "more_body": left > 0})

    return sized


#: What ``python -m bench`` runs on every server: the hello body is the bare ceiling
#: server's; ``/1m`` and ``/64m`` are the large-body rows' responses.
bench_app = with_big_bodies(plain_app(b"Hello, world!"))
