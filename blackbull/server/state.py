"""What every connection of one server shares: the app, the settings, the bookkeeping."""
from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from ..config import Settings
from ..types import ASGIApp

if TYPE_CHECKING:
    from .connection import Connection
    from .ws_budget import InboundBudget

_T = TypeVar("_T")


@dataclass(eq=False)
class ServerState:
    app: ASGIApp
    settings: Settings
    #: Shared ``scope['state']`` filled by the lifespan startup (ASGI lifespan ``state``).
    lifespan_state: dict[str, Any] = field(default_factory=dict)
    connections: set[Connection] = field(default_factory=set)
    #: Connections over BB_MAX_CONNECTIONS being answered 503/GOAWAY (server.overload).
    refusing: set[Connection] = field(default_factory=set)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    shutting_down: bool = False
    root_path: str = ""
    #: Received WebSocket bytes held by all connections of this worker (ws_budget.py),
    #: created by the first WebSocket.
    ws_inbound: InboundBudget | None = None

    def spawn(self, coro: Coroutine[Any, Any, _T],
              loop: asyncio.AbstractEventLoop | None = None) -> asyncio.Task[_T]:
        """Start a task that the server tracks until it ends (for graceful shutdown);
        ``loop`` is the running loop when the caller has it at hand."""
        task = (loop or asyncio.get_running_loop()).create_task(coro)
        tasks = self.tasks
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return task
