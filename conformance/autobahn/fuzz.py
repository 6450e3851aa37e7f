"""One Autobahn run: start the server under test, run ``wstest``, convert its report.

Server mode (``fuzzingclient``): the suite connects to our target and expects
every message echoed.  Client mode (``fuzzingserver``): the suite listens and a
driver script connects as the client under test (see ``client_driver.py``).
Every outcome, including "could not run", ends as a result file.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from queue import Empty, Queue
from typing import Any

from conformance.autobahn.results import RunInfo, base_document, convert, resolve_patterns
from conformance.autobahn.runners import (
    SUITE_VERSION,
    Runner,
    RunnerUnavailable,
    prepare_runner,
    select_runner,
)
from conformance.autobahn.shards import (
    MIN_CHUNK_S,
    MergeError,
    load_case_times,
    merge_indexes,
    plan_chunks,
    record_case_times,
)
from conformance.h2bridge import hook as h2bridge_hook  # the h2-bridge variant (RFC 8441)
from conformance.targets import REPO_ROOT, Protocol, TargetUnavailable, free_port, get_target
from conformance.targets.base import CACHE_DIR, ServerHandle, make_tls_cert

HERE = Path(__file__).resolve().parent
ECHO_APP = "conformance.autobahn.echo_app:app"
WSTEST_TIMEOUT = 3600.0   # all 517 cases take ~10 min on 2 cores; leave room for slow targets


@dataclass
class RunOptions:
    target: str
    tls: bool = False
    cases: Sequence[str] = ("*",)
    exclude: Sequence[str] = ()
    runner: str | None = None
    mode: str = "server"            # server: fuzzingclient vs our server; client: fuzzingserver
    app: str = ECHO_APP
    out: Path | None = None
    h2_bridge: bool = False         # reach the server through conformance/h2bridge (RFC 8441)
    shards: int = 1                 # wstest processes (each with its own server) in parallel
    chunk_seconds: float = MIN_CHUNK_S  # smallest share of cases per wstest process (estimate)
    log: Callable[[str], None] = field(default=lambda msg: print(msg, file=sys.stderr))

    @property
    def variant(self) -> str:
        if self.mode == "client":
            return "client"
        if self.h2_bridge:
            return h2bridge_hook.variant(self.tls)
        return "wss" if self.tls else "ws"

    def default_out(self) -> Path:
        return REPO_ROOT / "reports" / "raw" / f"autobahn-{self.target}-{self.variant}.json"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_workdir(opts: RunOptions) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    workdir = CACHE_DIR / "autobahn" / "runs" / f"{opts.target}-{opts.variant}-{stamp}-{time.monotonic_ns() % 10**6}"
    workdir.mkdir(parents=True)
    return workdir


def client_spec(agent: str, url: str, cases: Sequence[str], exclude: Sequence[str]) -> dict[str, Any]:
    """The fuzzingclient spec: our template with this run's server and cases."""
    spec = json.loads((HERE / "fuzzingclient.json").read_text())
    spec["servers"] = [{"agent": agent, "url": url}]
    spec["cases"] = list(cases)
    spec["exclude-cases"] = list(exclude)
    return spec


def server_spec(url: str, cases: Sequence[str], exclude: Sequence[str]) -> dict[str, Any]:
    """The fuzzingserver spec (client mode): listen on *url*."""
    spec = json.loads((HERE / "fuzzingserver.json").read_text())
    spec["url"] = url
    spec["cases"] = list(cases)
    spec["exclude-cases"] = list(exclude)
    return spec


