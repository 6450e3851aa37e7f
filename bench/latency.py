"""Latency at a fixed rate: p50 / p99 / p99.9 in ms at half the server's own peak.

First a closed-loop h2load run finds the peak (it doubles as the warm-up); then h2load
runs again with ``--rps`` (requests per second *per client*) set so that all clients
together ask for half of it, and ``--log-file`` records every request: start time,
status, microseconds until the end of the response. The percentiles come from those
durations (nearest rank). Over h2c (``-m10``, RFC 9113 §3.3) and HTTP/1.1 (``--h1 -m1``,
one request at a time per connection, RFC 9112 §9.3).

h2load measures each request from when it was sent, not from when the schedule wanted
it sent, so a server that stalls delays the requests behind it without their waiting
time being counted (coordinated omission); at half the peak such stalls are rare, and a
run that could not keep the asked rate is flagged.
"""
from __future__ import annotations

import math
import tempfile
from pathlib import Path

from .loads import CpuProbe, Sample, _run_tool, parse_h2load

CLIENTS = 16


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending list (pct in 0–100)."""
    if not sorted_values:
        raise ValueError("no values")
    # round() first: 99.9 / 100 * 1000 is 999.0000000000001 in binary floating point
    rank = max(1, math.ceil(round(pct / 100 * len(sorted_values), 9)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def parse_log(text: str) -> tuple[list[float], int]:
    """Durations in ms of the 2xx requests of an h2load ``--log-file``, and how many
    lines were not 2xx (or did not parse)."""
    durations: list[float] = []
    bad = 0
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) != 3:
            if line.strip():
                bad += 1
            continue
        try:
            status, micros = int(parts[1]), int(parts[2])
        except ValueError:
            bad += 1
            continue
        if 200 <= status < 300:
            durations.append(micros / 1000)
        else:
            bad += 1
    return durations, bad


def latency_sample(summary: str, log: str, rate: float, seconds: float) -> Sample:
    """The percentiles as ``extra`` (``p50_ms``, ``p99_ms``, ``p999_ms``); the value is
    the p99. Failed or non-2xx requests are errors; so is a rate far below the asked one."""
    base = parse_h2load(summary)
    durations, bad = parse_log(log)
    if not durations:
        return Sample(None, max(base.errors, 1) + bad,
                      "no request completed at the fixed rate; " + base.message)
    durations.sort()
    p50, p99, p999 = (round(percentile(durations, p), 3) for p in (50, 99, 99.9))
    achieved = len(durations) / seconds if seconds > 0 else 0.0
    notes = [f"rate asked {rate:,.0f}/s, achieved {achieved:,.0f}/s, {len(durations)} requests"]
    errors = max(base.errors, bad)
    if achieved < 0.9 * rate:
        errors += 1
        notes.append("the server could not keep the asked rate")
    extra = {"p50_ms": p50, "p99_ms": p99, "p999_ms": p999, "rate": round(rate, 1),
             "achieved": round(achieved, 1), "requests": float(len(durations))}
    return Sample(p99, errors, "; ".join(notes), extra)


def _mode(h1: bool) -> list[str]:
    return ["--h1", "-m1"] if h1 else ["-m10"]


def peak(port: int, seconds: float, pin: list[str], h1: bool) -> Sample:
    """Closed-loop req/s with the same client shape as the fixed-rate run."""
    cmd = [*pin, "h2load", f"-c{CLIENTS}", *_mode(h1), "-t1",
           f"--duration={max(1, round(seconds))}", "--warm-up-time=0",
           f"http://127.0.0.1:{port}/"]
    return _run_tool(cmd, seconds, parse_h2load)


def run_latency(port: int, duration: float, warmup: float, pin: list[str], *, h1: bool,
                cpu: CpuProbe | None = None) -> Sample:
    """Peak first, then the fixed-rate run at half of it (see the module doc)."""
    top = peak(port, max(1.0, warmup or duration / 2), pin, h1)
    if top.value is None or top.errors:
        return Sample(None, max(top.errors, 1), "peak run failed: " + top.message)
    rate = top.value / 2
    per_client = max(1, round(rate / CLIENTS))
    seconds = max(1, round(duration))
    with tempfile.TemporaryDirectory(prefix="bench-lat-") as tmp:
        log_path = Path(tmp) / "requests.log"
        cmd = [*pin, "h2load", f"-c{CLIENTS}", *_mode(h1), "-t1", f"--rps={per_client}",
               f"--duration={seconds}", "--warm-up-time=0", f"--log-file={log_path}",
               f"http://127.0.0.1:{port}/"]
        summary: list[str] = []

        def keep(text: str) -> Sample:
            summary.append(text)
            return parse_h2load(text)

        run = _run_tool(cmd, seconds, keep, cpu)
        log = log_path.read_text() if log_path.exists() else ""
    if not summary:
        return run  # the tool did not run (missing, timed out)
    sample = latency_sample(summary[0], log, per_client * CLIENTS, seconds)
    sample.extra = {**(run.extra or {}), **(sample.extra or {}), "peak": top.value}
    return sample
