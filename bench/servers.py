"""The servers under test and how to start each one on a given port.

Every server runs the same ``bench_apps:app`` (hello + WebSocket echo) with one worker,
access logs off, and the fastest event loop/parser it offers, so the comparison is of
servers, not of settings. Keep-alive timeouts are raised to 60 s for all of them so the
idle-connection memory test measures held connections, not reconnects.
"""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .envs import ENVS, REPO_ROOT

APPS_DIR = Path(__file__).resolve().parent / "apps"
APP = "bench_apps:app"

#: Benchmark ids each server can be asked to run (a server missing one is not started
#: for it; a server that claims one and fails is reported as an error, never skipped).
HTTP1, H2C, H2TLS = "http1", "h2c", "h2tls"
WS, WS64K, WS1M, WSDEFLATE = "ws", "ws64k", "ws1m", "wsdeflate"
MEM_H1, MEM_WS = "mem-h1", "mem-ws"
ALL_WS = frozenset({WS, WS64K, WS1M, WSDEFLATE, MEM_WS})


@dataclass(frozen=True, slots=True)
class Launch:
    """What a command builder needs: where to listen and, for TLS, the cert files."""

    port: int
    certfile: Path | None = None
    keyfile: Path | None = None
    h2_only: bool = False  # cleartext HTTP/2 with prior knowledge (h2c benchmark)


@dataclass(frozen=True, slots=True)
class ServerSpec:
    """One server under test."""

    name: str
    label: str
    build: Callable[[Launch], list[str]]
    supports: frozenset[str]
    env_name: str | None = None  # venv under .cache/bench; None = this interpreter
    extra_env: dict[str, str] = field(default_factory=dict)
    cwd: Path = APPS_DIR
    pythonpath: tuple[Path, ...] = (APPS_DIR,)
    ours: bool = False

    def version(self) -> str:
        if self.env_name is None:
            return _git_head() if self.ours else f"python {sys.version.split()[0]}"
        dist = {"uvicorn": "uvicorn", "hypercorn": "hypercorn", "granian": "granian",
                "daphne": "daphne", "websockets": "websockets",
                "blackbull081": "blackbull"}.get(self.env_name, self.env_name)
        return ENVS[self.env_name].version_of(dist)


