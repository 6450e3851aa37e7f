"""``python -m bench``: run the benchmark matrix and report medians and ratios.

For each benchmark, rounds are interleaved across servers (A B C, A B C, …), each run
on a freshly started server pinned to core 0 with the load generator on core 1, after a
warm-up. The table goes to stdout; ``reports/raw/bench.json`` gets every number.
"""
from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import __version__
from .bodies import ensure_bodies
from .catalog import BENCHES, BIG_BODIES, GROUPS, MEASURES, SCALE, TLS_MEASURES, rows_of
from .charts import write_charts
from .envs import REPO_ROOT, ensure_all
from .loads import Sample
from .measure import RunConfig, run_once, split
from .process import cpu_pins
from .report import Cell, format_table, goal_cases, result_rows, summarize, write_json
from .scale import raise_nofile
from .servers import DEFAULT_SERVERS, SERVERS
from .tls import ensure_certs

log = logging.getLogger("bench")

__all__ = ["RunConfig", "main", "run_matrix", "run_once"]

_DEFAULT_ONLY = "http1,h2c,h2tls,ws,mem"


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true",
                   help="2 s runs, 1 round, 0.5 s warm-up, 200 idle connections, "
                        "1000 for the scale row")
    p.add_argument("--only", default=_DEFAULT_ONLY,
                   help=f"benchmarks or groups (default {_DEFAULT_ONLY}; 'all' is every "
                        "one): " + ",".join([*MEASURES, *GROUPS]))
    p.add_argument("--servers", default=",".join(DEFAULT_SERVERS),
                   help="servers: " + ",".join(SERVERS))
    p.add_argument("--duration", type=float, help="seconds per run (default 10, quick 2)")
    p.add_argument("--warmup", type=float, help="seconds of warm-up (default 2, quick 0.5)")
    p.add_argument("--rounds", type=int, help="interleaved rounds (default 3, quick 1)")
    p.add_argument("--mem-conns", type=int, help="idle connections (default 1000, quick 200)")
    p.add_argument("--scale-conns", type=int,
                   help="connections of the scale row, 1 %% active (default 10000, quick 1000)")
    p.add_argument("--h2-requests", type=int, default=0,
                   help="h2load -n N (e.g. 200000) instead of --duration for h2c/h2tls")
    p.add_argument("--output", type=Path, default=REPO_ROOT / "reports" / "raw" / "bench.json")
    p.add_argument("--charts", type=Path, default=None,
                   help="directory for one SVG bar chart per row (default: bench-charts/ "
                        "beside --output)")
    p.add_argument("--no-install", action="store_true",
                   help="do not build missing venvs (their servers become errors)")
    return p.parse_args(argv)


def _expand(only: str) -> list[str]:
    benches: list[str] = []
    for name in (n.strip() for n in only.split(",") if n.strip()):
        if name not in MEASURES and name not in GROUPS:
            raise SystemExit(f"unknown benchmark {name!r}; choose from "
                             + ", ".join([*MEASURES, *GROUPS]))
        benches += [b for b in GROUPS.get(name, [name]) if b not in benches]
    return benches


def rows_for(benches: list[str]) -> list[str]:
    """The table rows the measurements *benches* fill, in order."""
    return [row for bench in benches for row, _ in rows_of(bench)]


def run_matrix(benches: list[str], servers: list[str], cfg: RunConfig,
               broken: dict[str, str]) -> dict[tuple[str, str], Cell]:
    """Interleave servers within each round: A B C, A B C, …"""
    cells: dict[tuple[str, str], Cell] = {}
    for bench in benches:
        runnable = [s for s in servers if bench in SERVERS[s].supports]
        for rnd in range(cfg.rounds):
            for name in runnable:
                if name in broken:
                    for row, _ in rows_of(bench):
                        cells.setdefault((row, name), Cell(row, name)).samples.append(
                            Sample(None, 1, broken[name]))
                    continue
                for row, sample in split(bench, run_once(SERVERS[name], bench, cfg),
                                         rows_of(bench)):
                    cells.setdefault((row, name), Cell(row, name)).samples.append(sample)
                    value = "—" if sample.value is None else f"{sample.value:,.1f}"
                    print(f"[{row} round {rnd + 1}/{cfg.rounds}] {name:<13} {value:>12} "
                          f"{BENCHES[row].unit}  errors={sample.errors} "
                          f"{sample.message[:120]}", file=sys.stderr, flush=True)
    return cells


