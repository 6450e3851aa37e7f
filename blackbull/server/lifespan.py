"""The ASGI lifespan protocol (ASGI spec, "Lifespan Protocol")."""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from .asgi import ASGI_VERSION

log = logging.getLogger("blackbull.server")


class LifespanError(RuntimeError):
    """The app reported ``lifespan.startup.failed`` (or crashed in startup in 'on' mode)."""


class Lifespan:
    """Runs the app's lifespan task: ``startup()`` before serving, ``shutdown()`` after.

    ``mode``: ``on`` (failures are fatal), ``auto`` (an app that does not speak lifespan is
    tolerated), ``off`` (never called).
    """

    def __init__(self, app: Any, state: dict[str, Any], mode: str = "auto") -> None:
        self.app = app
        self.state = state
        self.mode = mode
        self._inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._startup_done = asyncio.Event()
        self._shutdown_done = asyncio.Event()
        self._failed: str | None = None
        self._unsupported = False
        self._task: asyncio.Task[None] | None = None

    async def startup(self) -> None:
        if self.mode == "off":
            return
        self._task = asyncio.get_running_loop().create_task(self._main())
        await self._inbox.put({"type": "lifespan.startup"})
        await self._startup_done.wait()
        if self._failed is not None:
            raise LifespanError(self._failed)

    @property
    def supported(self) -> bool:
        """The app speaks the lifespan protocol (known once ``startup()`` returned)."""
        return self._task is not None and not self._unsupported

    async def shutdown(self) -> None:
        if self._task is None or self._unsupported or self._task.done():
            return
        await self._inbox.put({"type": "lifespan.shutdown"})
        await self._shutdown_done.wait()
        if self._failed is not None:
            log.error("lifespan shutdown failed: %s", self._failed)

    async def _main(self) -> None:
        scope = {"type": "lifespan", "asgi": ASGI_VERSION, "state": self.state}
        try:
            await self.app(scope, self._inbox.get, self._send)
        except BaseException as exc:  # noqa: BLE001
            if self._startup_done.is_set() or self.mode == "on":
                self._failed = self._failed or f"lifespan task raised {exc!r}"
                log.error("exception in lifespan task: %r", exc)
            else:
                # 'auto': an app that raises on an unknown scope type has no lifespan.
                self._unsupported = True
                log.debug("ASGI app does not support lifespan (%r)", exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            self._startup_done.set()
            self._shutdown_done.set()

    async def _send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "lifespan.startup.complete":
            self._startup_done.set()
        elif kind == "lifespan.startup.failed":
            self._failed = message.get("message", "") or "startup failed"
            self._startup_done.set()
        elif kind == "lifespan.shutdown.complete":
            self._shutdown_done.set()
        elif kind == "lifespan.shutdown.failed":
            self._failed = message.get("message", "") or "shutdown failed"
            self._shutdown_done.set()
        else:
            raise RuntimeError(f"unexpected lifespan message {kind!r}")
