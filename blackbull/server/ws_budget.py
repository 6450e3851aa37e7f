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

Each WebSocket keeps its own side in an :class:`InboundAccount`: the bytes it holds, the
room it has for the next turn (its queue budget while its app is behind, and the
worker's), and whether it starves (reading paused for want of room).

A message being assembled holds its bytes until it completes, so a peer that sends part
of a large message and then nothing would hold them for as long as its connection lives
(a few such peers spend a worker's whole budget). The account watches for that: a
WebSocket whose partial message has not grown for BB_WS_MESSAGE_STALL_TIMEOUT seconds,
while the server was reading it, is failed with 1008 by its host.
"""
from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import Sized
from typing import Protocol

from ..config import Settings
from .heap import IDLE_RELEASE, HeapReleaser


class BudgetWaiter(Protocol):
    def budget_available(self) -> None:
        """Room came back: go on parsing (called at most once per :meth:`wait`)."""


class InboundBudget:
    """A counter of held bytes with a limit, and the bridges waiting for room."""

    __slots__ = ("limit", "overdraft", "used", "owner", "heap", "waiting")

    def __init__(self, limit: int, overdraft: int,
                 loop: asyncio.AbstractEventLoop | None = None, pad: int = 0) -> None:
        self.limit = limit
        self.overdraft = overdraft
        self.used = 0
        #: Told what the worker holds after every change of :attr:`used`.
        self.heap = HeapReleaser(loop, pad)
        #: The one WebSocket allowed past the limit to finish its message.
        self.owner: BudgetWaiter | None = None
        #: The bridges waiting for room (:meth:`wait`), woken by :meth:`wake`.
        self.waiting: deque[BudgetWaiter] = deque()

    @property
    def room(self) -> int:
        return self.limit - self.used

    def overdraw(self, waiter: BudgetWaiter) -> bool:
        """May ``waiter`` go on past the limit (to finish the message it assembles)?"""
        if self.owner is None and self.used - self.limit < self.overdraft:
            self.owner = waiter
        return self.owner is waiter

    def end_overdraw(self, waiter: BudgetWaiter) -> None:
        """``waiter``'s message is complete (or it ended): another may take its turn."""
        if self.owner is waiter:
            self.owner = None
            self.wake(force=True)

    def wait(self, waiter: BudgetWaiter) -> None:
        if waiter not in self.waiting:
            self.waiting.append(waiter)

    def forget(self, waiter: BudgetWaiter) -> None:
        try:
            self.waiting.remove(waiter)
        except ValueError:
            pass

    def wake(self, force: bool = False) -> None:
        """Every waiter looks again (each takes its own slice, or waits again)."""
        if self.waiting and (force or self.room > 0):
            waiters, self.waiting = self.waiting, deque()
            for waiter in waiters:
                waiter.budget_available()


def needs_heap(heap: HeapReleaser, used: int) -> bool:
    """Whether ``heap.held(used)`` could do anything: only a new peak, or a release of at
    least IDLE_RELEASE (below that neither of its trims is due, RELEASE being larger).
    :class:`InboundAccount` writes this test out to spare the call on the bytes of
    every message; tests/unit/rfc6455/test_sec_10_4_budget_heap.py checks it against
    :class:`~.heap.HeapReleaser` itself."""
    return used > heap.peak or heap.peak - used >= IDLE_RELEASE


class CoreBytes(Protocol):
    """The sans-I/O core, as far as the account needs it."""

    @property
    def inbound_bytes(self) -> int:
        """Received bytes the core holds: buffered frames, the message being assembled."""


class InboundHost(Protocol):
    """What an :class:`InboundAccount` asks of its WebSocket (the bridge)."""

    @property
    def wants_input(self) -> bool:
        """False while the server itself holds reading paused (back-pressure)."""

    def stalled(self, idle: float) -> None:
        """Its partial message has not grown for ``idle`` seconds: fail it (1008)."""

    def pause_for_room(self) -> None:
        """No room left: stop reading (until :meth:`room_came_back`)."""

    def room_came_back(self) -> None:
        """There is room again: go on parsing what the core kept, then read again."""


class InboundAccount:
    """One WebSocket's received bytes against its own and the worker's budget (RFC 6455
    §10.4): what it holds (:attr:`queued` for its app, plus what :attr:`core` buffers and
    assembles while open), the message bytes it may produce now (:meth:`room`), and
    whether it starves. It is the :class:`BudgetWaiter` the worker's budget knows.

    The host is held weakly: the worker's budget outlives every WebSocket and may still
    list this account when its WebSocket is gone.
    """

    __slots__ = ("budget", "settings", "core", "queued", "reported", "starved", "_inbox",
                 "_host", "_loop", "_partial", "_grew", "_stall_timer")

    def __init__(self, budget: InboundBudget, settings: Settings, inbox: Sized,
                 host: InboundHost, loop: asyncio.AbstractEventLoop) -> None:
        self.budget = budget
        self.settings = settings
        #: The open core whose held bytes count; None before it opens and once it ended.
        self.core: CoreBytes | None = None
        #: Bytes of the messages queued for the app (characters for text).
        self.queued = 0
        #: What the worker's budget was last told this WebSocket holds.
        self.reported = 0
        #: Reading paused: no byte budget left (this WebSocket's or the worker's).
        self.starved = False
        self._inbox = inbox
        self._host: weakref.ref[InboundHost] = weakref.ref(host)
        self._loop = loop
        # the stall watch: the core's bytes at the last report, when they last changed
        self._partial = 0
        self._grew = 0.0
        self._stall_timer: asyncio.TimerHandle | None = None

    def room(self) -> int:
        """Message bytes the core may produce now: one turn's slice
        (BB_WS_BYTES_PER_TURN), within this WebSocket's queue budget
        (BB_WS_MAX_QUEUE_BYTES) while its app is behind (with an empty queue the message
        being assembled is bounded by BB_WS_MAX_MESSAGE_SIZE alone) and within the
        worker's budget."""
        settings = self.settings
        budget = self.budget
        # min() and budget.room written out: this runs for every read of every WebSocket
        room = settings.ws_bytes_per_turn
        left = budget.limit - budget.used
        if left < room:
            room = left
        if self._inbox:
            left = settings.ws_max_queue_bytes - self.reported
            if left < room:
                room = left
        elif room <= 0 and budget.overdraw(self):
            room = settings.ws_bytes_per_turn  # finish this message (module docstring)
        return room

    def report(self) -> None:
        """Tell the worker's budget what this WebSocket holds now. The host calls it
        after every change of what its core holds (:meth:`took` and
        :meth:`give_back` rely on that)."""
        core = self.core
        partial = core.inbound_bytes if core is not None else 0
        if partial != self._partial:
            self._partial = partial
            if partial:
                self._progress()
        self._settle(self.queued + partial)

    def took(self, size: int) -> None:
        """A message of ``size`` bytes (characters for text) that the core took whole from
        one read was queued for the app: what the core holds did not change (nothing
        before, nothing after), so this is :meth:`report` without reading it."""
        self.queued += size
        self._settle(self.queued + self._partial)

    def give_back(self, size: int) -> None:
        """The app is done with a message of ``size`` bytes (characters for text): they
        leave the budgets, and a WebSocket that starved for them parses again. What the
        core holds is as the last :meth:`report` found it, so it is not read again.
        (This and :meth:`took` run once per message each; one method for both, with a
        sign, measured 0.3k instructions more per message.)"""
        self.queued -= size
        self._settle(self.queued + self._partial)
        if self.starved:
            self.feed_again()

    def _settle(self, held: int) -> None:
        """``held`` bytes are what this WebSocket holds now: the worker's budget learns the
        change (its heap too, and who waits for room when bytes came back), and an
        overdraw ends once its message is complete or the WebSocket ended."""
        budget = self.budget
        if held != self.reported:
            delta, self.reported = held - self.reported, held
            used = budget.used = budget.used + delta
            heap = budget.heap
            if used > heap.peak or heap.peak - used >= IDLE_RELEASE:
                heap.held(used)  # else it would do nothing (see needs_heap)
            if delta < 0 and budget.waiting:
                budget.wake()
        if budget.owner is self and (self._inbox or not held or self.core is None):
            budget.end_overdraw(self)

    def starve(self) -> None:
        """No room: stop reading until the app takes a message or the worker's budget
        has room again (whichever was spent)."""
        if not self.starved:
            self.starved = True
            host = self._host()
            if host is not None:
                host.pause_for_room()
        budget = self.budget
        if budget.room <= 0 or budget.owner is not None:
            budget.wait(self)

    def budget_available(self) -> None:
        """:class:`BudgetWaiter`: other WebSockets gave bytes back."""
        self.feed_again()

    def feed_again(self) -> None:
        """If it starves and has room now, its host goes on parsing."""
        if not self.starved:
            return
        budget = self.budget
        if self.room() > 0:
            self.starved = False
            budget.forget(self)
            host = self._host()
            if host is not None:
                host.room_came_back()
        elif budget.room <= 0 or budget.owner is not None:
            budget.wait(self)  # this WebSocket's room is back, the worker's is not

    def close(self) -> None:
        """The WebSocket ended: what its core held is given back (the queue's goes as
        the app reads it, or when the app ends) and it waits for nothing."""
        self.core = None
        self.budget.forget(self)
        self.report()
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None

    # --- the stall watch (module docstring) -----------------------------------------
    def _progress(self) -> None:
        """The partial message grew (or a new one began): its stall clock restarts. One
        timer at most, armed once and checked when it fires, so a message arriving in
        many reads costs no timer per read."""
        self._grew = self._loop.time()
        timeout = self.settings.ws_message_stall_timeout
        if self._stall_timer is None and timeout > 0:
            self._stall_timer = self._loop.call_later(timeout, self._check_stall)

    def _check_stall(self) -> None:
        self._stall_timer = None
        host = self._host()
        if not self._partial or self.core is None or host is None:
            return  # nothing partial is held: the next partial message arms it again
        now = self._loop.time()
        if not host.wants_input:
            self._grew = now  # the server holds it back: not the peer's stall
        idle = now - self._grew
        timeout = self.settings.ws_message_stall_timeout
        if idle < timeout:
            self._stall_timer = self._loop.call_later(timeout - idle, self._check_stall)
        else:
            host.stalled(idle)
