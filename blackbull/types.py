"""The ASGI 3 callable and message types, shared by the framework and the server.

ASGI messages and scopes are dictionaries whose value types depend on the key and the
message type (ASGI spec, "HTTP & WebSocket" and "Lifespan"), so their values stay
``Any``; what is typed is the shape of the callables (ASGI spec 2.4, "Applications").
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

#: The connection scope (ASGI spec, "Connection Scope").
Scope = dict[str, Any]
#: One event sent or received (``{"type": "http.request", ...}``).
Message = dict[str, Any]
#: ``await receive()`` gives the next event from the client.
Receive = Callable[[], Awaitable[Message]]
#: ``await send(event)`` passes an event to the server.
Send = Callable[[Message], Awaitable[None]]
#: An ASGI 3 application: ``await app(scope, receive, send)``.
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
