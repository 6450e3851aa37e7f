"""The C heap of a long-running server process (glibc ``mallopt(3)``).

glibc returns free memory at the top of the heap to the OS as soon as it exceeds a small
threshold (128 KiB at first) and maps every allocation over 128 KiB apart, raising both
limits only after it has freed such a mapping. A server that receives and sends large
messages allocates and frees buffers of that size all the time: with the defaults the
heap shrinks and grows again between messages, and each regrowth is a page fault per
4 KiB. Measured on the WebSocket echo benchmark (64 KiB and 1 MiB messages): ~2 and ~40
faults per message and 10–30 % of the server's CPU time; with both limits at 16 MiB,
~0 and ~0.5. The price is that a worker keeps up to that much free heap for reuse.
"""
from __future__ import annotations

import asyncio
import ctypes
import logging
import os

log = logging.getLogger("blackbull.server")

#: mallopt(3) parameter numbers (glibc's <malloc.h>).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: glibc refuses an mmap threshold above HEAP_MAX_SIZE / 2 (32 MiB on 64-bit systems).
MAX_THRESHOLD = 32 * 1024 * 1024


def is_glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (ValueError, OSError, AttributeError):
        return False


def keep_heap(threshold: int) -> bool:
    """Set glibc's mmap and trim thresholds to ``threshold`` bytes (capped at 32 MiB);
    True if both were taken. Nothing happens for 0 or on another C library."""
    if threshold <= 0 or not is_glibc():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    value = min(threshold, MAX_THRESHOLD)
    taken: bool = (mallopt(M_MMAP_THRESHOLD, value) == 1
                   and mallopt(M_TRIM_THRESHOLD, value) == 1)
    if not taken:
        log.warning("mallopt refused a heap threshold of %d bytes", value)
    return taken


def trim_heap(pad: int) -> bool:
    """glibc ``malloc_trim(pad)``: give free heap pages back to the OS, wherever they
    are (not only at the top, which is all M_TRIM_THRESHOLD covers), keeping ``pad``
    bytes at the top for reuse. Freed buffers between live ones otherwise keep a
    worker's resident size at its peak after a burst (measured: 20 held connections
    × 100 responses, 171 MB resident after release, 45 MB after a trim). True if
    memory was released; nothing happens on another C library."""
    if not is_glibc():
        return False
    try:
        malloc_trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    malloc_trim.argtypes = (ctypes.c_size_t,)
    malloc_trim.restype = ctypes.c_int
    released: bool = malloc_trim(max(0, pad)) == 1
    return released


#: Bytes given back from the peak of what a worker held after which its heap is trimmed.
RELEASE = 16 * 1024 * 1024
#: Bytes given back since the last trim after which a worker that holds nothing any more
#: (the end of a burst smaller than RELEASE, or its tail) trims too.
IDLE_RELEASE = 1024 * 1024


class HeapReleaser:
    """Trims the C heap (:func:`trim_heap`, in a thread) after a worker gave back what a
    burst of large buffers held: once what it holds fell RELEASE bytes below its peak,
    and once it holds nothing after giving back at least IDLE_RELEASE bytes, so the tail
    of a burst is returned too. One trim at a time, ``delay`` seconds after the release
    (the tasks that held the buffers let go of them by then). A release that qualifies
    while a trim is pending is trimmed again ``delay`` seconds after that trim ran: the
    pending one may run before the tasks let go of the later release's buffers, and
    nothing else would come back for them. The WebSocket inbound budget and the HTTP/2
    response budget report what they hold to one each."""

    __slots__ = ("_loop", "_pad", "_delay", "peak", "_pending", "_again")

    def __init__(self, loop: asyncio.AbstractEventLoop | None, pad: int = 0,
                 delay: float = 0.25) -> None:
        self._loop = loop
        self._pad = pad  # free heap kept at the top by a trim (BB_MALLOC_THRESHOLD)
        self._delay = delay
        #: the most held since the last trim was scheduled
        self.peak = 0
        self._pending: asyncio.TimerHandle | None = None
        #: a release qualified while a trim was pending: trim once more after it
        self._again = False

    def held(self, total: int) -> None:
        """The owner now holds ``total`` bytes."""
        if total > self.peak:
            self.peak = total
            return
        released = self.peak - total
        if self._loop is None:
            return
        if released >= RELEASE or (total <= 0 and released >= IDLE_RELEASE):
            self.peak = total
            if self._pending is None:
                self._pending = self._loop.call_later(self._delay, self._trim)
            else:
                self._again = True  # one trim at a time: the next follows this one

    def _trim(self) -> None:
        self._pending = None
        assert self._loop is not None
        # a trim walks the whole heap (~50 ms after 128 MB); ctypes drops the GIL meanwhile
        self._loop.run_in_executor(None, trim_heap, self._pad)
        if self._again:
            self._again = False
            self._pending = self._loop.call_later(self._delay, self._trim)
