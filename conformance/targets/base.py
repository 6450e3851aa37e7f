"""Core types of the target registry: protocols, targets, running-server handles.

Every server runs as a child process in its own session (process group) so that
``stop()`` can end it together with any worker processes it forked, without
touching anything else on the machine.
"""

from __future__ import annotations

import enum
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO_ROOT / ".cache"
VENV_DIR = CACHE_DIR / "venvs"
LOG_DIR = CACHE_DIR / "logs"
LOOPBACK = "127.0.0.1"


class Protocol(enum.StrEnum):
    """What a harness needs from a server; a target lists the ones it speaks."""

    H1 = "h1"                    # HTTP/1.1 over cleartext TCP (RFC 9112)
    H1_TLS = "h1-tls"            # HTTP/1.1 over TLS
    H2C = "h2c"                  # HTTP/2 prior knowledge over TCP (RFC 9113 §3.3)
    H2_TLS = "h2-tls"            # HTTP/2 negotiated by ALPN "h2" (RFC 9113 §3.2)
    WS = "ws"                    # WebSocket over HTTP/1.1 (RFC 6455)
    WSS = "wss"                  # WebSocket over HTTP/1.1 + TLS
    WS_OVER_H2 = "ws-over-h2"    # WebSocket over HTTP/2 extended CONNECT (RFC 8441)


class TargetUnavailable(RuntimeError):
    """The target cannot run here (not installed, CLI missing, install failed)."""


@dataclass(frozen=True)
class TlsCert:
    """A throw-away certificate chain for 127.0.0.1/localhost made by trustme."""

    cert: Path   # server certificate chain, PEM
    key: Path    # server private key, PEM
    ca: Path     # CA certificate clients must trust, PEM


def make_tls_cert(directory: Path | None = None) -> TlsCert:
    """Write a fresh CA and a server cert for ``127.0.0.1``/``localhost`` into *directory*."""
    import trustme  # imported lazily: only TLS runs need it

    out = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="tls-", dir=_ensure(CACHE_DIR)))
    out.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1", "localhost")
    paths = TlsCert(cert=out / "server.pem", key=out / "server.key", ca=out / "ca.pem")
    server_cert.private_key_pem.write_to_path(str(paths.key))
    server_cert.cert_chain_pems[0].write_to_path(str(paths.cert))
    for extra in server_cert.cert_chain_pems[1:]:
        with open(paths.cert, "ab") as fh:
            fh.write(extra.bytes())
    ca.cert_pem.write_to_path(str(paths.ca))
    return paths


