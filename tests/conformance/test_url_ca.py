"""``--ca FILE`` for ``--url`` servers: the TLS clients of the probes and of the RFC 8441
matrix verify a server the run did not start against the CA that signed its certificate
(issue 14 §1; RFC 9113 §3.2 TLS with ALPN h2, RFC 8441 §3-§5 over it)."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.probes.target import Target as ProbeTarget
from conformance.probes.target import TargetError, _client_context
from conformance.run import make_plan, parse_args
from conformance.targets import REPO_ROOT, free_port, make_tls_cert
from conformance.targets.base import port_accepts
from conformance.targets.external import UrlError, external_target, target_file_text
from conformance.targets.files import TargetFileError, load_target_file
from conformance.targets.registry import ENV_FILES, TARGETS


@pytest.fixture(autouse=True)
def _own_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """parse_args registers the --url target: undo it after each test."""
    before = dict(TARGETS)
    monkeypatch.setenv(ENV_FILES, "")
    yield
    TARGETS.clear()
    TARGETS.update(before)


def test_ca_reaches_the_probes_and_the_target_file_the_harnesses_read(tmp_path: Path) -> None:
    """The run hands --ca to the probes and writes it into the --url target's file."""
    cert = make_tls_cert(tmp_path / "tls")
    args = parse_args(["--url", "https://127.0.0.1:3/", "--ca", str(cert.ca), "--name", "mine",
                       "--out", str(tmp_path)])
    plan = make_plan(args, tmp_path / "raw")
    probes = {job.name: job.argv for job in plan.jobs}["probes-mine"]
    assert probes[probes.index("--ca") + 1] == str(Path(cert.ca).resolve())
    assert "--insecure" not in probes
    written = load_target_file(tmp_path / "targets" / "mine.toml")
    assert getattr(written, "ca", None) == str(Path(cert.ca).resolve())


def test_a_ca_file_that_is_missing_or_not_pem_is_an_error_before_anything_runs(
        tmp_path: Path) -> None:
    """No silent fall-back to the system store: a bad --ca ends the command."""
    with pytest.raises(UrlError, match="--ca"):
        external_target(["https://127.0.0.1:3/"], ca=tmp_path / "missing.pem")
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(UrlError, match="--ca"):
        external_target(["https://127.0.0.1:3/"], ca=junk)
    with pytest.raises(SystemExit):
        parse_args(["--url", "https://127.0.0.1:3/", "--ca", str(junk), "--out", str(tmp_path)])
    with pytest.raises(SystemExit):  # --ca without --url: nothing to apply it to
        parse_args(["--ca", str(junk), "--out", str(tmp_path)])
    file = tmp_path / "t.toml"
    file.write_text('name = "t"\nimplementation = "x"\nlanguage = "C"\nprotocols = ["h2-tls"]\n'
                    'urls = ["h2://127.0.0.1:3/"]\nca = "junk.pem"\n')
    with pytest.raises(TargetFileError, match="--ca"):
        load_target_file(file)


def test_a_target_file_ca_is_relative_to_the_file_and_round_trips(tmp_path: Path) -> None:
    cert = make_tls_cert(tmp_path / "tls")
    target = external_target(["h2://127.0.0.1:3/"], name="t", ca=cert.ca)
    file = tmp_path / "t.toml"
    file.write_text(target_file_text(target).replace(str(Path(cert.ca).resolve()),
                                                     "tls/" + Path(cert.ca).name))
    assert getattr(load_target_file(file), "ca", None) == str(Path(cert.ca).resolve())


