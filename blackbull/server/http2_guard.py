"""Slow readers of HTTP/2 responses (RFC 9113 §6.9, §10.5).

Response data waits in the connection's
:class:`~blackbull.protocol.http2.scheduler.OutboundScheduler` while the peer's
flow-control windows are closed or its socket is not read. A peer that opens a window
of one octet now and then keeps every such response (and the app task behind it) held
as long as it likes, so progress is judged by rate, as nginx's ``send_timeout`` and
minimum-rate ideas do:

* :class:`SlowReaderJudge`, per connection, once per ``BB_H2_IDLE_TIMEOUT`` period: a
  connection whose responses waited at both ends of the period yet sent fewer than
  ``BB_H2_MIN_SEND_RATE`` × period octets is too slow (GOAWAY ENHANCE_YOUR_CALM); so
  is a stream held back by its own window while the connection's would let it send
  (RST_STREAM ENHANCE_YOUR_CALM);
* :class:`ResponseBudget`, per worker: the octets all connections hold for their peers
  stay under ``BB_H2_MAX_BUFFERED_RESPONSE``; beyond it, the connections that progressed
  least since the last check, and of those the ones holding the most, are closed. What
  is held is reported to a :class:`~.heap.HeapReleaser`, which trims the C heap after a
  burst, so held buffers do not leave the worker's resident size at its peak.
"""
from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .heap import HeapReleaser

if TYPE_CHECKING:
    from ..protocol.http2 import H2Connection
    from .state import ServerState

log = logging.getLogger("blackbull.server")

#: Seconds between two checks of a worker's buffered response data.
BUDGET_INTERVAL = 0.25


class _Queued(Protocol):
    out_size: int


class SlowReaderJudge:
    """Marks of one connection's progress at the last period's end."""

    __slots__ = ("_conn_mark", "_stream_marks")

    def __init__(self) -> None:
        self._conn_mark: int | None = None
        self._stream_marks: dict[int, int] = {}

    def judge(self, h2: H2Connection, waiting: Mapping[int, _Queued], period: float,
              min_rate: int) -> tuple[bool, list[int]]:
        """End of a period: (is the connection too slow, streams too slow)."""
        if not waiting:
            self._conn_mark = None
            self._stream_marks = {}
            return False, []
        need = max(1, int(min_rate * period))
        sent = h2.data_octets_sent
        slow = self._conn_mark is not None and sent - self._conn_mark < need
        self._conn_mark = sent
        before = self._stream_marks
        marks: dict[int, int] = {}
        slow_streams: list[int] = []
        conn_window = h2.outbound_window
        streams = h2.streams
        for sid, queued in waiting.items():
            core = streams.get(sid)
            # Only a stream held back by its own window is the peer's doing; one
            # waiting for the connection window is judged with the connection.
            if core is None or core.outbound_window >= min(queued.out_size, conn_window):
                continue
            mark = before.get(sid)
            if mark is not None and core.octets_sent - mark < need:
                slow_streams.append(sid)
            else:
                marks[sid] = core.octets_sent
        self._stream_marks = marks
        return slow, slow_streams


class Holder(Protocol):
    """What the budget needs from a connection (``HTTP2Handler``)."""

    def buffered_octets(self) -> int: ...
    def octets_sent(self) -> int: ...
    def shed(self, reason: str) -> None: ...


class ResponseBudget:
    """The response data one worker's HTTP/2 connections hold for their peers: a
    running total (senders report every change), checked in the turn it passes the
    limit and every BUDGET_INTERVAL seconds for the progress marks."""

    __slots__ = ("_loop", "limit", "total", "_heap", "_holders", "_timer", "_soon",
                 "__weakref__")

    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int, pad: int = 0) -> None:
        self._loop = loop
        self.limit = limit
        self.total = 0
        # a moment after a release, once the app tasks whose streams were closed let go
        # of their buffers too
        self._heap = HeapReleaser(loop, pad, delay=BUDGET_INTERVAL)
        #: connection → its DATA octets sent at the last check
        self._holders: dict[Holder, int] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._soon = False

    def change(self, delta: int) -> None:
        """A sender's queued octets changed by ``delta``."""
        total = self.total = self.total + delta
        self._heap.held(total)
        if self.limit > 0 and total > self.limit and not self._soon:
            self._soon = True
            self._loop.call_soon(self._check)

    def watch(self, holder: Holder) -> None:
        """``holder`` has response data waiting; its progress is tracked from now."""
        if self.limit <= 0 or holder in self._holders:
            return
        self._holders[holder] = holder.octets_sent()
        if self._timer is None:
            self._timer = self._loop.call_later(BUDGET_INTERVAL, self._tick)

    def forget(self, holder: Holder) -> None:
        self._holders.pop(holder, None)

    def _tick(self) -> None:
        self._timer = None
        self._check()
        if self._holders:
            self._timer = self._loop.call_later(BUDGET_INTERVAL, self._tick)

    def _check(self) -> None:
        self._soon = False
        ranked: list[tuple[int, int, Holder]] = []
        holders = self._holders
        for holder, mark in list(holders.items()):
            held = holder.buffered_octets()
            sent = holder.octets_sent()
            if not held:
                del holders[holder]
                continue
            holders[holder] = sent
            ranked.append((sent - mark, -held, holder))
        if self.total <= self.limit:
            return
        ranked.sort(key=lambda r: (r[0], r[1]))
        shed = 0
        for _, _, holder in ranked:
            if self.total <= self.limit:
                break
            holders.pop(holder, None)
            holder.shed("response buffer budget")  # its sender reports the release
            shed += 1
        log.warning("HTTP/2 responses buffered for slow peers over "
                    "BB_H2_MAX_BUFFERED_RESPONSE=%d: closed %d connection(s)",
                    self.limit, shed)


_BUDGETS: weakref.WeakKeyDictionary[Any, ResponseBudget] = weakref.WeakKeyDictionary()


def budget_of(state: ServerState, loop: asyncio.AbstractEventLoop) -> ResponseBudget:
    """The worker's budget (one per server state, made on first use)."""
    budget = _BUDGETS.get(state)
    if budget is None:
        settings = state.settings
        budget = _BUDGETS[state] = ResponseBudget(loop, settings.h2_max_buffered_response,
                                                  settings.malloc_threshold)
    return budget
