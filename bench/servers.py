"""The servers under test and how to start each one on a given port.

They are the ``[bench]`` tables of the target registry (conformance/targets/peers/*.toml,
schema in conformance/targets/README.md), the same files conformance and the RFC 8441
matrix read.

Every server runs the same ``bench_apps:app`` (hello + WebSocket echo) with one worker,
access logs off, and the fastest event loop/parser it offers, so the comparison is of
servers, not of settings. Keep-alive timeouts are raised to 60 s for all of them so the
idle-connection memory test measures held connections, not reconnects.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.targets import TARGETS, Target
from conformance.targets.base import conformance_only_dir
from conformance.targets.placeholders import render

from .catalog import (
    ALL_WS,
    H2C,
    H2TLS,
    HTTP1,
    LAT_H1,
    MEM_H1,
    MEM_WS,
    SCALE,
    WS,
    WS1M,
    WS64K,
    WSDEFLATE,
)
from .envs import CACHE_DIR, ENVS, REPO_ROOT

APPS_DIR = Path(__file__).resolve().parent / "apps"
APP = "bench_apps:app"
#: Where the servers import ``bench_apps:app`` from: it is ``conformance.apps:bench_app``,
#: and a peer must see ``conformance/`` but not our ``blackbull`` package.
APP_PATH = (APPS_DIR, conformance_only_dir("bench"))
#: Files a server without an ASGI app serves for the large-body rows (bench/bodies.py).
DATA_DIR = CACHE_DIR / "data"

#: Benchmark ids each server can be asked to run (bench/catalog.py; a server missing one is
#: not started for it; a server that claims one and fails is reported as an error, never
#: skipped).
__all__ = ["ALL_WS", "H2C", "H2TLS", "HTTP1", "MEM_H1", "MEM_WS", "WS", "WS1M", "WS64K",
           "WSDEFLATE", "Launch", "ServerSpec", "SERVERS", "DEFAULT_SERVERS"]


@dataclass(frozen=True, slots=True)
class Launch:
    """What a command builder needs: where to listen and, for TLS, the cert files."""

    port: int
    certfile: Path | None = None
    keyfile: Path | None = None
    h2_only: bool = False  # cleartext HTTP/2 with prior knowledge (h2c benchmark)
    workers: int = 1  # the ``{workers}`` placeholder (the workers-* rows ask for 2)
    workdir: Path | None = None  # a fresh directory per launch: rendered templates go here


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
    pythonpath: tuple[Path, ...] = APP_PATH
    ours: bool = False
    #: A reference outside the comparison (nginx, C): shown, never a goal's peer.
    informational: bool = False
    requires: tuple[str, ...] = ()  # executables that must be on PATH
    needs_workdir: bool = False  # its command renders templates into Launch.workdir
    native_version: Callable[[], str] | None = None  # a non-Python server's own version

    def unavailable(self) -> str | None:
        """Why this server cannot start here (a missing executable), else None."""
        missing = [exe for exe in self.requires if shutil.which(exe) is None]
        return f"requires {', '.join(missing)}: not found on PATH" if missing else None

    def version(self) -> str:
        if self.native_version is not None:
            return self.native_version()
        if self.env_name is None:
            return _git_head(self.cwd) if self.ours else f"python {sys.version.split()[0]}"
        dist = {"uvicorn": "uvicorn", "hypercorn": "hypercorn", "granian": "granian",
                "daphne": "daphne", "websockets": "websockets",
                "blackbull081": "blackbull"}.get(self.env_name, self.env_name)
        return ENVS[self.env_name].version_of(dist)


def _git_head(tree: Path = REPO_ROOT) -> str:
    """``working tree @ <short commit>`` (plus ``+dirty`` when blackbull/ has edits) of
    the checkout at ``tree``."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=tree,
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "blackbull"],
                               cwd=tree, capture_output=True, text=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "working tree"
    return f"working tree @ {head or '?'}{'+dirty' if dirty else ''}"


