"""The package's annotations hold: ``mypy`` with pyproject.toml's ``[tool.mypy]`` (strict on
``blackbull.protocol``, no untyped definitions elsewhere) reports no error (issue 17 item 7).

PEP 561: blackbull ships ``py.typed``, so its annotations are what every user's type
checker reads; an error here is a wrong promise to them. ``tox -e types`` runs the same
command.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: What is checked: all of blackbull (files, or folders ending in "/").
CHECKED_NOW: tuple[str, ...] = ("blackbull/",)

_DIAGNOSTIC = re.compile(r"^(?P<path>[^:\s]+\.py):\d+(?::\d+)?: (?P<level>error|note): ")
_SUMMARY = re.compile(r"^(Success: no issues found|Found \d+ errors? in \d+ files?)")


def _checked(path: str) -> bool:
    return any(path == entry or (entry.endswith("/") and path.startswith(entry))
               for entry in CHECKED_NOW)


def test_every_checked_path_exists() -> None:
    """A renamed or removed module must not drop out of the check unnoticed."""
    missing = [entry for entry in CHECKED_NOW if not (ROOT / entry).exists()]
    assert not missing, f"CHECKED_NOW names paths that do not exist: {missing}"


def test_mypy_reports_no_errors() -> None:
    """PEP 484 / PEP 561: ``mypy`` from the project root finds no error in CHECKED_NOW."""
    run = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    output = run.stdout + run.stderr
    lines = output.splitlines()
    # mypy ran to the end (exit 0 or 1 with its summary), not a crash or a bad config (2)
    assert run.returncode in (0, 1) and any(_SUMMARY.match(line) for line in lines), output
    assert run.returncode == 0, output
    ours = [(m["level"], line) for line in lines
            if (m := _DIAGNOSTIC.match(line)) and _checked(Path(m["path"]).as_posix())]
    assert not any(level == "error" for level, _ in ours), \
        "mypy:\n" + "\n".join(line for _, line in ours)
