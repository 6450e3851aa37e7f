"""conformance.targets: servers under test start on loopback, answer, and stop cleanly."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from conformance.autobahn.fuzz import ECHO_APP
from conformance.targets import TARGETS, Protocol, TargetUnavailable, get_target, make_tls_cert
from conformance.targets.base import Launch


def test_every_target_declares_protocols_and_builds_a_loopback_argv(tmp_path: Path) -> None:
    """Each registry entry listens where the run says: the port and address reach its argv
    or the config files its templates render (nginx), and a TLS launch gets the cert."""
    from conformance.targets.base import TLS_PROTOCOLS

    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    for target in TARGETS.values():
        assert target.protocols, target.name
        if target.external:
            continue
        for tls in (False, True):
            if tls and not target.protocols & TLS_PROTOCOLS:
                continue
            workdir = tmp_path / f"{target.name}-{tls}"
            workdir.mkdir()
            argv = target.build_argv(Launch("python", ECHO_APP, "127.0.0.1", 4321,
                                            cert if tls else None, key if tls else None,
                                            workdir=workdir))
            joined = " ".join(argv) + "".join(p.read_text() for p in workdir.iterdir())
            assert "4321" in joined and "127.0.0.1" in joined, (target.name, tls)
            if tls:
                assert str(cert) in joined and str(key) in joined, target.name


def test_unknown_target_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="websockets"):
        get_target("no-such-server")


def test_websockets_reference_speaks_only_websocket() -> None:
    ref = get_target("websockets")
    assert ref.supports(Protocol.WS) and ref.supports("wss")
    assert not ref.supports(Protocol.H2C) and not ref.supports(Protocol.WS_OVER_H2)


def test_published_blackbull_runs_isolated_from_our_package() -> None:
    cmd = get_target("blackbull081").command(ECHO_APP, 4321)
    assert (cmd.cwd / "conformance").resolve() == (Path(__file__).resolve().parents[2] / "conformance")
    assert not (cmd.cwd / "blackbull").exists()
    assert cmd.env["PYTHONPATH"] == str(cmd.cwd)
    assert cmd.env["BB_H2_ENABLE_WEBSOCKET"] == "1" and cmd.env["BB_FORCE_ASGI_SCOPE"] == "1"
    assert cmd.argv[1:3] == ["-m", "blackbull.cli"] and "127.0.0.1:4321" in cmd.argv


def test_websockets_target_echoes_over_ws_and_wss_then_stops() -> None:
    """RFC 6455 §5.6: text and binary messages come back unchanged from the reference peer."""
    target = get_target("websockets")
    with target.start(ECHO_APP, 0) as server:
        with connect(server.url("ws")) as ws:
            ws.send("héllo")
            assert ws.recv() == "héllo"
            ws.send(b"\x00\xff")
            assert ws.recv() == b"\x00\xff"
    assert not server.running
    cert = make_tls_cert()
    with target.start(ECHO_APP, 0, tls_cert=cert.cert, tls_key=cert.key) as server:
        assert server.url("ws").startswith("wss://")
        context = ssl.create_default_context(cafile=str(cert.ca))
        with connect(server.url("ws"), ssl=context) as ws:
            ws.send("secure")
            assert ws.recv() == "secure"
    assert not server.running


def test_uvicorn_serves_the_plain_asgi_echo_app_for_http_and_websocket() -> None:
    """RFC 6455 §5.6 / RFC 9110 §9.3.3: the echo app answers POST / and echoes messages."""
    with get_target("uvicorn").start(ECHO_APP, 0) as server:
        response = httpx.post(server.url("http"), content=b"ignored")
        assert response.status_code == 200 and response.content
        with connect(server.url("ws")) as ws:
            ws.send("text stays text")
            assert ws.recv() == "text stays text"
    assert not server.running


def test_a_server_that_dies_before_listening_is_reported_unavailable() -> None:
    with pytest.raises(TargetUnavailable, match="exited"):
        get_target("uvicorn").start("conformance.autobahn.no_such_module:app", 0, timeout=20)