def _git_head() -> str:
    """``working tree @ <short commit>`` (plus ``+dirty`` when blackbull/ has edits)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "blackbull"],
                               cwd=REPO_ROOT, capture_output=True, text=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "working tree"
    return f"working tree @ {head or '?'}{'+dirty' if dirty else ''}"


def _venv_bin(env: str, script: str) -> str:
    return str(ENVS[env].bin(script))


def _tls_args(launch: Launch, cert: str, key: str) -> list[str]:
    if launch.certfile is None or launch.keyfile is None:
        return []
    return [cert, str(launch.certfile), key, str(launch.keyfile)]


def _blackbull(launch: Launch) -> list[str]:
    return [sys.executable, "-m", "blackbull", APP, "--bind", f"127.0.0.1:{launch.port}",
            *_tls_args(launch, "--certfile", "--keyfile")]


def _blackbull081(app: str) -> Callable[[Launch], list[str]]:
    # 0.81 has no ``__main__``; its console script is the documented entry point
    # (blackbull/cli.py: ``blackbull module:attr --bind host:port --certfile --keyfile``).
    def build(launch: Launch) -> list[str]:
        return [_venv_bin("blackbull081", "blackbull"), app, "--bind",
                f"127.0.0.1:{launch.port}", "--workers", "1",
                *_tls_args(launch, "--certfile", "--keyfile")]
    return build


def _uvicorn(http: str, ws: str = "websockets-sansio") -> Callable[[Launch], list[str]]:
    def build(launch: Launch) -> list[str]:
        return [_venv_bin("uvicorn", "uvicorn"), APP, "--host", "127.0.0.1",
                "--port", str(launch.port), "--loop", "uvloop", "--http", http,
                "--ws", ws, "--ws-max-size", str(32 * 2**20),
                "--no-access-log", "--log-level", "warning", "--timeout-keep-alive", "60"]
    return build


def _hypercorn(launch: Launch) -> list[str]:
    return [_venv_bin("hypercorn", "hypercorn"), APP, "--bind", f"127.0.0.1:{launch.port}",
            "--worker-class", "uvloop", "--workers", "1", "--keep-alive", "60",
            "--log-level", "warning", *_tls_args(launch, "--certfile", "--keyfile")]


def _granian(launch: Launch) -> list[str]:
    http = "2" if launch.h2_only else "auto"
    return [_venv_bin("granian", "granian"), "--interface", "asgi", "--host", "127.0.0.1",
            "--port", str(launch.port), "--workers", "1", "--loop", "uvloop", "--http", http,
            "--no-access-log", "--log-level", "warning",
            *_tls_args(launch, "--ssl-certificate", "--ssl-keyfile"), APP]


def _daphne(launch: Launch) -> list[str]:
    return [_venv_bin("daphne", "daphne"), "-b", "127.0.0.1", "-p", str(launch.port),
            "-v", "0", APP]


def _websockets(launch: Launch) -> list[str]:
    return [str(ENVS["websockets"].python), str(APPS_DIR / "websockets_echo.py"),
            str(launch.port)]


def _bare(launch: Launch) -> list[str]:
    return [sys.executable, str(APPS_DIR / "bare_server.py"), str(launch.port)]


_BB081_ENV = {"BB_UVLOOP": "1", "BB_ACCESS_LOG": "0", "BB_WORKERS": "1",
              "BB_KEEP_ALIVE_TIMEOUT": "60"}
_ALL_BENCH = frozenset({HTTP1, H2C, H2TLS, MEM_H1}) | ALL_WS

SERVERS: dict[str, ServerSpec] = {
    s.name: s
    for s in (
        ServerSpec("blackbull", "BlackBull (this tree)", _blackbull, _ALL_BENCH, ours=True,
                   cwd=REPO_ROOT, pythonpath=(REPO_ROOT, APPS_DIR),
                   extra_env={"BB_ACCESS_LOG": "0", "BB_LOG_LEVEL": "warning",
                              "BB_H1_KEEPALIVE_TIMEOUT": "60", "BB_LOOP": "uvloop"}),
        # 0.81 passes plain ASGI apps its native Connection (which our shared app cannot
        # read: empty replies); its own framework app runs on that default lane, and the
        # shared ASGI app needs BB_FORCE_ASGI_SCOPE=1. The native lane is 0.81's best.
        ServerSpec("blackbull081", "blackbull 0.81 (PyPI), own framework app",
                   _blackbull081("bb081_native:app"), _ALL_BENCH, env_name="blackbull081",
                   extra_env=_BB081_ENV),
        ServerSpec("blackbull081-asgi", "blackbull 0.81, shared ASGI app (forced scope)",
                   _blackbull081(APP), _ALL_BENCH, env_name="blackbull081",
                   extra_env={**_BB081_ENV, "BB_FORCE_ASGI_SCOPE": "1"}),
        ServerSpec("uvicorn", "uvicorn httptools+uvloop, ws=websockets-sansio",
                   _uvicorn("httptools"), frozenset({HTTP1, MEM_H1}) | ALL_WS,
                   env_name="uvicorn"),
        ServerSpec("uvicorn-h11", "uvicorn h11+uvloop", _uvicorn("h11"),
                   frozenset({HTTP1}), env_name="uvicorn"),
        ServerSpec("uvicorn-wslegacy", "uvicorn httptools+uvloop, ws=websockets (legacy)",
                   _uvicorn("httptools", "websockets"), ALL_WS, env_name="uvicorn"),
        ServerSpec("hypercorn", "hypercorn uvloop", _hypercorn, _ALL_BENCH,
                   env_name="hypercorn"),
        # granian 2.8 and daphne 4.2 do not negotiate permessage-deflate (measured).
        ServerSpec("granian", "granian (Rust) asgi", _granian, _ALL_BENCH - {WSDEFLATE},
                   env_name="granian"),
        ServerSpec("daphne", "daphne", _daphne,
                   frozenset({HTTP1, MEM_H1}) | (ALL_WS - {WSDEFLATE}),
                   env_name="daphne"),
        ServerSpec("websockets", "websockets server (own echo)", _websockets, ALL_WS,
                   env_name="websockets"),
        # Its pure-Python unmasking makes it no ceiling for 64 KiB+ messages: 64 B only.
        ServerSpec("bare", "bare uvloop Protocol (ceiling)", _bare, frozenset({HTTP1, WS})),
    )
}

#: Servers run when ``--servers`` is not given (the variants only on request).
DEFAULT_SERVERS = ("blackbull", "blackbull081", "uvicorn", "hypercorn", "granian", "daphne",
                   "websockets", "bare")