def _tool_version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "not installed"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) \
        else "?"


def _loadavg() -> str:
    """The 1/5/15-minute load averages: how busy the shared machine was."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def _envelope(args: argparse.Namespace, cfg: RunConfig, cells: dict[tuple[str, str], Cell],
              servers: list[str], started: datetime, elapsed: float) -> dict[str, Any]:
    versions = {s: SERVERS[s].version() for s in servers}
    labels = {s: SERVERS[s].label for s in servers}
    informational = frozenset(s for s in servers if SERVERS[s].informational)
    cases = goal_cases(cells, informational=informational)
    ran = any(c.values for c in cells.values())
    server_pin, load_pin = cpu_pins()
    return {
        "schema": 1, "suite": "bench", "variant": "quick" if args.quick else "full",
        "target": "blackbull",
        "tool": {"name": "bench", "version": __version__, "runner": "binary",
                 "wrk": _tool_version(["wrk", "-v"]),
                 "h2load": _tool_version(["h2load", "--version"])},
        "started": started.strftime("%Y-%m-%dT%H:%M:%SZ"), "duration_s": round(elapsed, 1),
        "status": "ok" if ran else "error",
        "message": "" if ran else "no benchmark produced a number",
        "settings": {"duration_s": cfg.duration, "warmup_s": cfg.warmup,
                     "rounds": cfg.rounds, "idle_connections": cfg.mem_conns,
                     "scale_connections": cfg.scale_conns,
                     "h2load_requests": cfg.h2_requests,
                     "server_pin": " ".join(server_pin) or "none",
                     "loadavg_end": _loadavg(),
                     "load_pin": " ".join(load_pin) or "none"},
        "results": result_rows(cells, versions, labels, informational),
        "cases": cases, "summary": summarize(cases),
    }


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    args = _parse_args(argv)
    benches = _expand(args.only)
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    if unknown := [s for s in servers if s not in SERVERS]:
        raise SystemExit(f"unknown server(s) {unknown}; choose from {', '.join(SERVERS)}")
    q = args.quick
    cfg = RunConfig(
        duration=args.duration or (2.0 if q else 10.0),
        warmup=args.warmup if args.warmup is not None else (0.5 if q else 2.0),
        rounds=args.rounds or (1 if q else 3),
        mem_conns=args.mem_conns or (200 if q else 1000),
        certs=ensure_certs() if TLS_MEASURES & set(benches) else None,
        h2_requests=args.h2_requests,
        scale_conns=args.scale_conns or (1000 if q else 10_000))
    if set(BIG_BODIES) & set(benches):
        ensure_bodies()  # nginx serves them as files; h2load uploads one
    if SCALE in benches and (reason := raise_nofile(cfg.scale_conns + 200)):
        log.error("%s: the scale row will be an error", reason)
    venvs = sorted({e for s in servers if (e := SERVERS[s].env_name)})
    broken = {s: reason for s in servers if (reason := SERVERS[s].unavailable())}
    if not args.no_install:
        failed = ensure_all(venvs)
        broken |= {s: failed[e] for s in servers if (e := SERVERS[s].env_name) in failed}
    started, t0 = datetime.now(UTC), time.monotonic()
    cells = run_matrix(benches, servers, cfg, broken)
    envelope = _envelope(args, cfg, cells, servers, started, time.monotonic() - t0)
    write_json(args.output, envelope)
    charts = write_charts(envelope, args.charts or args.output.parent / "bench-charts")
    print(format_table(cells, rows_for(benches), servers))
    print("\n== goals (issues 7 and 18), on the median ratio ==")
    for case in envelope["cases"]:
        print(f"{case['status']:<14}{case['description']}: {case['message']}")
    print(f"\nsummary: {envelope['summary']}  → {args.output}; {len(charts)} charts in "
          f"{args.charts or args.output.parent / 'bench-charts'}")
    return 0 if envelope["status"] == "ok" else 1