def _bare(launch: Launch) -> list[str]:
    return [sys.executable, str(APPS_DIR / "bare_server.py"), str(launch.port)]


def _placeholders(target: Target, env_name: str | None) -> dict[str, str]:
    env = ENVS[env_name] if env_name else None
    return {"host": "127.0.0.1", "app": APP, "bench_apps": str(APPS_DIR),
            "conformance": str(APP_PATH[1]),
            "repo": str(REPO_ROOT), "here": str(target.here),
            # the blackbull-ref variant: another checkout to compare this tree against
            "ref": os.environ.get("BB_BENCH_REF") or str(REPO_ROOT),
            "bench_data": str(DATA_DIR),
            "python": str(env.python) if env else sys.executable,
            "bin": str(env.path / "bin") if env else str(Path(sys.executable).parent)}


def _from_registry(target: Target, name: str, table: Mapping[str, Any]) -> ServerSpec:
    """A bench server from a target file's ``[bench]`` (or ``[bench.variants.NAME]``) table."""
    env_name = table.get("venv")
    base = _placeholders(target, env_name)
    templates = {str(k): str(v) for k, v in dict(table.get("templates", {})).items()}

    def build(launch: Launch) -> list[str]:
        values = {**base, "port": str(launch.port), "workers": str(launch.workers),
                  "workdir": str(launch.workdir or ""),
                  "cert": str(launch.certfile or ""), "key": str(launch.keyfile or "")}
        if templates and launch.workdir is None:
            raise ValueError(f"bench server {name} renders templates: it needs a workdir")
        for out_name, source in templates.items():
            text = Path(render(source, values)).read_text(encoding="utf-8")
            assert launch.workdir is not None
            (launch.workdir / out_name).write_text(render(text, values), encoding="utf-8")
        if launch.h2_only and "command_h2c" in table:
            command = table["command_h2c"]
        elif launch.certfile is not None and "command_tls" in table:
            command = table["command_tls"]
        else:
            command = table["command"]
        return [render(str(arg), values) for arg in command]

    return ServerSpec(
        name, str(table.get("label", target.description)), build,
        frozenset(str(b) for b in table["supports"]), env_name=env_name,
        extra_env={str(k): str(v) for k, v in dict(table.get("env", {})).items()},
        cwd=Path(render(str(table["cwd"]), base)) if "cwd" in table else APPS_DIR,
        pythonpath=tuple(Path(render(str(p), base))
                         for p in table.get("pythonpath", ["{bench_apps}", "{conformance}"])),
        ours=bool(table.get("ours", False)),
        informational=bool(table.get("informational", False)),
        requires=tuple(target.requires), needs_workdir=bool(templates),
        native_version=None if env_name or table.get("ours") or target.serves_app
        else target.version)


def _registry_servers() -> list[ServerSpec]:
    """Every ``[bench]`` table of the target registry (conformance/targets/peers/)."""
    return [_from_registry(target, name, table)
            for target in TARGETS.values() for name, table in target.bench.items()]


#: The servers under test come from the one target registry; ``bare`` is no implementation
#: under test but the ceiling of a do-nothing uvloop Protocol, so it lives here. Its
#: pure-Python unmasking makes it no ceiling for 64 KiB+ messages: 64 B only. It never
#: closes a connection, so it has no Connection: close row.
SERVERS: dict[str, ServerSpec] = {
    s.name: s
    for s in (*_registry_servers(),
              ServerSpec("bare", "bare uvloop Protocol (ceiling)", _bare,
                         frozenset({HTTP1, WS, LAT_H1, SCALE})))
}

#: Servers run when ``--servers`` is not given (the variants only on request).
DEFAULT_SERVERS = ("blackbull", "blackbull081", "uvicorn", "hypercorn", "granian", "daphne",
                   "websockets", "nginx", "bare")
