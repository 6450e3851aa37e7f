"""Worker processes: fork N children on the shared listening sockets and keep them up.

The parent forwards SIGINT/SIGTERM and reaps. A worker whose app fails its lifespan
startup exits with :data:`STARTUP_FAILED`: the parent then stops the others and exits
with that code (a broken app is not restarted forever). A worker that crashes later is
restarted after a back-off that doubles with each crash in a row (0.5 s … 30 s) and is
forgiven after it has run :data:`STABLE_AFTER` seconds; one that ends by itself with
status 0 (its BB_LIMIT_MAX_REQUESTS spent) is replaced at once. Every exit is logged.
"""
from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("blackbull.workers")

#: Exit status of a worker (and of the server) whose app failed at startup.
STARTUP_FAILED = 3
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 30.0
STABLE_AFTER = 10.0
_POLL = 0.05
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@dataclass
class _Slot:
    pid: int = 0
    started: float = 0.0
    crashes: int = 0
    restart_at: float = 0.0


def backoff(crashes: int) -> float:
    """Seconds before restarting a worker that crashed ``crashes`` times in a row."""
    return min(BACKOFF_FIRST * 2.0 ** max(crashes - 1, 0), BACKOFF_MAX)


def describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            return f"killed by {signal.Signals(sig).name}"
        except ValueError:
            return f"killed by signal {sig}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"


def supervise(workers: int, child_main: Callable[[int], int]) -> int:
    """Run ``workers`` children of ``child_main`` (given the worker's slot, 0 …
    ``workers`` - 1, which its replacement keeps; returns the child's exit code) until
    a signal or a startup failure; returns the parent's exit code."""
    slots = [_Slot() for _ in range(workers)]
    stopping = False
    code = 0

    def spawn(slot: _Slot) -> None:
        # A stop signal arriving mid-fork must find the new pid in its slot (else that
        # child never hears it) and must not run the parent's handler in the child.
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            pid = os.fork()
            if pid == 0:
                for sig in _STOP_SIGNALS:
                    signal.signal(sig, signal.SIG_DFL)
            else:
                slot.pid, slot.started = pid, time.monotonic()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        if pid == 0:  # child
            status = 1
            try:
                status = child_main(slots.index(slot))
            except BaseException:  # noqa: BLE001
                log.exception("worker %d failed", os.getpid())
            finally:
                os._exit(status)
        log.info("started worker process %d", pid)

    def stop_all(_signum: int = 0, _frame: Any = None) -> None:
        nonlocal stopping
        stopping = True
        for slot in slots:
            if slot.pid:
                try:
                    os.kill(slot.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass

    signal.signal(signal.SIGINT, stop_all)
    signal.signal(signal.SIGTERM, stop_all)
    for slot in slots:
        spawn(slot)
    while any(slot.pid for slot in slots) or (
            not stopping and any(slot.restart_at for slot in slots)):
        now = time.monotonic()
        for slot in slots:
            if not stopping and not slot.pid and slot.restart_at and now >= slot.restart_at:
                slot.restart_at = 0.0
                spawn(slot)
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            pid, status = 0, 0
            if not any(slot.restart_at for slot in slots):
                break
        except InterruptedError:
            continue
        if pid == 0:
            time.sleep(_POLL)
            continue
        ended = next((s for s in slots if s.pid == pid), None)
        if ended is None:
            continue
        ended.pid = 0
        exitcode = os.waitstatus_to_exitcode(status)
        if stopping:
            log.info("worker %d finished (%s)", pid, describe_status(status))
            continue
        if exitcode == STARTUP_FAILED:
            log.error("worker %d: application startup failed; stopping", pid)
            code = STARTUP_FAILED
            stop_all()
            continue
        if exitcode == 0:  # it ended by itself (BB_LIMIT_MAX_REQUESTS): replace it now
            log.info("worker %d finished; starting another", pid)
            ended.crashes = 0
            ended.restart_at = time.monotonic()
            continue
        if time.monotonic() - ended.started >= STABLE_AFTER:
            ended.crashes = 0
        ended.crashes += 1
        delay = backoff(ended.crashes)
        ended.restart_at = time.monotonic() + delay
        log.warning("worker %d exited unexpectedly (%s); restarting in %.1fs",
                    pid, describe_status(status), delay)
    return code
