"""Honest statuses (issue 14 §5), shown with a deliberately unstartable target file: a server
that could not start is ``error`` with the red COULD NOT RUN banner and a non-zero exit; "the
tool ran" and "the cases passed" are separate columns; the regression line says what was
gated. And the progress lines of §6."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.report.baseline import gate, gate_line
from conformance.report.markdown import cases_verdict
from conformance.report.schema import CaseResult, SuiteResult
from conformance.targets import REPO_ROOT

UNSTARTABLE = '''name = "unstartable"
implementation = "a server that exits at once (test fixture)"
language = "none"
protocols = ["h1", "h2c", "h2-tls", "ws", "wss", "ws-over-h2"]
[launch]
command = ["{python}", "-c", "import sys; sys.exit('refusing to start')"]
'''


@pytest.fixture(scope="module")
def unstartable_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    tmp = tmp_path_factory.mktemp("unstartable")
    (tmp / "unstartable.toml").write_text(UNSTARTABLE)
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", "--target-file", str(tmp / "unstartable.toml"),
         "--suite", "h2spec", "--suite", "rfc8441", "--suite", "probes",
         "--out", str(tmp / "reports"), "--baseline", str(REPO_ROOT / "conformance" / "baseline.json")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    return proc, tmp / "reports"


def test_a_server_that_cannot_start_makes_the_run_fail(unstartable_run) -> None:
    proc, _ = unstartable_run
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "COULD NOT RUN h2spec/h2c@unstartable" in proc.stdout
    assert "COULD NOT RUN rfc8441-matrix/tls@unstartable" in proc.stdout
    assert "COULD NOT RUN probes/h2c@unstartable" in proc.stdout
    assert "refusing to start" in proc.stdout  # the server's own words, from its log


def test_every_suite_of_the_unstartable_target_is_an_error_with_a_banner(unstartable_run) -> None:
    _, reports = unstartable_run
    data = json.loads((reports / "compliance.json").read_text())
    runs = [r for r in data["runs"] if r["target"] == "unstartable"]
    assert {r["suite"] for r in runs} == {"h2spec", "rfc8441-matrix", "probes"}
    assert all(r["status"] == "error" for r in runs), [(r["key"], r["status"]) for r in runs]
    keys = {f"{r['suite']}/{r['variant']}@{r['target']}" for r in runs}
    assert {b["key"] for b in data["banners"]} >= keys
    assert not any(c["status"] == "pass" for r in runs for c in r["cases"])


def test_the_report_never_shows_a_tick_for_a_run_that_did_not_happen(unstartable_run) -> None:
    _, reports = unstartable_run
    md = (reports / "compliance.md").read_text()
    assert "🟥 **h2spec/h2c@unstartable could not run**" in md
    suite_rows = [ln for ln in md.splitlines() if ln.startswith("| h2spec |")
                  or ln.startswith("| rfc8441-matrix |") or ln.startswith("| probes |")]
    assert suite_rows and all("🟥 could not run" in ln and "✅" not in ln for ln in suite_rows)
    html = (reports / "compliance.html").read_text()
    assert "could not run" in html


def test_the_gate_line_says_nothing_was_gated_for_a_target_without_a_baseline(unstartable_run) -> None:
    proc, reports = unstartable_run
    assert "regression gate: NOT APPLIED — baseline.json records blackbull, not unstartable" \
        in proc.stdout
    assert "0 baseline passes" not in proc.stdout
    gate_data = json.loads((reports / "compliance.json").read_text())["gate"]
    assert gate_data["applied"] is False and gate_data["gated_suites"] == []


def test_the_run_prints_when_each_suite_starts_and_ends(unstartable_run) -> None:
    """Issue 14 §6: a line per suite start and end, with the counts so far and elapsed time."""
    proc, _ = unstartable_run
    assert "[h2spec-unstartable] started (no earlier run)" in proc.stdout
    assert "[h2spec-unstartable] exit 2 in " in proc.stdout
    assert " of 3 done, " in proc.stdout and "3 of 3 done" in proc.stdout


def test_the_interop_command_exits_non_zero_for_a_server_that_cannot_start(tmp_path: Path) -> None:
    (tmp_path / "unstartable.toml").write_text(UNSTARTABLE)
    proc = subprocess.run(
        [sys.executable, "-m", "conformance.interop", "--target-file",
         str(tmp_path / "unstartable.toml"), "--clients", "h2-raw",
         "--out", str(tmp_path / "raw" / "rfc8441-matrix.json")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "unstartable: error:" in proc.stdout
    data = json.loads((tmp_path / "raw" / "rfc8441-matrix-unstartable.json").read_text())
    assert data["status"] == "error" and "refusing to start" in data["message"]


def _run(statuses: list[str], target: str = "blackbull") -> SuiteResult:
    return SuiteResult("h2spec", "h2c", target, {"name": "h2spec"},
                       cases=[CaseResult(f"c{i}", s) for i, s in enumerate(statuses)])


def test_cases_column_ticks_only_when_every_scored_case_passed() -> None:
    def cell(statuses: list[str]) -> dict:
        from conformance.report.model import run_cell
        return run_cell(_run(statuses))

    assert cases_verdict(cell(["pass", "pass"])) == "✅ all passed"
    assert cases_verdict(cell(["pass", "fail"])).startswith("❌ 1 failed")
    assert cases_verdict(cell(["pass", "error"])).startswith("❌ 0 failed, 1 errors")
    assert "✅" not in cases_verdict(cell(["pass", "skipped"]))


def test_the_gate_line_names_what_it_compared(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"schema": 1, "target": "blackbull",
                                    "runs": {"h2spec/h2c": {"c0": "pass", "c1": "pass"}}}))
    ok = gate(baseline, [_run(["pass", "pass"])], "blackbull", {"h2spec"})
    assert gate_line(ok) == ("regression gate: ok — none of the 2 cases that pass in "
                             "baseline.json (h2spec) regressed")
    bad = gate(baseline, [_run(["pass", "fail"])], "blackbull", {"h2spec"})
    assert gate_line(bad).startswith("regression gate: 1 REGRESSIONS among the 2 cases")
    other = gate(baseline, [_run(["fail"], "nginx")], "nginx", {"h2spec"})
    assert other["applied"] is False and other["ok"]
    assert "records blackbull, not nginx" in gate_line(other)
    nothing = gate(baseline, [_run(["pass"])], "blackbull", {"autobahn"})
    assert gate_line(nothing).startswith("regression gate: NOT APPLIED — baseline.json has no "
                                         "passing case of blackbull in autobahn")


def test_probe_results_are_shown_per_rfc_with_must_apart_from_should(tmp_path: Path) -> None:
    """Issue 15: SHOULD-level results never make a conforming server look broken."""
    from conformance.report.build import build_report, write_report

    raw = tmp_path / "raw"
    run = SuiteResult("probes", "h2c", "blackbull", {"name": "blackbull-probes"}, cases=[
        CaseResult("rfc9113/6.5/1", "pass", "RFC 9113", "6.5", extra={"mandatory": True}),
        CaseResult("rfc9113/6.5/2", "fail", "RFC 9113", "6.5", extra={"mandatory": True}),
        CaseResult("rfc9113/8.1/9", "fail", "RFC 9113", "8.1", extra={"mandatory": False}),
        CaseResult("rfc7541/2.3/1", "pass", "RFC 7541", "2.3", extra={"mandatory": True}),
        CaseResult("rfc7541/6.3/1", "fail", "RFC 7541", "6.3", extra={"mandatory": False})])
    run.write(raw)
    paths = write_report(build_report(raw, REPO_ROOT, "blackbull"), tmp_path)
    md = paths.markdown.read_text()
    assert "## Probes per RFC" in md
    assert "| blackbull | RFC 9113 | ❌ 1/2, 1 fail | 0/1, 1 fail | `h2c rfc9113/6.5/2` |" in md
    assert "| blackbull | RFC 7541 | ✅ 1/1 | 0/1, 1 fail |  |" in md
    assert 'id="probes"' in paths.html.read_text()


def test_an_old_error_of_another_target_does_not_decide_this_runs_exit() -> None:
    from conformance.report.model import Expectation
    from conformance.run import Plan, exit_status

    data = {"gate": {"ok": True}, "banners": [{"key": "h2spec/h2c@daphne", "message": "old"}]}
    mine = Plan(targets=["mine"], suites=["h2spec"],
                expected=[Expectation("h2spec", "mine", "h2c")])
    assert exit_status(data, mine) == 0
    data["banners"].append({"key": "h2spec/h2c@mine", "message": "now"})
    assert exit_status(data, mine) == 2
    matrix = Plan(targets=["blackbull"], suites=["rfc8441"],
                  expected=[Expectation("rfc8441-matrix", "")])
    assert exit_status({"gate": {"ok": True},
                        "banners": [{"key": "rfc8441-matrix/tls@hypercorn", "message": ""}]},
                       matrix) == 2
    assert exit_status({"gate": {"ok": False}, "banners": []}, mine) == 1


def test_a_run_where_no_suite_applies_says_so_and_fails(tmp_path: Path) -> None:
    """An http:// URL brings no h2spec (RFC 9113 needs h2c or h2): nothing ran, exit 2."""
    proc = subprocess.run([sys.executable, "-m", "conformance", "--url", "http://127.0.0.1:9/",
                           "--suite", "h2spec", "--out", str(tmp_path)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "nothing to run: none of the suites h2spec applies" in \
        proc.stdout
