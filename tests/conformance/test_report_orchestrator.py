"""``python -m conformance``: what it plans to run, expect and clear for each target choice."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.run import clear_stale, make_plan, parse_args
from conformance.targets import TARGETS


def test_default_runs_every_suite_for_blackbull_and_expects_the_matrix(tmp_path: Path) -> None:
    plan = make_plan(parse_args([]), tmp_path)
    names = {job.name for job in plan.jobs}
    assert {"unit", "h2spec-blackbull"} <= names
    expected = {(e.suite, e.target, e.variant) for e in plan.expected}
    assert ("unit", "blackbull", "") in expected
    assert ("rfc8441-matrix", "", "") in expected
    assert {("h2spec", "blackbull", v) for v in ("h2c", "h2c-strict", "tls", "tls-strict")} \
        <= expected
    assert ("autobahn", "blackbull", "ws") in expected


def test_the_default_unit_job_runs_the_cited_tests_on_two_workers(tmp_path: Path) -> None:
    """The report's unit cases are the tests that cite an RFC section: the default run
    runs those (pytest -n 2); --unit-all-tests and --unit-workers bring back the rest."""
    unit = next(j for j in make_plan(parse_args([]), tmp_path).jobs if j.name == "unit")
    assert "--rfc-cited-only" in unit.argv
    assert unit.argv[unit.argv.index("-n") + 1] == "2"
    full = next(j for j in make_plan(parse_args(["--unit-all-tests", "--unit-workers", "1"]),
                                     tmp_path).jobs if j.name == "unit")
    assert "--rfc-cited-only" not in full.argv and "-n" not in full.argv


def test_other_targets_get_only_the_external_suites(tmp_path: Path) -> None:
    """The unit tests are about our code; every suite that speaks to a server applies to
    peers, the RFC 8441 matrix only where the target serves ws-over-h2 (hypercorn)."""
    plan = make_plan(parse_args(["--targets", "hypercorn,uvicorn"]), tmp_path)
    assert "unit" not in {job.name for job in plan.jobs}
    assert {e.suite for e in plan.expected} == {"h2spec", "autobahn", "probes",
                                                "rfc8441-matrix"}
    assert {e.target for e in plan.expected} == {"hypercorn", "uvicorn"}
    assert {e.target for e in plan.expected if e.suite == "rfc8441-matrix"} == {"hypercorn"}
    matrix = next(job for job in plan.jobs if job.name.startswith("rfc8441-matrix"))
    assert matrix.argv[-2:] == ["--servers", "hypercorn"]


def test_all_targets_means_every_registered_target() -> None:
    assert parse_args(["--targets", "all"]).targets == list(TARGETS)


def test_quick_limits_autobahn_cases(tmp_path: Path) -> None:
    plan = make_plan(parse_args(["--quick", "--suite", "autobahn"]), tmp_path)
    autobahn = [job for job in plan.jobs if job.name.startswith("autobahn")]
    assert all("--cases" in job.argv for job in autobahn)


def test_clear_stale_drops_only_results_about_to_be_replaced(tmp_path: Path) -> None:
    def write(name: str, suite: str, target: str) -> Path:
        path = tmp_path / name
        path.write_text(json.dumps({"schema": 1, "suite": suite, "target": target}))
        return path

    h2_ours = write("a.json", "h2spec", "blackbull")
    h2_peer = write("b.json", "h2spec", "hypercorn")
    unit = write("c.json", "unit", "blackbull")
    matrix = write("d.json", "rfc8441-matrix", "matrix")
    bench = write("e.json", "bench", "blackbull")
    clear_stale(tmp_path, make_plan(parse_args(["--suite", "h2spec", "--suite", "rfc8441"]),
                                    tmp_path))
    assert not h2_ours.exists() and not matrix.exists()
    assert h2_peer.exists() and unit.exists() and bench.exists()


def test_matrix_runs_inside_the_unit_run_or_on_its_own(tmp_path: Path) -> None:
    """RFC 8441 §5: the matrix runs exactly once: in pytest (tests/rfc8441) or standalone."""
    both = make_plan(parse_args(["--suite", "unit", "--suite", "rfc8441"]), tmp_path)
    assert "rfc8441-matrix" not in {job.name for job in both.jobs}
    unit = next(job for job in both.jobs if job.name == "unit")
    assert unit.env["RFC8441_MATRIX_OUT"] == str(tmp_path / "rfc8441-matrix.json")
    alone = make_plan(parse_args(["--suite", "rfc8441"]), tmp_path)
    matrix_jobs = [job for job in alone.jobs if job.name == "rfc8441-matrix"]
    assert len(matrix_jobs) == 1 and "--out" in matrix_jobs[0].argv


def test_second_run_on_the_same_reports_waits_for_the_first(tmp_path: Path) -> None:
    """Two orchestrators in one tree must not delete each other's fresh results."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl,sys,time; f=open(sys.argv[1],'w'); "
         "fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.read()",
         str(tmp_path / ".conformance.lock")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    started = [holder]
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        second = subprocess.Popen(
            [sys.executable, "-m", "conformance", "--report-only", "--suite", "h2spec",
             "--out", str(tmp_path), "--baseline", str(tmp_path / "baseline.json")],
            cwd=repo, stdout=subprocess.PIPE, text=True)
        started.append(second)
        assert second.stdout is not None
        assert "waiting for another" in second.stdout.readline()
        assert not (tmp_path / "compliance.json").exists()
        holder.communicate("", timeout=30)  # release the lock
        second.communicate(timeout=120)
        assert (tmp_path / "compliance.json").exists()
    finally:
        for proc in started:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_autobahn_server_runs_are_sharded_and_the_client_column_is_not(tmp_path: Path) -> None:
    plan = make_plan(parse_args(["--suite", "autobahn", "--autobahn-shards", "3"]), tmp_path)
    argv = {job.name: job.argv for job in plan.jobs}
    for name in ("autobahn-blackbull", "autobahn-blackbull-wss", "autobahn-blackbull-h2-bridge"):
        assert argv[name][argv[name].index("--shards") + 1] == "3"
    assert "--shards" not in argv["autobahn-blackbull-client"]
    single = make_plan(parse_args(["--suite", "autobahn", "--autobahn-shards", "1"]), tmp_path)
    assert all("--shards" not in job.argv for job in single.jobs)


