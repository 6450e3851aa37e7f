"""An awaitable open/shut flag for write back-pressure (one per connection).

``asyncio.Event`` does the job, but each instance carries a ``__dict__`` and a waiter
``collections.deque`` whose first 64-slot block is allocated at once: ~860 B, on every
idle keep-alive connection and WebSocket. :class:`Gate` keeps a bool and creates its
waiter list only when someone waits: 56 B (tracemalloc, 2000 instances).
"""
from __future__ import annotations

import asyncio


class Gate:
    """Open (the transport takes more output) or shut; :meth:`wait` returns once open.
    The ``asyncio.Event`` methods this server uses: ``is_set``, ``set``, ``clear``,
    ``wait``."""

    __slots__ = ("_open", "_waiters")

    def __init__(self) -> None:
        self._open = True
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._open

    def set(self) -> None:
        if self._open:
            return
        self._open = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._open = False

    async def wait(self) -> None:
        if self._open:
            return
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
        finally:  # cancelled (a timeout): forget it
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)
