"""Fixtures of the hostile suite, and its result file.

Every attack test fills a ``hostile_case`` (its bound, the honest client's ratio, the
memory peak). At its teardown the case is written into
``reports/raw/hostile-blackbull-loopback.json`` (schema: ``conformance/RESULTS.md``,
suite ``hostile``), replacing the previous result of the same case: the file always
holds the latest outcome of every attack, whichever way the tests were run (one file,
the whole suite, xdist workers). A case's status is its test's outcome: only a passed
test is a pass. Updates are serialised with ``flock``.
"""
from __future__ import annotations

import fcntl
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.report.schema import CaseResult, SuiteResult, load_result, utc_now
from tests.conftest import ROOT
from tests.hostile.harness import Measurement, ServerProcess

RAW = ROOT / "reports" / "raw"
RESULT = RAW / "hostile-blackbull-loopback.json"
TOOL = {"name": "tests/hostile", "version": "1", "runner": "pytest"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"hostile_rep_{report.when}", report)


class HostileCase:
    """One attack's entry in the result file."""

    def __init__(self, case_id: str) -> None:
        self.id = case_id
        self.rfc = ""
        self.section = ""
        self.description = ""
        self.bound = ""
        self.memory_bound_mb = 0.0
        self.min_ratio = 0.9
        self.measurement: Measurement | None = None
        self.message = ""

    def record(self, measurement: Measurement) -> None:
        self.measurement = measurement
        self.message = measurement.summary()

    def to_result(self, status: str) -> CaseResult:
        m = self.measurement
        extra: dict[str, Any] = {"bound": self.bound, "memory_bound_mb": self.memory_bound_mb,
                                 "min_honest_ratio": self.min_ratio}
        if m is not None:
            extra.update({
                "honest_ratio": round(m.ratio, 3),
                "honest_baseline_rps": [round(r, 1) for r in m.baseline_rates],
                "honest_attack_rps": [round(r, 1) for r in m.attack_rates],
                "honest_errors": m.honest_errors,
                "rss_start_mb": round(m.rss_start_kb / 1024, 1),
                "memory_peak_mb": round(m.hwm_kb / 1024, 1),
                "memory_growth_mb": round(m.growth_mb, 1),
                "server_cpu_s": round(m.server_cpu_s, 2),
                "answers": dict(m.answers),
            })
        return CaseResult(id=self.id, status=status, rfc=self.rfc, section=self.section,
                          description=self.description, message=self.message, extra=extra)


@pytest.fixture
def hostile_case(request: pytest.FixtureRequest) -> Iterator[HostileCase]:
    """Describe the attack on it; its outcome is written to the spool at teardown."""
    case = HostileCase(request.node.name.removeprefix("test_"))
    started = time.monotonic()
    yield case
    setup = getattr(request.node, "hostile_rep_setup", None)
    call = getattr(request.node, "hostile_rep_call", None)
    if setup is not None and setup.failed or call is None:
        status = "error"
    elif call.passed:
        status = "pass"
    elif hasattr(call, "wasxfail"):
        status = "fail"  # a known gap (xfail) is not a pass
        case.message = (case.message + " | " if case.message else "") + \
            f"known gap: {call.wasxfail}"
    elif call.skipped:
        status = "skipped"
    else:
        status = "fail"
        if call.longrepr is not None:
            case.message = (case.message + " | " if case.message else "") + \
                str(call.longrepr).strip().splitlines()[-1][:400]
    result = case.to_result(status)
    result.extra["duration_s"] = round(time.monotonic() - started, 2)
    result.extra["finished"] = utc_now()
    record_case(result)


def record_case(case: CaseResult, path: Path = RESULT) -> None:
    """Put ``case`` into the suite's result file, replacing an older result of its id."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        suite = load_result(path) if path.exists() else None
        if suite is None or suite.suite != "hostile" or suite.status != "ok":
            suite = SuiteResult(suite="hostile", variant="loopback", target="blackbull",
                                tool=TOOL)
        cases = {c.id: c for c in suite.cases}
        cases[case.id] = case
        suite.cases = sorted(cases.values(), key=lambda c: c.id)
        suite.started = utc_now()
        suite.duration_s = sum(float(c.extra.get("duration_s", 0.0)) for c in suite.cases)
        suite.message = "latest outcome of each attack (tests/hostile)"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(suite.to_dict(), indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)


@pytest.fixture
def hostile_server() -> Iterator[Any]:
    """``hostile_server(env={...})`` → a fresh :class:`ServerProcess`, stopped at teardown."""
    servers: list[ServerProcess] = []

    def start(env: dict[str, str] | None = None) -> ServerProcess:
        server = ServerProcess(env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
