"""``python -m bench``: run the benchmark matrix and report medians and ratios.

For each benchmark, rounds are interleaved across servers (A B C, A B C, …), each run
on a freshly started server pinned to core 0 with the load generator on core 1, after a
warm-up. The table goes to stdout; ``reports/raw/bench.json`` gets every number.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import __version__
from .envs import REPO_ROOT, ensure_all
from .loads import Sample, run_h2load, run_wrk, run_ws
from .memory import idle_http1, idle_websockets
from .process import ServerFailed, cpu_pins, cpu_seconds, free_port, start_server
from .report import BENCHES, Cell, format_table, goal_cases, result_rows, summarize, write_json
from .servers import (
    DEFAULT_SERVERS,
    H2C,
    H2TLS,
    HTTP1,
    MEM_H1,
    MEM_WS,
    SERVERS,
    WS,
    WS1M,
    WS64K,
    WSDEFLATE,
    Launch,
    ServerSpec,
)
from .tls import CertFiles, ensure_certs

log = logging.getLogger("bench")

GROUPS = {"ws": [WS, WS64K, WS1M, WSDEFLATE], "mem": [MEM_H1, MEM_WS]}
#: WebSocket load shape per benchmark: (connections, message bytes, deflate).
WS_SHAPES = {WS: (32, 64, False), WS64K: (32, 65536, False), WS1M: (8, 1 << 20, False),
             WSDEFLATE: (32, 1024, True)}


@dataclass(frozen=True, slots=True)
class RunConfig:
    duration: float
    warmup: float
    rounds: int
    mem_conns: int
    certs: CertFiles | None
    h2_requests: int = 0  # > 0: h2load -n N instead of a time-boxed run


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true",
                   help="2 s runs, 1 round, 0.5 s warm-up, 200 idle connections")
    p.add_argument("--only", default="http1,h2c,h2tls,ws,mem",
                   help="benchmarks or groups: " + ",".join([*BENCHES, *GROUPS]))
    p.add_argument("--servers", default=",".join(DEFAULT_SERVERS),
                   help="servers: " + ",".join(SERVERS))
    p.add_argument("--duration", type=float, help="seconds per run (default 10, quick 2)")
    p.add_argument("--warmup", type=float, help="seconds of warm-up (default 2, quick 0.5)")
    p.add_argument("--rounds", type=int, help="interleaved rounds (default 3, quick 1)")
    p.add_argument("--mem-conns", type=int, help="idle connections (default 1000, quick 200)")
    p.add_argument("--h2-requests", type=int, default=0,
                   help="h2load -n N (e.g. 200000) instead of --duration for h2c/h2tls")
    p.add_argument("--output", type=Path, default=REPO_ROOT / "reports" / "raw" / "bench.json")
    p.add_argument("--no-install", action="store_true",
                   help="do not build missing venvs (their servers become errors)")
    return p.parse_args(argv)


def _expand(only: str) -> list[str]:
    benches: list[str] = []
    for name in (n.strip() for n in only.split(",") if n.strip()):
        if name not in BENCHES and name not in GROUPS:
            raise SystemExit(f"unknown benchmark {name!r}; choose from "
                             + ", ".join([*BENCHES, *GROUPS]))
        benches += [b for b in GROUPS.get(name, [name]) if b not in benches]
    return benches


def run_once(spec: ServerSpec, bench: str, cfg: RunConfig) -> Sample:
    """Start *spec* fresh, warm it up, measure *bench* once, stop it."""
    server_pin, load_pin = cpu_pins()
    certs = cfg.certs if bench == H2TLS else None
    launch = Launch(port=free_port(), certfile=certs.certfile if certs else None,
                    keyfile=certs.keyfile if certs else None, h2_only=bench == H2C)
    try:
        server = start_server(spec, launch, server_pin)
    except ServerFailed as exc:
        return Sample(None, 1, str(exc)[:400])
    try:
        sample = _measure(bench, server.pid, launch.port, cfg, load_pin)
        if not server.alive():
            sample.errors += 1
            sample.message = (f"server died (exit {server.proc.returncode}); "
                              + sample.message + " " + server.log_tail(300))
        elif sample.value is None and not sample.message:
            sample.message = server.log_tail(300)
        return sample
    finally:
        server.stop()


def _measure(bench: str, pid: int, port: int, cfg: RunConfig, pin: list[str]) -> Sample:
    """Warm up, then measure, reading the server's CPU time around the measured window."""
    def cpu() -> float:
        return cpu_seconds(pid)

    if bench == HTTP1:
        if cfg.warmup:
            run_wrk(port, cfg.warmup, pin)
        return run_wrk(port, cfg.duration, pin, cpu=cpu)
    if bench in (H2C, H2TLS):
        tls = bench == H2TLS
        if cfg.warmup:  # a separate run, so the measured one counts only measured requests
            run_h2load(port, tls, cfg.warmup, 0, pin)
        return run_h2load(port, tls, cfg.duration, 0, pin, requests=cfg.h2_requests, cpu=cpu)
    if bench in WS_SHAPES:
        conns, size, deflate = WS_SHAPES[bench]
        return run_ws(port, cfg.duration, cfg.warmup, pin, conns=conns, size=size,
                      deflate=deflate, cpu=cpu)
    if bench == MEM_H1:
        return asyncio.run(idle_http1(pid, port, cfg.mem_conns))
    if bench == MEM_WS:
        return asyncio.run(idle_websockets(pid, port, cfg.mem_conns))
    raise ValueError(bench)


