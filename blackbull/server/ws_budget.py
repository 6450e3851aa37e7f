"""The inbound byte budget that all WebSockets of one worker share (RFC 6455 §10.4).

Each :class:`~blackbull.server.ws_bridge.WebSocketBridge` reports the received bytes it
holds — frame bytes its core buffered, the (inflated, RFC 7692 §7.2.2) message being
assembled, the messages queued for its application — and asks for room before it
parses more. When the worker's total reaches ``BB_WS_MAX_WORKER_BYTES`` a bridge that
needs more stops reading its socket (back-pressure, as its own queue budget does) and
waits here, first come first served, until other WebSockets give bytes back.
"""
from __future__ import annotations

from collections import deque
from typing import Protocol


class BudgetWaiter(Protocol):
    def budget_available(self) -> None:
        """Room came back: go on parsing (called at most once per :meth:`wait`)."""


class InboundBudget:
    """A counter of held bytes with a limit, and the bridges waiting for room."""

    __slots__ = ("limit", "used", "_waiters")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._waiters: deque[BudgetWaiter] = deque()

    @property
    def room(self) -> int:
        return self.limit - self.used

    def change(self, delta: int) -> None:
        """A bridge now holds ``delta`` bytes more (or fewer, when negative)."""
        self.used += delta
        if delta < 0:
            self._wake()

    def wait(self, waiter: BudgetWaiter) -> None:
        if waiter not in self._waiters:
            self._waiters.append(waiter)

    def forget(self, waiter: BudgetWaiter) -> None:
        try:
            self._waiters.remove(waiter)
        except ValueError:
            pass

    def _wake(self) -> None:
        while self._waiters and self.room > 0:
            self._waiters.popleft().budget_available()
