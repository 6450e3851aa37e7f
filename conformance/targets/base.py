"""Core types of the target registry: protocols, targets, running-server handles.

Every server runs as a child process in its own session (process group) so that
``stop()`` can end it together with any worker processes it forked, without
touching anything else on the machine.
"""

from __future__ import annotations

import enum
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


TLS_PROTOCOLS = frozenset({Protocol.H1_TLS, Protocol.H2_TLS, Protocol.WSS, Protocol.WS_OVER_H2})


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


def conformance_only_dir(name: str) -> Path:
    """A directory holding only a link to ``conformance/``, for a child's ``PYTHONPATH``.

    A process that must not see our in-tree ``blackbull`` package (a peer, or the
    published 0.81 in its venv) imports ``conformance.*`` apps from here.
    """
    shim = _ensure(CACHE_DIR / "shims" / name)
    link = shim / "conformance"
    if not link.exists():
        try:
            link.symlink_to(REPO_ROOT / "conformance", target_is_directory=True)
        except FileExistsError:  # another harness process made it meanwhile
            pass
    return shim


@dataclass(frozen=True)
class Launch:
    """Everything an argv builder needs to know about one start request."""

    python: str
    app: str              # "module:attribute" of the ASGI app
    host: str
    port: int
    tls_cert: Path | None
    tls_key: Path | None
    tls_ca: Path | None = None
    protocol: Protocol | None = None   # what the suite will speak to this launch
    workdir: Path | None = None        # a fresh directory for this launch (templates, pids)

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
    process: subprocess.Popen[bytes] | None
    log_path: Path | None
    argv: list[str] = field(default_factory=list)
    paths: Mapping[str, str] = field(default_factory=dict)   # the target's [paths]
    workdir: Path | None = None

    def path(self, kind: str) -> str:
        """The path a suite uses (``http``, ``ws_echo``, ``rfc8441_echo``); default ``/``."""
        return self.paths.get(kind, "/")

    @property
    def pid(self) -> int:
        assert self.process is not None, "an external server has no process of ours"
        return self.process.pid

    @property
    def running(self) -> bool:
        if self.process is None:  # started by someone else: alive while it accepts
            return port_accepts(self.host, self.port)
        return self.process.poll() is None

    def url(self, scheme: str = "ws", path: str = "/") -> str:
        """``ws://`` / ``wss://`` (or http/https) URL of the server; TLS picks the secure scheme."""
        secure = {"ws": "wss", "http": "https"}
        if self.tls:
            scheme = secure.get(scheme, scheme)
        return f"{scheme}://{self.host}:{self.port}{path}"

    def log_tail(self, limit: int = 4000) -> str:
        if self.log_path is None:
            return ""
        try:
            return self.log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    def stop(self, grace: float = 5.0) -> int | None:
        """SIGTERM the server's process group, SIGKILL it after *grace* seconds.

        A server this run did not start (``--url``) is left alone.
        """
        if self.process is None:
            return None
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
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
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


