"""Which way of running ``wstest`` this machine offers, and how to call it.

Order of preference (first available wins unless one is forced):

1. ``docker`` — the official ``crossbario/autobahn-testsuite`` image, when
   ``docker info`` succeeds (an engine is reachable, not just the client);
2. ``python2.7`` — the unmodified PyPI ``autobahntestsuite`` in a CPython 2.7
   virtualenv under ``.cache/autobahn/py27``;
3. ``python3-port`` — the same sdist converted to Python 3 at install time by
   :mod:`conformance.autobahn.port_py3`, in ``.cache/autobahn/py3``.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from conformance.targets.base import CACHE_DIR

RUNNER_NAMES = ("docker", "python2.7", "python3-port")
DOCKER_IMAGE = "crossbario/autobahn-testsuite"
SUITE_VERSION = "25.10.1"
AUTOBAHN_DIR = CACHE_DIR / "autobahn"


class RunnerUnavailable(RuntimeError):
    """The requested runner cannot run on this machine (reason in the message)."""


def docker_engine_available() -> bool:
    """True when a Docker engine answers, not merely when the client is installed."""
    if shutil.which("docker") is None:
        return False
    try:
        proc = subprocess.run(["docker", "info"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def find_python27() -> Path | None:
    """A CPython 2.7 interpreter: pyenv versions first, then ``python2.7`` on PATH."""
    roots: list[str] = []
    try:
        out = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=10)
        if out.returncode == 0 and out.stdout.strip():
            roots.append(out.stdout.strip())
    except (OSError, subprocess.TimeoutExpired):
        pass
    roots.append(os.path.expanduser("~/.pyenv"))
    for root in roots:
        for candidate in sorted(glob.glob(f"{root}/versions/2.7.*/bin/python"), reverse=True):
            if os.access(candidate, os.X_OK):
                return Path(candidate)
    found = shutil.which("python2.7")
    return Path(found) if found else None


def lib2to3_available() -> bool:
    """lib2to3 ships with CPython up to 3.12; the py3 port needs it."""
    return importlib.util.find_spec("lib2to3") is not None


@dataclass(frozen=True)
class Probe:
    """The facts runner selection depends on; tests substitute fakes."""

    docker: Callable[[], bool] = docker_engine_available
    python27: Callable[[], Path | None] = find_python27
    lib2to3: Callable[[], bool] = lib2to3_available


@dataclass(frozen=True)
class Selection:
    name: str
    reasons: dict[str, str] = field(default_factory=dict)  # why earlier runners were skipped


def select_runner(forced: str | None = None, probe: Probe | None = None) -> Selection:
    """Pick the runner: *forced* if given (checked), else the first available in order."""
    probe = probe or Probe()
    checks: dict[str, Callable[[], str | None]] = {
        "docker": lambda: None if probe.docker() else "`docker info` failed (no engine)",
        "python2.7": lambda: None if probe.python27() else "no CPython 2.7 interpreter found",
        "python3-port": lambda: None if probe.lib2to3() else "lib2to3 is not available",
    }
    if forced is not None:
        if forced not in checks:
            raise ValueError(f"unknown runner {forced!r}; choose from {', '.join(RUNNER_NAMES)}")
        reason = checks[forced]()
        if reason:
            raise RunnerUnavailable(f"{forced}: {reason}")
        return Selection(forced)
    skipped: dict[str, str] = {}
    for name in RUNNER_NAMES:
        reason = checks[name]()
        if reason is None:
            return Selection(name, skipped)
        skipped[name] = reason
    raise RunnerUnavailable("; ".join(f"{k}: {v}" for k, v in skipped.items()))


@dataclass(frozen=True)
class Runner:
    """A ready-to-call wstest: argv prefix, and the interpreter to query the suite with."""

    name: str
    version: str
    wstest: tuple[str, ...]          # argv prefix up to and including "wstest"
    python: Path | None = None       # interpreter with autobahntestsuite importable

    def argv(self, mode: str, spec: str, *extra: str) -> list[str]:
        return [*self.wstest, "-m", mode, "-s", spec, *extra]

    def case_ids(self) -> list[str] | None:
        """All case ids the installed suite knows, in suite order (None if unknown)."""
        if self.python is None:
            return None
        snippet = ("from autobahntestsuite.case import Cases, CaseBasename\n"
                   "n = len(CaseBasename)\n"
                   "print('\\n'.join('.'.join(c.__name__[n:].split('_')) for c in Cases))\n")
        proc = subprocess.run([str(self.python), "-c", snippet], capture_output=True,
                              text=True, timeout=120)
        if proc.returncode != 0:
            return None
        return [line for line in proc.stdout.split() if line]


def prepare_runner(name: str, workdir: Path) -> Runner:
    """Install (once) and describe the runner called *name*; *workdir* is mounted for docker."""
    from conformance.autobahn import install

    if name == "docker":
        mount = f"{workdir.resolve()}:/work"
        return Runner("docker", f"{DOCKER_IMAGE}:latest",
                      ("docker", "run", "--rm", "--network", "host", "-v", mount, "-w", "/work",
                       DOCKER_IMAGE, "wstest"))
    if name == "python2.7":
        python27 = find_python27()
        if python27 is None:
            raise RunnerUnavailable("python2.7: no CPython 2.7 interpreter found")
        venv = install.ensure_py27(python27)
        return Runner(name, SUITE_VERSION, (str(venv / "bin" / "wstest"),), venv / "bin" / "python")
    if name == "python3-port":
        venv = install.ensure_py3_port()
        return Runner(name, SUITE_VERSION, (str(venv / "bin" / "wstest"),), venv / "bin" / "python")
    raise ValueError(f"unknown runner {name!r}")
