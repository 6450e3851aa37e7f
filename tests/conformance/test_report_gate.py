"""The regression gate: a case passing in the baseline that does not pass now fails the run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conformance.report.baseline import find_regressions, updated_baseline
from conformance.report.schema import CaseResult, SuiteResult

REPO = Path(__file__).resolve().parents[2]


def _h2spec(statuses: dict[str, str], status: str = "ok", variant: str = "h2c") -> SuiteResult:
    return SuiteResult("h2spec", variant, "blackbull", {"name": "h2spec"}, status=status,
                       cases=[CaseResult(i, s, "RFC 9113", "6.1") for i, s in statuses.items()])


GOOD = {"http2/6.1/1": "pass", "http2/6.1/2": "pass", "http2/3.5/2": "fail"}


def _conformance(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance", "--report-only", "--target", "blackbull",
         "--suite", "h2spec", "--out", str(out), "--baseline", str(out / "baseline.json"),
         *extra], cwd=REPO, capture_output=True, text=True, timeout=120)


def test_passing_case_that_now_fails_is_a_regression() -> None:
    baseline = updated_baseline({}, [_h2spec(GOOD)], "blackbull")
    broken = _h2spec(GOOD | {"http2/6.1/2": "fail"})
    found = find_regressions(baseline, [broken], "blackbull", {"h2spec"})
    assert [(r.run, r.case, r.was, r.now) for r in found] == [
        ("h2spec/h2c", "http2/6.1/2", "pass", "fail")]


def test_case_failing_in_baseline_is_not_a_regression_and_fixes_are_fine() -> None:
    baseline = updated_baseline({}, [_h2spec(GOOD)], "blackbull")
    better = _h2spec(GOOD | {"http2/3.5/2": "pass"})
    assert find_regressions(baseline, [better], "blackbull", {"h2spec"}) == []


def test_suite_that_could_not_run_regresses_every_baseline_pass() -> None:
    baseline = updated_baseline({}, [_h2spec(GOOD)], "blackbull")
    outage = _h2spec({}, status="error")
    found = find_regressions(baseline, [outage], "blackbull", {"h2spec"})
    assert sorted(r.case for r in found) == ["http2/6.1/1", "http2/6.1/2"]
    assert {r.now for r in found} == {"missing"}


def test_suites_outside_this_run_are_not_gated() -> None:
    baseline = updated_baseline({}, [_h2spec(GOOD)], "blackbull")
    assert find_regressions(baseline, [], "blackbull", {"autobahn"}) == []


def test_update_does_not_let_an_errored_run_lower_the_bar() -> None:
    baseline = updated_baseline({}, [_h2spec(GOOD)], "blackbull")
    again = updated_baseline(baseline, [_h2spec({}, status="error")], "blackbull")
    assert again["runs"]["h2spec/h2c"] == GOOD


def test_cli_update_then_broken_result_exits_nonzero(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    for variant in ("h2c", "h2c-strict", "tls", "tls-strict"):
        _h2spec(GOOD, variant=variant).write(raw)
    updated = _conformance(tmp_path, "--update-baseline")
    assert updated.returncode == 0, updated.stdout + updated.stderr
    baseline = json.loads((tmp_path / "baseline.json").read_text())
    assert baseline["target"] == "blackbull"
    assert baseline["runs"]["h2spec/tls"]["http2/6.1/2"] == "pass"
    assert _conformance(tmp_path).returncode == 0

    _h2spec(GOOD | {"http2/6.1/2": "error"}, variant="tls").write(raw)  # deliberately broken
    gated = _conformance(tmp_path)
    assert gated.returncode == 1, gated.stdout + gated.stderr
    gate = json.loads((tmp_path / "compliance.json").read_text())["gate"]
    assert gate["ok"] is False
    assert [(r["run"], r["case"], r["now"]) for r in gate["regressions"]] == [
        ("h2spec/tls", "http2/6.1/2", "error")]
    assert "REGRESSIONS" in gated.stdout


def test_quick_run_does_not_flag_cases_it_did_not_run() -> None:
    """A --quick Autobahn run holds a subset: absent cases are not regressions, failures are."""
    full = SuiteResult("autobahn", "ws", "blackbull", {"name": "wstest"}, cases=[
        CaseResult("1.1.1", "pass"), CaseResult("12.1.1", "pass")])
    baseline = updated_baseline({}, [full], "blackbull")
    quick = SuiteResult("autobahn", "ws", "blackbull", {"name": "wstest"},
                        cases=[CaseResult("1.1.1", "fail")])
    found = find_regressions(baseline, [quick], "blackbull", {"autobahn"},
                             frozenset({"autobahn"}))
    assert [(r.case, r.now) for r in found] == [("1.1.1", "fail")]
    assert len(find_regressions(baseline, [quick], "blackbull", {"autobahn"})) == 2
    kept = updated_baseline(baseline, [quick], "blackbull", partial=frozenset({"autobahn"}))
    assert kept["runs"]["autobahn/ws"] == {"1.1.1": "fail", "12.1.1": "pass"}


def test_baseline_records_only_gated_suites() -> None:
    bench = SuiteResult("bench", "quick", "blackbull", {"name": "wrk"},
                        cases=[CaseResult("h1/vs-uvicorn", "pass")])
    data = updated_baseline({}, [_h2spec(GOOD), bench], "blackbull", suites={"h2spec"})
    assert list(data["runs"]) == ["h2spec/h2c"]


def test_may_level_probe_results_are_reported_but_never_recorded_for_the_gate():
    """Optional (MAY) behaviour is not a regression either way; MUST and SHOULD are gated."""
    from conformance.report.baseline import updated_baseline
    from conformance.report.schema import CaseResult, SuiteResult

    run = SuiteResult(suite="probes", variant="h2c", target="blackbull", tool={}, cases=[
        CaseResult(id="rfc9113/6.9.1/5", status="pass", extra={"level": "MAY"}),
        CaseResult(id="rfc9113/6.5/1", status="pass", extra={"level": "MUST"}),
        CaseResult(id="rfc9113/8.3.1/11", status="pass", extra={"level": "SHOULD"}),
    ])
    recorded = updated_baseline({"runs": {}}, [run], "blackbull")["runs"]["probes/h2c"]
    assert recorded == {"rfc9113/6.5/1": "pass", "rfc9113/8.3.1/11": "pass"}


def test_xfail_marked_tests_are_reported_but_never_gated() -> None:
    """A test its author marked xfail (a documented known non-compliance, here a peer's
    timing-dependent RFC 8441 §5 close) is neither recorded in the baseline nor flagged
    when it fails after an xpass was recorded; an unmarked test still is."""
    flaky = "tests/rfc8441/test_matrix.py::test_cell[blackbull\\xd7node/close-server-code]"
    plain = "tests/rfc8441/test_matrix.py::test_cell[blackbull\\xd7node/echo]"

    def unit(flaky_status: str, plain_status: str) -> SuiteResult:
        return SuiteResult("unit", "pytest", "blackbull", {}, cases=[
            CaseResult(id=flaky, status=flaky_status, extra={"xfail": True}),
            CaseResult(id=plain, status=plain_status)])

    recorded = updated_baseline({"runs": {}}, [unit("pass", "pass")], "blackbull")
    assert recorded["runs"]["unit/pytest"] == {plain: "pass"}
    # an older baseline that recorded the xpass does not turn the xfail into a regression
    old = {"runs": {"unit/pytest": {flaky: "pass", plain: "pass"}}}
    assert find_regressions(old, [unit("fail", "pass")], "blackbull", {"unit"}) == []
    found = find_regressions(old, [unit("fail", "fail")], "blackbull", {"unit"})
    assert [r.case for r in found] == [plain]
