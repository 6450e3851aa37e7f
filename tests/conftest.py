"""Shared fixtures: our server on a free loopback port, in the test's own event loop."""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from blackbull.config import Settings
from blackbull.server.serve import Server, make_ssl_context

ROOT = Path(__file__).resolve().parent.parent
# RFC-section collection (writes nothing unless --rfc-report or BB_RFC_REPORT is given).
pytest_plugins = ["conformance.unit_sections"]
StartServer = Callable[..., Awaitable[Server]]


@pytest.fixture
async def serve() -> AsyncIterator[StartServer]:
    """``srv = await serve(app, settings=..., tls=False)``; ``srv.bound_port``."""
    servers: list[Server] = []

    async def start(app: Any, settings: Settings | None = None, *,
                    ssl_context: Any = None, lifespan: bool = False) -> Server:
        # Test apps are bare http callables: the lifespan runs only where a test asks.
        settings = (settings or Settings()).replace(lifespan="auto" if lifespan else "off")
        srv = Server(app, settings, host="127.0.0.1", port=0, ssl_context=ssl_context)
        await srv.start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        await srv.shutdown()


@pytest.fixture(scope="session")
def tls_certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A trustme CA and a server certificate for localhost/127.0.0.1."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    d = tmp_path_factory.mktemp("tls")
    paths = {"ca": str(d / "ca.pem"), "cert": str(d / "cert.pem"), "key": str(d / "key.pem")}
    ca.cert_pem.write_to_path(paths["ca"])
    cert.cert_chain_pems[0].write_to_path(paths["cert"])
    for extra in cert.cert_chain_pems[1:]:
        extra.write_to_path(paths["cert"], append=True)
    cert.private_key_pem.write_to_path(paths["key"])
    return paths


@pytest.fixture
def server_ssl_context(tls_certs: dict[str, str]) -> Any:
    return make_ssl_context(tls_certs["cert"], tls_certs["key"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port}")


class Process:
    """A server process of a test; stopped (by PID) at teardown."""

    def __init__(self, argv: list[str], port: int, env: dict[str, str] | None = None,
                 cwd: str | None = None) -> None:
        full_env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{cwd or ''}",
                    **(env or {})}
        self.port = port
        self.proc = subprocess.Popen(argv, env=full_env, cwd=cwd, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for_port(port)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"server did not start: {self.output()}") from None

    def stop(self, sig: int = 15, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def output(self) -> str:
        if self.proc.poll() is None:
            return ""
        return self.proc.stdout.read().decode(errors="replace") if self.proc.stdout else ""


@pytest.fixture
def spawn_server() -> Any:
    """``spawn_server(argv, port, env=..., cwd=...)`` → Process, stopped at teardown."""
    procs: list[Process] = []

    def start(argv: list[str], port: int, **kw: Any) -> Process:
        proc = Process(argv, port, **kw)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.stop()


PYTHON = sys.executable


async def raw_exchange(port: int, data: bytes, *, read_until_close: bool = True,
                       timeout: float = 5.0) -> bytes:
    """Send raw bytes, return everything the server answers until it closes (or timeout)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        chunks = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                chunk = await asyncio.wait_for(reader.read(65536), remaining)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            chunks.append(chunk)
            if not read_until_close:
                break
        return b"".join(chunks)
    finally:
        writer.close()
