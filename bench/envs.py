"""Isolated virtual environments for the peers under ``.cache/bench/venvs/``.

Each peer gets its own venv with pinned versions, so that the published
``blackbull==0.81.0`` never meets our working-tree package and the peers' own
dependencies cannot disturb one another. A venv is (re)built only when its pin list
changes: the pins are written to a marker file after a successful install.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("bench.envs")

REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = REPO_ROOT / ".cache" / "bench"
VENV_DIR = CACHE_DIR / "venvs"


@dataclass(frozen=True, slots=True)
class PeerEnv:
    """One venv: its name and the pip requirements it is built from."""

    name: str
    requirements: tuple[str, ...]
    root: Path = VENV_DIR

    @property
    def path(self) -> Path:
        return self.root / self.name

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def bin(self, script: str) -> Path:
        """Path of a console script installed into this venv."""
        return self.path / "bin" / script

    @property
    def _marker(self) -> Path:
        return self.path / ".bench-pins"

    def is_ready(self) -> bool:
        """True when the venv exists and was built from exactly these pins."""
        try:
            return self._marker.read_text() == "\n".join(self.requirements)
        except OSError:
            return False

    def ensure(self) -> None:
        """Create the venv and install the pins unless already done (raises on failure)."""
        if self.is_ready():
            return
        log.info("building venv %s: %s", self.name, " ".join(self.requirements))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(self.path)], check=True)
        pip = [str(self.python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, *self.requirements], check=True)
        self._marker.write_text("\n".join(self.requirements))

    def version_of(self, dist: str) -> str:
        """Installed version of *dist* in this venv ("?" when unknown)."""
        code = f"import importlib.metadata as m; print(m.version({dist!r}))"
        try:
            # Not from the repo root: an ``blackbull.egg-info`` there would answer instead.
            out = subprocess.run([str(self.python), "-c", code], capture_output=True,
                                 text=True, check=True, timeout=30, cwd=self.path,
                                 env=clean_env())
        except (OSError, subprocess.SubprocessError):
            return "?"
        return out.stdout.strip() or "?"


# Pins: the versions measured in issue 7 (uvloop/httptools as the fast paths of each).
ENVS: dict[str, PeerEnv] = {
    env.name: env
    for env in (
        PeerEnv("uvicorn", ("uvicorn==0.54.0", "httptools==0.9.0", "uvloop==0.23.0",
                            "websockets==17.4", "wsproto==1.3.2")),
        PeerEnv("hypercorn", ("hypercorn==0.18.0", "uvloop==0.23.0")),
        PeerEnv("granian", ("granian[uvloop]==2.8.7",)),
        PeerEnv("daphne", ("daphne==4.2.3",)),
        PeerEnv("websockets", ("websockets==17.4", "uvloop==0.23.0")),
        PeerEnv("blackbull081", ("blackbull==0.81.0", "uvloop==0.23.0")),
    )
}


def ensure_all(names: list[str]) -> dict[str, str]:
    """Build the named venvs; returns {name: error message} for those that failed."""
    errors: dict[str, str] = {}
    for name in names:
        try:
            ENVS[name].ensure()
        except (OSError, subprocess.CalledProcessError) as exc:
            errors[name] = f"venv {name} could not be built: {exc}"
            log.error("%s", errors[name])
    return errors


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """A process environment without our PYTHONPATH/VIRTUAL_ENV leaking into peers."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env.update(extra or {})
    return env


if __name__ == "__main__":  # pragma: no cover - manual helper: build every venv
    logging.basicConfig(level=logging.INFO)
    failed = ensure_all(list(ENVS))
    print(failed or "all venvs ready", file=sys.stderr)
    raise SystemExit(1 if failed else 0)
