"""Load generators: ``wrk`` (HTTP/1.1), ``h2load`` (h2c and h2 over TLS), and our
WebSocket echo client (``bench.wsclient``), each run as a subprocess pinned to the load
core, with their output parsed into a :class:`Sample`.

A run whose tool failed, or that counted failed requests / broken echoes, keeps its
number but carries the error count and message, so the report can flag it.
"""
from __future__ import annotations

import json
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from .envs import REPO_ROOT

#: Returns the server's CPU seconds so far (user + system, all its processes).
CpuProbe = Callable[[], float]


@dataclass(slots=True)
class Sample:
    """One measured run of one benchmark against one server."""

    value: float | None  # req/s or msg/s; None when the run produced no number
    errors: int = 0  # failed requests, socket errors, broken echoes
    message: str = ""
    extra: dict[str, float] | None = None


# --- wrk ------------------------------------------------------------------------------
_WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_WRK_TOTAL = re.compile(r"(\d+) requests in ")
_WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def parse_wrk(text: str) -> Sample:
    """Parse wrk's summary: Requests/sec plus non-2xx responses and socket errors."""
    rps = _WRK_RPS.search(text)
    if rps is None:
        return Sample(None, 1, f"wrk printed no Requests/sec: {text[-300:]!r}")
    errors, notes = 0, []
    if m := _WRK_NON2XX.search(text):
        errors += int(m.group(1))
        notes.append(f"{m.group(1)} non-2xx")
    if m := _WRK_SOCKET.search(text):
        errors += sum(int(g) for g in m.groups())
        notes.append(m.group(0))
    value = float(rps.group(1))
    if value == 0.0:  # e.g. a server that closes every connection without a response
        return Sample(None, max(errors, 1), "no response completed; " + "; ".join(notes))
    total = _WRK_TOTAL.search(text)
    extra = {"requests": float(total.group(1))} if total else None
    return Sample(value, errors, "; ".join(notes), extra=extra)


def run_wrk(port: int, duration: float, pin: list[str], conns: int = 64,
            threads: int = 1, cpu: CpuProbe | None = None,
            headers: tuple[str, ...] = ()) -> Sample:
    """``headers`` are extra request header lines (``-H``), e.g. ``Connection: close``."""
    extra = [arg for header in headers for arg in ("-H", header)]
    cmd = [*pin, "wrk", f"-t{threads}", f"-c{conns}", f"-d{max(1, round(duration))}s",
           *extra, f"http://127.0.0.1:{port}/"]
    return _run_tool(cmd, duration, parse_wrk, cpu)


