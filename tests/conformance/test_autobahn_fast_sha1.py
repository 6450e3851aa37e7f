"""The Python 2.7 runner's OpenSSL SHA-1: same digests as the built-in, or not enabled."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conformance.autobahn import fast_sha1
from conformance.autobahn.runners import AUTOBAHN_DIR, find_python27


def _fake_venv(tmp_path: Path, check_output: str, code: int = 0) -> Path:
    """A venv whose interpreter answers the self-check with *check_output* / *code*."""
    venv = tmp_path / "venv"
    (venv / "lib" / "python2.7" / "site-packages").mkdir(parents=True)
    (venv / "bin").mkdir()
    python = venv / "bin" / "python"
    python.write_text(f"#!/bin/sh\nprintf '{check_output}'\nexit {code}\n")
    python.chmod(0o755)
    return venv


def test_enabled_only_after_the_self_check_passes(tmp_path: Path) -> None:
    venv = _fake_venv(tmp_path, "ok")
    assert fast_sha1.install(venv) == "enabled"
    site = venv / "lib" / "python2.7" / "site-packages"
    assert (site / "_bb_fast_sha1.pth").read_text() == "import _bb_fast_sha1\n"
    assert (site / "_bb_fast_sha1.py").read_text() == fast_sha1.SOURCE


@pytest.mark.parametrize(("output", "code"), [("AssertionError: digest", 1), ("", 0)])
def test_a_failed_self_check_leaves_the_builtin_sha1(tmp_path: Path, output: str,
                                                     code: int) -> None:
    venv = _fake_venv(tmp_path, output, code)
    assert fast_sha1.install(venv).startswith("left the built-in sha1")
    assert list((venv / "lib" / "python2.7" / "site-packages").iterdir()) == []


def test_shim_digests_equal_the_builtin_sha_on_python27(tmp_path: Path) -> None:
    """Runs the self-check on the real CPython 2.7 (its hashlib.sha1 is the built-in _sha)."""
    python27 = AUTOBAHN_DIR / "py27" / "bin" / "python"
    if not python27.exists():
        found = find_python27()
        if found is None:
            pytest.skip("no CPython 2.7 here")
        python27 = found
    (tmp_path / "_bb_fast_sha1.py").write_text(fast_sha1.SOURCE)
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    probe = subprocess.run([str(python27), "-c", "import cryptography"], env=env,
                           capture_output=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip(f"{python27} has no cryptography (the shim would stay off)")
    proc = subprocess.run([str(python27), "-c", fast_sha1.SELF_CHECK], env=env,
                          capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stdout) == (0, "ok"), proc.stderr
