"""The conformance orchestrator behind ``python -m conformance`` (and ``tox -e conformance``).

It runs the suites (conformance/suites.py, one registry entry each) against the chosen
targets, two at a time, then merges ``reports/raw/*.json`` into
``reports/compliance.{json,md,html}`` and applies the regression gate against
``conformance/baseline.json``:

* unit     — the RFC-indexed pytest suite (``conformance.unit_sections`` plugin), ours only
* h2spec   — ``python -m conformance.h2spec`` (h2c, tls, each normal and strict)
* autobahn — ``python -m conformance.autobahn`` (ws; for ours also wss, h2-bridge, client)
* rfc8441  — the RFC 8441 interop matrix (suite ``rfc8441-matrix``; clients × servers).
             tests/rfc8441/test_matrix.py runs it inside the unit run; without the unit
             suite it runs as ``python -m conformance.interop``
* probes   — the wire-level probes (``python -m conformance.probes``)

Targets: registry names (``--target``, ``--targets``), target files (``--target-file``) and a
server someone else started (``--url h2c://HOST:PORT/`` …, see
conformance/TESTING-YOUR-SERVER.md). Which suites and variants apply follows from each
target's protocols.

A suite that cannot run is reported as an error (red banner), never as a pass. Exit
status: 1 when a case that passes in the baseline no longer passes, else 2 when a suite
or a server could not run, else 0.

Time: the run prints a line when each suite starts and ends, and every
``--progress-interval`` seconds what is still running. The Autobahn server-mode runs are
split over ``--autobahn-shards`` wstest processes (default 2; see
conformance/autobahn/README.md), the suites run ``--jobs`` at a time, longest first, and
``compliance.json`` keeps ``provenance.timing``: the wall time of the whole run and of each
suite (the next run's estimates), the CPU seconds of the processes they started and the
load average meanwhile.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from conformance.jobs import Job, LoadSampler, exclusive, execute, previous_durations
from conformance.report.baseline import (
    gate_line,
    load_baseline,
    updated_baseline,
    write_baseline,
)
from conformance.report.build import build_report, write_report
from conformance.report.markdown import cases_verdict, tool_ran
from conformance.report.model import MATRIX_SUITE
from conformance.suites import (
    AUTOBAHN_VARIANTS,
    DEFAULT_VARIANT_CASES,
    DEFAULT_WS_CASES,
    OURS,
    QUICK_AUTOBAHN,
    SUITES,
    Plan,
    make_plan,
    partial_suites,
    unit_runs_matrix,
)
from conformance.targets import REPO_ROOT, TARGETS
from conformance.targets.external import UrlError, external_target, target_file_text
from conformance.targets.files import TargetFileError, load_target_file
from conformance.targets.registry import ENV_FILES, register

#: CLI suite name -> the "suite" field of the raw files it produces.
RAW_SUITE = {name: suite.raw_suite for name, suite in SUITES.items()}
DEFAULT_BASELINE = REPO_ROOT / "conformance" / "baseline.json"
__all__ = ["AUTOBAHN_VARIANTS", "Job", "LoadSampler", "Plan", "QUICK_AUTOBAHN", "clear_stale",
           "main", "make_plan", "parse_args", "run_jobs", "unit_runs_matrix"]


def clear_stale(raw: Path, plan: Plan) -> None:
    """Drop old raw files of the suites/targets about to run, so none can pass for them."""
    suites = {RAW_SUITE[s] for s in plan.suites} - plan.kept_suites
    for path in raw.glob("*.json") if raw.is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            matrix = data.get("suite") == MATRIX_SUITE and (
                plan.matrix_servers is None or data.get("target") in plan.matrix_servers)
            stale = data.get("suite") in suites and (data.get("target") in plan.targets
                                                     or matrix)
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
    parser.add_argument("--target-file", action="append", type=Path, default=[],
                        help="a target file (TOML, conformance/targets/README.md) the run "
                             "launches; repeatable; tested alongside any --target(s)")
    parser.add_argument("--url", action="append", default=[],
                        help="a server already running, e.g. h2c://127.0.0.1:8080/, "
                             "https://…, h2://…, http://…, ws://…/ws, wss://…; repeatable "
                             "(all URLs are one server); see conformance/TESTING-YOUR-SERVER.md")
    parser.add_argument("--name", help="the report's label for the --url server (default "
                                       "HOST-PORT of the first URL)")
    parser.add_argument("--insecure", action="store_true",
                        help="--url over TLS: do not verify the server's certificate")
    parser.add_argument("--ca", type=Path, default=None,
                        help="--url over TLS: a PEM file of the CA that signed the server's "
                             "certificate; the probes and the RFC 8441 matrix clients (ours, "
                             "h2-raw, node) verify against it")
    parser.add_argument("--suite", dest="suites", action="append", choices=list(SUITES),
                        help="repeatable; default: all suites ("
                             + "; ".join(f"{s.name}: {s.summary}" for s in SUITES.values())
                             + ")")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "reports")
    parser.add_argument("--baseline", type=Path, default=DEFAULT_BASELINE)
    parser.add_argument("--update-baseline", action="store_true",
                        help=f"record the current {OURS} statuses as the new baseline")
    parser.add_argument("--report-only", action="store_true",
                        help="do not run anything; rebuild the report from reports/raw")
    parser.add_argument("--quick", action="store_true",
                        help=f"Autobahn cases {QUICK_AUTOBAHN} only (~11 s instead of ~10 min)")
    parser.add_argument("--exhaustive", action="store_true",
                        help="all 517 Autobahn cases in every column (the default runs 421 in "
                             "the ws column, all but the 64–128 KiB permessage-deflate cases, "
                             f"and {DEFAULT_VARIANT_CASES} in the others)")
    parser.add_argument("--autobahn-runner", choices=("docker", "python2.7", "python3-port"),
                        help="force the Autobahn runner (default: the first available)")
    parser.add_argument("--autobahn-ws-cases", default=None,
                        help="case patterns for the ws Autobahn column (default: all but the "
                             "64–128 KiB permessage-deflate cases, 421 of 517; '*' or "
                             "--exhaustive: all 517; --quick: the fast groups)")
    parser.add_argument("--autobahn-variant-cases", default=None,
                        help="case patterns for the wss, h2-bridge and client Autobahn runs "
                             f"(default {DEFAULT_VARIANT_CASES}; '*' or --exhaustive: all 517; "
                             "ws runs its own default subset unless --quick or --exhaustive)")
    parser.add_argument("--autobahn-variants", default=",".join(v for v, _ in AUTOBAHN_VARIANTS),
                        help="comma-separated Autobahn columns besides ws to run for "
                             f"{OURS} ('none' for ws only; default: all)")
    parser.add_argument("--autobahn-shards", type=int, default=2,
                        help="wstest processes per Autobahn server-mode run, each against its "
                             "own server, reports merged case by case (default 2: wstest is "
                             "single-threaded and a case is a ping-pong, so one uses ~1 core)")
    parser.add_argument("--jobs", type=int, default=2, help="suites run side by side")
    parser.add_argument("--progress-interval", type=float, default=60.0,
                        help="seconds between the lines about suites still running")
    parser.add_argument("--unit-workers", type=int, default=2,
                        help="pytest -n for the unit run (default 2, as the README's test command)")
    parser.add_argument("--unit-all-tests", action="store_true",
                        help="the unit run also runs the tests that cite no RFC section (no "
                             "case of the report; the README's test command runs them)")
    parser.add_argument("--unit-timeout", type=float, default=1800)
    parser.add_argument("--unit-paths", nargs="+", default=["tests"])
    parser.add_argument("--reuse-test-results", action="store_true",
                        help="do not run the unit tests (and the RFC 8441 matrix inside them) "
                             "again: use the files a `BB_RFC_REPORT=<out>/raw/unit-blackbull-"
                             "pytest.json python -m pytest` run left in <out>/raw")
    args = parser.parse_args(argv)
    if args.ca and not args.url:
        parser.error("--ca applies to --url servers (a target file says `ca = ...`)")
    added = _register_targets(parser, args)
    if args.targets:
        names = [n for n, t in TARGETS.items() if not t.external] if args.targets == "all" \
            else args.targets.split(",")
    elif args.target or not added:
        names = [args.target or OURS]
    else:
        names = []
    names += [n for n in added if n not in names]
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
    if args.autobahn_ws_cases is None:
        args.autobahn_ws_cases = "" if args.exhaustive else DEFAULT_WS_CASES
    elif args.autobahn_ws_cases == "*":
        args.autobahn_ws_cases = ""
    if args.autobahn_variant_cases is None:
        args.autobahn_variant_cases = "" if args.exhaustive else DEFAULT_VARIANT_CASES
    elif args.autobahn_variant_cases == "*":
        args.autobahn_variant_cases = ""
    if args.autobahn_shards < 1:
        parser.error("--autobahn-shards must be at least 1")
    return args


def _register_targets(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """Load --target-file files and the --url server into the registry; their names.

    Harness subprocesses find them through $CONFORMANCE_TARGET_FILES: the --url server is
    written as a target file under ``<out>/targets/``.
    """
    names: list[str] = []
    files: list[Path] = []
    try:
        for path in args.target_file:
            names.append(register(load_target_file(path)).name)
            files.append(path.resolve())
        if args.url:
            target = register(external_target(args.url, name=args.name,
                                              insecure=args.insecure, ca=args.ca or ""))
            names.append(target.name)
            out = args.out / "targets" / f"{target.name}.toml"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(target_file_text(target), encoding="utf-8")
            files.append(out.resolve())
    except (TargetFileError, UrlError, OSError) as exc:
        parser.error(str(exc))
    if files:
        previous = [p for p in os.environ.get(ENV_FILES, "").split(os.pathsep) if p]
        os.environ[ENV_FILES] = os.pathsep.join([*previous, *map(str, files)])
    return names


def run_jobs(plan: Plan, raw: Path, logs: Path, jobs: int,
             estimates: dict[str, float] | None = None, interval: float = 60.0) -> dict:
    """Run the plan's jobs, printing progress; returns the timing record of the report.

    Longest first (what each took in the last run, else its weight): with two slots the
    long Autobahn column and the unit tests start at once and the short suites fill in.
    """
    clear_stale(raw, plan)
    known = estimates or {}
    plan.jobs.sort(key=lambda j: -known.get(j.name, 200.0 * j.weight))
    return execute(plan.jobs, logs, jobs, estimates, interval=interval)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with exclusive(args.out):
        return _main(args)


def _main(args: argparse.Namespace) -> int:
    raw, logs = args.out / "raw", args.out / "logs"
    plan = make_plan(args, raw)
    if not plan.expected:
        print(f"nothing to run: none of the suites {', '.join(plan.suites)} applies to "
              f"{', '.join(plan.targets)} (conformance/TESTING-YOUR-SERVER.md lists which URL "
              "scheme brings which suite)", flush=True)
        return 2
    estimates = previous_durations(args.out / "compliance.json")
    timing = None if args.report_only else run_jobs(plan, raw, logs, args.jobs, estimates,
                                                    args.progress_interval)
    if timing is not None:
        record_job_failures(plan, raw)
    gated = {RAW_SUITE[s] for s in plan.suites}
    gated = gated if OURS in plan.targets else set()
    main_target = OURS if OURS in plan.targets else plan.targets[0]
    partial = partial_suites(plan.suites, args)
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
    report.provenance["targets"] = target_info(report)
    paths = write_report(report, args.out)
    data = report.to_dict()
    _print_summary(data, paths.html)
    return exit_status(data, plan)


def target_info(report: object) -> dict[str, dict[str, str]]:
    """Implementation, language and version of every target in the report (its rows)."""
    names = {r.target for r in getattr(report, "runs", [])}
    out = {}
    for name in sorted(names):
        target = TARGETS.get(name)
        if target is None:
            continue
        out[name] = {"implementation": target.description, "language": target.language,
                     "version": target.version(), "external": str(target.external).lower(),
                     "source": str(target.source or "")}
    return out


def record_job_failures(plan: Plan, raw: Path) -> None:
    """A job that failed and left an expected result unwritten: an error file that says why
    (its exit status and last log lines) instead of the report's bare "no result"."""
    from conformance.report.model import load_raw_dir
    from conformance.report.schema import error_result

    runs = load_raw_dir(raw)
    for job in plan.jobs:
        why = job.failure()
        if not why:
            continue
        for suite, target in job.expects:
            for exp in plan.expected:
                if (exp.suite, exp.target) != (suite, target) or any(exp.met_by(r) for r in runs):
                    continue
                result = error_result(suite, exp.variant or "-", target or OURS,
                                      {"name": suite}, why[:2000])
                runs.append(result)
                result.write(raw)