def port_accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether *host:port* accepts a TCP connection right now."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


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
class Rfc8441Switch:
    """How the RFC 8441 matrix starts a target with and without
    SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3); ``off`` None: it cannot withhold it."""

    on: Mapping[str, str] = field(default_factory=dict)
    off: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Target:
    """One server implementation that a harness can start on loopback.

    Built from a target file (conformance/targets/README.md) by
    :mod:`conformance.targets.files`; the fields mirror its keys.
    """

    name: str
    description: str                              # the file's ``implementation``
    protocols: frozenset[Protocol]
    build_argv: ArgvBuilder
    venv: str | None = None                       # name under .cache/venvs, None = this interpreter
    requirements: tuple[str, ...] = ()            # pip requirements of that venv
    env: Mapping[str, str] = field(default_factory=dict)
    isolate_repo: bool = False                    # hide our own `blackbull` package from the child
    serves_app: bool = True                       # False: runs its own echo server, ignores `app`
    check: Callable[[], str | None] | None = None  # returns why it cannot run, or None
    language: str = ""
    version_text: str = ""                        # ``version``, else ``version_command``'s output
    version_command: tuple[str, ...] = ()
    version_regex: str = ""
    requires: tuple[str, ...] = ()                # executables that must be on PATH
    install_argv: tuple[str, ...] = ()            # run once in ``here`` before the first launch
    here: Path = REPO_ROOT                        # the target file's directory
    cwd: str = ""                                 # "" = the repository root (or the shim)
    paths: Mapping[str, str] = field(default_factory=dict)
    apps: Mapping[str, str] = field(default_factory=dict)   # ASGI app per suite
    rfc8441: Rfc8441Switch = field(default_factory=Rfc8441Switch)
    ready_http: str | None = None                 # GET this path to know it is up; None = TCP
    ready_timeout: float = 30.0
    source: Path | None = None                    # the target file
    #: ``python -m bench`` servers of this implementation: name -> its [bench] table
    bench: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def supports(self, protocol: Protocol | str) -> bool:
        return Protocol(protocol) in self.protocols

    @property
    def external(self) -> bool:
        """True for a server someone else started (``--url``): nothing to launch."""
        return False

    def app_for(self, suite: str, default: str) -> str:
        """The ASGI app *suite* should ask this target to serve."""
        return self.apps.get(suite, default)

    @property
    def venv_path(self) -> Path | None:
        return VENV_DIR / self.venv if self.venv else None

    def python(self) -> str:
        if self.venv_path is None:
            return sys.executable
        return str(self.venv_path / "bin" / "python")

    def version(self) -> str:
        """What the report shows as this implementation's version."""
        if self.version_text:
            return self.version_text
        if not self.version_command:
            return "unknown"
        from conformance.targets.placeholders import render

        values = {"python": self.python(), "here": str(self.here), "repo": str(REPO_ROOT)}
        return _command_version(tuple(render(a, values) for a in self.version_command),
                                self.version_regex)

    def is_installed(self) -> bool:
        venv_ok = self.venv_path is None or (self.venv_path / ".installed").exists()
        return venv_ok and (not self.install_argv or self._install_marker_current())

    def unavailable_reason(self) -> str | None:
        """Why this target cannot start right now, or None when it can (may install)."""
        missing = [exe for exe in self.requires if shutil.which(exe) is None]
        if missing:
            return f"requires {', '.join(missing)}: not found on PATH"
        return self.check() if self.check else None

    def ensure_installed(self) -> None:
        """Create the target's venv (pinned requirements) and run its ``install`` once."""
        if self.is_installed():
            return
        if self.venv_path is not None:
            from conformance.targets.venvs import create_venv

            create_venv(self.venv_path, self.requirements)
        if self.install_argv and not self._install_marker_current():
            from conformance.targets.venvs import run_install

            run_install(self, self._install_marker(), self._source_digest())

    def _install_marker(self) -> Path:
        return CACHE_DIR / "targets" / self.name / ".installed"

    def _source_digest(self) -> str:
        import hashlib

        data = self.source.read_bytes() if self.source and self.source.exists() else b""
        return hashlib.sha256(data + "\0".join(self.install_argv).encode()).hexdigest()

    def _install_marker_current(self) -> bool:
        marker = self._install_marker()
        return marker.exists() and marker.read_text().strip() == self._source_digest()

    def launch(self, app: str, port: int, tls_cert: Path | None, tls_key: Path | None,
               tls_ca: Path | None = None, protocol: Protocol | None = None,
               workdir: Path | None = None) -> Launch:
        if tls_cert is not None and tls_ca is None and (tls_cert.parent / "ca.pem").exists():
            tls_ca = tls_cert.parent / "ca.pem"  # make_tls_cert writes it beside the cert
        return Launch(self.python(), app, LOOPBACK, port, tls_cert, tls_key, tls_ca,
                      protocol, workdir)

    def start(
        self,
        app_module_attr: str,
        port: int = 0,
        tls_cert: str | Path | None = None,
        tls_key: str | Path | None = None,
        *,
        env: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        protocol: Protocol | str | None = None,
    ) -> ServerHandle:
        """Start the server for *app_module_attr* on 127.0.0.1:*port* (0 = free port)."""
        reason = self.unavailable_reason()
        if reason:
            raise TargetUnavailable(f"{self.name}: {reason}")
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        self.ensure_installed()
        port = port or free_port()
        workdir = Path(tempfile.mkdtemp(prefix=f"{self.name}-{port}-",
                                        dir=_ensure(CACHE_DIR / "run")))
        cmd = self.command(app_module_attr, port, tls_cert, tls_key, env=env,
                           protocol=Protocol(protocol) if protocol else None, workdir=workdir)
        log_path = _ensure(LOG_DIR) / f"{self.name}-{port}.log"
        with open(log_path, "wb") as log:
            try:
                process = subprocess.Popen(cmd.argv, cwd=cmd.cwd, env=cmd.env, stdout=log,
                                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                           start_new_session=True)
            except OSError as exc:
                shutil.rmtree(workdir, ignore_errors=True)
                raise TargetUnavailable(f"{self.name}: cannot run {cmd.argv[0]}: {exc}") from None
        handle = ServerHandle(self.name, LOOPBACK, port, tls_cert is not None, process,
                              log_path, cmd.argv, dict(self.paths), workdir)
        try:
            wait = max(timeout, self.ready_timeout)
            wait_for_port(LOOPBACK, port, process, wait)
            if self.ready_http is not None:
                wait_for_http(LOOPBACK, port, self.ready_http, handle.tls, process, wait)
        except TargetUnavailable as exc:
            handle.stop()
            raise TargetUnavailable(f"{self.name}: {exc}\n{handle.log_tail()}") from None
        except BaseException:  # Ctrl-C while waiting: do not leave the server behind
            handle.stop()
            raise
        return handle

    def command(
        self,
        app_module_attr: str,
        port: int,
        tls_cert: str | Path | None = None,
        tls_key: str | Path | None = None,
        *,
        env: Mapping[str, str] | None = None,
        protocol: Protocol | None = None,
        workdir: Path | None = None,
    ) -> Command:
        """How this target is started: argv, full environment and working directory."""
        from conformance.targets.placeholders import placeholders, render

        spec = self.launch(app_module_attr, port,
                           Path(tls_cert) if tls_cert else None,
                           Path(tls_key) if tls_key else None,
                           protocol=protocol, workdir=workdir)
        values = placeholders(spec, self.here)
        importable = self._workdir()
        cwd = Path(render(self.cwd, values)) if self.cwd and not self.isolate_repo else importable
        own_env = {k: render(v, values) for k, v in self.env.items()}
        child_env = {**os.environ, **own_env, **(env or {}), "PYTHONPATH": str(importable)}
        child_env.pop("PYTHONHOME", None)
        return Command(self.build_argv(spec), child_env, cwd)

    def _workdir(self) -> Path:
        """Directory the child imports the app from (and runs in, unless ``cwd`` says):
        the repository, or :func:`conformance_only_dir` for an ``isolate_repo`` target."""
        return conformance_only_dir(self.name) if self.isolate_repo else REPO_ROOT


