"""The probe suite's part of the report: per target, per RFC, MUST apart from SHOULD/MAY.

A SHOULD a server does not follow is shown, but never in the column that decides whether
it conforms (issue 15's rule); undecided probes count as ``error``, never as a pass.
"""

from __future__ import annotations

from typing import Any

from conformance.report.schema import CaseResult, SuiteResult, summarize

SUITE = "probes"


def build_probes(runs: list[SuiteResult]) -> list[dict[str, Any]]:
    """Rows ``{target, rfc, must: summary, other: summary, failing: [ids]}``, sorted."""
    groups: dict[tuple[str, str], dict[str, list[CaseResult]]] = {}
    for run in runs:
        if run.suite != SUITE:
            continue
        for case in run.cases:
            level = "must" if case.extra.get("mandatory") else "other"
            group = groups.setdefault((run.target, case.rfc or "?"), {"must": [], "other": []})
            group[level].append(CaseResult(f"{run.variant} {case.id}", case.status))
    rows = []
    for (target, rfc), cases in sorted(groups.items()):
        failing = [c.id for c in cases["must"] if c.status in ("fail", "error")]
        rows.append({"target": target, "rfc": rfc, "must": summarize(cases["must"]),
                     "other": summarize(cases["other"]), "failing_must": failing})
    return rows


def _counts(summary: dict[str, int]) -> str:
    if not summary["total"]:
        return "—"
    scored = summary["total"] - summary["not-supported"]
    return (f"{summary['pass']}/{scored}" + (f", {summary['fail']} fail" if summary["fail"]
                                             else "")
            + (f", {summary['error']} undecided/error" if summary["error"] else ""))


def probes_markdown(data: dict[str, Any]) -> list[str]:
    rows = data.get("probes") or []
    if not rows:
        return []
    lines = ["## Probes per RFC", "",
             "MUST / MUST NOT decide conformance; SHOULD and MAY are shown apart and never "
             "count against a server. Not-supported probes are left out of the totals.", "",
             "| target | RFC | MUST | SHOULD / MAY | failing MUST probes |",
             "|---|---|---|---|---|"]
    for r in rows:
        icon = "❌" if r["failing_must"] else ("✅" if r["must"]["pass"] else "⚪")
        failing = ", ".join(f"`{i}`" for i in r["failing_must"][:12])
        more = f" (+{len(r['failing_must']) - 12})" if len(r["failing_must"]) > 12 else ""
        lines.append(f"| {r['target']} | {r['rfc']} | {icon} {_counts(r['must'])} | "
                     f"{_counts(r['other'])} | {failing}{more} |")
    return lines
