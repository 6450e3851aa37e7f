"""The benchmark rows of ``python -m bench`` (``reports/raw/bench.json``) as tables and as
inline SVG bar charts, for ``compliance.html`` and for Markdown (bench/RESULTS.md).

A chart is a handful of ``<rect>`` and ``<text>`` elements written here (no plotting
dependency): one bar per server, BlackBull in green, peers in grey, informational C
references (nginx) in amber; a server that produced no number gets an empty bar and its
error, never a value. Each bar's length is its median relative to the row's largest
median, whichever the row's direction; the caption says whether higher or lower is
better.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

OURS = "blackbull"
_COLOURS = {"ours": "#1a7f37", "peer": "#8c959f", "informational": "#bf8700"}


@dataclass(frozen=True, slots=True)
class Bar:
    """One server's median in one row."""

    label: str
    value: float | None
    ours: bool = False
    informational: bool = False
    note: str = ""  # shown instead of a value when there is none


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def fmt(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def bar_chart_svg(title: str, unit: str, higher_is_better: bool, bars: Sequence[Bar],
                  width: int = 720) -> str:
    """A horizontal bar chart as a standalone ``<svg>`` element (well-formed XML)."""
    label_w, value_w, row_h, top = 190, 150, 22, 34
    plot_w = width - label_w - value_w
    height = top + row_h * len(bars) + 22
    peak = max((b.value for b in bars if b.value is not None and b.value > 0), default=0.0)
    better = "higher" if higher_is_better else "lower"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}" '
             'font-family="system-ui,sans-serif" font-size="12">',
             f"<title>{_e(title)} ({_e(unit)}, {better} is better)</title>",
             f'<text x="0" y="16" font-weight="600">{_e(title)}</text>',
             f'<text x="{width}" y="16" text-anchor="end" fill="#59636e">{_e(unit)}, '
             f"{better} is better</text>"]
    for i, bar in enumerate(bars):
        y = top + i * row_h
        kind = "ours" if bar.ours else "informational" if bar.informational else "peer"
        length = (plot_w * bar.value / peak) if bar.value is not None and peak else 0.0
        text = (f"{fmt(bar.value)}" if bar.value is not None
                else f"no number{': ' + bar.note[:60] if bar.note else ''}")
        weight = ' font-weight="600"' if bar.ours else ""
        fill = "" if bar.value is not None else ' fill="#cf222e"'
        parts += [
            f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end"{weight}>'
            f"{_e(bar.label)}</text>",
            f'<rect class="bar" data-server="{_e(bar.label)}" x="{label_w}" y="{y + 3}" '
            f'width="{length:.1f}" height="{row_h - 6}" fill="{_COLOURS[kind]}"/>',
            f'<text x="{label_w + length + 4:.1f}" y="{y + 14}"{fill}>{_e(text)}</text>',
        ]
    parts.append(f'<text x="{label_w}" y="{height - 4}" fill="#59636e">green: BlackBull · '
                 "grey: peers · amber: informational reference (not a goal's peer)</text>")
    parts.append("</svg>")
    return "".join(parts)


