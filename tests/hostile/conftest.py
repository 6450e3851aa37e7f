"""Fixtures of the hostile suite, and its result file.

Every attack test fills a ``hostile_case`` (its bound, the honest client's ratio, the
memory peak); after the run the cases are merged into
``reports/raw/hostile-blackbull-loopback.json`` (schema: ``conformance/RESULTS.md``,
suite ``hostile``). A case's status is its test's outcome: only a passed test is a pass.
Under xdist each worker drops its cases into a spool directory and the controller
merges them.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.report.schema import CaseResult, SuiteResult, utc_now
from tests.conftest import ROOT
from tests.hostile.harness import Measurement, ServerProcess

RAW = ROOT / "reports" / "raw"
SPOOL = RAW / ".hostile-spool"
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
    elif call.skipped:
        status = "skipped"
    else:
        status = "fail"
        if call.longrepr is not None:
            case.message = (case.message + " | " if case.message else "") + \
                str(call.longrepr).strip().splitlines()[-1][:400]
    data = case.to_result(status).to_dict()
    data["duration_s"] = round(time.monotonic() - started, 2)
    SPOOL.mkdir(parents=True, exist_ok=True)
    (SPOOL / f"{case.id}.json").write_text(json.dumps(data), encoding="utf-8")


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


#: When this run began (the controller imports this conftest before any test runs):
#: spool files older than this were left by an interrupted run and are dropped.
_STARTED = (utc_now(), time.monotonic(), time.time())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput") or not SPOOL.is_dir():
        return  # an xdist worker: the controller merges
    cases = []
    for path in sorted(SPOOL.glob("*.json")):
        if path.stat().st_mtime >= _STARTED[2]:
            cases.append(CaseResult.from_dict(json.loads(path.read_text(encoding="utf-8"))))
        path.unlink()
    SPOOL.rmdir()
    if not cases:
        return
    started, t0, _ = _STARTED
    cases.sort(key=lambda c: c.id)
    result = SuiteResult(suite="hostile", variant="loopback", target="blackbull", tool=TOOL,
                         started=started, duration_s=time.monotonic() - t0, cases=cases)
    result.write(Path(RAW))
