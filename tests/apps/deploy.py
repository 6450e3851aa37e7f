"""Apps for the command-line and deployment tests (``tests.apps.deploy:NAME``)."""
from __future__ import annotations

import json
import os
from typing import Any


async def _lifespan(receive: Any, send: Any, fail: bool = False) -> None:
    marker = os.environ.get("BB_TEST_MARKER")
    while True:
        message = await receive()
        phase = message["type"].rsplit(".", 1)[-1]
        if marker:
            with open(marker, "a") as f:
                f.write(phase + "\n")
        if fail and phase == "startup":
            await send({"type": "lifespan.startup.failed", "message": "no database"})
            return
        await send({"type": f"lifespan.{phase}.complete"})
        if phase == "shutdown":
            return


async def _json(send: Any, data: Any, status: int = 200) -> None:
    body = json.dumps(data).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


async def scope_info(scope: dict, receive: Any, send: Any) -> None:
    """http: what the scope says of the request, as JSON; websocket: accept, echo once."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        message = await receive()
        if message["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": message.get("text") or "bytes"})
            await send({"type": "websocket.close", "code": 1000})
        return
    await receive()
    await _json(send, {"client": scope["client"], "scheme": scope["scheme"],
                       "root_path": scope["root_path"], "path": scope["path"],
                       "pid": os.getpid(), "env": os.environ.get("BB_TEST_VALUE")})


async def failing_startup(scope: dict, receive: Any, send: Any) -> None:
    """Its lifespan startup fails (lifespan.startup.failed)."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send, fail=True)


async def crashy(scope: dict, receive: Any, send: Any) -> None:
    """``/crash`` kills the worker process (as a segfault or OOM kill would)."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["path"] == "/crash":
        os._exit(7)
    await receive()
    await _json(send, {"pid": os.getpid()})


def factory() -> Any:
    """For --factory: returns the app."""
    return scope_info