def run_matrix(benches: list[str], servers: list[str], cfg: RunConfig,
               broken: dict[str, str]) -> dict[tuple[str, str], Cell]:
    """Interleave servers within each round: A B C, A B C, …"""
    cells: dict[tuple[str, str], Cell] = {}
    for bench in benches:
        runnable = [s for s in servers if bench in SERVERS[s].supports]
        for rnd in range(cfg.rounds):
            for name in runnable:
                cell = cells.setdefault((bench, name), Cell(bench, name))
                if name in broken:
                    cell.samples.append(Sample(None, 1, broken[name]))
                    continue
                sample = run_once(SERVERS[name], bench, cfg)
                cell.samples.append(sample)
                value = "—" if sample.value is None else f"{sample.value:,.1f}"
                print(f"[{bench} round {rnd + 1}/{cfg.rounds}] {name:<13} {value:>12} "
                      f"{BENCHES[bench].unit}  errors={sample.errors} {sample.message[:120]}",
                      file=sys.stderr, flush=True)
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
    cases = goal_cases(cells)
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
                     "h2load_requests": cfg.h2_requests,
                     "server_pin": " ".join(server_pin) or "none",
                     "loadavg_end": _loadavg(),
                     "load_pin": " ".join(load_pin) or "none"},
        "results": result_rows(cells, versions, labels),
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
        certs=ensure_certs() if H2TLS in benches else None, h2_requests=args.h2_requests)
    venvs = sorted({e for s in servers if (e := SERVERS[s].env_name)})
    broken: dict[str, str] = {}
    if not args.no_install:
        failed = ensure_all(venvs)
        broken = {s: failed[e] for s in servers if (e := SERVERS[s].env_name) in failed}
    started, t0 = datetime.now(UTC), time.monotonic()
    cells = run_matrix(benches, servers, cfg, broken)
    envelope = _envelope(args, cfg, cells, servers, started, time.monotonic() - t0)
    write_json(args.output, envelope)
    print(format_table(cells, benches, servers))
    print("\n== goals (issue 7), on the median ratio ==")
    for case in envelope["cases"]:
        print(f"{case['status']:<14}{case['description']}: {case['message']}")
    print(f"\nsummary: {envelope['summary']}  → {args.output}")
    return 0 if envelope["status"] == "ok" else 1
