"""Aggregate runs into medians and ratios, print the table, write ``bench.json``.

The JSON file uses the common envelope of ``conformance/RESULTS.md`` (schema 1, suite
``bench``). The numbers are in ``results`` (one entry per benchmark × server); the issue's
goals (e.g. "HTTP/1.1 ≥ 2× blackbull 0.81") become ``cases``: ``pass``/``fail`` on the
measured median ratio, ``error`` when either side produced no number or counted
failures, ``informational`` for memory, where the issue sets no threshold.
"""
from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalog import BENCHES, BenchInfo, Goal
from .loads import Sample

__all__ = ["BENCHES", "BenchInfo", "Cell", "Goal", "cpu_ratio", "format_table", "goal_cases",
           "ratio", "result_rows", "summarize", "write_json"]


@dataclass
class Cell:
    """All runs of one benchmark against one server."""

    bench: str
    server: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def values(self) -> list[float]:
        return [s.value for s in self.samples if s.value is not None]

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    @property
    def per_cpu(self) -> float | None:
        """Median work per server CPU second (requests or messages), where measured."""
        values = [s.extra["per_cpu_s"] for s in self.samples
                  if s.extra and "per_cpu_s" in s.extra and s.value is not None]
        return statistics.median(values) if values else None

    def cpu_share(self, key: str) -> float | None:
        """Median share of one core used over the window by the server
        (``server_cpu_s``) or by the load generator (``load_cpu_s``)."""
        values = [s.extra[key] / s.extra["window_s"] for s in self.samples
                  if s.value is not None and s.extra and key in s.extra
                  and s.extra.get("window_s")]
        return statistics.median(values) if values else None

    @property
    def errors(self) -> int:
        return sum(s.errors for s in self.samples)

    def messages(self) -> list[str]:
        return sorted({s.message for s in self.samples if s.message})


def ratio(ours: Cell | None, peer: Cell | None) -> float | None:
    """BlackBull's median over the peer's (for memory: the peer's over ours, so that
    > 1 always means BlackBull is better)."""
    if ours is None or peer is None or not ours.median or not peer.median:
        return None
    if BENCHES[ours.bench].higher_is_better:
        return ours.median / peer.median
    return peer.median / ours.median


def cpu_ratio(ours: Cell | None, peer: Cell | None) -> float | None:
    """BlackBull's work per CPU second over the peer's (robust to a busy machine)."""
    if ours is None or peer is None or not ours.per_cpu or not peer.per_cpu:
        return None
    return ours.per_cpu / peer.per_cpu


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _row(cell: Cell, ours: Cell | None) -> str:
    spread = f"{_fmt(min(cell.values))}–{_fmt(max(cell.values))}" if cell.values else "—"
    r, cr = ratio(ours, cell), cpu_ratio(ours, cell)
    note = "; ".join(cell.messages())[:90]
    return (f"{cell.server:<19}{_fmt(cell.median):>10}{spread:>20}"
            f"{len(cell.values):>3}/{len(cell.samples):<2}{cell.errors:>7}"
            f"{(f'{r:.2f}×' if r else '—'):>12}{_fmt(cell.per_cpu):>11}"
            f"{(f'{cr:.2f}×' if cr else '—'):>10}{_pct(cell.cpu_share('server_cpu_s')):>8}"
            f"{_pct(cell.cpu_share('load_cpu_s')):>8}  {note}")