def free_port(host: str = LOOPBACK) -> int:
    """Ask the kernel for a currently free TCP port on *host*."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True)
class Launch:
    """Everything an argv builder needs to know about one start request."""

    python: str
    app: str              # "module:attribute" of the ASGI app
    host: str
    port: int
    tls_cert: Path | None
    tls_key: Path | None

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None


@dataclass
class ServerHandle:
    """A running server under test; ``stop()`` ends its whole process group."""

    name: str
    host: str
    port: int
    tls: bool
    process: subprocess.Popen[bytes]
    log_path: Path
    argv: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def url(self, scheme: str = "ws", path: str = "/") -> str:
        """``ws://`` / ``wss://`` (or http/https) URL of the server; TLS picks the secure scheme."""
        secure = {"ws": "wss", "http": "https"}
        if self.tls:
            scheme = secure.get(scheme, scheme)
        return f"{scheme}://{self.host}:{self.port}{path}"

    def log_tail(self, limit: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    def stop(self, grace: float = 5.0) -> int | None:
        """SIGTERM the server's process group, SIGKILL it after *grace* seconds."""
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _signal_group(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=grace)
        else:
            # The leader is gone; workers it forked may still hold the group.
            _signal_group(self.process.pid, signal.SIGKILL)
        return self.process.returncode

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    # The child was started with start_new_session=True, so its pid is its pgid
    # and the group holds only processes this harness started.
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def wait_for_port(host: str, port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    """Block until *host:port* accepts a TCP connection; fail early if *process* exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise TargetUnavailable(f"server exited with code {process.returncode} before listening")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TargetUnavailable(f"server did not accept connections on {host}:{port} within {timeout}s")


ArgvBuilder = Callable[[Launch], list[str]]


@dataclass(frozen=True)
class Command:
    """A target's start command, ready for ``subprocess.Popen``."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path


@dataclass(frozen=True)
class Target:
    """One server implementation that a harness can start on loopback."""

    name: str
    description: str
    protocols: frozenset[Protocol]
    build_argv: ArgvBuilder
    venv: str | None = None                       # name under .cache/venvs, None = this interpreter
    requirements: tuple[str, ...] = ()            # pip requirements of that venv
    env: Mapping[str, str] = field(default_factory=dict)
    isolate_repo: bool = False                    # hide our own `blackbull` package from the child
    serves_app: bool = True                       # False: runs its own echo server, ignores `app`
    check: Callable[[], str | None] | None = None  # returns why it cannot run, or None

    def supports(self, protocol: Protocol | str) -> bool:
        return Protocol(protocol) in self.protocols

    @property
    def venv_path(self) -> Path | None:
        return VENV_DIR / self.venv if self.venv else None

    def python(self) -> str:
        if self.venv_path is None:
            return sys.executable
        return str(self.venv_path / "bin" / "python")

    def is_installed(self) -> bool:
        return self.venv_path is None or (self.venv_path / ".installed").exists()

    def unavailable_reason(self) -> str | None:
        """Why this target cannot start right now, or None when it can (may install)."""
        return self.check() if self.check else None

    def ensure_installed(self) -> None:
        """Create the target's venv and install its pinned requirements once."""
        if self.is_installed():
            return
        from conformance.targets.venvs import create_venv

        assert self.venv_path is not None
        create_venv(self.venv_path, self.requirements)

    def launch(self, app: str, port: int, tls_cert: Path | None, tls_key: Path | None) -> Launch:
        return Launch(self.python(), app, LOOPBACK, port, tls_cert, tls_key)

    def start(
        self,
        app_module_attr: str,
        port: int = 0,
        tls_cert: str | Path | None = None,
        tls_key: str | Path | None = None,
        *,
        env: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> ServerHandle:
        """Start the server for *app_module_attr* on 127.0.0.1:*port* (0 = free port)."""
        reason = self.unavailable_reason()
        if reason:
            raise TargetUnavailable(f"{self.name}: {reason}")
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        self.ensure_installed()
        port = port or free_port()
        cmd = self.command(app_module_attr, port, tls_cert, tls_key, env=env)
        log_path = _ensure(LOG_DIR) / f"{self.name}-{port}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(cmd.argv, cwd=cmd.cwd, env=cmd.env, stdout=log,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        handle = ServerHandle(self.name, LOOPBACK, port, tls_cert is not None, process,
                              log_path, cmd.argv)
        try:
            wait_for_port(LOOPBACK, port, process, timeout)
        except TargetUnavailable as exc:
            handle.stop()
            raise TargetUnavailable(f"{self.name}: {exc}\n{handle.log_tail()}") from None
        return handle

    def command(
        self,
        app_module_attr: str,
        port: int,
        tls_cert: str | Path | None = None,
        tls_key: str | Path | None = None,
        *,
        env: Mapping[str, str] | None = None,
    ) -> Command:
        """How this target is started: argv, full environment and working directory."""
        spec = self.launch(app_module_attr, port,
                           Path(tls_cert) if tls_cert else None,
                           Path(tls_key) if tls_key else None)
        cwd = self._workdir()
        child_env = {**os.environ, **self.env, **(env or {}), "PYTHONPATH": str(cwd)}
        child_env.pop("PYTHONHOME", None)
        return Command(self.build_argv(spec), child_env, cwd)

    def _workdir(self) -> Path:
        """Directory the child runs in and imports the app from.

        A target that must not see our in-tree ``blackbull`` package (the
        published 0.81 in its venv) runs from a directory holding only a
        link to ``conformance/``, so ``conformance.*`` apps still import.
        """
        if not self.isolate_repo:
            return REPO_ROOT
        shim = _ensure(CACHE_DIR / "shims" / self.name)
        link = shim / "conformance"
        if not link.exists():
            link.symlink_to(REPO_ROOT / "conformance", target_is_directory=True)
        return shim
