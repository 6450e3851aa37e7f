"""compliance.html's benchmark section: every row of a ``bench.json`` in reports/raw
becomes a table and an inline SVG bar chart (one bar per server), built by the same
report pipeline as the conformance results."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bench.loads import Sample
from bench.report import Cell, result_rows
from conformance.report.build import build_report, write_report
from tests.conformance.test_report_html_browser import _dump_dom, chromium

__all__ = ["chromium"]  # the fixture, shared with the page's own browser test

REPO = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"


def _bench_envelope() -> dict:
    cells = {}
    for row, values in (("h2-64m", {"blackbull": 310.0, "granian": 290.0, "nginx": 1800.0}),
                        ("lat-h1-p99", {"blackbull": 1.5, "uvicorn": None, "bare": 0.4})):
        for server, value in values.items():
            cells[(row, server)] = Cell(row, server, [Sample(value, 0 if value else 1,
                                                             "" if value else "exited 1")])
    return {"schema": 1, "suite": "bench", "variant": "quick", "target": "blackbull",
            "tool": {"name": "bench", "version": "0.1.0", "runner": "binary"},
            "started": "2026-12-02T03:00:00Z", "duration_s": 1.0, "status": "ok",
            "message": "", "cases": [], "summary": {},
            "results": result_rows(cells, {}, {}, frozenset({"nginx"}))}


def test_each_bench_row_is_a_table_and_a_well_formed_chart(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "bench.json").write_text(json.dumps(_bench_envelope()))
    paths = write_report(build_report(raw, REPO, "blackbull"), tmp_path)
    html = paths.html.read_text()
    section = html[html.index('<h2 id="bench">'):html.index('<h2 id="cases">')]
    charts = re.findall(r"<svg .*?</svg>", section, re.S)
    assert len(charts) == 2
    servers = []
    for chart in charts:
        root = ET.fromstring(chart)
        servers.append([r.get("data-server") for r in root.iter(f"{SVG}rect")])
    assert servers == [["blackbull", "granian", "nginx"], ["blackbull", "uvicorn", "bare"]]
    assert section.count("<table>") == 2 and "(informational)" in section
    assert "no number: exited 1" in section  # uvicorn's failed run, shown as an error
    assert 'href="#bench"' in html


@pytest.mark.slow
def test_the_charts_render_in_chromium_without_console_errors(chromium: str,
                                                             tmp_path: Path) -> None:
    """The inline SVG is live DOM in a browser: every bar is there, nothing is logged,
    and the page's own self-check still agrees with its data."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "bench.json").write_text(json.dumps(_bench_envelope()))
    paths = write_report(build_report(raw, REPO, "blackbull"), tmp_path)
    dom, log = _dump_dom(chromium, paths.html)
    assert [ln for ln in log.splitlines() if "CONSOLE" in ln] == []
    assert len(re.findall(r'<rect class="bar" data-server="', dom)) == 6
    assert re.search(r'id="selfcheck" data-ok="true"', dom), dom[-2000:]
