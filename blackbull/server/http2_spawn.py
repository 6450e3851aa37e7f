"""When the app tasks of new HTTP/2 streams start (RFC 9113 §10.5: fairness).

A connection multiplexing 100 requests in one read must not have all of their first
steps run in the next event-loop turn while every other connection waits: streams opened
by a read start their app tasks at most ``BB_H2_STREAMS_PER_TURN`` per turn, the rest in
later turns. The default (16) lets a browser-sized burst (h2load ``-m10``, a page's
first requests) start in one turn and leave in one write: at 8, a read of 10 requests
took two turns and two writes (strace, 20 000 requests: 4291 writes at 8, 2019 at 16;
at ``-m100`` 2508 and 1262), and the same-run A/B was 5-22 % more requests per second on
every HTTP/2 hello row. A stream reset before its turn came (Rapid Reset, CVE-2023-44487: HEADERS
+ RST_STREAM back to back) never costs an app task.

The turn in which the new tasks take their first steps ends with ``turn_end`` (queued
after those steps): what the apps answered at once leaves in that turn, in one write,
without a flush callback of its own.
"""
from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .overload import request_app

if TYPE_CHECKING:
    from .connection import Connection
    from .http2_stream import H2Stream


class StreamSpawner:
    """The streams of one connection waiting for their app task."""

    __slots__ = ("waiting", "_loop", "_conn", "_streams", "_budget", "_turn_scheduled",
                 "_turn_end")

    def __init__(self, loop: asyncio.AbstractEventLoop, conn: Connection,
                 streams: dict[int, Any], turn_end: Callable[[], None]) -> None:
        #: Streams opened whose app tasks have not started, in the order they opened.
        self.waiting: deque[H2Stream] = deque()
        self._loop = loop
        self._conn = conn
        self._streams = streams  # the handler's table: a reset stream leaves it here
        self._budget = 0
        self._turn_scheduled = False
        self._turn_end = turn_end

    def release(self) -> None:
        """The connection is gone: no stream waits, and the turn end calls nothing (the
        handler is freed by reference counting, not by the cyclic GC)."""
        self.waiting.clear()
        self._turn_end = _nothing

    @property
    def turn_pending(self) -> bool:
        """True while tasks started here have a turn end queued (see the module)."""
        return self._turn_scheduled

    def spawn(self) -> None:
        """Start the waiting streams' app tasks, as many as this turn's budget allows."""
        schedule = not self._turn_scheduled
        if schedule:
            self._turn_scheduled = True
            self._budget = self._conn.state.settings.h2_streams_per_turn
        pending = self.waiting
        state = self._conn.state
        streams = self._streams
        while pending and self._budget > 0:
            stream = pending.popleft()
            if stream.disconnected:
                if streams.get(stream.stream_id) is stream:
                    del streams[stream.stream_id]
                continue
            self._budget -= 1
            stream.spawn(request_app(state), state.tasks)
        if schedule:  # after the tasks' first steps, which were queued just now
            self._loop.call_soon(self._next_turn)

    def _next_turn(self) -> None:
        self._turn_scheduled = False
        if self.waiting and not self._conn.closed:
            self.spawn()
        self._turn_end()


def _nothing() -> None:
    pass
