"""The documentation site: it builds strictly, its pages render in Chromium, and every
example in the guides runs.

Examples are the fenced ``python`` blocks whose first line is ``# example: NAME``; each runs
in a fresh interpreter from the repository root and proves itself with its own asserts
(most use ``blackbull.testing.TestClient``; the HTTP/2 and WebSocket ones start a real
server on a port the OS chooses)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
EXAMPLE = re.compile(r"^```python\n(# example: (?P<name>[\w-]+)\n.*?)^```", re.S | re.M)
GUIDES_WITH_EXAMPLES = ("getting-started.md", "framework.md", "http2.md", "websockets.md")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def examples() -> list[tuple[str, str]]:
    found = []
    for page in sorted(DOCS.glob("*.md")):
        for match in EXAMPLE.finditer(page.read_text(encoding="utf-8")):
            found.append((f"{page.stem}:{match['name']}", match.group(1)))
    return found


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "NO_MKDOCS_2_WARNING": "1"}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(out)], cwd=ROOT, env=_env(), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def test_mkdocs_build_strict_passes_and_writes_every_page(site):
    for page in ("index.html", "getting-started/index.html", "framework/index.html",
                 "http2/index.html", "websockets/index.html", "clients/index.html",
                 "settings/index.html", "deployment/index.html", "conformance/index.html",
                 "benchmarks/index.html", "changelog/index.html",
                 "reference/blackbull/index.html",
                 "reference/client/index.html"):
        assert (site / page).is_file(), page


def test_settings_page_is_generated_from_the_code(site):
    from blackbull.config import Settings

    html = (site / "settings" / "index.html").read_text(encoding="utf-8")
    for env, _, _ in Settings.describe():
        assert env in html, env
    assert "--bind" in html  # the blackbull --help text


def test_every_guide_has_examples_that_the_tests_run():
    names = {name.split(":")[0] + ".md" for name, _ in examples()}
    assert set(GUIDES_WITH_EXAMPLES) <= names, names


@pytest.mark.parametrize("name,code", examples(), ids=[n for n, _ in examples()])
def test_guide_example_runs(name, code):
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"


def _chromium() -> str:
    for candidate in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(candidate):
            return path
    if os.environ.get("BB_SKIP_CHROMIUM") == "1":
        pytest.skip("BB_SKIP_CHROMIUM=1: chromium was not installed on purpose")
    pytest.fail("chromium is missing: bash scripts/install-tools.sh installs it")


@pytest.mark.parametrize("page,expected", [
    ("index.html", "A Python reference implementation"),
    ("framework/index.html", "exception_handler"),
    ("settings/index.html", "BB_MAX_CONNECTIONS"),
    ("reference/blackbull/index.html", "TestClient"),
    ("reference/client/index.html", "WebSocketH2Client"),
])
def test_pages_render_in_chromium_with_navigation(site, page, expected):
    """The built page, opened by a browser: its text and the site navigation are there."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        proc = subprocess.run([_chromium(), *FLAGS, f"--user-data-dir={profile}",
                               "--virtual-time-budget=5000", "--dump-dom",
                               (site / page).as_uri()], capture_output=True, text=True,
                              timeout=120)
    dom = proc.stdout
    assert expected in dom, f"{page}: {expected!r} not rendered; stderr: {proc.stderr[-1500:]}"
    for title in ("Getting started", "The framework", "HTTP/2", "Conformance suite"):
        assert title in dom, f"{page}: navigation lacks {title!r}"
