"""The pytest plugin that indexes tests by the RFC sections their docstrings or markers cite."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.unit_sections import RfcRef, refs_from_text

REPO = Path(__file__).resolve().parents[2]

SAMPLE = '''
import pytest


def test_window_overflow():
    """RFC 9113 §6.9.1: a window above 2^31-1 is a FLOW_CONTROL_ERROR."""


def test_close_codes_broken():
    """RFC 6455 §5.5.1, §7.4.1: close frame payload starts with a code."""
    assert 1 == 2


@pytest.mark.rfc("7541", "5.2")
def test_marker_only():
    """Huffman padding longer than 7 bits is an error."""


@pytest.mark.skip(reason="not yet")
def test_skipped():
    """RFC 9218 §4.1: urgency defaults to 3."""


@pytest.mark.xfail(reason="known gap", strict=False)
def test_known_gap():
    """RFC 9112 §6.3: bad framing."""
    assert False


@pytest.fixture
def broken():
    raise RuntimeError("fixture exploded")


def test_setup_error(broken):
    """RFC 8441 §4: :protocol needs SETTINGS_ENABLE_CONNECT_PROTOCOL."""


def test_uncited():
    """Nothing to cite here."""
'''


def test_docstring_citations_with_several_sections() -> None:
    assert refs_from_text("RFC 6455 §5.5.1, §7.4.1: close codes") == [
        RfcRef("RFC 6455", "5.5.1"), RfcRef("RFC 6455", "7.4.1")]
    assert refs_from_text("RFC 9113 Section 6.9.1. and RFC 7541 §4.2") == [
        RfcRef("RFC 9113", "6.9.1"), RfcRef("RFC 7541", "4.2")]
    assert refs_from_text("per RFC 8441") == [RfcRef("RFC 8441", "")]
    # A section mentioned after the citation's colon is prose, not a citation.
    assert refs_from_text("RFC 9113 §5.1: unlike §8.1 this") == [RfcRef("RFC 9113", "5.1")]


@pytest.mark.parametrize("workers", [0, 2])
def test_plugin_writes_rfc_indexed_results(tmp_path: Path, workers: int) -> None:
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    out = tmp_path / "unit.json"
    argv = [sys.executable, "-m", "pytest", str(tmp_path / "test_sample.py"), "-q",
            "-p", "no:cacheprovider", "-p", "conformance.unit_sections", "--rfc-report",
            str(out), "--rootdir", str(tmp_path), "-c", "/dev/null"]
    if workers:
        argv += ["-n", str(workers)]
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 1, proc.stdout + proc.stderr  # one test fails on purpose
    data = json.loads(out.read_text())
    assert data["schema"] == 1 and data["suite"] == "unit" and data["status"] == "ok"
    cases = {c["id"].split("::")[1]: c for c in data["cases"]}
    assert "test_uncited" not in cases
    assert (cases["test_window_overflow"]["status"], cases["test_window_overflow"]["rfc"],
            cases["test_window_overflow"]["section"]) == ("pass", "RFC 9113", "6.9.1")
    assert cases["test_close_codes_broken"]["status"] == "fail"
    assert cases["test_close_codes_broken"]["refs"] == [
        {"rfc": "RFC 6455", "section": "5.5.1"}, {"rfc": "RFC 6455", "section": "7.4.1"}]
    assert (cases["test_marker_only"]["rfc"], cases["test_marker_only"]["section"]) == (
        "RFC 7541", "5.2")
    assert cases["test_skipped"]["status"] == "skipped"
    assert cases["test_known_gap"]["status"] == "fail"
    # marked for the gate: a declared known failure is reported, never gated
    assert cases["test_known_gap"]["xfail"] is True
    assert "xfail" not in cases["test_window_overflow"]
    assert cases["test_setup_error"]["status"] == "error"
    assert "fixture exploded" in cases["test_setup_error"]["message"]
    assert data["summary"] == {"pass": 2, "fail": 2, "error": 1, "not-supported": 0,
                               "informational": 0, "skipped": 1, "total": 6}


@pytest.mark.parametrize("workers", [0, 2])
def test_cited_only_runs_the_reports_cases_and_nothing_else(tmp_path: Path, workers: int) -> None:
    """``--rfc-cited-only`` (the conformance run's unit job): the same cases in the report,
    the uncited test deselected, not run."""
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    full, cited = tmp_path / "full.json", tmp_path / "cited.json"
    for out, extra in ((full, []), (cited, ["--rfc-cited-only"])):
        argv = [sys.executable, "-m", "pytest", str(tmp_path / "test_sample.py"), "-v",
                "-p", "no:cacheprovider", "-p", "conformance.unit_sections", "--rfc-report",
                str(out), "--rootdir", str(tmp_path), "-c", "/dev/null", *extra]
        if workers:
            argv += ["-n", str(workers)]
        proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=300,
                              env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
        assert proc.returncode == 1, proc.stdout + proc.stderr
        ran_uncited = any("test_uncited" in line and "PASSED" in line
                          for line in proc.stdout.splitlines())
        assert ran_uncited == (not extra), proc.stdout
        if extra and not workers:  # xdist workers deselect; the controller does not count
            assert "1 deselected" in proc.stdout

    def ids(path: Path) -> dict[str, str]:
        return {c["id"]: c["status"] for c in json.loads(path.read_text())["cases"]}
    assert ids(full) == ids(cited) and len(ids(cited)) == 6
    # --rfc-keep PATH: every test under it runs, cited or not.
    proc = subprocess.run([sys.executable, "-m", "pytest", str(tmp_path / "test_sample.py"),
                           "-v", "-p", "no:cacheprovider", "-p", "conformance.unit_sections",
                           "--rootdir", str(tmp_path), "-c", "/dev/null", "--rfc-cited-only",
                           "--rfc-keep", "test_sample.py"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert "test_uncited PASSED" in proc.stdout, proc.stdout
