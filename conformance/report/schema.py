"""The common result file every harness writes into ``reports/raw/`` (schema 1).

The shape is fixed by ``conformance/RESULTS.md``; these dataclasses are the one place
that reads and writes it, so harnesses and the report builder cannot drift apart.
Unknown keys in a file are kept in ``extra`` so newer harnesses stay readable.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1


class CaseStatus(StrEnum):
    """Outcome of one case; only ``PASS`` counts as a pass anywhere in the report."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    NOT_SUPPORTED = "not-supported"
    INFORMATIONAL = "informational"
    SKIPPED = "skipped"


class RunStatus(StrEnum):
    """Whether the tool itself ran (``ok``) or could not (``error``)."""

    OK = "ok"
    ERROR = "error"


STATUS_ORDER: tuple[str, ...] = tuple(s.value for s in CaseStatus)


@dataclass
class CaseResult:
    """One case of one suite run, e.g. h2spec ``http2/5.1/3``."""

    id: str
    status: str
    rfc: str = ""
    section: str = ""
    description: str = ""
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "rfc": self.rfc,
            "section": self.section,
            "description": self.description,
            "status": self.status,
            "message": self.message,
        }
        data.update(self.extra)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CaseResult:
        known = {"id", "rfc", "section", "description", "status", "message"}
        status = str(data.get("status", CaseStatus.ERROR))
        if status not in STATUS_ORDER:
            # An unknown status is not evidence of a pass.
            status = CaseStatus.ERROR.value
        return cls(
            id=str(data["id"]),
            status=status,
            rfc=str(data.get("rfc", "")),
            section=str(data.get("section", "")),
            description=str(data.get("description", "")),
            message=str(data.get("message", "")),
            extra={k: v for k, v in data.items() if k not in known},
        )


def summarize(cases: list[CaseResult]) -> dict[str, int]:
    """Count cases per status; ``total`` is every case, whatever its status."""
    summary = {status: 0 for status in STATUS_ORDER}
    for case in cases:
        summary[case.status] = summary.get(case.status, 0) + 1
    summary["total"] = len(cases)
    return summary


def utc_now() -> str:
    """An ISO-8601 UTC timestamp with a ``Z`` suffix, as RESULTS.md shows."""
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class SuiteResult:
    """One harness run: one suite, one variant, one target."""

    suite: str
    variant: str
    target: str
    tool: dict[str, str]
    status: str = RunStatus.OK.value
    message: str = ""
    started: str = field(default_factory=utc_now)
    duration_s: float = 0.0
    cases: list[CaseResult] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Stable identity of a run inside a report: ``suite/variant@target``."""
        return f"{self.suite}/{self.variant}@{self.target}"

    @property
    def summary(self) -> dict[str, int]:
        return summarize(self.cases)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "schema": SCHEMA_VERSION,
            "suite": self.suite,
            "variant": self.variant,
            "target": self.target,
            "tool": dict(self.tool),
            "started": self.started,
            "duration_s": round(self.duration_s, 3),
            "status": self.status,
            "message": self.message,
            "cases": [case.to_dict() for case in self.cases],
            "summary": self.summary,
        }
        data.update(self.extra)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SuiteResult:
        known = {
            "schema", "suite", "variant", "target", "tool", "started", "duration_s",
            "status", "message", "cases", "summary",
        }
        status = str(data.get("status", RunStatus.ERROR))
        return cls(
            suite=str(data["suite"]),
            variant=str(data.get("variant", "")),
            target=str(data.get("target", "")),
            tool={str(k): str(v) for k, v in dict(data.get("tool", {})).items()},
            status=status if status in (RunStatus.OK, RunStatus.ERROR) else RunStatus.ERROR,
            message=str(data.get("message", "")),
            started=str(data.get("started", "")),
            duration_s=float(data.get("duration_s", 0.0) or 0.0),
            cases=[CaseResult.from_dict(c) for c in data.get("cases", [])],
            extra={k: v for k, v in data.items() if k not in known},
        )

    def write(self, directory: Path, name: str | None = None) -> Path:
        """Write this run as ``<directory>/<name>.json`` (default: suite-target-variant)."""
        directory.mkdir(parents=True, exist_ok=True)
        stem = name or f"{self.suite}-{self.target}-{self.variant}".replace("/", "_")
        path = directory / f"{stem}.json"
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path


def error_result(
    suite: str, variant: str, target: str, tool: dict[str, str], message: str
) -> SuiteResult:
    """A run that could not happen: status error, no cases, never a pass."""
    return SuiteResult(
        suite=suite, variant=variant, target=target, tool=tool,
        status=RunStatus.ERROR.value, message=message,
    )


def load_result(path: Path) -> SuiteResult:
    """Read one raw result file; a file that does not parse becomes an error run."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return SuiteResult.from_dict(data)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return error_result(
            suite=path.stem, variant="", target="", tool={},
            message=f"unreadable result file {path.name}: {exc}",
        )