def write_result(doc: dict[str, Any], out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    return out


def run(opts: RunOptions) -> dict[str, Any]:
    """Run the suite as *opts* says; always returns (and writes) a result document."""
    started, t0 = _now(), time.monotonic()
    info = RunInfo(opts.target, opts.variant, opts.runner or "", SUITE_VERSION, started, 0.0)
    try:
        selection = select_runner(opts.runner)
        for skipped, why in selection.reasons.items():
            opts.log(f"runner {skipped} skipped: {why}")
        opts.log(f"runner: {selection.name}")
        workdir = make_workdir(opts)
        runner = prepare_runner(selection.name, workdir)
        info = RunInfo(opts.target, opts.variant, runner.name, runner.version, started, 0.0)
        if opts.mode == "client":
            from conformance.autobahn.client_mode import run_client_mode

            doc = run_client_mode(opts, runner, workdir, info)
        else:
            doc = _run_server_mode(opts, runner, workdir, info)
    except (RunnerUnavailable, TargetUnavailable, OSError, subprocess.SubprocessError) as exc:
        doc = base_document(info, status="error", message=str(exc))
    doc["duration_s"] = round(time.monotonic() - t0, 3)
    write_result(doc, opts.out or opts.default_out())
    return doc


def expected_cases(runner: Runner, opts: RunOptions) -> list[str] | None:
    all_ids = runner.case_ids()
    if all_ids is None:
        return None
    return resolve_patterns(all_ids, opts.cases, opts.exclude)


def not_supported(info: RunInfo, ids: Sequence[str] | None, why: str) -> dict[str, Any]:
    """Every requested case as ``not-supported``: the target does not speak this protocol."""
    from conformance.autobahn.results import rfc_section, summarize

    doc = base_document(info, message=why)
    doc["cases"] = [{"id": i, "rfc": rfc_section(i)[0], "section": rfc_section(i)[1],
                     "group": i.split(".")[0], "description": "", "status": "not-supported",
                     "message": why} for i in (ids or [])]
    doc["summary"] = summarize(doc["cases"])
    return doc


def _run_server_mode(opts: RunOptions, runner: Runner, workdir: Path,
                     info: RunInfo) -> dict[str, Any]:
    target = get_target(opts.target)
    expected = expected_cases(runner, opts)
    protocol = Protocol.WSS if opts.tls else Protocol.WS
    if opts.h2_bridge:
        protocol = Protocol.WS_OVER_H2
    if not target.supports(protocol):
        return not_supported(info, expected, f"{target.name} does not serve {protocol.value}")
    cert = make_tls_cert(workdir / "tls") if opts.tls else None
    if opts.shards > 1 and expected is not None and len(expected) > 1:
        chunks = [Chunk(workdir / "chunks" / f"{n:03d}", ids, [])
                  for n, ids in enumerate(plan_chunks(expected, opts.shards, opts.chunk_seconds,
                                                      load_case_times(opts.target)))]
        workers = min(opts.shards, len(chunks))
    else:  # one wstest, the patterns as given (docker cannot list the case ids)
        chunks = [Chunk(workdir, list(opts.cases), list(opts.exclude))]
        workers = 1
    queue: Queue[Chunk] = Queue()
    for chunk in chunks:
        queue.put(chunk)
    total = len(expected) if expected is not None else None
    with CaseProgress(chunks, total, f"autobahn {opts.variant} {opts.target}", opts.log), \
            ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_worker, n, opts, runner, workdir, cert, queue)
                   for n in range(workers)]
        try:
            stats = [f.result() for f in futures]
        except KeyboardInterrupt:
            # Ctrl-C reaches wstest (same process group) but not the worker threads: empty
            # the queue so they stop their servers instead of starting the next chunk.
            while not queue.empty():
                queue.get_nowait()
            raise
    index = workdir / "reports" / "servers" / "index.json"
    problems = [f"wstest exited {c.code} (see {c.workdir}/wstest.log)"
                for c in chunks if c.code not in (0, None)]
    problems += [f"chunk {c.workdir} did not run" for c in chunks if c.code is None]
    problems += [s.problem for s in stats if s.problem]
    if any(c.workdir != workdir for c in chunks):  # sharded (even into one chunk): merge
        found = [c.index for c in chunks if c.index.exists()]
        try:
            if found:
                merge_indexes(found, index.parent)
        except MergeError as exc:
            return base_document(info, status="error", message=f"{exc}; see {workdir}")
        try:  # the next run's chunk plan; a run never fails for want of it
            if index.exists():
                record_case_times(index, opts.target)
        except (OSError, ValueError) as exc:
            print(f"autobahn: case times not recorded: {exc}", file=sys.stderr)
    if not index.exists():
        detail = "; ".join(problems) or f"wstest wrote no {index}"
        return base_document(info, status="error",
                             message=f"{detail}; see {workdir}/wstest.log")
    doc = convert(index, opts.target, expected, info)
    if problems:
        doc["message"] = "; ".join(problems)
    doc["workdir"] = str(workdir)
    doc["timing"] = _timing(chunks, stats)
    return doc


class CaseProgress:
    """Prints ``progress: <label> N/M cases`` every *interval* seconds while wstest runs,
    counting the "Running test case ID" lines of every chunk's wstest.log."""

    MARK = b"Running test case ID "

    def __init__(self, chunks: Sequence[Chunk], total: int | None, label: str,
                 log: Callable[[str], None], interval: float = 20.0) -> None:
        self.chunks, self.total, self.label, self.log = chunks, total, label, log
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._t0 = time.monotonic()

    def count(self) -> int:
        done = 0
        for chunk in self.chunks:
            try:
                done += (chunk.workdir / "wstest.log").read_bytes().count(self.MARK)
            except OSError:
                continue
        return done

    def line(self) -> str:
        of = f"/{self.total}" if self.total is not None else ""
        return (f"progress: {self.label} {self.count()}{of} cases started, "
                f"{time.monotonic() - self._t0:.0f} s")

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.log(self.line())

    def __enter__(self) -> CaseProgress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.log(self.line())