def test_autobahn_variants_can_be_chosen_and_unknown_ones_are_refused(tmp_path: Path) -> None:
    import pytest

    ws_only = make_plan(parse_args(["--suite", "autobahn", "--autobahn-variants", "none"]),
                        tmp_path)
    assert [job.name for job in ws_only.jobs] == ["autobahn-blackbull"]
    assert [(e.suite, e.variant) for e in ws_only.expected] == [("autobahn", "ws")]
    some = make_plan(parse_args(["--suite", "autobahn", "--autobahn-variants", "wss"]), tmp_path)
    assert {e.variant for e in some.expected} == {"ws", "wss"}
    with pytest.raises(SystemExit):
        parse_args(["--autobahn-variants", "wss,carrier-pigeon"])


def test_run_records_the_wall_time_of_the_run_and_of_each_suite(tmp_path: Path) -> None:
    import sys

    from conformance.run import Job, Plan, run_jobs

    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass"
    plan = Plan(targets=["blackbull"], suites=[], jobs=[
        Job("burn", [sys.executable, "-c", burn], timeout=60),
        Job("sleep", [sys.executable, "-c", "import time; time.sleep(0.5)"], timeout=60)])
    timing = run_jobs(plan, tmp_path / "raw", tmp_path / "logs", jobs=1)
    suites = {s["name"]: s for s in timing["suites"]}
    assert set(suites) == {"burn", "sleep"} and all(s["exit"] == 0 for s in suites.values())
    assert suites["sleep"]["wall_s"] >= 0.5
    # One at a time (jobs=1): the second starts after the first ended.
    assert suites["sleep"]["start_s"] >= suites["burn"]["wall_s"] - 0.1
    assert timing["wall_s"] >= suites["burn"]["wall_s"] + suites["sleep"]["wall_s"] - 0.1
    assert timing["children_cpu_s"] >= 0.3
    assert timing["loadavg_1min"]["samples"] >= 1


def test_the_markdown_report_shows_the_run_time(tmp_path: Path) -> None:
    from conformance.report.build import build_report, write_report

    report = build_report(tmp_path / "raw", Path(__file__).resolve().parents[2], "blackbull")
    report.provenance["timing"] = {
        "wall_s": 512.3, "jobs": 2, "cpus": 2, "children_cpu_s": 901.0,
        "loadavg_1min": {"min": 1.0, "mean": 2.5, "max": 4.0, "samples": 52},
        "suites": [{"name": "autobahn-blackbull", "start_s": 0.0, "wall_s": 498.7, "exit": 0,
                    "note": ""},
                   {"name": "h2spec-blackbull", "start_s": 0.1, "wall_s": 12.2, "exit": 0,
                    "note": ""}]}
    paths = write_report(report, tmp_path)
    md = paths.markdown.read_text()
    assert "Run time: 512 s wall with 2 jobs on 2 CPUs (901 CPU-s" in md
    assert "mean 2.5, max 4.0" in md and "autobahn-blackbull 499 s, h2spec-blackbull 12 s" in md
    assert json.loads(paths.json.read_text())["provenance"]["timing"]["wall_s"] == 512.3


def _cases_of(job) -> str | None:
    return job.argv[job.argv.index("--cases") + 1] if "--cases" in job.argv else None


def test_default_ws_column_leaves_out_only_the_large_deflate_cases(tmp_path: Path) -> None:
    """Issue 14 (a default run under 15 minutes): the ws column runs every group but the
    64–128 KiB permessage-deflate cases (RFC 7692 paths they repeat are covered by the
    small ones); ``--exhaustive`` runs all 517."""
    from conformance.autobahn.results import resolve_patterns

    ws = next(j for j in make_plan(parse_args(["--suite", "autobahn"]), tmp_path).jobs
              if j.name == "autobahn-blackbull")
    cases = _cases_of(ws)
    assert cases is not None
    all_ids = json.loads((Path("conformance/autobahn/case_times.json")).read_text())["seconds"]
    chosen = set(resolve_patterns(all_ids, cases.split(",")))
    assert len(all_ids) == 517 and len(chosen) == 421
    left_out = set(all_ids) - chosen
    assert {c.split(".")[0] for c in left_out} == {"12", "13"}
    assert {int(c.split(".")[2]) for c in left_out} == {9, 10, 13, 14, 15, 16, 17, 18}
    full = next(j for j in make_plan(parse_args(["--suite", "autobahn", "--exhaustive"]),
                                     tmp_path).jobs if j.name == "autobahn-blackbull")
    assert _cases_of(full) is None


def test_subset_runs_are_gated_as_partial_and_the_ci_run_in_full() -> None:
    """Issue 14: a default run's unit job (no tests/conformance) and Autobahn subset do
    not flag baseline cases they did not run; CI's run (the README's test results,
    ``--exhaustive``) gates everything."""
    from conformance.suites import partial_suites

    suites = ["unit", "h2spec", "autobahn"]
    assert partial_suites(suites, parse_args([])) == {"unit", "autobahn"}
    assert partial_suites(suites, parse_args(["--reuse-test-results", "--exhaustive"])) \
        == frozenset()
    assert partial_suites(suites, parse_args(["--reuse-test-results"])) == {"autobahn"}
