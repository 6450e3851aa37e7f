"""Private virtualenvs for peers that clash with our package or the main environment.

Peers such as the published ``blackbull==0.81.0`` (same import name as ours),
daphne (pulls Twisted) and granian live in ``.cache/venvs/<name>`` so that the
main environment, and our own in-tree package, stay untouched.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from conformance.targets.base import REPO_ROOT, TargetUnavailable


def create_venv(path: Path, requirements: Sequence[str], python: str | None = None) -> None:
    """Create a venv at *path* and pip-install *requirements*; idempotent and locked."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.parent / f".{path.name}.lock"
    # Two harnesses may ask for the same peer at once; the lock makes the
    # second one wait and then find the finished venv.
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = path / ".installed"
        if marker.exists():
            return
        shutil.rmtree(path, ignore_errors=True)
        try:
            _run([python or sys.executable, "-m", "venv", str(path)])
            pip = [str(path / "bin" / "python"), "-m", "pip", "install", "--quiet",
                   "--disable-pip-version-check"]
            if requirements:
                _run([*pip, *requirements])
        except TargetUnavailable:
            shutil.rmtree(path, ignore_errors=True)
            raise
        marker.write_text("\n".join(requirements) + "\n")


def _run(argv: list[str]) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise TargetUnavailable(f"{' '.join(argv)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def run_install(target: object, marker: Path, digest: str) -> None:
    """Run a target file's ``install`` command once (cwd = its directory), then mark it done.

    The marker holds a digest of the target file, so editing the file installs again.
    """
    from conformance.targets.base import Target
    from conformance.targets.placeholders import render

    assert isinstance(target, Target)
    marker.parent.mkdir(parents=True, exist_ok=True)
    with open(marker.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and marker.read_text().strip() == digest:
            return
        values = {"python": target.python(), "here": str(target.here), "repo": str(REPO_ROOT)}
        argv = [render(a, values) for a in target.install_argv]
        try:
            proc = subprocess.run(argv, cwd=target.here, capture_output=True, text=True,
                                  timeout=1800)
        except (OSError, subprocess.SubprocessError) as exc:
            raise TargetUnavailable(f"install {' '.join(argv)}: {exc}") from None
        if proc.returncode != 0:
            raise TargetUnavailable(f"install {' '.join(argv)} exited {proc.returncode}:\n"
                                    f"{proc.stdout[-1500:]}{proc.stderr[-1500:]}")
        marker.write_text(digest + "\n")