@dataclass
class Chunk:
    """One wstest process: the cases it runs and where it writes its report."""

    workdir: Path
    cases: list[str]
    exclude: list[str]
    code: int | None = None      # wstest's exit status; None: never ran
    wall_s: float = 0.0
    cpu_s: float | None = None   # wstest's user+system CPU seconds

    @property
    def index(self) -> Path:
        return self.workdir / "reports" / "servers" / "index.json"


@dataclass
class WorkerStats:
    """One worker: a server under test (and bridge) serving the chunks it took."""

    chunks: int = 0
    server_cpu_s: float | None = None   # the server's process group, user+system
    problem: str = ""


def _worker(number: int, opts: RunOptions, runner: Runner, workdir: Path, cert: Any,
            queue: Queue[Chunk]) -> WorkerStats:
    """Start a server under test, then run chunks from *queue* against it until it is empty."""
    stats = WorkerStats()
    env = h2bridge_hook.SERVER_ENV if opts.h2_bridge else None
    try:
        with contextlib.ExitStack() as stack:
            protocol = Protocol.WSS if opts.tls else Protocol.WS
            if opts.h2_bridge:
                protocol = Protocol.WS_OVER_H2
            server = stack.enter_context(_start(opts.target, opts.app, cert, env, protocol))
            url = server.url("ws", server.path("ws_echo"))
            if opts.h2_bridge:
                logs = workdir / f"worker-{number}" if number else workdir
                logs.mkdir(parents=True, exist_ok=True)
                url = stack.enter_context(h2bridge_hook.fuzz_url(server, cert, logs))
            owner = f"pid {server.pid}" if server.process else "started outside the suite"
            opts.log(f"worker {number}: {opts.target} listening at {url} ({owner})")
            while True:
                try:
                    chunk = queue.get_nowait()
                except Empty:
                    break
                chunk.workdir.mkdir(parents=True, exist_ok=True)
                spec = client_spec(opts.target, url, chunk.cases, chunk.exclude)
                (chunk.workdir / "fuzzingclient.json").write_text(json.dumps(spec, indent=2))
                t0 = time.monotonic()
                chunk.code, chunk.cpu_s = run_wstest(
                    runner, ["fuzzingclient", "fuzzingclient.json"], chunk.workdir)
                chunk.wall_s = time.monotonic() - t0
                stats.chunks += 1
                if not server.running:
                    stats.problem = "the server under test exited during the run"
                    break
            stats.server_cpu_s = group_cpu_seconds(server.pid) if server.process else None
    except TargetUnavailable as exc:
        stats.problem = f"worker {number}: {exc}"
    return stats


def _timing(chunks: Sequence[Chunk], stats: Sequence[WorkerStats]) -> dict[str, Any]:
    """Where the time went: wstest processes, their CPU, and the servers' CPU."""
    def total(values: Iterable[float | None]) -> float | None:
        got = list(values)
        return None if not got or None in got else round(sum(v or 0.0 for v in got), 3)

    return {
        "workers": len(stats), "chunks": len(chunks),
        "wstest_cpu_s": total(c.cpu_s for c in chunks),
        "server_cpu_s": total(s.server_cpu_s for s in stats),
        "chunk_runs": [{"dir": str(c.workdir), "cases": len(c.cases), "exit": c.code,
                        "wall_s": round(c.wall_s, 3),
                        "cpu_s": None if c.cpu_s is None else round(c.cpu_s, 3)}
                       for c in chunks],
    }


def group_cpu_seconds(pgid: int) -> float | None:
    """User+system CPU seconds of the live processes in group *pgid* (Linux ``/proc``)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total, seen = 0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # fields[0] is field 3 (state): pgrp is field 5, utime..cstime fields 14-17.
        if int(fields[2]) == pgid:
            total += sum(int(f) for f in fields[11:15])
            seen = True
    return total / tick if seen else None


def _start(name: str, app: str, cert: Any, env: dict[str, str] | None = None,
           protocol: Protocol | None = None) -> ServerHandle:
    target = get_target(name)
    app = target.app_for("autobahn", app)
    if cert is None:
        return target.start(app, free_port(), env=env, protocol=protocol)
    return target.start(app, free_port(), tls_cert=cert.cert, tls_key=cert.key, env=env,
                        protocol=protocol)


def run_wstest(runner: Runner, mode_and_spec: Sequence[str], workdir: Path,
               extra: Sequence[str] = (), timeout: float = WSTEST_TIMEOUT
               ) -> tuple[int, float | None]:
    """Run wstest in *workdir* (its report paths are relative to it); output to wstest.log.

    Returns its exit status (-1 when it timed out and was killed) and the user+system
    CPU seconds it used.
    """
    mode, spec = mode_and_spec
    with open(workdir / "wstest.log", "wb") as log:
        proc = subprocess.Popen(runner.argv(mode, spec, *extra), cwd=workdir, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            proc.kill()

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return (-1 if timed_out.is_set() else proc.returncode), cpu