def _command_version(argv: tuple[str, ...], regex: str) -> str:
    """First line of *argv*'s output, or the first match of *regex* in it (group 1 if any)."""
    import re

    try:
        proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        return "unknown (not installed yet)"
    except (OSError, subprocess.SubprocessError) as exc:
        return f"unknown ({exc})"
    if proc.returncode != 0:  # its error text is no version (e.g. git outside a checkout)
        return f"unknown ({argv[0]} exited {proc.returncode})"
    out = (proc.stdout or proc.stderr).strip()  # some print their version on stderr (nginx -v)
    if regex:
        match = re.search(regex, out)
        if not match:
            return f"unknown ({argv[0]} printed no match for {regex!r})"
        return match.group(1) if match.groups() else match.group(0)
    return out.splitlines()[0] if out else "unknown"


def wait_for_http(host: str, port: int, path: str, tls: bool,
                  process: subprocess.Popen[bytes], timeout: float) -> None:
    """Block until ``GET path`` (HTTP/1.1) gets a 2xx/3xx/4xx answer; fail if *process* exits."""
    import ssl

    deadline = time.monotonic() + timeout
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise TargetUnavailable(f"server exited with code {process.returncode} before "
                                    "answering HTTP")
        try:
            with socket.create_connection((host, port), timeout=2) as raw:
                sock: socket.socket = raw
                if tls:
                    ctx = ssl.create_default_context()
                    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
                    sock = ctx.wrap_socket(raw, server_hostname=host)
                sock.sendall(request.encode())
                head = sock.recv(64)
            parts = head.split(b" ", 2)
            if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and 200 <= int(parts[1]) < 500:
                return
            last = repr(head[:40])
        except (OSError, ValueError) as exc:
            last = str(exc)
        time.sleep(0.2)
    raise TargetUnavailable(f"GET {path} on {host}:{port} got no 2xx-4xx answer within "
                            f"{timeout}s (last: {last})")
