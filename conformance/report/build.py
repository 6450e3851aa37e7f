"""Build ``reports/compliance.{json,md,html}`` from ``reports/raw/*.json``."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from conformance.report.baseline import gate
from conformance.report.html import render_html
from conformance.report.markdown import render_markdown
from conformance.report.model import Expectation, Report, add_missing, load_raw_dir, provenance


@dataclass(frozen=True)
class ReportPaths:
    json: Path
    markdown: Path
    html: Path


def build_report(
    raw_dir: Path,
    repo: Path,
    target: str,
    expected: Iterable[Expectation] = (),
    baseline_path: Path | None = None,
    gated_suites: set[str] | None = None,
    partial_suites: frozenset[str] = frozenset(),
) -> Report:
    """Merge raw results, mark missing suites as errors, and evaluate the regression gate."""
    runs = add_missing(load_raw_dir(raw_dir), expected, target)
    report = Report(target=target, runs=runs, provenance=provenance(repo, runs))
    if baseline_path is not None:
        suites = gated_suites if gated_suites is not None else {r.suite for r in runs}
        report.gate = gate(baseline_path, runs, target, suites, partial_suites)
    return report


def write_report(report: Report, out_dir: Path) -> ReportPaths:
    """Write the JSON, Markdown and HTML views side by side."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = report.to_dict()
    paths = ReportPaths(out_dir / "compliance.json", out_dir / "compliance.md",
                        out_dir / "compliance.html")
    paths.json.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    paths.markdown.write_text(render_markdown(data), encoding="utf-8")
    paths.html.write_text(render_html(data), encoding="utf-8")
    return paths
