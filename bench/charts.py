"""One SVG bar chart per benchmark row, and the Markdown that embeds them.

``python -m bench`` writes them after each run (``reports/raw/bench-charts/`` by
default); ``python -m bench.charts reports/raw/bench.json --out bench/charts`` redraws
them from a saved envelope, e.g. for bench/RESULTS.md, which embeds them with the
Markdown printed (or written to ``--markdown FILE``). The drawing is
``conformance.report.bench_view``, the same the HTML report inlines.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from conformance.report.bench_view import bench_markdown, chart_for, goals_markdown, group_rows


def write_charts(envelope: dict[str, Any], directory: Path) -> list[Path]:
    """``<row>.svg`` for every row of *envelope*'s results; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for bench, rows in group_rows(envelope.get("results") or []):
        path = directory / f"{bench}.svg"
        path.write_text(chart_for(rows) + "\n", encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.charts", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("envelope", type=Path, nargs="+",
                   help="bench.json files written by python -m bench (several: one page)")
    p.add_argument("--out", type=Path, required=True, help="directory for the SVG files")
    p.add_argument("--markdown", type=Path, help="write the Markdown here instead of stdout")
    a = p.parse_args(argv)
    envelope: dict[str, Any] = {"results": [], "cases": []}
    for path in a.envelope:
        one = json.loads(path.read_text(encoding="utf-8"))
        envelope["results"] += one.get("results") or []
        envelope["cases"] += one.get("cases") or []
    write_charts(envelope, a.out)
    where = a.markdown.parent if a.markdown else Path.cwd()
    lines = goals_markdown(envelope.get("cases") or [])
    lines += bench_markdown(envelope.get("results") or [], os.path.relpath(a.out, where))
    text = "\n".join(lines) + "\n"
    if a.markdown:
        a.markdown.write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
