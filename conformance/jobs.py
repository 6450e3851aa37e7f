"""The subprocesses of a conformance run, and what the run prints while they go on.

Each suite's harness runs as a :class:`Job` whose output goes to ``reports/logs/<name>.log``.
:func:`run_jobs` prints a line when each job starts (with its time in the last run) and
ends (exit status, counts so far, elapsed time, an estimate of what is left), and every
``interval`` seconds a line for the jobs still running with the last ``progress:`` line of
their log (Autobahn prints its case count there). Issue 14 §6: a run that prints nothing
for 45 minutes looks hung, and nobody can tell it from one that is.
"""

from __future__ import annotations

import fcntl
import json
import os
import resource
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.targets import REPO_ROOT

Printer = Callable[[str], None]


def _print(line: str) -> None:
    print(line, flush=True)


@dataclass
class Job:
    """One subprocess of the run; its output goes to ``reports/logs/<name>.log``."""

    name: str
    argv: list[str]
    timeout: float
    weight: int = 1  # longest first, so the slow suites start early
    env: dict[str, str] = field(default_factory=dict)
    returncode: int | None = None
    duration_s: float = 0.0
    #: CPU seconds (user + system) of the job's process and of every descendant it waited
    #: for (servers, wstest, h2spec ...): what the job costs a quiet machine.
    cpu_s: float | None = None
    start_s: float = 0.0  # seconds after the run began
    note: str = ""
    log_path: Path | None = None
    running: bool = False
    #: (suite, target) of the results this job must write: when it writes none, the
    #: report says why from its exit status and log, not only "no result".
    expects: list[tuple[str, str]] = field(default_factory=list)

    def run(self, log_dir: Path, epoch: float | None = None) -> Job:
        log_dir.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        self.start_s = t0 - (t0 if epoch is None else epoch)
        self.log_path = log_dir / f"{self.name}.log"
        self.running = True
        with open(self.log_path, "wb") as log:
            try:
                proc = subprocess.Popen(self.argv, cwd=REPO_ROOT, stdout=log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        env={**os.environ, **self.env})
            except OSError as exc:
                self.note = f"could not start: {exc}"
            else:
                self._wait(proc, t0)
        self.running = False
        self.duration_s = time.monotonic() - t0
        return self

    def _wait(self, proc: subprocess.Popen[bytes], t0: float) -> None:
        """Reap *proc* with ``wait4`` (its rusage covers the descendants it reaped), killing
        it once the timeout has passed."""
        deadline = t0 + self.timeout
        pause = 0.01
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() >= deadline:
                # Its servers, wstest or pytest workers too: nothing it started outlives it.
                for child in [proc.pid, *descendants(proc.pid)]:
                    try:
                        os.kill(child, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                pid, status, usage = os.wait4(proc.pid, 0)
                self.note = f"timed out after {self.timeout:.0f}s"
                break
            time.sleep(pause)
            pause = min(pause * 2, 0.25)
        proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not reap it again
        if not self.note:
            self.returncode = proc.returncode
        self.cpu_s = round(usage.ru_utime + usage.ru_stime, 1)

    def failure(self) -> str:
        """Why the job went wrong ("" when it exited 0): exit status and its log's last lines."""
        if self.returncode == 0 and not self.note:
            return ""
        what = self.note or f"exited {self.returncode}"
        tail = ""
        if self.log_path is not None:
            try:
                lines = self.log_path.read_text(errors="replace").strip().splitlines()
                tail = " | ".join(lines[-3:])
            except OSError:
                pass
        return f"{self.name} {what}" + (f": {tail}" if tail else "")

    def last_progress(self) -> str:
        """The last ``progress:`` line its harness printed, if any."""
        if self.log_path is None:
            return ""
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(max(0, fh.seek(0, os.SEEK_END) - 8192))
                tail = fh.read().decode(errors="replace")
        except OSError:
            return ""
        lines = [ln.strip() for ln in tail.splitlines() if ln.strip().startswith("progress:")]
        return lines[-1][len("progress:"):].strip() if lines else ""


def descendants(pid: int) -> list[int]:
    """Every live descendant of *pid* (children first), read from ``/proc``; [] elsewhere."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            after = entry.read_text().rpartition(")")[2].split()
            children.setdefault(int(after[1]), []).append(int(entry.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    out: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def previous_durations(report_json: Path) -> dict[str, float]:
    """Each job's wall time in the run that wrote *report_json* (the estimate of this one)."""
    try:
        data = json.loads(report_json.read_text(encoding="utf-8"))
        suites = data["provenance"]["timing"]["suites"]
        return {str(s["name"]): float(s["wall_s"]) for s in suites}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


class Progress:
    """The lines a run prints about its jobs (see the module docstring)."""

    def __init__(self, jobs: list[Job], estimates: dict[str, float], out: Printer = _print,
                 interval: float = 60.0) -> None:
        self.jobs, self.estimates, self.out, self.interval = jobs, estimates, out, interval
        self.t0 = time.monotonic()
        self.done = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _est(self, job: Job) -> str:
        last = self.estimates.get(job.name)
        return f"last run {last:.0f} s" if last is not None else "no earlier run"

    def left(self) -> str:
        """Estimated seconds left: the unfinished jobs' last durations (run side by side)."""
        pending = [j for j in self.jobs if j.returncode is None and not j.note]
        known = [max(0.0, self.estimates[j.name] - (j.duration_s if not j.running else
                                                     time.monotonic() - self.t0 - j.start_s))
                 for j in pending if j.name in self.estimates]
        if not pending:
            return ""
        unknown = len(pending) - len(known)
        text = f"≈{max(known):.0f} s left" if known else "time left unknown"
        return text + (f" (+{unknown} without an estimate)" if known and unknown else "")

    def started(self, job: Job) -> None:
        with self._lock:
            self.out(f"[{job.name}] started ({self._est(job)})")

    def finished(self, job: Job) -> None:
        with self._lock:
            self.done += 1
            status = f"exit {job.returncode}" if job.returncode is not None else job.note
            left = self.left()
            cpu = f" ({job.cpu_s:.0f} CPU-s)" if job.cpu_s is not None else ""
            self.out(f"[{job.name}] {status} in {job.duration_s:.1f}s{cpu} — {self.done} of "
                     f"{len(self.jobs)} done, {time.monotonic() - self.t0:.0f} s elapsed"
                     + (f", {left}" if left else ""))

    def heartbeat(self) -> None:
        with self._lock:
            now = time.monotonic() - self.t0
            for job in (j for j in self.jobs if j.running):
                progress = job.last_progress()
                self.out(f"[{job.name}] running {now - job.start_s:.0f} s ({self._est(job)})"
                         + (f": {progress}" if progress else ""))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.heartbeat()

    def __enter__(self) -> Progress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class LoadSampler:
    """The 1-minute load average every *interval* seconds while the run goes on: the
    machine is shared, so a wall time means little without it."""

    def __init__(self, interval: float = 10.0) -> None:
        self.interval = interval
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while True:
            self.samples.append(round(os.getloadavg()[0], 2))
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(round(os.getloadavg()[0], 2))

    def summary(self) -> dict[str, float]:
        values = self.samples or [0.0]
        return {"min": min(values), "mean": round(sum(values) / len(values), 2),
                "max": max(values), "samples": len(self.samples)}


def execute(jobs: list[Job], logs: Path, parallel: int, estimates: dict[str, float] | None = None,
            out: Printer = _print, interval: float = 60.0) -> dict[str, Any]:
    """Run *jobs* (*parallel* at a time) with progress lines; the timing record."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    progress = Progress(jobs, estimates or {}, out, interval)

    def one(job: Job) -> Job:
        progress.started(job)
        job.run(logs, t0)
        progress.finished(job)
        return job

    with LoadSampler() as load, progress, ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        list(pool.map(one, jobs))
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    timing = {
        "wall_s": round(wall, 1), "jobs": parallel, "cpus": os.cpu_count() or 0,
        # Every process the suites started (wstest, servers, h2spec, ...), once ended.
        "children_cpu_s": round(cpu, 1),
        "loadavg_1min": load.summary(),
        "suites": [{"name": j.name, "start_s": round(j.start_s, 1),
                    "wall_s": round(j.duration_s, 1), "cpu_s": j.cpu_s,
                    "exit": j.returncode, "note": j.note}
                   for j in jobs],
    }
    # What the same work needs on an idle machine at least: its CPU-s spread over every
    # core (the suites are CPU-bound; waiting on timeouts only adds to this).
    cores = max(1, os.cpu_count() or 1)
    timing["idle_machine_floor_s"] = round(cpu / cores, 1)
    out(f"conformance run: {wall:.1f}s wall, {cpu:.1f} CPU-s in child processes "
        f"(≥ {cpu / cores:.0f} s on {cores} idle cores), load average {timing['loadavg_1min']}")
    return timing


@contextmanager
def exclusive(out: Path) -> Iterator[None]:
    """One orchestrator per report directory at a time.

    Runs in a shared tree otherwise delete each other's fresh results (``clear_stale``)
    and merge half-written ones; the second run waits for the first.
    """
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".conformance.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another `python -m conformance` using {out} ...", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield
