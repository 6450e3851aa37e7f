"""The independent peers in other languages (conformance/targets/peers/<name>.toml, issue 14
§3): each target file is well formed, names the versions its lock files pin, and — launched
on loopback as the file says — answers the suite's contract (conformance/targets/README.md):
GET and POST / 200 with a non-empty body on h2c (RFC 9113 §3.3) and h2 over TLS (RFC 9113
§3.2), a WebSocket echo (RFC 6455 §5.6) where it lists ws/wss, and an RFC 8441 echo where it
lists ws-over-h2. ``scripts/install-peers.sh`` prepares them (run here once per peer).
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from conformance.compose import PEERS_DIR, REPO, render
from conformance.interop import client_h2raw
from conformance.interop.endpoint import Endpoint
from conformance.interop.runner import run_scenario
from conformance.interop.scenarios import Outcome
from conformance.targets.base import Protocol, TlsCert, free_port, make_tls_cert, wait_for_port

PEERS = ("nginx", "h2o", "node", "go", "rust")
PLACEHOLDERS = {"host", "port", "cert", "key", "ca", "here", "workdir", "python", "app",
                "protocol", "repo"}
REQUIRED = ("name", "implementation", "language", "protocols", "launch")


def load(name: str) -> dict[str, Any]:
    with open(PEERS_DIR / f"{name}.toml", "rb") as fh:
        return tomllib.load(fh)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@pytest.mark.parametrize("name", PEERS)
def test_target_file_follows_the_schema(name: str) -> None:
    """conformance/targets/README.md schema 1: required keys, known protocols and
    placeholders, and every file it names under {here} exists."""
    data = load(name)
    assert all(key in data for key in REQUIRED), [k for k in REQUIRED if k not in data]
    assert data["name"] == name
    assert {Protocol(p) for p in data["protocols"]}
    for text in _strings(data):
        unknown = set(re.findall(r"\{(\w+)\}", text)) - PLACEHOLDERS
        assert not unknown, (text, unknown)
        for path in re.findall(r"\{here\}(/[^\s\"']+)", text):
            assert (PEERS_DIR / path.lstrip("/")).exists() or "node_modules" in path, path
    if {"h1-tls", "h2-tls", "wss", "ws-over-h2"} & set(data["protocols"]):
        assert "launch_tls" in data or "{cert}" in " ".join(data["launch"]["command"])


def _locked(name: str) -> dict[str, str]:
    here = PEERS_DIR / name
    if name == "node":
        lock = json.loads((here / "package-lock.json").read_text())
        return {"ws": lock["packages"]["node_modules/ws"]["version"]}
    if name == "go":
        mod = (here / "go.mod").read_text()
        return {m: v for m, v in re.findall(r"^\s*(?:require\s+)?(\S+) (v\S+)", mod, re.M)}
    lock = tomllib.loads((here / "Cargo.lock").read_text())
    return {p["name"]: p["version"] for p in lock["package"]}


@pytest.mark.parametrize(("name", "packages"), [
    ("node", {"ws": "ws"}),
    ("go", {"golang.org/x/net": "x/net/http2", "github.com/coder/websocket": "coder/websocket"}),
    ("rust", {"hyper": "hyper", "hyper-util": "hyper-util",
              "tokio-tungstenite": "tokio-tungstenite", "rustls": "rustls"}),
])
def test_implementation_names_the_locked_versions(name: str, packages: dict[str, str]) -> None:
    """The report's implementation column says what the committed lock file builds."""
    implementation, locked = load(name)["implementation"], _locked(name)
    for package, label in packages.items():
        version = locked[package].lstrip("v")
        assert re.search(rf"{re.escape(label)} v?{re.escape(version)}\b", implementation), (
            f"{name}: {implementation!r} does not name {label} {version}")


# --- launched on loopback ---------------------------------------------------------------

_installed: dict[str, str] = {}


def _install(name: str) -> None:
    """scripts/install-peers.sh for this peer (idempotent); a failure fails the test."""
    if name not in _installed:
        proc = subprocess.run([str(REPO / "scripts" / "install-peers.sh")], capture_output=True,
                              text=True, timeout=1200, env={**os.environ, "BB_PEERS": name})
        _installed[name] = "" if proc.returncode == 0 else proc.stdout + proc.stderr
    assert not _installed[name], _installed[name]


class Launched:
    """One launch of a target file (cleartext or TLS) on 127.0.0.1 in its own session."""

    def __init__(self, name: str, tls: TlsCert | None, workdir: Path) -> None:
        data = load(name)
        self.port = free_port()
        values = {"host": "127.0.0.1", "port": str(self.port), "here": str(PEERS_DIR),
                  "repo": str(REPO), "workdir": str(workdir), "python": sys.executable,
                  "app": "", "protocol": "h2-tls" if tls else "h2c",
                  "cert": str(tls.cert) if tls else "", "key": str(tls.key) if tls else "",
                  "ca": str(tls.ca) if tls else ""}
        for out, source in data.get("templates", {}).items():
            text = Path(render(source, values)).read_text()
            (workdir / out).write_text(render(text, values))
        launch = data["launch_tls"] if tls and "launch_tls" in data else data["launch"]
        env = {**os.environ, **{k: render(v, values) for k, v in data.get("env", {}).items()}}
        self.log = workdir / "server.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([render(a, values) for a in launch["command"]],
                                         cwd=REPO, env=env, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        try:
            wait_for_port("127.0.0.1", self.port, self.proc, 30)
        except Exception as exc:
            self.stop()
            raise AssertionError(f"{name} did not start: {self.log.read_text()[-2000:]}") from exc

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsCert:
    return make_tls_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module", params=PEERS)
def peer(request: pytest.FixtureRequest, tls: TlsCert,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Launched, Launched]]:
    name = request.param
    _install(name)
    plain = Launched(name, None, tmp_path_factory.mktemp(f"{name}-plain"))
    try:
        secure = Launched(name, tls, tmp_path_factory.mktemp(f"{name}-tls"))
    except BaseException:
        plain.stop()
        raise
    try:
        yield name, plain, secure
    finally:
        plain.stop()
        secure.stop()


def _protocols(name: str) -> set[str]:
    return set(load(name)["protocols"])


def _get_and_post(client: httpx.Client, url: str) -> None:
    # Within the initial 65,535-octet window (RFC 9113 §6.9.2): nginx's `return 200` never
    # reads a body, so a larger one would wait for a WINDOW_UPDATE that never comes.
    for response in (client.get(url), client.post(url, content=b"x" * 16384)):
        assert response.status_code == 200 and response.content, response
        assert response.http_version == "HTTP/2"


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_peer_answers_get_and_post_on_h2c_and_tls(peer: tuple[str, Launched, Launched],
                                                   tls: TlsCert) -> None:
    """h2spec's contract (RFC 9113 §3.3 prior knowledge, §3.2 ALPN h2): GET and POST /
    answer 200 with a non-empty body, the POST's body read first."""
    name, plain, secure = peer
    assert {"h2c", "h2-tls"} <= _protocols(name)
    with httpx.Client(http1=False, http2=True, timeout=20) as client:
        _get_and_post(client, f"http://127.0.0.1:{plain.port}/")
    ctx = ssl.create_default_context(cafile=str(tls.ca))
    with httpx.Client(http2=True, verify=ctx, timeout=20) as client:
        _get_and_post(client, f"https://127.0.0.1:{secure.port}/")


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_peer_echoes_websocket_where_it_lists_ws(peer: tuple[str, Launched, Launched],
                                                 tls: TlsCert) -> None:
    """RFC 6455 §5.6: text and binary messages come back with their opcode, on ws and wss
    (the peers without ws — nginx and h2o alone cannot echo — must refuse the upgrade)."""
    name, plain, secure = peer
    ctx = ssl.create_default_context(cafile=str(tls.ca))
    urls = [(f"ws://127.0.0.1:{plain.port}/", None), (f"wss://127.0.0.1:{secure.port}/", ctx)]
    if "ws" not in _protocols(name):
        with pytest.raises(Exception):  # noqa: B017 - any refusal: no 101, or no HTTP/1.1
            asyncio.run(asyncio.wait_for(_ws_open_only(urls[1][0], ctx), 20))
        return
    for url, context in urls:
        # The asyncio client under one deadline: websockets' sync client joins its reader
        # thread after a failed TLS handshake, which was seen to hang for 15 minutes.
        asyncio.run(asyncio.wait_for(_ws_echo_text_and_binary(url, context), 60))


async def _ws_open_only(url: str, context: ssl.SSLContext | None) -> None:
    async with connect(url, ssl=context, open_timeout=10):
        pass


async def _ws_echo_text_and_binary(url: str, context: ssl.SSLContext | None) -> None:
    async with connect(url, ssl=context, open_timeout=10, max_size=2**22) as ws:
        await ws.send("héllo")
        assert await asyncio.wait_for(ws.recv(), 10) == "héllo"
        payload = os.urandom(1 << 20)
        await ws.send(payload)
        assert await asyncio.wait_for(ws.recv(), 20) == payload


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_peer_echoes_over_http2_where_it_lists_ws_over_h2(
        peer: tuple[str, Launched, Launched], tls: TlsCert) -> None:
    """RFC 8441 §4-5: SETTINGS_ENABLE_CONNECT_PROTOCOL=1, an extended CONNECT answered 200,
    and a message echoed over DATA frames (the h2-raw client: python-hyper h2 + wsproto)."""
    name, _, secure = peer
    if "ws-over-h2" not in _protocols(name):
        return
    ep = Endpoint(name, secure.port, str(tls.ca))
    for scenario in ("text-echo", "1mib-message", "close-client-code"):
        outcome, message = asyncio.run(run_scenario(client_h2raw.SCENARIOS[scenario], ep))
        assert outcome is Outcome.PASS, (scenario, message)
