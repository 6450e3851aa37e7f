"""Merge raw harness results into one compliance report (the ``compliance.json`` model).

Inputs are the schema-1 files of ``reports/raw/`` (conformance/RESULTS.md). The report
keeps every case, adds provenance, headline scores for the main target, a per-RFC-section
view built from all evidence, the cross-server comparison, the RFC 8441 matrix, and a
red-banner list of every expected suite that could not run or left no result.
"""

from __future__ import annotations

import os
import platform
import re
import socket
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.report.catalog import OTHER_TITLES, RFC_TITLES, SECTIONS, covers, section_key
from conformance.report.probes_view import build_probes
from conformance.report.schema import (
    STATUS_ORDER,
    CaseResult,
    CaseStatus,
    RunStatus,
    SuiteResult,
    error_result,
    load_result,
    summarize,
    utc_now,
)

REPORT_SCHEMA = "blackbull-compliance"
REPORT_SCHEMA_VERSION = 1
MATRIX_SUITE = "rfc8441-matrix"


@dataclass(frozen=True)
class Expectation:
    """A suite (optionally one variant) that a run of the report must contain."""

    suite: str
    target: str  # "" = any target (the RFC 8441 matrix spans servers)
    variant: str = ""  # "" = any variant of the suite satisfies it

    def met_by(self, run: SuiteResult) -> bool:
        return (run.suite == self.suite and (not self.target or run.target == self.target)
                and (not self.variant or run.variant == self.variant))


def load_raw_dir(directory: Path) -> list[SuiteResult]:
    """Every ``*.json`` result in *directory*, sorted by suite, target, variant."""
    runs = [load_result(p) for p in sorted(directory.glob("*.json"))] if directory.is_dir() else []
    return sorted(runs, key=lambda r: (r.suite, r.target, r.variant))


def add_missing(
    runs: list[SuiteResult], expected: Iterable[Expectation], default_target: str = "blackbull"
) -> list[SuiteResult]:
    """An expected suite with no result file becomes an error run: it shows red, never green."""
    out = list(runs)
    for exp in expected:
        if not any(exp.met_by(r) for r in out):
            out.append(error_result(
                exp.suite, exp.variant or "-", exp.target or default_target, {"name": exp.suite},
                f"no result: the {exp.suite} harness did not run or wrote no file",
            ))
            out[-1].extra["missing"] = True
    return out


def normalize_rfc(rfc: str) -> str:
    """``rfc9113`` / ``9113`` / ``RFC 9113`` → ``RFC 9113``."""
    match = re.search(r"(\d{3,5})", rfc or "")
    return f"RFC {match.group(1)}" if match else ""


def evidence_refs(case: CaseResult) -> list[tuple[str, str]]:
    """(RFC, section) pairs a case proves; unit cases may cite several sections."""
    refs = case.extra.get("refs")
    pairs = [(normalize_rfc(str(r.get("rfc", ""))), str(r.get("section", "")))
             for r in refs if isinstance(r, dict)] if isinstance(refs, list) else []
    if not pairs:
        pairs = [(normalize_rfc(case.rfc), case.section)]
    return [(rfc, section) for rfc, section in pairs if rfc]


def section_status(summary: dict[str, int]) -> str:
    """none | fail | pass | other — how a reader should colour a section."""
    if summary["total"] == 0:
        return "none"
    if summary[CaseStatus.FAIL] or summary[CaseStatus.ERROR]:
        return "fail"
    if summary[CaseStatus.PASS]:
        return "pass"
    return "other"


def build_sections(runs: list[SuiteResult], target: str) -> list[dict[str, Any]]:
    """Per RFC, per catalogued section: the evidence about *target* (rolled up)."""
    evidence: list[tuple[str, str, str, CaseResult]] = []  # rfc, section, run key, case
    for run in runs:
        if run.target != target:
            continue
        for case in run.cases:
            for rfc, section in evidence_refs(case):
                evidence.append((rfc, section, run.key, case))
    rfcs = list(RFC_TITLES) + sorted({e[0] for e in evidence} - set(RFC_TITLES))
    out: list[dict[str, Any]] = []
    for rfc in rfcs:
        catalogued = dict(SECTIONS.get(rfc, ()))
        for _, section, _, _ in (e for e in evidence if e[0] == rfc):
            if section and section not in catalogued:
                catalogued[section] = "(cited by evidence; not in the catalogue)"
        rows = []
        for section in sorted(catalogued, key=section_key):
            hits = [e for e in evidence if e[0] == rfc and covers(section, e[1])]
            cases = [CaseResult(id=f"{key} {case.id}", status=case.status)
                     for _, _, key, case in hits]
            summary = summarize(cases)
            rows.append({"section": section, "title": catalogued[section],
                         "status": section_status(summary), "summary": summary,
                         "cases": [c.id for c in cases]})
        whole = [e for e in evidence if e[0] == rfc and not e[1]]
        title = RFC_TITLES.get(rfc) or OTHER_TITLES.get(rfc, "")
        out.append({"rfc": rfc, "title": title, "sections": rows,
                    "rfc_level_cases": [f"{key} {case.id}" for _, _, key, case in whole]})
    return out


