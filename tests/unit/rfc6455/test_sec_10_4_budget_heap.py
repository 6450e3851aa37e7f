"""RFC 6455 §10.4: the worker's WebSocket budget tells its heap releaser what it holds,
sparing the call when the releaser would do nothing (``ws_budget.needs_heap``, written
out in ``InboundAccount``): the releaser must end in the same state either way."""
from __future__ import annotations

import random

from blackbull.server.heap import IDLE_RELEASE, RELEASE, HeapReleaser
from blackbull.server.ws_budget import needs_heap


class _Loop:
    """A loop stand-in that counts the trims a HeapReleaser schedules."""

    def __init__(self) -> None:
        self.timers = 0

    def call_later(self, delay: float, callback: object) -> object:
        self.timers += 1
        return object()


def test_sparing_the_call_leaves_the_releaser_as_calling_it() -> None:
    rng = random.Random(6455)
    told_always, told_when_needed = _Loop(), _Loop()
    every = HeapReleaser(told_always)  # type: ignore[arg-type]
    spared = HeapReleaser(told_when_needed)  # type: ignore[arg-type]
    used = 0
    steps = (-RELEASE, -IDLE_RELEASE, -IDLE_RELEASE + 1, -64, -1, 1, 64,
             IDLE_RELEASE, RELEASE + 1)
    for i in range(20000):
        used = max(0, used + rng.choice(steps))
        every.held(used)
        if needs_heap(spared, used):
            spared.held(used)
        if i % 97 == 0:  # a trim ran: the next one may be scheduled
            every._pending = spared._pending = None
        assert (spared.peak, told_when_needed.timers) == (every.peak, told_always.timers)
    assert told_always.timers > 10  # the walk did trim, so the comparison means something


def test_small_changes_below_the_peak_need_no_call() -> None:
    heap = HeapReleaser(_Loop())  # type: ignore[arg-type]
    heap.held(4096)
    assert not needs_heap(heap, 4032) and not needs_heap(heap, 4096)
    assert needs_heap(heap, 4097)