def test_the_probe_client_context_verifies_against_the_given_ca(tmp_path: Path) -> None:
    """RFC 9113 §3.2: TLS to a server whose certificate only the --ca vouches for."""
    cert = make_tls_cert(tmp_path / "tls")
    port = free_port()
    proc = _serve([sys.executable, "-m", "blackbull", "conformance.apps:echo_app", "--bind",
                   f"127.0.0.1:{port}", "--certfile", str(cert.cert), "--keyfile",
                   str(cert.key)], port)
    try:
        target = ProbeTarget.parse(f"h2://127.0.0.1:{port}/", ca=str(cert.ca))
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
                _client_context(False, ("h2",), target.ca).wrap_socket(
                    raw, server_hostname="127.0.0.1") as tls:
            assert tls.selected_alpn_protocol() == "h2"
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
                pytest.raises(ssl.SSLCertVerificationError):
            _client_context(False, ("h2",)).wrap_socket(raw, server_hostname="127.0.0.1")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    with pytest.raises(TargetError):
        ProbeTarget.parse("ftp://127.0.0.1/")


def test_with_ca_the_node_and_our_clients_test_an_https_url_server(tmp_path: Path) -> None:
    """RFC 8441 §4-§5: with --ca (no --insecure) the blackbull, h2-raw and Node.js cells run
    against a server started outside the run and pass; Chromium's stay not-supported (it
    needs the interop page from the server itself), with that reason."""
    cert = make_tls_cert(tmp_path / "tls")
    port = free_port()
    proc = _serve([sys.executable, "-m", "blackbull", "conformance.interop.app:app", "--bind",
                   f"127.0.0.1:{port}", "--certfile", str(cert.cert), "--keyfile",
                   str(cert.key)], port, {"BB_H2_ENABLE_WEBSOCKET": "1"})
    try:
        run = subprocess.run([sys.executable, "-m", "conformance.interop", "--url",
                              f"https://127.0.0.1:{port}/", "--ca", str(cert.ca), "--name",
                              "mine", "--clients", "blackbull", "h2-raw", "node", "chromium",
                              "--out", str(tmp_path / "raw" / "rfc8441-matrix.json")],
                             cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert run.returncode == 0, run.stdout + run.stderr
    data = json.loads((tmp_path / "raw" / "rfc8441-matrix-mine.json").read_text())
    cells = {c["id"].split("×", 1)[0] + "/" + c["id"].split("/", 1)[1]: c for c in data["cases"]}
    for client in ("blackbull", "h2-raw", "node"):
        for scenario in ("handshake", "text-echo", "50-streams"):
            cell = cells[f"{client}/{scenario}"]
            assert cell["status"] == "pass", (client, scenario, cell["message"])
    chromium = [c for k, c in cells.items() if k.startswith("chromium/")]
    assert chromium and {c["status"] for c in chromium} == {"not-supported"}
    assert "page" in chromium[0]["message"]


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


def test_an_https_server_without_h2_has_its_h2_probes_not_supported(tmp_path: Path) -> None:
    """RFC 9113 §3.2 / RFC 7301 §3.2: an ``https://`` server whose ALPN does not select h2
    does not speak HTTP/2 over TLS: its h2 probes are not-supported (never errors), while
    its HTTP/1.1-over-TLS probes run."""
    import http.server
    import threading

    from conformance.probes import load_all
    from conformance.probes.runner import run_target

    cert = make_tls_cert(tmp_path / "tls")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert.cert), str(cert.key))
    context.set_alpn_protocols(["http/1.1"])
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        target = ProbeTarget.parse(f"https://127.0.0.1:{httpd.server_address[1]}/",
                                   name="h1only", ca=str(cert.ca))
        probes = [p for p in load_all().values() if p.transports & {"h2", "h1-tls"}][:40]
        results = {r.variant: r for r in run_target(target, probes, timeout=2.0)}
    finally:
        httpd.shutdown()
        httpd.server_close()
    h2 = results["h2"]
    assert h2.status == "ok" and h2.cases
    assert {c.status for c in h2.cases} == {"not-supported"}
    assert "does not speak HTTP/2 over TLS" in h2.message
    if "h1-tls" in results:
        assert any(c.status != "not-supported" for c in results["h1-tls"].cases)
