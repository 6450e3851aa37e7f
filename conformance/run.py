"""The conformance orchestrator behind ``python -m conformance`` (and ``tox -e conformance``).

It runs every suite that exists against the chosen targets, in parallel where the
machine allows, then merges ``reports/raw/*.json`` into ``reports/compliance.{json,md,html}``
and applies the regression gate against ``conformance/baseline.json``:

* unit     — the RFC-indexed pytest suite (``conformance.unit_sections`` plugin)
* h2spec   — ``python -m conformance.h2spec`` (h2c, tls, each normal and strict)
* autobahn — ``python -m conformance.autobahn`` when that harness exists
* rfc8441  — the RFC 8441 interop matrix (suite ``rfc8441-matrix``; clients × servers, so
             run once, with ours). tests/rfc8441/test_matrix.py runs it inside the unit
             run; without the unit suite it runs as ``python -m conformance.interop``

A suite that cannot run is reported as an error (red banner), never as a pass. The exit
status is 1 when a case that passes in the baseline no longer passes, else 0.

Time: the Autobahn server-mode runs are split over ``--autobahn-shards`` wstest processes
(default 2; see conformance/autobahn/README.md), the suites run ``--jobs`` at a time, longest
first, and ``compliance.json`` keeps ``provenance.timing``: the wall time of the whole run and
of each suite, the CPU seconds of the processes they started and the load average meanwhile.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from conformance.h2spec.runner import VARIANTS as H2SPEC_VARIANTS
from conformance.report.baseline import load_baseline, updated_baseline, write_baseline
from conformance.report.build import build_report, write_report
from conformance.report.model import MATRIX_SUITE, Expectation
from conformance.targets import REPO_ROOT, TARGETS

OURS = "blackbull"
SUITES = ("unit", "h2spec", "autobahn", "rfc8441")
# CLI suite name -> the "suite" field of the raw files it produces.
RAW_SUITE = {"unit": "unit", "h2spec": "h2spec", "autobahn": "autobahn",
             "rfc8441": MATRIX_SUITE}
QUICK_AUTOBAHN = "1.*,2.*,3.*,4.*,5.*,6.*,7.*,10.*"
DEFAULT_BASELINE = REPO_ROOT / "conformance" / "baseline.json"


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
    start_s: float = 0.0  # seconds after the run began
    note: str = ""

    def run(self, log_dir: Path, epoch: float | None = None) -> Job:
        log_dir.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        self.start_s = t0 - (t0 if epoch is None else epoch)
        with open(log_dir / f"{self.name}.log", "wb") as log:
            try:
                proc = subprocess.run(self.argv, cwd=REPO_ROOT, stdout=log,
                                      stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      timeout=self.timeout, env={**os.environ, **self.env})
                self.returncode = proc.returncode
            except subprocess.TimeoutExpired:
                self.note = f"timed out after {self.timeout:.0f}s"
            except OSError as exc:
                self.note = f"could not start: {exc}"
        self.duration_s = time.monotonic() - t0
        return self


@dataclass
class Plan:
    """What this invocation runs and expects to find in ``reports/raw``."""

    targets: list[str]
    suites: list[str]
    jobs: list[Job] = field(default_factory=list)
    expected: list[Expectation] = field(default_factory=list)
    #: Raw suites whose files an earlier test run produced: not cleared as stale.
    kept_suites: set[str] = field(default_factory=set)


def autobahn_available() -> bool:
    return (REPO_ROOT / "conformance" / "autobahn" / "__main__.py").exists()


def interop_available() -> bool:
    return (REPO_ROOT / "conformance" / "interop" / "__main__.py").exists()


def _interop_job(raw: Path) -> Job:
    """The matrix harness; ``--out`` only if its command line has one (it is young)."""
    argv = [sys.executable, "-m", "conformance.interop"]
    try:
        usage = subprocess.run([*argv, "--help"], cwd=REPO_ROOT, capture_output=True,
                               text=True, timeout=120).stdout
    except (OSError, subprocess.SubprocessError):
        usage = ""
    if "--out" in usage:
        argv += ["--out", str(raw / f"{MATRIX_SUITE}.json")]
    return Job("rfc8441-matrix", argv, timeout=1800, weight=2)


def _unit_job(raw: Path, args: argparse.Namespace) -> Job:
    argv = [sys.executable, "-m", "pytest", *args.unit_paths, "-q", "-p", "no:cacheprovider",
            "-p", "conformance.unit_sections", "--rfc-report",
            str(raw / f"unit-{OURS}-pytest.json"), "--ignore=tests/conformance"]
    if args.unit_workers > 1:
        argv += ["-n", str(args.unit_workers)]
    # tests/rfc8441/test_matrix.py writes the matrix where this variable points.
    env = {"RFC8441_MATRIX_OUT": str(raw / f"{MATRIX_SUITE}.json")}
    return Job("unit", argv, timeout=args.unit_timeout, weight=2, env=env)


def unit_runs_matrix(paths: list[str]) -> bool:
    """Whether the unit run collects tests/rfc8441 (where the matrix test lives)."""
    return any(Path("tests/rfc8441").is_relative_to(Path(p)) or
               Path(p).is_relative_to("tests/rfc8441") for p in paths)


def make_plan(args: argparse.Namespace, raw: Path) -> Plan:
    plan = Plan(targets=args.targets, suites=args.suites)
    if args.reuse_test_results:
        plan.kept_suites = {RAW_SUITE["unit"], MATRIX_SUITE}
    py = sys.executable
    for target in plan.targets:
        if "h2spec" in plan.suites:
            plan.jobs.append(Job(f"h2spec-{target}", [py, "-m", "conformance.h2spec",
                                 "--target", target, "--out", str(raw)], timeout=900))
            plan.expected += [Expectation("h2spec", target, v) for v in H2SPEC_VARIANTS]
        if "autobahn" in plan.suites:
            plan.expected.append(Expectation("autobahn", target, "ws"))
            if autobahn_available():
                argv = [py, "-m", "conformance.autobahn", "--target", target,
                        "--out", str(raw / f"autobahn-{target}-ws.json")]
                if args.quick:
                    argv += ["--cases", QUICK_AUTOBAHN]
                if args.autobahn_runner:
                    argv += ["--runner", args.autobahn_runner]
                if args.autobahn_shards > 1:
                    argv += ["--shards", str(args.autobahn_shards)]
                plan.jobs.append(Job(f"autobahn-{target}", argv, timeout=3600, weight=3))
            if target == OURS:
                _autobahn_variants(plan, raw, args)
    if OURS in plan.targets and "unit" in plan.suites:
        if not args.reuse_test_results:
            plan.jobs.append(_unit_job(raw, args))
        plan.expected.append(Expectation("unit", OURS))
    if OURS in plan.targets and "rfc8441" in plan.suites:
        in_unit = "unit" in plan.suites and (
            args.reuse_test_results or unit_runs_matrix(args.unit_paths))
        if interop_available() and not in_unit:
            plan.jobs.append(_interop_job(raw))
        # The matrix spans servers; any target name in its file satisfies it.
        plan.expected.append(Expectation(MATRIX_SUITE, ""))
    plan.jobs.sort(key=lambda j: -j.weight)
    return plan


#: Our other Autobahn columns: wss, WebSocket over RFC 8441 through the bridge, and our
#: client against the fuzzingserver.
AUTOBAHN_VARIANTS = (("wss", ["--tls"]), ("h2-bridge", ["--h2-bridge"]),
                     ("client", ["--mode", "client"]))


def _autobahn_variants(plan: Plan, raw: Path, args: argparse.Namespace) -> None:
    py = sys.executable
    for variant, flags in AUTOBAHN_VARIANTS:
        if variant not in args.autobahn_variants:
            continue
        plan.expected.append(Expectation("autobahn", OURS, variant))
        if not autobahn_available():
            continue
        argv = [py, "-m", "conformance.autobahn", "--target", OURS, *flags,
                "--out", str(raw / f"autobahn-{OURS}-{variant}.json")]
        cases = QUICK_AUTOBAHN if args.quick else args.autobahn_variant_cases
        if cases:
            argv += ["--cases", cases]
        if args.autobahn_runner:
            argv += ["--runner", args.autobahn_runner]
        if args.autobahn_shards > 1 and "client" not in flags:
            argv += ["--shards", str(args.autobahn_shards)]
        plan.jobs.append(Job(f"autobahn-{OURS}-{variant}", argv, timeout=3600, weight=2))


def clear_stale(raw: Path, plan: Plan) -> None:
    """Drop old raw files of the suites/targets about to run, so none can pass for them."""
    suites = {RAW_SUITE[s] for s in plan.suites} - plan.kept_suites
    for path in raw.glob("*.json") if raw.is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            stale = data.get("suite") in suites and (
                data.get("target") in plan.targets or data.get("suite") == MATRIX_SUITE)
        except (OSError, ValueError, AttributeError):
            stale = True
        if stale:
            path.unlink()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m conformance", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--target", help=f"one target (default {OURS}); known: {', '.join(TARGETS)}")
    group.add_argument("--targets", help="'all' or a comma-separated list: comparison table")
    parser.add_argument("--suite", dest="suites", action="append", choices=SUITES,
                        help="repeatable; default: all suites")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "reports")
    parser.add_argument("--baseline", type=Path, default=DEFAULT_BASELINE)
    parser.add_argument("--update-baseline", action="store_true",
                        help=f"record the current {OURS} statuses as the new baseline")
    parser.add_argument("--report-only", action="store_true",
                        help="do not run anything; rebuild the report from reports/raw")
    parser.add_argument("--quick", action="store_true",
                        help=f"Autobahn cases {QUICK_AUTOBAHN} only (~11 s instead of ~10 min)")
    parser.add_argument("--autobahn-runner", choices=("docker", "python2.7", "python3-port"),
                        help="force the Autobahn runner (default: the first available)")
    parser.add_argument("--autobahn-variant-cases", default="",
                        help="case patterns for the wss, h2-bridge and client Autobahn runs "
                             "(default: all 517; ws always runs all unless --quick)")
    parser.add_argument("--autobahn-variants", default=",".join(v for v, _ in AUTOBAHN_VARIANTS),
                        help="comma-separated Autobahn columns besides ws to run for "
                             f"{OURS} ('none' for ws only; default: all)")
    parser.add_argument("--autobahn-shards", type=int, default=2,
                        help="wstest processes per Autobahn server-mode run, each against its "
                             "own server, reports merged case by case (default 2: wstest is "
                             "single-threaded and a case is a ping-pong, so one uses ~1 core)")
    parser.add_argument("--jobs", type=int, default=2, help="suites run side by side")
    parser.add_argument("--unit-workers", type=int, default=1, help="pytest -n for the unit run")
    parser.add_argument("--unit-timeout", type=float, default=1800)
    parser.add_argument("--unit-paths", nargs="+", default=["tests"])
    parser.add_argument("--reuse-test-results", action="store_true",
                        help="do not run the unit tests (and the RFC 8441 matrix inside them) "
                             "again: use the files a `BB_RFC_REPORT=<out>/raw/unit-blackbull-"
                             "pytest.json python -m pytest` run left in <out>/raw")
    args = parser.parse_args(argv)
    if args.targets:
        names = list(TARGETS) if args.targets == "all" else args.targets.split(",")
    else:
        names = [args.target or OURS]
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s) {unknown}; known: {', '.join(TARGETS)}")
    args.targets = names
    args.suites = args.suites or list(SUITES)
    known = [v for v, _ in AUTOBAHN_VARIANTS]
    variants = [] if args.autobahn_variants == "none" else \
        [v.strip() for v in args.autobahn_variants.split(",") if v.strip()]
    if any(v not in known for v in variants):
        parser.error(f"unknown Autobahn variant(s) in {args.autobahn_variants!r}; known: "
                     f"{', '.join(known)} or none")
    args.autobahn_variants = variants
    if args.autobahn_shards < 1:
        parser.error("--autobahn-shards must be at least 1")
    return args


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


def run_jobs(plan: Plan, raw: Path, logs: Path, jobs: int) -> dict:
    """Run the plan's jobs; returns the timing record kept in the report's provenance."""
    clear_stale(raw, plan)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    with LoadSampler() as load, ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for job in pool.map(lambda j: j.run(logs, t0), plan.jobs):
            print(f"[{job.name}] exit {job.returncode} in {job.duration_s:.1f}s {job.note}",
                  flush=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    timing = {
        "wall_s": round(wall, 1), "jobs": jobs, "cpus": os.cpu_count() or 0,
        # Every process the suites started (wstest, servers, h2spec, ...), once ended.
        "children_cpu_s": round(cpu, 1),
        "loadavg_1min": load.summary(),
        "suites": [{"name": j.name, "start_s": round(j.start_s, 1),
                    "wall_s": round(j.duration_s, 1), "exit": j.returncode, "note": j.note}
                   for j in plan.jobs],
    }
    print(f"conformance run: {wall:.1f}s wall, {cpu:.1f} CPU-s in child processes, "
          f"load average {timing['loadavg_1min']}", flush=True)
    return timing


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with exclusive(args.out):
        return _main(args)


def _main(args: argparse.Namespace) -> int:
    raw, logs = args.out / "raw", args.out / "logs"
    plan = make_plan(args, raw)
    timing = None if args.report_only else run_jobs(plan, raw, logs, args.jobs)
    gated = {RAW_SUITE[s] for s in plan.suites}
    gated = gated if OURS in plan.targets else set()
    main_target = OURS if OURS in plan.targets else plan.targets[0]
    partial = frozenset({"autobahn"} if args.quick or args.autobahn_variant_cases else set())
    report = build_report(raw, REPO_ROOT, main_target, plan.expected, args.baseline, gated,
                          partial)
    if args.update_baseline:
        commit = report.provenance["git"]["commit"]
        write_baseline(args.baseline,
                       updated_baseline(load_baseline(args.baseline), report.runs, OURS, commit,
                                        partial, gated))
        report = build_report(raw, REPO_ROOT, main_target, plan.expected, args.baseline, gated,
                              partial)
    if timing is not None:
        report.provenance["timing"] = timing
    paths = write_report(report, args.out)
    _print_summary(report.to_dict(), paths.html)
    return 0 if report.gate.get("ok", True) else 1


def _print_summary(data: dict, html: Path) -> None:
    for h in data["headline"]:
        print(f"  {h['suite']:<15} {h['variant']:<11} {h['status']:<13} "
              f"{h['pass']}/{h['total']}  {h['message'][:100]}")
    for banner in data["banners"]:
        print(f"  COULD NOT RUN {banner['key']}: {banner['message'][:160]}")
    gate = data["gate"]
    verdict = "ok" if gate["ok"] else f"{len(gate['regressions'])} REGRESSIONS"
    print(f"  regression gate: {verdict} ({gate['baseline_passes']} baseline passes)")
    print(f"  report: {html} (+ .json, .md)")
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        md = html.with_suffix(".md").read_text(encoding="utf-8")
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as fh:
            fh.write(md[:60000])
