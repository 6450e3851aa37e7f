"""BB_MALLOC_THRESHOLD: a worker keeps its C heap for reuse instead of giving it back to
the OS after every large message (glibc ``mallopt``; see ``blackbull/server/heap.py``)."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from blackbull.config import Settings
from blackbull.server.heap import is_glibc, keep_heap

# Eight 1 MiB buffers made and freed 50 times, like a burst of large messages; the
# minor page faults of those 50 rounds are printed.
_ROUNDS = textwrap.dedent("""
    import resource, sys
    from blackbull.server.heap import keep_heap
    if sys.argv[1] != "0":
        assert keep_heap(int(sys.argv[1]))
    def rounds(n):
        for _ in range(n):
            blocks = [bytes(1 << 20) for _ in range(8)]
            del blocks
    rounds(2)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    rounds(50)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
""")


def _faults(threshold: int) -> int:
    out = subprocess.run([sys.executable, "-c", _ROUNDS, str(threshold)], check=True,
                         capture_output=True, text=True, timeout=60).stdout
    return int(out)


@pytest.mark.skipif(not is_glibc(), reason="mallopt thresholds are glibc's")
def test_large_buffers_reuse_the_heap_instead_of_faulting_it_back() -> None:
    """With the default threshold (16 MiB) the freed buffers stay in the heap: the next
    burst takes no new pages. With the C library's defaults, each burst maps its pages
    again (thousands of faults): the cost the setting removes."""
    default = Settings().malloc_threshold
    assert default == 16 * 1024 * 1024
    kept = _faults(default)
    returned = _faults(0)
    assert returned > 1000, returned  # the churn exists without the setting...
    assert kept < returned / 20, (kept, returned)  # ...and is gone with it


def test_zero_leaves_the_c_library_alone() -> None:
    """BB_MALLOC_THRESHOLD=0: no mallopt call at all."""
    assert keep_heap(0) is False
    assert Settings.from_env({"BB_MALLOC_THRESHOLD": "0"}).malloc_threshold == 0


class _Loop:
    """A loop stand-in that records the timers a HeapReleaser schedules."""

    def __init__(self) -> None:
        self.timers: list[tuple[float, object]] = []

    def call_later(self, delay: float, callback: object) -> object:
        self.timers.append((delay, callback))
        return object()


def test_heap_is_trimmed_after_a_burst_and_again_after_its_tail() -> None:
    """RFC 6455 §10.4 / RFC 9113 §10.5 (resource limits): a worker that gave back RELEASE
    bytes from its peak trims its heap once; the rest of the burst, given back after that
    trim ran, is trimmed too once the worker holds nothing (before, the tail of a burst
    smaller than RELEASE stayed resident: 15 MB in a CI run of the deflate-bomb test)."""
    from blackbull.server.heap import IDLE_RELEASE, RELEASE, HeapReleaser

    loop = _Loop()
    heap = HeapReleaser(loop, delay=0.25)  # type: ignore[arg-type]
    MiB = 1024 * 1024
    for held in (8 * MiB, 20 * MiB, 24 * MiB):
        heap.held(held)
    heap.held(24 * MiB - RELEASE + 1)
    assert loop.timers == []  # less than RELEASE given back: no trim yet
    heap.held(24 * MiB - RELEASE)
    assert len(loop.timers) == 1 and loop.timers[0][0] == 0.25
    heap.held(4 * MiB)
    assert len(loop.timers) == 1  # one trim at a time
    heap._pending = None  # that trim ran
    heap.held(2 * MiB)
    assert len(loop.timers) == 1  # 6 MiB more given back, but the worker still holds some
    heap.held(0)
    assert len(loop.timers) == 2  # the tail (8 MiB < RELEASE) goes back once nothing is held
    assert 8 * MiB >= IDLE_RELEASE


def test_small_messages_do_not_trim_the_heap() -> None:
    """An echo of small messages holds and gives back a few bytes all the time: no trim
    (a trim walks the whole heap) until IDLE_RELEASE bytes were given back at once."""
    from blackbull.server.heap import IDLE_RELEASE, HeapReleaser

    loop = _Loop()
    heap = HeapReleaser(loop)  # type: ignore[arg-type]
    for _ in range(1000):
        heap.held(4096)
        heap.held(0)
    assert loop.timers == []
    heap.held(IDLE_RELEASE)
    heap.held(0)
    assert len(loop.timers) == 1


class _RunningLoop(_Loop):
    """A stand-in that also records the trims handed to the executor."""

    def __init__(self) -> None:
        super().__init__()
        self.trims = 0

    def run_in_executor(self, executor: object, func: object, *args: object) -> None:
        self.trims += 1


def test_release_while_a_trim_is_pending_is_trimmed_after_it() -> None:
    """RFC 6455 §10.4 / RFC 9113 §10.5 (resource limits): the rest of a burst given back
    while a trim is pending gets a trim of its own, ``delay`` after that one ran. The
    pending trim may run before the tasks let go of those buffers, and no later report
    comes to trim them (the deflate-bomb memory test once kept 15 MB resident for 5 s:
    the worker went from 16 MiB held to nothing 0.1 s after a trim was scheduled)."""
    from blackbull.server.heap import RELEASE, HeapReleaser

    loop = _RunningLoop()
    heap = HeapReleaser(loop, delay=0.25)  # type: ignore[arg-type]
    MiB = 1024 * 1024
    heap.held(32 * MiB)
    heap.held(32 * MiB - RELEASE)
    assert len(loop.timers) == 1
    heap.held(0)  # the tail, while the first trim is pending
    assert len(loop.timers) == 1  # still one trim at a time
    delay, first = loop.timers[0]
    first()  # type: ignore[operator]
    assert loop.trims == 1 and len(loop.timers) == 2 and loop.timers[1][0] == 0.25
    loop.timers[1][1]()  # type: ignore[operator]
    assert loop.trims == 2 and len(loop.timers) == 2  # nothing more was given back: done
