"""Autobahn ``reports/*/index.json`` → the common result JSON (conformance/RESULTS.md).

Autobahn grades every case with a ``behavior`` (the data exchanged) and a
``behaviorClose`` (the closing handshake).  Our status mapping:

* behavior ``OK`` and close ``OK``                    → ``pass``
* behavior or close ``INFORMATIONAL``, neither failing → ``informational``
* anything else (``NON-STRICT``, ``FAILED``, ``UNIMPLEMENTED``, ``WRONG CODE``,
  ``UNCLEAN``, …)                                       → ``fail``, behavior in the message
* a case that was requested but has no entry          → ``error`` (never a pass)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = 1
STATUSES = ("pass", "fail", "error", "not-supported", "informational", "skipped")
GOOD = frozenset({"OK", "INFORMATIONAL"})

#: Autobahn's top-level case categories (group id → name).
CATEGORIES: dict[str, str] = {
    "1": "Framing", "2": "Pings/Pongs", "3": "Reserved Bits", "4": "Opcodes",
    "5": "Fragmentation", "6": "UTF-8 Handling", "7": "Close Handling",
    "9": "Limits/Performance", "10": "Misc",
    "12": "WebSocket Compression (different payloads)",
    "13": "WebSocket Compression (different parameters)",
}

#: The RFC section each group (or sub-group, checked first) exercises.
SECTIONS: dict[str, tuple[str, str]] = {
    "1": ("RFC 6455", "5.6"),       # data frames: text and binary
    "2": ("RFC 6455", "5.5.2"),     # ping/pong
    "3": ("RFC 6455", "5.2"),       # RSV bits must be 0 without an extension
    "4": ("RFC 6455", "5.2"),       # reserved opcodes
    "5": ("RFC 6455", "5.4"),       # fragmentation
    "6": ("RFC 6455", "8.1"),       # UTF-8 validity of text
    "7": ("RFC 6455", "5.5.1"),     # close frames
    "7.7": ("RFC 6455", "7.4.1"),   # valid close codes
    "7.9": ("RFC 6455", "7.4.1"),   # invalid close codes
    "7.13": ("RFC 6455", "7.4.2"),  # reserved / private close code ranges
    "9": ("RFC 6455", "10.4"),      # implementation-specific limits
    "10": ("RFC 6455", "5.4"),      # auto-fragmentation
    "12": ("RFC 7692", "7.2"),      # permessage-deflate payloads
    "13": ("RFC 7692", "7.1"),      # permessage-deflate parameters
}


@dataclass(frozen=True)
class RunInfo:
    """What the result file says about the run besides the cases."""

    target: str
    variant: str                 # ws | wss | client
    runner: str                  # docker | python2.7 | python3-port
    version: str
    started: str
    duration_s: float


def rfc_section(case_id: str) -> tuple[str, str]:
    parts = case_id.split(".")
    return SECTIONS.get(".".join(parts[:2])) or SECTIONS.get(parts[0], ("RFC 6455", ""))


def case_status(behavior: str, behavior_close: str) -> str:
    """Map Autobahn's two verdicts on one case to our status."""
    if behavior == "OK" and behavior_close == "OK":
        return "pass"
    if behavior in GOOD and behavior_close in GOOD:
        return "informational"
    return "fail"


def case_sort_key(case_id: str) -> tuple[int, ...]:
    return tuple(int(p) for p in case_id.split(".") if p.isdigit())


def resolve_patterns(all_ids: Iterable[str], patterns: Iterable[str],
                     exclude: Iterable[str] = ()) -> list[str]:
    """The case ids the suite will run for *patterns* (``*`` wildcards, prefix match as wstest does)."""
    ids = list(all_ids)

    def expand(pats: Iterable[str]) -> set[str]:
        chosen: set[str] = set()
        for pat in pats:
            if "*" in pat:
                rx = re.compile(re.escape(pat).replace(r"\*", ".*"))
                chosen.update(i for i in ids if rx.match(i))
            else:
                chosen.add(pat)
        return chosen

    return sorted(expand(patterns) - expand(exclude), key=case_sort_key)


def _case_entry(case_id: str, entry: Mapping[str, Any] | None, report_dir: Path) -> dict[str, Any]:
    rfc, section = rfc_section(case_id)
    group = case_id.split(".")[0]
    base: dict[str, Any] = {"id": case_id, "rfc": rfc, "section": section, "group": group,
                            "category": CATEGORIES.get(group, "")}
    if entry is None:
        return {**base, "description": "", "status": "error",
                "message": "requested but absent from the Autobahn report (case did not run)"}
    detail = _read_case_report(report_dir, entry.get("reportfile"))
    behavior = str(entry.get("behavior", ""))
    behavior_close = str(entry.get("behaviorClose", ""))
    status = case_status(behavior, behavior_close)
    message = ""
    if status != "pass":
        message = f"behavior={behavior} behaviorClose={behavior_close}"
        reason = "; ".join(str(detail[k]) for k in ("result", "resultClose") if detail.get(k))
        if reason:
            message += f": {reason}"
    return {**base, "description": detail.get("description", ""), "status": status,
            "message": message, "behavior": behavior, "behaviorClose": behavior_close,
            "duration_ms": entry.get("duration"), "remoteCloseCode": entry.get("remoteCloseCode")}


def _read_case_report(report_dir: Path, name: object) -> dict[str, Any]:
    if not isinstance(name, str):
        return {}
    try:
        data = json.loads((report_dir / name).read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def summarize(cases: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    summary = dict.fromkeys(STATUSES, 0)
    total = 0
    for case in cases:
        summary[case["status"]] += 1
        total += 1
    summary["total"] = total
    return summary


def convert(index_path: Path, agent: str, expected: Iterable[str] | None,
            info: RunInfo) -> dict[str, Any]:
    """Build the result document for *agent* from an Autobahn ``index.json``.

    *expected* lists the case ids that were requested; those missing from the
    index become ``error`` cases.  ``None`` takes the index's own case list.
    """
    index = json.loads(index_path.read_text(encoding="utf-8"))
    entries: Mapping[str, Any] = index.get(agent, {})
    ids = list(expected) if expected is not None else list(entries)
    ids = sorted(set(ids) | set(entries), key=case_sort_key)
    cases = [_case_entry(cid, entries.get(cid), index_path.parent) for cid in ids]
    doc = base_document(info)
    doc["cases"] = cases
    doc["summary"] = summarize(cases)
    if not entries:
        doc["status"] = "error"
        doc["message"] = f"no results for agent {agent!r} in {index_path}"
    return doc


def base_document(info: RunInfo, status: str = "ok", message: str = "") -> dict[str, Any]:
    """The result document without cases; also used when the tool could not run."""
    return {
        "schema": SCHEMA, "suite": "autobahn", "variant": info.variant, "target": info.target,
        "tool": {"name": "autobahntestsuite", "version": info.version, "runner": info.runner},
        "started": info.started, "duration_s": round(info.duration_s, 3),
        "status": status, "message": message, "cases": [], "summary": summarize([]),
    }


def behavior_counts(doc: Mapping[str, Any]) -> dict[str, int]:
    """Counts by Autobahn behavior (OK / NON-STRICT / …), as the suite's own table shows."""
    counts: dict[str, int] = {}
    for case in doc.get("cases", []):
        key = case.get("behavior") or case["status"].upper()
        counts[key] = counts.get(key, 0) + 1
    return counts