def run_cell(run: SuiteResult) -> dict[str, Any]:
    """One comparison cell: status plus counts, where 'not-supported' is its own status."""
    s = run.summary
    status = run.status
    if run.status == RunStatus.OK and s["total"] and s[CaseStatus.NOT_SUPPORTED] == s["total"]:
        status = "not-supported"
    # Not-supported and informational cases (Autobahn's INFORMATIONAL) are neither a
    # pass nor a failure, so the score is pass out of the cases that can pass or fail.
    scored = s["total"] - s[CaseStatus.NOT_SUPPORTED] - s[CaseStatus.INFORMATIONAL]
    return {"status": status, "pass": s[CaseStatus.PASS], "total": scored, "summary": s,
            "message": run.message}


def build_comparison(runs: list[SuiteResult]) -> dict[str, Any]:
    """Suite/variant rows × target columns."""
    targets = sorted({r.target for r in runs}, key=lambda t: (t != "blackbull", t))
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for run in runs:
        if run.suite == "unit":
            continue  # unit tests are about our code only: nothing to compare
        row = rows.setdefault((run.suite, run.variant),
                              {"suite": run.suite, "variant": run.variant, "cells": {}})
        row["cells"][run.target] = run_cell(run)
    ordered = [rows[k] for k in sorted(rows)]
    return {"targets": targets, "rows": ordered}


def build_matrix(runs: list[SuiteResult]) -> dict[str, Any]:
    """RFC 8441 interop: client rows × server columns when cases name them, else variant × target."""
    cells: dict[tuple[str, str], list[CaseResult]] = {}
    errors: list[str] = []
    for run in (r for r in runs if r.suite == MATRIX_SUITE):
        if run.status == RunStatus.ERROR:
            errors.append(f"{run.key}: {run.message}")
        for case in run.cases:
            row = str(case.extra.get("client") or run.variant)
            col = str(case.extra.get("server") or run.target)
            cells.setdefault((row, col), []).append(case)
    rows = sorted({k[0] for k in cells})
    cols = sorted({k[1] for k in cells})
    grid = {f"{r}|{c}": {"status": section_status(summarize(v)), "summary": summarize(v),
                         "cases": [{"id": x.id, "status": x.status, "message": x.message}
                                   for x in v]}
            for (r, c), v in cells.items()}
    return {"rows": rows, "cols": cols, "cells": grid, "errors": errors}


def git_info(repo: Path) -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(repo), *args], capture_output=True,
                                  text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    return {"commit": git("rev-parse", "HEAD"), "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def provenance(repo: Path, runs: list[SuiteResult]) -> dict[str, Any]:
    """Who/what/where: git commit, date, machine, and every tool + runner that produced data."""
    tools: dict[str, dict[str, str]] = {}
    for run in runs:
        if run.tool.get("name") and not run.extra.get("missing"):
            tools.setdefault(f"{run.suite}:{run.tool.get('name')}:{run.tool.get('version')}",
                             {"suite": run.suite, **run.tool})
    return {
        "date": utc_now(),
        "git": git_info(repo),
        "machine": {"hostname": socket.gethostname(), "platform": platform.platform(),
                    "python": platform.python_version(), "cpus": os.cpu_count() or 0,
                    "ci": bool(os.environ.get("CI"))},
        "tools": sorted(tools.values(), key=lambda t: (t["suite"], t.get("name", ""))),
    }


@dataclass
class Report:
    """Everything ``compliance.json`` holds; the Markdown and HTML views render from it."""

    target: str
    runs: list[SuiteResult]
    provenance: dict[str, Any]
    gate: dict[str, Any] = field(default_factory=dict)

    def headline(self) -> list[dict[str, Any]]:
        return [{"key": r.key, "suite": r.suite, "variant": r.variant, "target": r.target,
                 **run_cell(r)} for r in self.runs if r.target == self.target]

    def banners(self) -> list[dict[str, str]]:
        return [{"key": r.key, "message": r.message} for r in self.runs
                if r.status == RunStatus.ERROR]

    def totals(self) -> dict[str, int]:
        cases = [c for r in self.runs if r.target == self.target for c in r.cases]
        return summarize(cases)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA,
            "schema_version": REPORT_SCHEMA_VERSION,
            "target": self.target,
            "provenance": self.provenance,
            "statuses": list(STATUS_ORDER),
            "totals": self.totals(),
            "headline": self.headline(),
            "banners": self.banners(),
            "sections": build_sections(self.runs, self.target),
            "comparison": build_comparison(self.runs),
            "rfc8441_matrix": build_matrix(self.runs),
            "probes": build_probes(self.runs),
            "gate": self.gate,
            "runs": [r.to_dict() for r in self.runs],
        }
