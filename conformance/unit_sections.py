"""pytest plugin: which RFC sections each test proves, and whether it passed.

Load it with ``python -m pytest -p conformance.unit_sections --rfc-report FILE``. A
test's sections come from ``@pytest.mark.rfc("9113", "6.9.1")`` markers and from the
citation its docstring starts with, e.g. ``\"\"\"RFC 9113 §6.9.1: ...\"\"\"`` (several
sections: ``RFC 6455 §5.5, §5.5.1``). The file written is a schema-1 result
(conformance/RESULTS.md) with suite ``unit``: one case per cited test.

Citations are read where the items are collected and carried on
``report.user_properties``, so the plugin also works under pytest-xdist.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.report.schema import CaseResult, CaseStatus, SuiteResult, utc_now

_RFC = re.compile(r"RFC\s*(\d{3,5})")
_SECTION = re.compile(r"(?:§|[Ss]ection)\s*(\d+(?:\.\d+)*)")
_PROPERTY = "rfc_refs"


@dataclass(frozen=True, order=True)
class RfcRef:
    """One citation: ``RFC 9113`` and a section (``""`` = the RFC as a whole)."""

    rfc: str
    section: str

    def to_dict(self) -> dict[str, str]:
        return {"rfc": self.rfc, "section": self.section}


def refs_from_text(text: str) -> list[RfcRef]:
    """Every ``RFC NNNN §x.y[, §z]`` citation in *text*, in order, without repeats."""
    refs: list[RfcRef] = []
    matches = list(_RFC.finditer(text))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        # Sections count only in the sentence of the citation, not anywhere after it.
        chunk = re.split(r"[\n:]", text[match.end():end], maxsplit=1)[0]
        sections = [s.rstrip(".") for s in _SECTION.findall(chunk)] or [""]
        refs += [RfcRef(f"RFC {match.group(1)}", s) for s in sections]
    return list(dict.fromkeys(refs))


def refs_for_item(item: pytest.Item) -> list[RfcRef]:
    """Markers first, then the docstring citation (first paragraph of the docstring)."""
    refs = [
        RfcRef(f"RFC {str(m.args[0]).removeprefix('RFC').strip()}", str(m.args[1]).lstrip("§"))
        for m in item.iter_markers("rfc") if len(m.args) >= 2
    ]
    doc = getattr(getattr(item, "function", None), "__doc__", None) or ""
    first_paragraph = doc.strip().split("\n\n", 1)[0]
    refs += refs_from_text(first_paragraph)
    return list(dict.fromkeys(refs))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--rfc-report", default=None,
                     help="write the RFC-indexed results (schema 1, suite 'unit') here")
    parser.addoption("--rfc-target", default="blackbull", help="target name for the report")
    parser.addoption("--rfc-cited-only", action="store_true",
                     help="run only the tests that cite an RFC section (the report's cases); "
                          "the others are deselected")
    parser.addoption("--rfc-keep", action="append", default=[],
                     help="with --rfc-cited-only: also run every test under this path "
                          "(a suite that writes its own result file from all its tests)")


def pytest_configure(config: pytest.Config) -> None:
    # BB_RFC_REPORT lets a plain `python -m pytest` (the README's test command in CI) write
    # the same file, so the conformance run can reuse it instead of running the tests again.
    # Popped, so pytest runs that the tests themselves start do not overwrite the file.
    path = config.getoption("--rfc-report") or os.environ.pop("BB_RFC_REPORT", None)
    # Only the process that owns the session writes the file (xdist workers do not).
    if path and not hasattr(config, "workerinput"):
        config.pluginmanager.register(_Collector(Path(path), config), "rfc-collector")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    uncited = []
    for item in items:
        refs = refs_for_item(item)
        if refs:
            item.user_properties.append((_PROPERTY, json.dumps([r.to_dict() for r in refs])))
        else:
            uncited.append(item)
    # A test that cites no section is no case of the report: the conformance run leaves
    # it to the README's test command, which runs everything.
    if config.getoption("--rfc-cited-only", False) and uncited:
        keep = tuple(f"{p.rstrip('/')}{sep}" for p in config.getoption("--rfc-keep") or []
                     for sep in ("/", "::"))
        dropped = [i for i in uncited if not (keep and i.nodeid.startswith(keep))]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            gone = set(map(id, dropped))
            items[:] = [i for i in items if id(i) not in gone]


_RANK = {CaseStatus.PASS: 0, CaseStatus.SKIPPED: 1, CaseStatus.INFORMATIONAL: 1,
         CaseStatus.FAIL: 2, CaseStatus.ERROR: 3}


class _Collector:
    """Fold the setup/call/teardown reports of each cited test into one case."""

    def __init__(self, path: Path, config: pytest.Config) -> None:
        self.path = path
        self.config = config
        self.cases: dict[str, CaseResult] = {}
        self.started = utc_now()
        self.t0 = time.monotonic()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        raw = dict(report.user_properties).get(_PROPERTY)
        if not raw:
            return
        status, message = _status_of(report)
        if status is None:
            return
        case = self.cases.get(report.nodeid)
        if case is None:
            refs: list[dict[str, Any]] = json.loads(raw)
            case = CaseResult(id=report.nodeid, status=status.value, rfc=refs[0]["rfc"],
                              section=refs[0]["section"], message=message,
                              extra={"refs": refs})
            self.cases[report.nodeid] = case
        elif _RANK[status] > _RANK[CaseStatus(case.status)]:
            case.status, case.message = status.value, message
        if hasattr(report, "wasxfail"):
            case.extra["xfail"] = True  # a declared known failure: reported, never gated

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        result = SuiteResult(
            suite="unit", variant="pytest", target=self.config.getoption("--rfc-target"),
            tool={"name": "pytest", "version": pytest.__version__, "runner": "pytest"},
            started=self.started, cases=sorted(self.cases.values(), key=lambda c: c.id),
        )
        result.duration_s = time.monotonic() - self.t0
        result.extra["exitstatus"] = int(exitstatus)
        if int(exitstatus) not in (0, 1):
            result.status = "error"
            result.message = f"pytest exited with status {int(exitstatus)}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")


def _status_of(report: pytest.TestReport) -> tuple[CaseStatus | None, str]:
    """Map one phase report; ``None`` when the phase adds nothing (passing setup)."""
    if hasattr(report, "wasxfail"):
        # xfail documents a known non-compliance: the requirement is not met.
        if report.skipped:
            return CaseStatus.FAIL, f"xfail: {report.wasxfail}"
        return CaseStatus.PASS, ""
    if report.failed:
        status = CaseStatus.FAIL if report.when == "call" else CaseStatus.ERROR
        crash = getattr(report.longrepr, "reprcrash", None)
        if crash is not None and getattr(crash, "message", ""):
            return status, str(crash.message)[:500]
        text = str(report.longrepr).strip().splitlines()
        return status, (text[-1] if text else "")[:500]
    if report.skipped:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        return CaseStatus.SKIPPED, str(reason)[:500]
    if report.when == "call":
        return CaseStatus.PASS, ""
    return None, ""
