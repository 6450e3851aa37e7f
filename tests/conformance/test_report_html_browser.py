"""compliance.html in headless Chromium: it renders, logs no console errors, and shows the
same numbers as compliance.json (checked by its inline script and again from the DOM)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conformance.report.build import build_report, write_report
from conformance.report.model import Expectation
from conformance.report.schema import CaseResult, SuiteResult

REPO = Path(__file__).resolve().parents[2]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0"]

pytestmark = pytest.mark.slow


def _find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


@pytest.fixture(scope="module")
def chromium() -> str:
    """Locate Chromium, installing it from apt when we are root and it is missing."""
    found = _find_chromium()
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "chromium"], capture_output=True,
                       timeout=900)
        found = _find_chromium()
    if found is None:
        pytest.skip("Chromium is not installed and could not be installed here")
    return found


def _dump_dom(chromium: str, page: Path) -> tuple[str, str]:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        proc = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", "--dump-dom",
                               page.as_uri()], capture_output=True, text=True, timeout=120)
    return proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("report")
    raw = out / "raw"
    cases = [CaseResult(f"http2/6.{i}/1", "pass" if i % 4 else "fail", "RFC 9113", f"6.{i}",
                        f"case <{i}> & \"quotes\"", "" if i % 4 else "expected: GOAWAY")
             for i in range(1, 11)]
    for target in ("blackbull", "hypercorn"):
        SuiteResult("h2spec", "h2c", target, {"name": "h2spec", "version": "2"},
                    cases=cases).write(raw)
    SuiteResult("unit", "pytest", "blackbull", {"name": "pytest", "version": "9"}, cases=[
        CaseResult("tests/x.py::test_a</script>", "pass", "RFC 6455", "5.5.1")]).write(raw)
    SuiteResult("rfc8441-matrix", "client", "blackbull", {"name": "pytest"}, cases=[
        CaseResult("chromium->blackbull", "pass", "RFC 8441", "5",
                   extra={"client": "chromium", "server": "blackbull"})]).write(raw)
    built = build_report(raw, REPO, "blackbull", [
        Expectation("autobahn", "blackbull", "ws"),
        # A missing matrix variant: red at the top and again inside the matrix section.
        Expectation("rfc8441-matrix", "blackbull", "h2-bridge")])
    paths = write_report(built, out)
    return paths.html, json.loads(paths.json.read_text())


def test_page_is_self_contained(report: tuple[Path, dict]) -> None:
    html = report[0].read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html and "url(" not in html
    assert html.count("<details>") >= len(report[1]["runs"])


def test_page_renders_without_console_errors_and_verifies_itself(
        chromium: str, report: tuple[Path, dict]) -> None:
    dom, log = _dump_dom(chromium, report[0])
    assert "<h1>Compliance report" in dom
    console = [ln for ln in log.splitlines() if "CONSOLE" in ln]
    assert console == []
    assert re.search(r'id="selfcheck" data-ok="true"', dom), dom[-2000:]


def test_numbers_on_the_page_equal_the_json(chromium: str, report: tuple[Path, dict]) -> None:
    dom, _ = _dump_dom(chromium, report[0])
    shown = {(m["key"], m["field"]): int(m["value"]) for m in re.finditer(
        r'data-key="(?P<key>[^"]+)" data-field="(?P<field>\w+)">(?P<value>\d+)<', dom)}
    data = report[1]
    expected = {(h["key"], f): h[f] for h in data["headline"] for f in ("pass", "total")}
    assert shown == expected
    assert shown[("h2spec/h2c@blackbull", "pass")] == 8
    assert dom.count('class="banner run-banner"') == len(data["banners"]) == 2
    assert "autobahn/ws@blackbull could not run" in dom
    assert "RFC 8441 matrix: <span>rfc8441-matrix/h2-bridge@blackbull" in dom


def test_tampered_number_is_caught_by_the_page_check(
        chromium: str, report: tuple[Path, dict], tmp_path: Path) -> None:
    html = report[0].read_text()
    tampered = re.sub(r'(data-key="h2spec/h2c@blackbull" data-field="pass">)8<', r"\g<1>10<",
                      html, count=1)
    assert tampered != html
    page = tmp_path / "tampered.html"
    page.write_text(tampered)
    dom, _ = _dump_dom(chromium, page)
    assert 'data-ok="false"' in dom and "MISMATCH" in dom
