"""The regression gate: compare our results case by case with ``conformance/baseline.json``.

A regression is a case that passed in the baseline and does not pass now (fails, errors,
is skipped, or is missing because its suite could not run). Only suites that were part
of the current run are gated, so ``--suite h2spec`` does not flag Autobahn cases.
``--update-baseline`` records the current statuses (merged over the old file).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.report.schema import CaseResult, CaseStatus, SuiteResult, utc_now

BASELINE_SCHEMA = 1


@dataclass(frozen=True)
class Regression:
    """One case that passed in the baseline and does not pass now."""

    run: str  # "suite/variant"
    case: str
    was: str
    now: str
    message: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"run": self.run, "case": self.case, "was": self.was, "now": self.now,
                "message": self.message}


def run_key(run: SuiteResult) -> str:
    return f"{run.suite}/{run.variant}"


def load_baseline(path: Path) -> dict[str, Any]:
    """The baseline file, or an empty one when it does not exist yet."""
    if not path.exists():
        return {"schema": BASELINE_SCHEMA, "target": "", "runs": {}}
    data = json.loads(path.read_text(encoding="utf-8"))
    data.setdefault("runs", {})
    return data


def gated(case: CaseResult) -> bool:
    """Whether *case* takes part in the gate. Two kinds are reported but never gated:
    a MAY-level probe (optional behaviour, which may rightly depend on timing: DATA
    racing our own WINDOW_UPDATE), and a test its author marked ``xfail`` (a documented
    known non-compliance, often a peer's: Node.js resets an RFC 8441 stream before its
    queued END_STREAM about one time in four, so the cell passes or fails by chance)."""
    return case.extra.get("level") != "MAY" and not case.extra.get("xfail")


def find_regressions(
    baseline: dict[str, Any], runs: list[SuiteResult], target: str, suites: set[str],
    partial: frozenset[str] = frozenset(),
) -> list[Regression]:
    """Cases passing in *baseline* that do not pass in *runs* (only *suites* are gated).

    Suites in *partial* ran a subset of their cases on purpose (``--quick``): a case
    absent from such a run is not a regression, but the run itself must exist and be ok.
    """
    current: dict[str, dict[str, tuple[str, str]]] = {}
    ungated: set[tuple[str, str]] = set()
    complete: set[str] = set()
    for run in runs:
        if run.target == target:
            cases = current.setdefault(run_key(run), {})
            for case in run.cases:
                if gated(case):
                    cases[case.id] = (case.status, case.message)
                else:
                    ungated.add((run_key(run), case.id))
            if run.status == "ok" and run.suite in partial:
                complete.add(run_key(run))
    found: list[Regression] = []
    for key, cases in sorted(baseline.get("runs", {}).items()):
        if key.split("/", 1)[0] not in suites:
            continue
        now_cases = current.get(key, {})
        for case_id, was in sorted(cases.items()):
            if was != CaseStatus.PASS or (key in complete and case_id not in now_cases) \
                    or (key, case_id) in ungated:
                continue
            now, message = now_cases.get(case_id, ("missing", "no result for this case"))
            if now != CaseStatus.PASS:
                found.append(Regression(key, case_id, was, now, message))
    return found


def updated_baseline(
    baseline: dict[str, Any], runs: list[SuiteResult], target: str, commit: str = "",
    partial: frozenset[str] = frozenset(), suites: set[str] | None = None,
) -> dict[str, Any]:
    """The baseline with every run of *target* replaced by its current statuses.

    A run that could not execute (status error) does not overwrite its old entry: an
    outage must not silently lower the bar. A run of a *partial* suite updates only the
    cases it ran and keeps the others. Only *suites* (default: all) are recorded, so
    results that are never gated (e.g. benchmark goals) stay out of the baseline.
    """
    merged = dict(baseline.get("runs", {}))
    for run in runs:
        if suites is not None and run.suite not in suites:
            continue
        if run.target == target and run.status == "ok" and not run.extra.get("missing"):
            keep = merged.get(run_key(run), {}) if run.suite in partial else {}
            merged[run_key(run)] = {**keep, **{c.id: c.status for c in run.cases
                                               if gated(c)}}
    return {"schema": BASELINE_SCHEMA, "target": target, "updated": utc_now(),
            "commit": commit, "runs": dict(sorted(merged.items()))}


def write_baseline(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n", encoding="utf-8")


def gate(
    baseline_path: Path, runs: list[SuiteResult], target: str, suites: set[str],
    partial: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The gate section of compliance.json: ``ok`` is False when anything regressed."""
    baseline = load_baseline(baseline_path)
    recorded_for = str(baseline.get("target", ""))
    reason = ""
    if recorded_for and recorded_for != target:
        # Another server's baseline says nothing about this one.
        reason = f"{baseline_path.name} records {recorded_for}, not {target}"
        suites = set()
    regressions = find_regressions(baseline, runs, target, suites, partial)
    baseline_passes = sum(
        1 for key, cases in baseline.get("runs", {}).items() if key.split("/", 1)[0] in suites
        for status in cases.values() if status == CaseStatus.PASS
    )
    if not reason and not suites:
        reason = "no suite of this run is gated"
    elif not reason and not baseline_passes:
        reason = (f"{baseline_path.name} has no passing case of {target} in "
                  f"{', '.join(sorted(suites))}")
    return {"baseline": str(baseline_path.name), "baseline_updated": baseline.get("updated", ""),
            "baseline_commit": baseline.get("commit", ""), "gated_suites": sorted(suites),
            "baseline_target": recorded_for, "target": target,
            "baseline_passes": baseline_passes, "partial_suites": sorted(partial),
            "applied": not reason, "not_applied_reason": reason,
            "ok": not regressions,
            "regressions": [r.to_dict() for r in regressions]}


def gate_line(gate: dict[str, Any]) -> str:
    """What the gate compared, in one sentence (never "no regressions" about nothing)."""
    if not gate:
        return "regression gate: not run"
    if not gate.get("applied", True):
        return f"regression gate: NOT APPLIED — {gate.get('not_applied_reason', '')}"
    suites = ", ".join(gate["gated_suites"])
    partial = (f"; {', '.join(gate['partial_suites'])} ran a subset of cases"
               if gate.get("partial_suites") else "")
    if gate["ok"]:
        return (f"regression gate: ok — none of the {gate['baseline_passes']} cases that pass "
                f"in {gate['baseline']} ({suites}) regressed{partial}")
    return (f"regression gate: {len(gate['regressions'])} REGRESSIONS among the "
            f"{gate['baseline_passes']} cases that pass in {gate['baseline']} ({suites})"
            f"{partial}")
