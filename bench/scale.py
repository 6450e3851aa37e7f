"""Scale: 10 000 concurrent HTTP/1.1 keep-alive connections, 1 % of them active.

The bench process opens ``total - active`` connections, each completes one keep-alive
``GET /`` (RFC 9112 §9.3) and then stays silent; while they are held, ``wrk -t1
-c<active>`` drives the remaining 1 %. The row's value is wrk's req/s; ``scale-10k-rss``
is the server's RSS (MiB, its whole process tree) read at the end of the wrk run, with
every connection still open. Idle connections the server dropped meanwhile are errors.

Each side needs one file descriptor per connection: :func:`raise_nofile` lifts this
process's soft ``RLIMIT_NOFILE`` to its hard limit before any server starts (servers
inherit it); a hard limit too low for the count is an error cell, not a smaller run.
"""
from __future__ import annotations

import asyncio
import resource

from .loads import CpuProbe, Sample, run_wrk
from .memory import Conn, _one_keepalive
from .process import rss_kib

#: File descriptors beyond the connections: the interpreter, logs, pipes, wrk.
_SPARE_FDS = 200


def raise_nofile(needed: int) -> str | None:
    """Raise the soft fd limit to the hard one; why *needed* fds cannot be had, or None."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:
            return f"cannot raise RLIMIT_NOFILE from {soft} to {target}: {exc}"
        soft = target
    if soft < needed:
        return f"RLIMIT_NOFILE hard limit {hard} < {needed} needed for this run"
    return None


async def hold_and_load(pid: int, port: int, total: int, active: int, duration: float,
                        pin: list[str], cpu: CpuProbe | None = None) -> Sample:
    """Hold ``total - active`` idle connections while wrk drives ``active`` ones."""
    if reason := raise_nofile(total + _SPARE_FDS):
        return Sample(None, 1, reason)
    idle: list[Conn] = []
    for start in range(0, total - active, 200):  # batches keep us inside the backlog
        batch = await asyncio.gather(*(_one_keepalive(port)
                                       for _ in range(start, min(total - active, start + 200))))
        idle += [c for c in batch if c is not None]
    opened = len(idle)
    rss: list[int] = []

    def load() -> Sample:
        sample = run_wrk(port, duration, pin, conns=active, cpu=cpu)
        rss.append(rss_kib(pid))  # wrk's connections are gone, the idle ones are held
        return sample

    try:
        sample = await asyncio.to_thread(load)
    finally:
        alive = sum(1 for r, w in idle if not r.at_eof() and not w.is_closing())
        for _, writer in idle:
            writer.transport.abort()
    lost = (total - active) - alive
    extra = {**(sample.extra or {}), "idle_opened": float(opened), "idle_held": float(alive),
             "rss_mib": round(rss[0] / 1024, 1) if rss and rss[0] else 0.0}
    notes = [sample.message] if sample.message else []
    if lost:
        notes.insert(0, f"{lost} of {total - active} idle connections lost")
    sample.extra = extra
    sample.errors += lost
    sample.message = "; ".join(notes)
    if not rss or not rss[0]:
        extra.pop("rss_mib")
    return sample
