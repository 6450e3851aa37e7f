"""The ASGI app the hostile suite's server subprocess serves (``tests.hostile.app:app``).

``GET /`` answers ``ok`` (the honest client's request); ``/big?N`` answers N bytes (for
slow-reader attacks; ``/fresh?N`` too, in newly allocated 64 KiB chunks, so what a
slow reader holds shows in memory); ``/id`` answers ``ok`` with a distinct ``x-request-id`` each
time (HPACK encoder cost); ``/hold`` keeps its stream open until the peer goes away (stream
exhaustion); ``/slow?S`` answers after S seconds; ``/tasks`` counts the tasks alive
in the server's event loop; ``/mem[?collect|?trim]`` reports the Python heap (memory
tests); any body is drained. WebSocket connections are echoed, except on ``/ws-close``,
which the app closes at once, and ``/ws-slow?S``, where the app takes one message every
S seconds (0: as fast as they come) and answers none (an app that is behind).
"""
from __future__ import annotations

import asyncio
import itertools
from typing import Any

from conformance.apps import echo_messages, lifespan

_CHUNK = b"x" * 65536
_IDS = itertools.count()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await _http(scope, receive, send)
    elif scope["type"] == "websocket":
        await _websocket(scope, receive, send)
    elif scope["type"] == "lifespan":
        await lifespan(receive, send)


async def _http(scope: dict[str, Any], receive: Any, send: Any) -> None:
    path = scope["path"]
    if path == "/hold":
        # Answer nothing; wait until the client disconnects or resets the stream.
        while (await receive())["type"] != "http.disconnect":
            pass
        return
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    if path in ("/big", "/fresh"):
        total = int(scope["query_string"] or b"1048576")
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(total).encode())]})
        while total > 0:
            n = min(total, len(_CHUNK))
            piece = _CHUNK[:n] if path == "/big" else b"x" * n
            total -= len(piece)
            await send({"type": "http.response.body", "body": piece, "more_body": total > 0})
        return
    if path == "/slow":
        await asyncio.sleep(float(scope["query_string"] or b"0.5"))
    if path == "/id":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"2"),
                                (b"x-request-id", b"%032x" % next(_IDS))]})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    if path == "/mem":
        query = scope["query_string"]
        body = _memory(query == b"collect", query == b"trim")
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
        return
    if path == "/tasks":
        # Every task alive in the server's loop but this one: the soak test's leak check.
        body = str(len(asyncio.all_tasks()) - 1).encode()
    else:
        body = b"ok" if size == 0 else str(size).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _malloc_trim() -> bool:
    """glibc: give free heap pages back to the OS (what RSS then drops by was free,
    reusable heap, not memory in use)."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.malloc_trim(0))
    except (OSError, AttributeError):
        return False


def _memory(collect: bool, trim: bool = False) -> bytes:
    """What the server's Python heap holds: allocated blocks, objects the cyclic GC
    tracks, and the connection-level objects still alive (before and after a full
    collection and a heap trim when ``collect``; only the trim when ``trim``): growth
    per attack round vs reusable heap."""
    import gc
    import json
    import sys
    from collections import Counter

    def census() -> dict[str, int]:
        kinds = Counter(type(o).__name__ for o in gc.get_objects())
        return {k: kinds[k] for k in ("HTTP2Handler", "H2Stream", "H2Connection",
                                      "Connection", "SSLProtocol", "Task")}

    out: dict = {"blocks": sys.getallocatedblocks(), "objects": len(gc.get_objects()),
                 "alive": census()}
    if trim:
        out["trimmed"] = _malloc_trim()
    if collect:
        out["collected"] = gc.collect()
        out["blocks_after"] = sys.getallocatedblocks()
        out["alive_after"] = census()
        out["trimmed"] = _malloc_trim()
    return json.dumps(out).encode()


async def _websocket(scope: dict[str, Any], receive: Any, send: Any) -> None:
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    if scope["path"] == "/ws-close":
        # The server starts the closing handshake at once (never-closing-peer tests).
        await send({"type": "websocket.close", "code": 1000})
        return
    if scope["path"] == "/ws-slow":
        pause = float(scope["query_string"] or b"0")
        while (await receive())["type"] != "websocket.disconnect":
            await asyncio.sleep(pause)
        return
    await echo_messages(receive, send)
