"""Install the Autobahn|Testsuite runners under ``.cache/autobahn/`` (never into git).

The PyPI sdist ``autobahntestsuite==25.10.1`` carries no ``requirements.txt``,
so ``pip install`` alone brings no dependencies; the exact pins live in
``autobahntestsuite.egg-info/requires.txt`` inside the sdist and are installed
from there.  Each step is idempotent (a ``.installed`` marker) and locked so
two harness runs do not build the same venv at once.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conformance.autobahn.runners import AUTOBAHN_DIR, SUITE_VERSION, RunnerUnavailable

SDIST_NAME = f"autobahntestsuite-{SUITE_VERSION}"
LEGACY_VIRTUALENV = "virtualenv<20.22"   # the last line that can still create 2.7 venvs


def run(argv: list[str], cwd: Path | None = None, timeout: float = 1200) -> str:
    """Run a setup command; any failure becomes :class:`RunnerUnavailable` with its output."""
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RunnerUnavailable(
            f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return proc.stdout


@contextmanager
def locked(name: str) -> Iterator[None]:
    AUTOBAHN_DIR.mkdir(parents=True, exist_ok=True)
    with open(AUTOBAHN_DIR / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def fetch_sdist() -> Path:
    """Download and unpack the unmodified PyPI sdist; returns its source directory."""
    src = AUTOBAHN_DIR / "sdist" / SDIST_NAME
    if (src / "setup.py").exists():
        return src
    dest = AUTOBAHN_DIR / "sdist"
    dest.mkdir(parents=True, exist_ok=True)
    run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
         "--disable-pip-version-check", f"autobahntestsuite=={SUITE_VERSION}", "-d", str(dest)])
    with tarfile.open(dest / f"{SDIST_NAME}.tar.gz") as tar:
        tar.extractall(dest, filter="data")
    return src


def suite_requirements(src: Path) -> list[str]:
    """The dependency pins recorded in the sdist's egg-info (its only list of them)."""
    text = (src / "autobahntestsuite.egg-info" / "requires.txt").read_text()
    pins: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            break  # extras sections follow; the suite needs none of them
        if line:
            pins.append(line)
    return pins


def _legacy_virtualenv() -> Path:
    tool = AUTOBAHN_DIR / "vtool"
    exe = tool / "bin" / "virtualenv"
    if not exe.exists():
        shutil.rmtree(tool, ignore_errors=True)
        run([sys.executable, "-m", "venv", str(tool)])
        run([str(tool / "bin" / "python"), "-m", "pip", "install", "--quiet",
             "--disable-pip-version-check", LEGACY_VIRTUALENV])
    return exe


def ensure_py27(python27: Path) -> Path:
    """A CPython 2.7 venv with the unmodified suite and its pinned dependencies.

    The pins include ``autobahn[accelerate]``, so ``wsaccel`` (C masking and UTF-8
    validation, picked up by autobahn when importable) is installed too; and
    :mod:`conformance.autobahn.fast_sha1` gives ``hashlib.sha1`` OpenSSL's speed.
    """
    from conformance.autobahn import fast_sha1

    venv = AUTOBAHN_DIR / "py27"
    with locked("py27"):
        if (venv / ".installed").exists():
            fast_sha1.install(venv)
            return venv
        shutil.rmtree(venv, ignore_errors=True)
        src = fetch_sdist()
        run([str(_legacy_virtualenv()), "-q", "-p", str(python27), str(venv)])
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
               "--disable-pip-version-check"]
        run([*pip, *suite_requirements(src)])
        run([*pip, "--no-deps", str(src)])
        run([str(venv / "bin" / "wstest"), "--autobahnversion"])
        fast_sha1.install(venv)
        (venv / ".installed").write_text(f"autobahntestsuite=={SUITE_VERSION}\n")
    return venv


def ensure_py3_port() -> Path:
    """A Python 3 venv with the suite converted by :mod:`conformance.autobahn.port_py3`."""
    from conformance.autobahn import port_py3

    venv = AUTOBAHN_DIR / "py3"
    with locked("py3"):
        if (venv / ".installed").exists():
            return venv
        shutil.rmtree(venv, ignore_errors=True)
        port_py3.build(venv, fetch_sdist())
        (venv / ".installed").write_text(f"autobahntestsuite=={SUITE_VERSION} (py3 port)\n")
    return venv
