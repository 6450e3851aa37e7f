"""``python -m conformance --url …`` / ``--target-file``: which suites a server gets, and the
h2spec counts through the harness equal h2spec's own against a server the run did not start
(issue 14 §1, RFC 9113 §3.3 h2c prior knowledge)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.h2spec.binary import locate
from conformance.run import make_plan, parse_args
from conformance.targets import REPO_ROOT, free_port
from conformance.targets.base import port_accepts
from conformance.targets.registry import ENV_FILES, TARGETS


@pytest.fixture(autouse=True)
def _own_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """parse_args registers --url/--target-file targets: undo it after each test."""
    before = dict(TARGETS)
    monkeypatch.setenv(ENV_FILES, "")
    yield
    TARGETS.clear()
    TARGETS.update(before)


def test_a_url_server_gets_the_suites_its_schemes_allow(tmp_path: Path) -> None:
    args = parse_args(["--url", "h2c://127.0.0.1:1/", "--url", "wss://127.0.0.1:2/ws",
                       "--name", "mine", "--out", str(tmp_path)])
    assert args.targets == ["mine"]
    plan = make_plan(args, tmp_path / "raw")
    jobs = {job.name: job.argv for job in plan.jobs}
    assert set(jobs) == {"h2spec-mine", "autobahn-mine-wss", "probes-mine"}
    h2spec = jobs["h2spec-mine"]
    assert [h2spec[i + 1] for i, a in enumerate(h2spec) if a == "--variant"] == \
        ["h2c", "h2c-strict"]
    assert "--tls" in jobs["autobahn-mine-wss"]
    probes = jobs["probes-mine"]
    assert probes[probes.index("-m") + 1] == "conformance.probes"
    assert [probes[i + 1] for i, a in enumerate(probes) if a == "--url"] == \
        ["h2c://127.0.0.1:1/", "wss://127.0.0.1:2/ws"]
    assert {(e.suite, e.variant) for e in plan.expected} == {
        ("h2spec", "h2c"), ("h2spec", "h2c-strict"), ("autobahn", "wss"), ("probes", "")}
    # Harness subprocesses find the server through a target file the run wrote.
    written = tmp_path / "targets" / "mine.toml"
    assert str(written.resolve()) in os.environ[ENV_FILES]
    assert 'urls = ["h2c://127.0.0.1:1/", "wss://127.0.0.1:2/ws"]' in written.read_text()


def test_an_https_url_brings_the_rfc8441_matrix_and_insecure_reaches_the_probes(
        tmp_path: Path) -> None:
    args = parse_args(["--url", "https://127.0.0.1:3/", "--insecure", "--out", str(tmp_path)])
    plan = make_plan(args, tmp_path / "raw")
    jobs = {job.name: job.argv for job in plan.jobs}
    assert jobs[f"rfc8441-matrix-{args.targets[0]}"][-2:] == ["--servers", "127.0.0.1-3"]
    assert "--insecure" in jobs["probes-127.0.0.1-3"]
    assert "autobahn-127.0.0.1-3" not in jobs  # no ws:// or wss:// URL


def test_target_files_join_the_run_and_launched_targets_get_the_probe_launcher(
        tmp_path: Path) -> None:
    toml = tmp_path / "toy.toml"
    toml.write_text('name = "toy"\nimplementation = "toy"\nlanguage = "C"\n'
                    'protocols = ["h2c", "ws"]\n[launch]\ncommand = ["toy", "{port}"]\n')
    only = parse_args(["--target-file", str(toml), "--out", str(tmp_path)])
    assert only.targets == ["toy"]
    both = parse_args(["--target", "blackbull", "--target-file", str(toml)])
    assert both.targets == ["blackbull", "toy"]
    plan = make_plan(only, tmp_path / "raw")
    probes = next(job.argv for job in plan.jobs if job.name == "probes-toy")
    assert probes[probes.index("-m") + 1] == "conformance.probe_launch"
    with pytest.raises(SystemExit):
        parse_args(["--url", "gopher://127.0.0.1:70/"])


def _h2spec_by_hand(port: int, strict: bool) -> tuple[int, int]:
    out = subprocess.run([str(locate().path), "-h", "127.0.0.1", "-p", str(port), "-o", "5",
                          *(["-S"] if strict else [])], capture_output=True, text=True,
                         timeout=300).stdout
    match = re.search(r"(\d+) tests, (\d+) passed", out)
    assert match, out[-500:]
    return int(match.group(2)), int(match.group(1))


@pytest.mark.parametrize("server", ["blackbull", "hypercorn"])
def test_h2spec_through_the_harness_counts_what_h2spec_counts_by_hand(
        tmp_path: Path, server: str) -> None:
    """Against a server started outside the run, `--url h2c://… --suite h2spec` writes the
    pass/total h2spec 2.6.0 prints itself (146 cases, 147 with --strict)."""
    port = free_port()
    argv = [sys.executable, "-m", server, "conformance.h2spec.app:app", "--bind",
            f"127.0.0.1:{port}"]
    proc = subprocess.Popen(argv, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        for _ in range(100):
            if port_accepts("127.0.0.1", port):
                break
            time.sleep(0.1)
        by_hand = {"h2c": _h2spec_by_hand(port, False), "h2c-strict": _h2spec_by_hand(port, True)}
        run = subprocess.run([sys.executable, "-m", "conformance", "--url",
                              f"h2c://127.0.0.1:{port}/", "--name", f"{server}-url",
                              "--suite", "h2spec", "--out", str(tmp_path)],
                             cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
        assert proc.poll() is None, "the run must not stop a server it did not start"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert run.returncode == 0, run.stdout + run.stderr
    data = json.loads((tmp_path / "compliance.json").read_text())
    got = {h["variant"]: (h["pass"], h["total"]) for h in data["headline"]}
    assert got == by_hand
    assert by_hand["h2c"][1] == 146 and by_hand["h2c-strict"][1] == 147  # h2spec 2.6.0
    tools = [t for t in data["provenance"]["tools"] if t["suite"] == "h2spec"]
    assert tools and tools[0]["binary_version"].startswith("2.6.0") and tools[0]["path"]


def _serve(argv: list[str], port: int, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(argv, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, **(env or {})})
    for _ in range(150):
        if port_accepts("127.0.0.1", port):
            return proc
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"{argv} did not listen")


def test_autobahn_runs_against_a_ws_url_and_leaves_the_server_running(tmp_path: Path) -> None:
    """RFC 6455 §5.6: the websockets reference echo, started outside the run, passes 1.1.*."""
    port = free_port()
    proc = _serve([sys.executable, "-m", "conformance.targets.websockets_echo", "--host",
                   "127.0.0.1", "--port", str(port)], port)
    try:
        out = tmp_path / "ab.json"
        run = subprocess.run([sys.executable, "-m", "conformance.autobahn", "--url",
                              f"ws://127.0.0.1:{port}/", "--name", "ref", "--cases", "1.1.*",
                              "--out", str(out)], cwd=REPO_ROOT, capture_output=True,
                             text=True, timeout=900)
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert run.returncode == 0, run.stdout + run.stderr
    doc = json.loads(out.read_text())
    assert doc["target"] == "ref" and doc["summary"]["pass"] == doc["summary"]["total"] == 8
    assert "progress: autobahn ws ref 8/8 cases started" in run.stderr


@pytest.mark.parametrize("enabled", [True, False])
def test_the_rfc8441_matrix_runs_against_an_https_url_only_when_the_setting_is_sent(
        tmp_path: Path, enabled: bool) -> None:
    """RFC 8441 §3: cells run when SETTINGS_ENABLE_CONNECT_PROTOCOL=1 is advertised; a server
    that does not send it is not-supported, never failed."""
    from conformance.targets import make_tls_cert

    cert = make_tls_cert(tmp_path / "tls")
    port = free_port()
    proc = _serve([sys.executable, "-m", "blackbull", "conformance.interop.app:app", "--bind",
                   f"127.0.0.1:{port}", "--certfile", str(cert.cert), "--keyfile",
                   str(cert.key)], port, {"BB_H2_ENABLE_WEBSOCKET": "1" if enabled else "0"})
    try:
        run = subprocess.run([sys.executable, "-m", "conformance.interop", "--url",
                              f"https://127.0.0.1:{port}/", "--insecure", "--name", "mine",
                              "--clients", "blackbull", "h2-raw", "--out",
                              str(tmp_path / "raw" / "rfc8441-matrix.json")],
                             cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    data = json.loads((tmp_path / "raw" / "rfc8441-matrix-mine.json").read_text())
    statuses = {c["id"].split("/", 1)[1]: c["status"] for c in data["cases"]}
    if enabled:
        assert run.returncode == 0, run.stdout + run.stderr
        assert statuses["handshake"] == statuses["text-echo"] == "pass"
        assert statuses["no-setting-refused"] == "not-supported"  # cannot restart it
    else:
        assert set(statuses.values()) == {"not-supported"}
        assert "does not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL" in data["message"]
