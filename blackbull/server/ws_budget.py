"""The inbound byte budget that all WebSockets of one worker share (RFC 6455 §10.4).

Each :class:`~blackbull.server.ws_bridge.WebSocketBridge` reports the received bytes it
holds — frame bytes its core buffered, the (inflated, RFC 7692 §7.2.2) message being
assembled, the messages queued for its application — and asks for room before it
parses more. When the worker's total reaches ``BB_WS_MAX_WORKER_BYTES`` a bridge that
needs more stops reading its socket (back-pressure, as its own queue budget does) and
waits here until other WebSockets give bytes back.

Messages being assembled hold bytes too, and only finishing them gives those back: if
every WebSocket waited with a message half assembled, none would ever finish. So one
WebSocket at a time that has nothing queued for its app may go on past the limit
(:meth:`InboundBudget.overdraw`) while it has received bytes to parse, until its message
is complete, as long as the worker is less than one message (BB_WS_MAX_MESSAGE_SIZE) past
the limit: the worker holds at most the limit plus one message and one slice, it makes
progress as long as its applications take what is queued, and a peer that stops
sending in the middle of a message gives its turn away.

What was held is reported to a :class:`~.heap.HeapReleaser`, which trims the C heap
after a burst: inflated messages are freed between live objects, and a burst of them
would otherwise leave the worker's resident size near its peak.
"""
from __future__ import annotations

import asyncio
from collections import deque
from typing import Protocol

from .heap import HeapReleaser


class BudgetWaiter(Protocol):
    def budget_available(self) -> None:
        """Room came back: go on parsing (called at most once per :meth:`wait`)."""


class InboundBudget:
    """A counter of held bytes with a limit, and the bridges waiting for room."""

    __slots__ = ("limit", "overdraft", "used", "owner", "_waiters", "_heap")

    def __init__(self, limit: int, overdraft: int,
                 loop: asyncio.AbstractEventLoop | None = None, pad: int = 0) -> None:
        self.limit = limit
        self.overdraft = overdraft
        self.used = 0
        self._heap = HeapReleaser(loop, pad)
        #: The one WebSocket allowed past the limit to finish its message.
        self.owner: BudgetWaiter | None = None
        self._waiters: deque[BudgetWaiter] = deque()

    @property
    def room(self) -> int:
        return self.limit - self.used

    def change(self, delta: int) -> None:
        """A bridge now holds ``delta`` bytes more (or fewer, when negative)."""
        self.used += delta
        self._heap.held(self.used)
        if delta < 0:
            self._wake()

    def overdraw(self, waiter: BudgetWaiter) -> bool:
        """May ``waiter`` go on past the limit (to finish the message it assembles)?"""
        if self.owner is None and self.used - self.limit < self.overdraft:
            self.owner = waiter
        return self.owner is waiter

    def end_overdraw(self, waiter: BudgetWaiter) -> None:
        """``waiter``'s message is complete (or it ended): another may take its turn."""
        if self.owner is waiter:
            self.owner = None
            self._wake(force=True)

    def wait(self, waiter: BudgetWaiter) -> None:
        if waiter not in self._waiters:
            self._waiters.append(waiter)

    def forget(self, waiter: BudgetWaiter) -> None:
        try:
            self._waiters.remove(waiter)
        except ValueError:
            pass

    def _wake(self, force: bool = False) -> None:
        """Every waiter looks again (each takes its own slice, or waits again)."""
        if self._waiters and (force or self.room > 0):
            waiters, self._waiters = self._waiters, deque()
            for waiter in waiters:
                waiter.budget_available()
