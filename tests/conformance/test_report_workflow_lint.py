"""The GitHub workflow runs the conformance command, keeps the report, and passes actionlint."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "conformance.yml"
ACTIONLINT = "github.com/rhysd/actionlint/cmd/actionlint@latest"


def _gopath_bin() -> Path | None:
    go = shutil.which("go")
    if go is None:
        return None
    out = subprocess.run([go, "env", "GOPATH"], capture_output=True, text=True, timeout=60)
    return Path(out.stdout.strip().split(":")[0]) / "bin" if out.stdout.strip() else None


@pytest.fixture(scope="module")
def actionlint() -> str:
    """Locate actionlint on PATH or in GOPATH/bin, `go install` it when missing."""
    if found := shutil.which("actionlint"):
        return found
    gobin = _gopath_bin()
    if gobin is None:
        pytest.skip("actionlint is not installed and there is no Go toolchain to install it")
    if not (gobin / "actionlint").exists():
        proc = subprocess.run(["go", "install", ACTIONLINT], capture_output=True, text=True,
                              timeout=900)
        if proc.returncode != 0:
            pytest.skip(f"actionlint could not be installed: {proc.stderr[-300:]}")
    return str(gobin / "actionlint")


def test_workflow_passes_actionlint(actionlint: str) -> None:
    proc = subprocess.run([actionlint, "-no-color", str(WORKFLOW)], capture_output=True,
                          text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflow_runs_the_conformance_command_and_publishes_the_report() -> None:
    text = WORKFLOW.read_text()
    assert "python -m conformance" in text
    assert "crossbario/autobahn-testsuite" in text and "--autobahn-runner docker" in text
    assert "actions/upload-artifact@" in text and "path: reports/" in text
    assert "actions/upload-pages-artifact@" in text and "actions/deploy-pages@" in text
    assert "h2spec@v2.6.0" in text
