"""Log lines a peer can trigger, folded: one line per cause per interval, with a count.

A line that any client can cause (a refused connection, a bad request, a timeout) must
not let that client write the server's log at line rate: a flood of refused connections
once wrote 31 903 warnings in 10 s. :func:`log_limited` logs the first occurrence of a
cause at once; later ones in the same interval are counted, and when the interval ends
one line says how many there were (with the arguments of the last one).
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

__all__ = ["log_limited", "reset"]


class _Cause:
    __slots__ = ("since", "count", "logger", "level", "msg", "args", "timer")

    def __init__(self, since: float) -> None:
        self.since = since
        self.count = 0  # occurrences not logged yet
        self.logger: logging.Logger | None = None
        self.level = logging.INFO
        self.msg = ""
        self.args: tuple[Any, ...] = ()
        self.timer: asyncio.TimerHandle | None = None


_causes: dict[str, _Cause] = {}


def log_limited(logger: logging.Logger, level: int, cause: str, interval: float,
                msg: str, *args: Any) -> None:
    """Log ``msg % args`` unless ``cause`` was logged less than ``interval`` seconds ago;
    then count it, and log the count when the interval ends. ``interval`` ≤ 0 logs
    every line."""
    if interval <= 0:
        logger.log(level, msg, *args)
        return
    if not logger.isEnabledFor(level):
        return
    now = time.monotonic()
    entry = _causes.get(cause)
    if entry is None or (now - entry.since >= interval and not entry.count):
        if entry is None:
            entry = _causes[cause] = _Cause(now)
        entry.since = now
        logger.log(level, msg, *args)
        return
    entry.count += 1
    entry.logger, entry.level, entry.msg, entry.args = logger, level, msg, args
    if entry.timer is None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a test, a thread): fold into the next line
            if now - entry.since >= interval:
                _flush(cause, interval)
            return
        delay = max(0.0, entry.since + interval - now)
        entry.timer = loop.call_later(delay, _flush, cause, interval)


def _flush(cause: str, interval: float) -> None:
    entry = _causes.get(cause)
    if entry is None:
        return
    entry.timer = None
    if entry.count and entry.logger is not None:
        # Appended text holds no "%": the cause's own %-fields are formatted as usual.
        summary = entry.msg + f" ({entry.count} more in the last {interval:g} s)"
        entry.logger.log(entry.level, summary, *entry.args)
    entry.count = 0
    entry.since = time.monotonic()


def reset() -> None:
    """Forget every cause (tests; a new worker)."""
    for entry in _causes.values():
        if entry.timer is not None:
            entry.timer.cancel()
    _causes.clear()
