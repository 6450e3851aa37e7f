"""Compare two Autobahn result files case for case (e.g. python2.7 vs python3-port runner).

``python -m conformance.autobahn.compare [--common] A.json B.json`` prints every
case whose verdict (behavior, behaviorClose, status) differs, and exits 1 if any
does.  ``--common`` compares only the cases both files contain (a subset run
against a full run).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conformance.autobahn.results import case_sort_key

Verdict = tuple[str, str, str]


def verdicts(doc: Mapping[str, Any]) -> dict[str, Verdict]:
    return {c["id"]: (c.get("behavior", ""), c.get("behaviorClose", ""), c["status"])
            for c in doc.get("cases", [])}


def differences(a: Mapping[str, Any], b: Mapping[str, Any], common: bool = False
                ) -> list[tuple[str, Verdict | None, Verdict | None]]:
    """Cases whose verdicts differ, including cases present on one side only unless *common*."""
    va, vb = verdicts(a), verdicts(b)
    ids = sorted((set(va) & set(vb)) if common else (set(va) | set(vb)), key=case_sort_key)
    return [(i, va.get(i), vb.get(i)) for i in ids if va.get(i) != vb.get(i)]


def main(argv: list[str] | None = None) -> int:
    args = list(argv if argv is not None else sys.argv[1:])
    common = "--common" in args
    args = [a for a in args if a != "--common"]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    a, b = (json.loads(Path(p).read_text()) for p in args)
    diff = differences(a, b, common)
    print(f"{args[0]}: runner={a['tool']['runner']} {len(a['cases'])} cases")
    print(f"{args[1]}: runner={b['tool']['runner']} {len(b['cases'])} cases")
    for case_id, left, right in diff:
        print(f"  {case_id}: {left} != {right}")
    print(f"{len(diff)} case(s) differ")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
