"""Which h2spec runs (issue 14 §2): $H2SPEC exactly, else v2.6.0 found or built from the tag's
source with the version stamped, and only then anything older — never silently."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from conformance.h2spec import binary
from conformance.h2spec.binary import H2specUnavailable

FAKE_MAIN = '''package main

import "fmt"

var VERSION = "2.0.0"
var COMMIT = "(Unknown)"

func main() { fmt.Printf("Version: %s (%s)\\n", VERSION, COMMIT) }
'''



def fake_source(tmp_path: Path) -> Path:
    """A Go tree shaped like h2spec's (cmd/h2spec, main.VERSION/COMMIT), no dependencies."""
    tree = tmp_path / "h2spec-src"
    (tree / "cmd" / "h2spec").mkdir(parents=True)
    (tree / "go.mod").write_text("module example.com/fakeh2spec\n\ngo 1.20\n")
    (tree / "cmd" / "h2spec" / "main.go").write_text(FAKE_MAIN)
    return tree


def test_a_missing_h2spec_path_is_an_error_not_a_fallback(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    monkeypatch.setenv("H2SPEC", str(tmp_path / "no-such-h2spec"))
    with pytest.raises(H2specUnavailable, match="H2SPEC=.*no-such-h2spec"):
        binary.locate()
    with pytest.raises(H2specUnavailable, match="H2SPEC"):
        binary.locate(allow_install=False)


def test_the_named_binary_is_used_as_is(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    built = binary.build_from_source(fake_source(tmp_path), tmp_path / "out")
    monkeypatch.setenv("H2SPEC", str(built.path))
    found = binary.locate()
    assert found.path == built.path and found.installed_from == "$H2SPEC"
    assert found.tool_info()["path"] == str(built.path)


def test_a_source_build_stamps_the_pinned_version(tmp_path: Path) -> None:
    """-ldflags -X main.VERSION=2.6.0 -X main.COMMIT=70ac229: the binary says what it is."""
    built = binary.build_from_source(fake_source(tmp_path), tmp_path / "out")
    assert built.version == "2.6.0 (70ac229)" and built.pinned
    info = built.tool_info()
    assert info["version"] == "2.6.0" and info["binary_version"] == "2.6.0 (70ac229)"
    assert info["pinned"] is True


def test_a_source_tarball_builds_too(tmp_path: Path) -> None:
    import tarfile

    tree = fake_source(tmp_path)
    tarball = tmp_path / "h2spec-2.6.0.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(tree, arcname="h2spec-2.6.0")
    assert binary.build_from_source(tarball, tmp_path / "out").pinned


def test_an_unreachable_release_fails_fast(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    t0 = time.monotonic()
    with pytest.raises(H2specUnavailable, match="release download"):
        binary.download_release(tmp_path, f"http://127.0.0.1:{port}/h2spec.tar.gz", timeout=2)
    assert time.monotonic() - t0 < 10


def test_install_order_release_then_source_then_latest(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    """No release reachable: the H2SPEC_SRC tree is built into the cache; @latest not tried."""
    monkeypatch.setattr(binary, "BUILD_DIR", tmp_path / "cache")
    monkeypatch.setenv("H2SPEC_SRC", str(fake_source(tmp_path)))
    tried: list[str] = []

    def no_release(dest: Path) -> binary.H2spec:
        tried.append("release")
        raise H2specUnavailable("offline")

    def latest() -> binary.H2spec:
        tried.append("latest")
        raise AssertionError("@latest must not run when the source build works")

    monkeypatch.setattr(binary, "go_install_latest", latest)
    notes: list[str] = []
    found = binary.install(notes, download=no_release)
    assert tried == ["release"] and found.pinned
    assert found.path == tmp_path / "cache" / "h2spec"
    assert any("release: offline" in n for n in notes)


def test_a_non_pinned_h2spec_is_marked_so_the_report_can_say_so(tmp_path: Path) -> None:
    """The report shows an h2spec that is not 2.6.0 in amber, with its own case count."""
    from conformance.report.build import build_report, write_report
    from conformance.report.schema import SuiteResult
    from conformance.targets import REPO_ROOT

    old = binary.H2spec(tmp_path / "h2spec", "2.0.0", "v2.2.1+incompatible", "@latest")
    info = old.tool_info()
    assert not old.pinned and info["pinned"] is False and info["version"] == "2.0.0"
    info["cases"] = 145
    SuiteResult("h2spec", "h2c", "blackbull", info).write(tmp_path / "raw")
    md = write_report(build_report(tmp_path / "raw", REPO_ROOT, "blackbull"),
                      tmp_path).markdown.read_text()
    assert "🟧 **not the pinned 2.6.0**: 145 cases" in md


def test_the_pinned_binary_reports_146_cases() -> None:
    found = binary.locate()
    assert found.pinned and found.case_count == 146
