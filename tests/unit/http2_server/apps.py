"""ASGI apps for the HTTP/2 server tests."""
from __future__ import annotations

import asyncio
from typing import Any

RECORD: dict[str, Any] = {}


async def read_body(receive: Any) -> tuple[bytes, int]:
    chunks = []
    messages = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionResetError
        messages += 1
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks), messages


async def app(scope: dict, receive: Any, send: Any) -> None:
    """Routes by path for the end-to-end tests."""
    path = scope["path"]
    if path == "/boom":
        raise RuntimeError("app failure before the response")
    if path == "/after-response":
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})
        RECORD["after-response"] = await receive()
        return
    if path == "/pushed-scope":
        await receive()
        RECORD["pushed-extensions"] = sorted(scope["extensions"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"p"})
        return
    if path == "/never-read":
        RECORD["never-read"] = asyncio.Event()
        await RECORD["never-read"].wait()
        return
    body, _ = await read_body(receive)
    headers: list[tuple[bytes, bytes]] = [(b"content-type", b"text/plain")]
    if path == "/boom-late":
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise RuntimeError("app failure mid-body")
    if path == "/len":
        out = str(len(body)).encode()
    elif path == "/big":
        out = b"b" * 500_000
    elif path == "/scope":
        RECORD["scope"] = scope
        view = scope["extensions"]["http.response.http2_stream"]
        RECORD["window-before"] = view["send_window_remaining"]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"s" * 1000, "more_body": True})
        RECORD["window-after"] = view["send_window_remaining"]
        RECORD["view"] = dict(view)
        await send({"type": "http.response.body", "body": b""})
        return
    elif path == "/push":
        await send({"type": "http.response.push", "path": "/pushed.css",
                    "headers": [(b"accept", b"text/css")]})
        await send({"type": "http.response.push", "path": "/pushed-scope", "headers": []})
        out = b"page"
    elif path == "/pushed.css":
        out = b"body{}"
    elif path == "/trailers":
        await send({"type": "http.response.start", "status": 200, "headers": headers,
                    "trailers": True})
        await send({"type": "http.response.body", "body": b"data"})
        await send({"type": "http.response.trailers",
                    "headers": [(b"x-checksum", b"42")], "more_trailers": False})
        return
    elif path == "/trailers-forgotten":
        await send({"type": "http.response.start", "status": 200, "headers": headers,
                    "trailers": True})
        await send({"type": "http.response.body", "body": b"data"})
        return
    elif path == "/wait-disconnect":
        RECORD["started"].set()
        RECORD["disconnect"] = await receive()
        return
    elif path == "/slow":
        RECORD["slow-started"].set()
        await RECORD["slow-release"].wait()
        out = b"finished"
    else:
        out = b"hello"
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": out})
