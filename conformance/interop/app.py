"""The ASGI app every server of the RFC 8441 interop matrix runs (plain ASGI 3, no framework).

``websocket`` (any path):
  * accepts, choosing the first offered subprotocol it knows (``chat``, ``superchat``);
  * echoes every message with its opcode (RFC 6455 §5.6);
  * the text ``?version`` is answered ``version:<http_version>`` so a client can prove
    the WebSocket really rides HTTP/2 (``"2"``) and not an HTTP/1.1 fallback;
  * the text ``?subprotocol`` is answered with the accepted subprotocol (or ``-``);
  * the text ``close:<code>`` makes the server start the closing handshake with that code.

``http``: ``GET /`` (and ``/index.html``) serves the Chromium scenario page
(:mod:`conformance.interop.page`); ``POST /report`` stores the page's results as a JSON
file in ``$INTEROP_REPORT_DIR`` (named after the ``x-run`` header); anything else is a
short 200 (h2spec-style probes). ``lifespan`` is acknowledged.
"""
from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from conformance.apps import lifespan

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

KNOWN_SUBPROTOCOLS = ("chat", "superchat")
_RUN_NAME = re.compile(r"[A-Za-z0-9_.-]{1,80}")


async def app(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
    kind = scope["type"]
    if kind == "websocket":
        await _websocket(scope, receive, send)
    elif kind == "http":
        await _http(scope, receive, send)
    elif kind == "lifespan":
        await lifespan(receive, send)


async def _websocket(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    chosen = next((p for p in scope.get("subprotocols") or () if p in KNOWN_SUBPROTOCOLS),
                  None)
    accept: dict[str, Any] = {"type": "websocket.accept"}
    if chosen:
        accept["subprotocol"] = chosen
    await send(accept)
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text is None:
            await send({"type": "websocket.send", "bytes": message.get("bytes") or b""})
        elif text == "?version":
            await send({"type": "websocket.send",
                        "text": f"version:{scope.get('http_version', '?')}"})
        elif text == "?subprotocol":
            await send({"type": "websocket.send", "text": chosen or "-"})
        elif text.startswith("close:") and text[6:].isdigit():
            await send({"type": "websocket.close", "code": int(text[6:])})
            return
        else:
            await send({"type": "websocket.send", "text": text})


async def _read_body(receive: Receive) -> bytes:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return bytes(body)
        body += message.get("body", b"")
        if not message.get("more_body"):
            return bytes(body)


async def _http(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
    from conformance.interop.page import render_page

    body_in = await _read_body(receive)
    path, method = scope.get("path", "/"), scope.get("method", "GET")
    status, ctype, body = 200, b"text/plain", b"interop app\n"
    if method == "GET" and path in ("/", "/index.html"):
        ctype, body = b"text/html; charset=utf-8", render_page().encode()
    elif method == "POST" and path == "/report":
        run = dict(scope.get("headers") or []).get(b"x-run", b"").decode("latin-1")
        status, body = store_report(run, body_in)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", ctype), (b"cache-control", b"no-store"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def store_report(run: str, body: bytes) -> tuple[int, bytes]:
    """Keep the Chromium page's results as ``$INTEROP_REPORT_DIR/<run>.json``."""
    directory = os.environ.get("INTEROP_REPORT_DIR")
    if not directory or not _RUN_NAME.fullmatch(run):
        return 400, b"no INTEROP_REPORT_DIR or bad x-run\n"
    target = Path(directory) / f"{run}.json"
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(body)
    tmp.replace(target)
    return 200, b"stored\n"
