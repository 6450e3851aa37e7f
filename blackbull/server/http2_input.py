"""Paced input for one HTTP/2 connection (RFC 9113 §10.5: fairness under costly input).

Bytes read from the socket reach the protocol core in pieces, for at most ``TURN``
seconds per event-loop turn; the rest waits, with reading paused, for the next turns.
One connection sending costly input (header blocks full of fields, CVE-2019-9516) then
cannot hold the loop for a whole 256 KiB read while other connections wait. Pieces
start at ``CHUNK`` bytes and double up to ``MAX_CHUNK`` while they are cheap, so bulk
uploads still go through in large turns.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable

CHUNK = 256
MAX_CHUNK = 16 * 1024
TURN = 0.001


class InputPacer:
    """Feeds ``process`` the bytes of one connection, a turn's worth at a time."""

    __slots__ = ("_loop", "_process", "_pause", "_resume", "_closed", "_backlog", "_pos",
                 "_chunk")

    def __init__(self, loop: asyncio.AbstractEventLoop, process: Callable[[bytes], None], *,
                 pause: Callable[[], None], resume: Callable[[], None],
                 closed: Callable[[], bool]) -> None:
        self._loop = loop
        self._process = process
        self._pause = pause        # stop reading the socket
        self._resume = resume      # read again (the caller knows whether it may)
        self._closed = closed
        self._backlog = b""
        self._pos = 0
        self._chunk = CHUNK

    @property
    def pending(self) -> bool:
        """True while received bytes still wait for a turn (reading is paused)."""
        return bool(self._backlog)

    def feed(self, data: bytes) -> None:
        if self._backlog:
            self._backlog = self._backlog[self._pos:] + data
            self._pos = 0
            return
        if len(data) <= self._chunk:
            self._process(data)
            return
        self._backlog = data
        self._pos = 0
        self._drain()

    def _drain(self) -> None:
        if self._closed():
            self._backlog = b""
            return
        clock = self._loop.time
        now = clock()
        deadline = now + TURN
        backlog = self._backlog
        view = memoryview(backlog)
        end = len(backlog)
        while self._pos < end:
            data = bytes(view[self._pos:self._pos + self._chunk])
            self._pos += len(data)
            self._process(data)
            if self._backlog is not backlog:  # fed meanwhile: the backlog was re-based
                self._drain()
                return
            before, now = now, clock()
            # Cheap input (bulk DATA) earns bigger pieces; costly input smaller ones.
            if now - before < TURN / 10:
                self._chunk = min(self._chunk * 2, MAX_CHUNK)
            elif now - before > TURN / 2:
                self._chunk = CHUNK
            if now >= deadline:
                break
        if self._pos < end:
            self._pause()
            self._loop.call_soon(self._drain)
            return
        self._backlog = b""
        self._pos = 0
        self._resume()