def format_table(cells: dict[tuple[str, str], Cell], benches: list[str],
                 servers: list[str], ours: str = "blackbull") -> str:
    """Plain-text tables, one per benchmark: median, min–max, errors, BlackBull ×, work
    per server CPU-second and its ratio, and how much of a core the server and the load
    generator used (neither near 100 % means the machine itself was the limit)."""
    lines: list[str] = []
    for bench in benches:
        info = BENCHES[bench]
        rows = [cells[(bench, s)] for s in servers if (bench, s) in cells]
        if not rows:
            continue
        better = "higher" if info.higher_is_better else "lower"
        lines += ["", f"== {bench}: {info.title} ({info.unit}, {better} is better) ==",
                  f"{'server':<19}{'median':>10}{'min–max':>20}{'runs':>6}{'errors':>7}"
                  f"{'BlackBull ×':>12}{'per CPU-s':>11}{'× per CPU':>10}"
                  f"{'srv CPU':>8}{'gen CPU':>8}  notes"]
        our_cell = cells.get((bench, ours))
        for cell in rows:
            lines.append(_row(cell, our_cell if cell.server != ours else None))
    return "\n".join(lines)


def goal_cases(cells: dict[tuple[str, str], Cell], ours: str = "blackbull",
               informational: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """The issue's goals as schema-1 cases (pass/fail/error/informational); a server in
    *informational* (a C reference such as nginx) is never a goal's peer."""
    cases: list[dict[str, Any]] = []
    for bench, info in BENCHES.items():
        our_cell = cells.get((bench, ours))
        for goal in info.goals:
            if goal.peer in informational:
                continue
            peer = cells.get((bench, goal.peer))
            if our_cell is None or peer is None:
                continue
            r = ratio(our_cell, peer)
            case = {"id": f"{bench}/vs-{goal.peer}", "rfc": "", "section": "",
                    "description": f"{info.title}: BlackBull vs {goal.peer}"
                                   + (f" ≥ {goal.ratio}×" if goal.ratio else ""),
                    "status": "informational", "message": ""}
            if r is None:
                case.update(status="error", message="no number for "
                            + (ours if not our_cell.median else goal.peer))
            elif goal.ratio == 0.0:
                case["message"] = (f"{r:.2f}× (peer/ours; > 1 means BlackBull is lower)"
                                   if not info.higher_is_better
                                   else f"{r:.2f}× (> 1 means BlackBull is ahead)")
            elif goal.zero_failures and our_cell.errors:
                case.update(status="fail", message=f"{r:.2f}×, but {our_cell.errors} failed")
            else:
                cr = cpu_ratio(our_cell, peer)
                per_cpu = f" (per server CPU-second: {cr:.2f}×)" if cr else ""
                case.update(status="pass" if r >= goal.ratio else "fail",
                            message=f"{r:.2f}×{per_cpu}")
            cases.append(case)
    return cases


def result_rows(cells: dict[tuple[str, str], Cell], versions: dict[str, str],
                labels: dict[str, str], informational: set[str] | frozenset[str] = frozenset()
                ) -> list[dict[str, Any]]:
    rows = []
    for (bench, server), cell in cells.items():
        info = BENCHES[bench]
        rows.append({
            "benchmark": bench, "title": info.title, "unit": info.unit,
            "higher_is_better": info.higher_is_better, "method": info.method,
            "server": server, "label": labels.get(server, server),
            "informational": server in informational,
            "version": versions.get(server, "?"), "median": cell.median,
            "min": min(cell.values) if cell.values else None,
            "max": max(cell.values) if cell.values else None,
            "runs": [s.value for s in cell.samples], "errors": cell.errors,
            "per_cpu_s_median": cell.per_cpu,
            "server_cpu_share": cell.cpu_share("server_cpu_s"),
            "load_cpu_share": cell.cpu_share("load_cpu_s"),
            "messages": cell.messages(),
            "extra": [s.extra for s in cell.samples if s.extra],
        })
    return rows


def write_json(path: Path, envelope: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(envelope, indent=2, ensure_ascii=False) + "\n")


def summarize(cases: list[dict[str, Any]]) -> dict[str, int]:
    keys = ("pass", "fail", "error", "not-supported", "informational", "skipped")
    summary = {k: sum(1 for c in cases if c["status"] == k) for k in keys}
    summary["total"] = len(cases)
    return summary
