"""RFC 6455 §10.4 (limits on what one WebSocket holds): the gate an app's send waits at
while the carrier's buffer is full behaves as the ``asyncio.Event`` it replaced, at a
fraction of its memory per idle WebSocket."""
from __future__ import annotations

import asyncio
import tracemalloc

import pytest

from blackbull.server.gate import Gate
from blackbull.server.ws_send import SendPacer


def test_an_open_gate_lets_a_send_through_at_once() -> None:
    """§10.4: a carrier that takes output never holds a send back."""
    async def main() -> None:
        gate = Gate()
        assert gate.is_set()
        await asyncio.wait_for(gate.wait(), 0.5)
    asyncio.run(main())


def test_a_shut_gate_holds_every_waiting_send_until_it_opens() -> None:
    """§10.4: sends wait while the carrier pushes back, and all go on once it drains."""
    async def main() -> None:
        gate = Gate()
        gate.clear()
        waiters = [asyncio.create_task(gate.wait()) for _ in range(3)]
        await asyncio.sleep(0.01)
        assert not any(w.done() for w in waiters)
        gate.set()
        await asyncio.wait_for(asyncio.gather(*waiters), 0.5)
        assert gate.is_set()
    asyncio.run(main())


def test_a_send_that_timed_out_leaves_no_waiter_behind() -> None:
    """§10.4: a peer that never reads makes the send time out (BB_WS_SEND_TIMEOUT); the
    timed-out wait must not stay referenced by the gate."""
    async def main() -> None:
        pacer = SendPacer()
        pacer.writable.clear()
        assert await pacer.drained(0.01) is False
        assert not pacer.writable._waiters
        pacer.writable.set()
        assert await pacer.drained(0.01) is True
    asyncio.run(main())


@pytest.mark.parametrize("count", [2000])
def test_a_gate_costs_less_than_a_quarter_of_an_event(count: int) -> None:
    """§10.4 (memory per connection): one gate per WebSocket; measured by tracemalloc,
    a thousand idle ones against as many ``asyncio.Event``s."""
    def allocated(make: type) -> int:
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            kept = [make() for _ in range(count)]
            after = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        assert len(kept) == count
        return after - before

    gate, event = allocated(Gate), allocated(asyncio.Event)
    assert gate * 4 < event, (gate / count, event / count)