def exit_status(data: dict, plan: Plan | None = None) -> int:
    """1: a regression; 2: a suite or server of this run could not run (red banner); else 0.

    Banners of results an earlier run left in reports/raw for other targets are shown but
    do not decide this run's status.
    """
    if not data["gate"].get("ok", True):
        return 1
    banners = data["banners"]
    if plan is not None:
        ours = {(e.suite, e.target) for e in plan.expected}
        banners = [b for b in banners if _banner_is_ours(b["key"], ours)]
    return 2 if banners else 0


def _banner_is_ours(key: str, expected: set[tuple[str, str]]) -> bool:
    suite, _, target = key.partition("@")
    suite = suite.split("/", 1)[0]
    return (suite, target) in expected or (suite, "") in expected


def _short_cell(cell: dict | None) -> str:
    if cell is None:
        return "-"
    if cell["status"] == "error":
        return "COULD NOT RUN"
    if cell["status"] == "not-supported":
        return "n/a"
    return f"{cell['pass']}/{cell['total']}"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _print_summary(data: dict, html: Path) -> None:
    print(f"  {'suite':<15} {'variant':<11} {'tool':<16} {'cases':<26} pass/total")
    for h in data["headline"]:
        print(f"  {h['suite']:<15} {h['variant']:<11} {tool_ran(h['status'])[2:]:<16} "
              f"{cases_verdict(h)[2:] if h['status'] == 'ok' else '-':<26} "
              f"{h['pass']}/{h['total']}  {_one_line(h['message'])[:80]}")
    comp = data["comparison"]
    if len(comp["targets"]) > 1:
        width = max(12, *(len(t) for t in comp["targets"]))
        print(f"  {'comparison':<27} " + " ".join(f"{t:>{width}}" for t in comp["targets"]))
        for row in comp["rows"]:
            cells = [_short_cell(row["cells"].get(t)) for t in comp["targets"]]
            print(f"  {row['suite']:<15} {row['variant']:<11} "
                  + " ".join(f"{c:>{width}}" for c in cells))
    for banner in data["banners"]:
        print(f"  COULD NOT RUN {banner['key']}: {_one_line(banner['message'])[:200]}")
    print(f"  {gate_line(data['gate'])}")
    print(f"  report: {html} (+ .json, .md)")
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        md = html.with_suffix(".md").read_text(encoding="utf-8")
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as fh:
            fh.write(md[:60000])