def bench_results(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every ``results`` row of the report's bench runs (the bench.json envelopes)."""
    return [row for run in data.get("runs", []) if run.get("suite") == "bench"
            for row in run.get("results", []) or []]


def group_rows(results: Iterable[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(benchmark id, its rows) in first-seen order; BlackBull first within each."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in results:
        groups.setdefault(str(row["benchmark"]), []).append(row)
    return [(bench, sorted(rows, key=lambda r: r["server"] != OURS))
            for bench, rows in groups.items()]


def bars_of(rows: Sequence[dict[str, Any]]) -> list[Bar]:
    return [Bar(str(r["server"]), r.get("median"), r["server"] == OURS,
                bool(r.get("informational")), "; ".join(r.get("messages") or []))
            for r in rows]


def chart_for(rows: Sequence[dict[str, Any]]) -> str:
    first = rows[0]
    return bar_chart_svg(f'{first["benchmark"]}: {first.get("title", "")}',
                         str(first.get("unit", "")), bool(first.get("higher_is_better", True)),
                         bars_of(rows))


def ratio_to_ours(rows: Sequence[dict[str, Any]], row: dict[str, Any]) -> float | None:
    """BlackBull's median over this server's (the inverse when lower is better)."""
    ours = next((r.get("median") for r in rows if r["server"] == OURS), None)
    theirs = row.get("median")
    if not ours or not theirs or row["server"] == OURS:
        return None
    return float(ours / theirs if row.get("higher_is_better", True) else theirs / ours)


def _table_html(rows: Sequence[dict[str, Any]]) -> str:
    body = []
    for r in rows:
        runs = [v for v in r.get("runs") or [] if v is not None]
        spread = f"{fmt(min(runs))}–{fmt(max(runs))}" if runs else "—"
        ratio = ratio_to_ours(rows, r)
        who = _e(r["server"]) + (" <small>(informational)</small>"
                                 if r.get("informational") else "")
        body.append(
            f'<tr><td title="{_e(r.get("label", ""))} {_e(r.get("version", ""))}">{who}</td>'
            f'<td>{fmt(r.get("median"))}</td><td>{spread}</td>'
            f'<td>{len(runs)}/{len(r.get("runs") or [])}</td><td>{_e(r.get("errors", 0))}</td>'
            f'<td>{f"{ratio:.2f}×" if ratio else "—"}</td>'
            f'<td class="msg">{_e("; ".join(r.get("messages") or [])[:300])}</td></tr>')
    return ("<table><tr><th>server</th><th>median</th><th>min–max</th><th>runs</th>"
            "<th>errors</th><th>BlackBull ×</th><th>notes</th></tr>" + "".join(body)
            + "</table>")


def bench_html(data: dict[str, Any]) -> str:
    """The report's benchmark section: per row, its method, table and chart."""
    groups = group_rows(bench_results(data))
    if not groups:
        return "<p class='muted'>No benchmark results (python -m bench writes reports/raw/bench.json).</p>"
    parts = ['<p class="muted">BlackBull × is BlackBull\'s median over the server\'s '
             "(inverted where lower is better): above 1 means BlackBull is ahead. Numbers "
             "depend on the machine: compare ratios within one run.</p>"]
    for bench, rows in groups:
        first = rows[0]
        method = f'<p class="muted">{_e(first["method"])}</p>' if first.get("method") else ""
        parts.append(f'<h3 id="bench-{_e(bench)}">{_e(bench)}: {_e(first.get("title", ""))} '
                     f'<span class="muted">({_e(first.get("unit", ""))})</span></h3>{method}'
                     f'<div class="chart">{chart_for(rows)}</div>{_table_html(rows)}')
    return "".join(parts)


def goals_markdown(cases: Iterable[dict[str, Any]]) -> list[str]:
    """Markdown lines: one table row per goal case (pass/fail/error/informational)."""
    lines = ["| goal | status | ratio |", "|---|---|---|"]
    mark = {"pass": "✅ pass", "fail": "❌ fail", "error": "⚠️ error"}
    for case in cases:
        status = str(case.get("status", ""))
        message = str(case.get("message", "")).replace("|", "\\|")
        lines.append(f'| {case.get("description", case.get("id", ""))} '
                     f'| {mark.get(status, status)} | {message} |')
    return lines if len(lines) > 2 else []


def bench_markdown(results: Iterable[dict[str, Any]], chart_dir: str = "") -> list[str]:
    """Markdown lines: per row, a table and (with *chart_dir*) its chart as an image."""
    lines: list[str] = []
    for bench, rows in group_rows(results):
        first = rows[0]
        better = "higher" if first.get("higher_is_better", True) else "lower"
        lines += ["", f'### {bench}: {first.get("title", "")} ({first.get("unit", "")}, '
                      f"{better} is better)", ""]
        if first.get("method"):
            lines += [f'_{first["method"]}_', ""]
        if chart_dir:
            lines += [f"![{bench}]({chart_dir.rstrip('/')}/{bench}.svg)", ""]
        lines += ["| server | median | min–max | errors | BlackBull × | notes |",
                  "|---|---|---|---|---|---|"]
        for r in rows:
            runs = [v for v in r.get("runs") or [] if v is not None]
            spread = f"{fmt(min(runs))}–{fmt(max(runs))}" if runs else "—"
            ratio = ratio_to_ours(rows, r)
            note = "; ".join(r.get("messages") or [])[:120].replace("|", "\\|")
            who = r["server"] + (" (informational)" if r.get("informational") else "")
            lines.append(f'| {who} | {fmt(r.get("median"))} | {spread} | {r.get("errors", 0)} '
                         f'| {f"{ratio:.2f}×" if ratio else "—"} | {note} |')
    return lines
