"""Issue 14 §6: the run says what it is doing — start and end of each suite with the time it
took last run, and, while a suite runs, its own progress line (Autobahn's case count)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from conformance.jobs import Job, Progress, execute, previous_durations


def test_estimates_come_from_the_last_runs_report(tmp_path: Path) -> None:
    report = tmp_path / "compliance.json"
    report.write_text(json.dumps({"provenance": {"timing": {"suites": [
        {"name": "autobahn-blackbull", "wall_s": 301.4}, {"name": "h2spec-blackbull",
                                                         "wall_s": 12.0}]}}}))
    assert previous_durations(report) == {"autobahn-blackbull": 301.4, "h2spec-blackbull": 12.0}
    assert previous_durations(tmp_path / "missing.json") == {}


def test_a_running_job_is_reported_with_its_last_progress_line(tmp_path: Path) -> None:
    lines: list[str] = []
    job = Job("autobahn-x", [], timeout=1)
    job.log_path = tmp_path / "autobahn-x.log"
    job.log_path.write_text("runner: python2.7\nprogress: autobahn ws x 10/517 cases started, 20 s\n"
                            "worker 1 ...\nprogress: autobahn ws x 42/517 cases started, 40 s\n")
    job.running = True
    progress = Progress([job], {"autobahn-x": 300.0}, lines.append)
    progress.started(job)
    progress.heartbeat()
    assert lines[0] == "[autobahn-x] started (last run 300 s)"
    assert lines[1].startswith("[autobahn-x] running ")
    assert lines[1].endswith("(last run 300 s): autobahn ws x 42/517 cases started, 40 s")


def test_each_end_says_how_many_are_done_and_what_is_left(tmp_path: Path) -> None:
    lines: list[str] = []
    jobs = [Job("quick", [sys.executable, "-c", "pass"], timeout=60),
            Job("slow", [sys.executable, "-c", "import time; time.sleep(1)"], timeout=60)]
    execute(jobs, tmp_path, 1, {"slow": 50.0}, out=lines.append, interval=30)
    ends = [ln for ln in lines if " done, " in ln]
    assert ends[0].startswith("[quick] exit 0 in ") and "1 of 2 done" in ends[0]
    assert "≈" in ends[0] and "s left" in ends[0]  # slow's last run is the estimate
    assert "2 of 2 done" in ends[1]
    assert lines[-1].startswith("conformance run: ")


def test_the_longest_job_of_the_last_run_starts_first(tmp_path: Path) -> None:
    from conformance.run import Plan, run_jobs

    plan = Plan(targets=[], suites=[], jobs=[
        Job(name, [sys.executable, "-c", "pass"], timeout=60, weight=w)
        for name, w in (("short-heavy", 3), ("long-light", 1), ("unknown", 2))])
    run_jobs(plan, tmp_path / "raw", tmp_path / "logs", 1, {"short-heavy": 10.0,
                                                           "long-light": 900.0})
    order = [j.name for j in sorted(plan.jobs, key=lambda j: j.start_s)]
    assert order == ["long-light", "unknown", "short-heavy"]


_BURN = ("import subprocess, sys; subprocess.run([sys.executable, '-c', "
         "'import time\\nt = time.process_time()\\nwhile time.process_time() - t < 0.4: pass'])")


def test_each_job_records_the_cpu_of_its_processes_and_their_children(tmp_path: Path) -> None:
    """The timing record's per-suite CPU-s (what the run costs a quiet machine) include the
    descendants a harness waited for, as a wstest or a server under test is."""
    job = Job("burn", [sys.executable, "-c", _BURN], timeout=60)
    timing = execute([job], tmp_path, 1, out=lambda line: None)
    assert job.returncode == 0 and job.cpu_s is not None and job.cpu_s >= 0.4
    assert timing["suites"][0]["cpu_s"] == job.cpu_s


def test_a_job_past_its_timeout_is_killed_and_says_so(tmp_path: Path) -> None:
    job = Job("hang", [sys.executable, "-c", "import time; time.sleep(60)"], timeout=0.5)
    job.run(tmp_path)
    assert job.returncode is None and job.note.startswith("timed out after")
    assert job.duration_s < 10
    assert job.failure().startswith("hang timed out after")


def test_a_timed_out_job_takes_what_it_started_with_it(tmp_path: Path) -> None:
    """A harness killed at its timeout leaves no server or worker running behind it."""
    import os
    import time

    pidfile = tmp_path / "grandchild.pid"
    script = ("import subprocess, sys, time; p = subprocess.Popen([sys.executable, '-c', "
              "'import time; time.sleep(120)']); open(sys.argv[1], 'w').write(str(p.pid)); "
              "time.sleep(120)")
    job = Job("spawner", [sys.executable, "-c", script, str(pidfile)], timeout=10)
    job.run(tmp_path)
    assert job.note.startswith("timed out after")
    grandchild = int(pidfile.read_text())
    for _ in range(50):
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        try:
            with open(f"/proc/{grandchild}/stat") as fh:  # a zombie awaiting init is gone too
                if fh.read().rpartition(")")[2].split()[0] == "Z":
                    break
        except FileNotFoundError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"grandchild {grandchild} still running")
