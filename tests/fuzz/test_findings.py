"""Every input the fuzzers ever found (``fuzz/findings/<target>/``) is replayed: each
finding stays fixed."""
from __future__ import annotations

from pathlib import Path

import pytest

from fuzz.targets import TARGETS

FINDINGS = Path(__file__).resolve().parents[2] / "fuzz" / "findings"
CASES = sorted((d.name, f) for d in FINDINGS.glob("*") if d.name in TARGETS
               for f in d.iterdir() if f.is_file() and not f.name.startswith("."))


@pytest.mark.parametrize(("target", "path"), CASES, ids=[f"{t}/{p.name}" for t, p in CASES])
def test_finding_no_longer_fails(target: str, path: Path) -> None:
    """A saved crash input of a target now runs through it without an exception."""
    TARGETS[target](path.read_bytes())
