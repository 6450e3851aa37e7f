"""ASGI apps the tests serve (importable by subprocess servers as tests.apps.basic:NAME)."""
from __future__ import annotations

import asyncio
import json
from typing import Any

from blackbull import BlackBull, JSONResponse


async def hello(scope: dict, receive: Any, send: Any) -> None:
    """Plain ASGI: 200 'hello' for any http request (drains the body)."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"hello"})


async def echo(scope: dict, receive: Any, send: Any) -> None:
    """Echo the body; report what the app saw of the request in response headers."""
    pieces = []
    messages = 0
    while True:
        message = await receive()
        messages += 1
        pieces.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = b"".join(pieces)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"x-messages", str(messages).encode()),
                            (b"x-path", scope["path"].encode()),
                            (b"x-method", scope["method"].encode())]})
    await send({"type": "http.response.body", "body": body})


async def stream(scope: dict, receive: Any, send: Any) -> None:
    """A body in 5 pieces with no Content-Length: chunked on HTTP/1.1."""
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    for i in range(5):
        await send({"type": "http.response.body", "body": b"part%d;" % i, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def scope_dump(scope: dict, receive: Any, send: Any) -> None:
    await receive()
    data = {k: v for k, v in scope.items() if k not in ("headers", "state", "extensions")}
    data["headers"] = [[k.decode(), v.decode()] for k, v in scope["headers"]]
    data["raw_path"] = scope["raw_path"].decode()
    data["query_string"] = scope["query_string"].decode()
    data["extension_keys"] = sorted(scope.get("extensions", {}))
    await JSONResponse(data)(scope, receive, send)


async def slow(scope: dict, receive: Any, send: Any) -> None:
    """Sleeps ?s seconds (query string) before answering: for ordering and shutdown tests."""
    await receive()
    delay = float(scope["query_string"] or b"0")
    await asyncio.sleep(delay)
    body = json.dumps({"path": scope["path"], "delay": delay}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


framework = BlackBull()


@framework.route(path="/")
async def index() -> str:
    return "Hello, world!"


@framework.route(path="/items/{item_id:int}")
async def item(item_id: int) -> dict:
    return {"item": item_id}


@framework.route(path="/slow")
async def framework_slow(scope: dict) -> str:
    await asyncio.sleep(float(scope["query_string"] or b"0"))
    return "done"