# --- h2load ---------------------------------------------------------------------------
_H2_REQS = re.compile(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                      r"(\d+) failed, (\d+) errored, (\d+) timeout")
_H2_RPS = re.compile(r"finished in [\d.]+\w*, ([\d.]+) req/s")
_H2_STATUS = re.compile(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx")


def parse_h2load(text: str) -> Sample:
    """Parse h2load's summary: req/s, and failed/errored/timeout requests and non-2xx."""
    rps, reqs = _H2_RPS.search(text), _H2_REQS.search(text)
    if rps is None or reqs is None:
        return Sample(None, 1, f"h2load printed no summary: {text[-400:]!r}")
    total, _, done, ok, failed, errored, timeout = (int(g) for g in reqs.groups())
    errors = failed + errored + timeout
    notes = [f"{done} done, {ok} succeeded, {failed} failed, {errored} errored, "
             f"{timeout} timeout"]
    if (status := _H2_STATUS.search(text)) is not None:
        non2xx = sum(int(g) for g in status.groups()[1:])
        errors += non2xx
        if non2xx:
            notes.append(f"{non2xx} non-2xx")
    if done == 0:
        return Sample(None, max(errors, 1), "h2load completed no request: " + notes[0])
    return Sample(float(rps.group(1)), errors, "; ".join(notes),
                  extra={"requests": float(done), "failed": float(failed + errored + timeout)})


def run_h2load(port: int, tls: bool, duration: float, warmup: float, pin: list[str],
               clients: int = 16, streams: int = 10, requests: int = 0,
               cpu: CpuProbe | None = None) -> Sample:
    """Time-boxed (``-D``) by default; ``requests`` > 0 runs a fixed count (``-n``), as
    the issue's ``-n200000`` form does, with a timeout scaled for slow servers."""
    scheme = "https" if tls else "http"
    if requests:
        span, limit = [f"-n{requests}"], max(duration, requests / 500)
    else:
        span = [f"--duration={max(1, round(duration))}",
                f"--warm-up-time={max(0, round(warmup))}"]
        limit = duration + warmup
    cmd = [*pin, "h2load", f"-c{clients}", f"-m{streams}", "-t1", *span,
           f"{scheme}://127.0.0.1:{port}/"]
    return _run_tool(cmd, limit, parse_h2load, cpu)


# --- WebSocket echo -------------------------------------------------------------------
def parse_wsclient(text: str, conns: int, deflate: bool = False) -> Sample:
    """Parse the JSON line printed by ``python -m bench.wsclient``."""
    try:
        data = json.loads(text.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return Sample(None, 1, f"ws client printed no result: {text[-300:]!r}")
    errors = list(data.get("errors", []))
    if data["connected"] < conns:
        errors.insert(0, f"only {data['connected']}/{conns} connections opened")
    value = float(data["msg_per_s"]) if data["connected"] else None
    if deflate and data["connected"] and not data["deflate_negotiated"]:
        # Uncompressed numbers in the deflate benchmark would compare apples to pears.
        return Sample(None, 1, "server does not negotiate permessage-deflate (RFC 7692)")
    extra = {"mib_per_s": float(data["mib_per_s"]), "requests": float(data["messages"]),
             "deflate_negotiated": float(data["deflate_negotiated"]),
             "window_s": float(data["seconds"]),
             "load_cpu_s": float(data.get("client_cpu_s", 0.0))}
    return Sample(value, len(errors), "; ".join(errors[:3]), extra=extra)


def run_ws(port: int, duration: float, warmup: float, pin: list[str], *, conns: int = 32,
           size: int = 64, deflate: bool = False, cpu: CpuProbe | None = None) -> Sample:
    """Run the WebSocket client (:func:`run_marked`)."""
    cmd = [*pin, sys.executable, "-m", "bench.wsclient", "--port", str(port),
           "--conns", str(conns), "--size", str(size), "--duration", str(duration),
           "--warmup", str(warmup), "--markers", *(["--deflate"] if deflate else [])]
    return run_marked(cmd, lambda text: parse_wsclient(text, conns, deflate), cpu,
                      "ws client")


def run_marked(cmd: list[str], parse: Callable[[str], Sample], cpu: CpuProbe | None,
               name: str) -> Sample:
    """Run one of our Python load clients; with *cpu*, read the server's CPU time exactly
    at the edges of its measured window (it prints ``# measuring`` / ``# done``)."""
    marks: dict[str, float] = {}
    try:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    except OSError as exc:
        return Sample(None, 1, f"{name} could not start: {exc}")
    assert proc.stdout is not None
    lines: list[str] = []
    for line in proc.stdout:  # ends when the client exits; it bounds its own run time
        if line.startswith("# ") and cpu is not None:
            marks[line[2:].strip()] = cpu()
        else:
            lines.append(line)
    stderr = proc.stderr.read() if proc.stderr else ""
    proc.wait()
    sample = parse("".join(lines))
    if sample.value is None and proc.returncode:
        sample.message = f"{name} exited {proc.returncode}: {stderr[-300:]} " + sample.message
    if "measuring" in marks and "done" in marks:
        _add_cpu(sample, marks["done"] - marks["measuring"])
    return sample


# --- common ---------------------------------------------------------------------------
def _add_cpu(sample: Sample, seconds: float) -> None:
    """Server CPU seconds of the window and the work done per CPU second: a number that
    stays comparable when other jobs on the machine steal the server's core."""
    extra = sample.extra if sample.extra is not None else {}
    extra["server_cpu_s"] = round(seconds, 3)
    if seconds > 0 and "requests" in extra:
        extra["per_cpu_s"] = round(extra["requests"] / seconds, 1)
    sample.extra = extra


def _run_tool(cmd: list[str], expected: float, parse: Callable[[str], Sample],
              cpu: CpuProbe | None = None) -> Sample:
    """Run one load tool with a generous timeout and parse its stdout."""
    tool = cmd[3] if cmd[:1] == ["taskset"] else cmd[0]
    if shutil.which(tool) is None and not tool.startswith("/"):
        return Sample(None, 1, f"{tool} is not installed")
    before = cpu() if cpu is not None else 0.0
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT,
                             timeout=expected + 60)
    except subprocess.TimeoutExpired:
        return Sample(None, 1, f"{tool} did not finish within {expected + 60:.0f}s")
    used = cpu() - before if cpu is not None else None
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    sample = parse(out.stdout)
    if sample.value is not None:  # how busy the load generator itself was
        sample.extra = {**(sample.extra or {}), "window_s": round(wall, 3),
                        "load_cpu_s": round(after.ru_utime + after.ru_stime
                                            - children.ru_utime - children.ru_stime, 3)}
    if out.returncode and sample.value is None:
        sample.message = f"{tool} exited {out.returncode}: {out.stderr[-300:]} " + sample.message
    if used is not None and sample.value is not None:
        _add_cpu(sample, used)
    return sample
