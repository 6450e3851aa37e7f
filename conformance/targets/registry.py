"""The servers a harness can test: every target file of the registry, plus any the run adds.

The registry is the directory ``conformance/targets/peers/`` (see the README beside this
file): ours, the Python peers, and the implementations in other languages. A run adds
files with ``--target-file`` or servers with ``--url``; harness subprocesses see them
through ``$CONFORMANCE_TARGET_FILES`` (paths separated by ``os.pathsep``), which the
orchestrator sets. A protocol missing from a target's set must be reported by harnesses
as ``not-supported``, never as a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

from conformance.targets.base import Target
from conformance.targets.files import load_directory, load_target_file

PEERS_DIR = Path(__file__).resolve().parent / "peers"
ENV_FILES = "CONFORMANCE_TARGET_FILES"
OURS = "blackbull"


def _load() -> dict[str, Target]:
    found = load_directory(PEERS_DIR)
    ordered = {OURS: found.pop(OURS)} if OURS in found else {}
    ordered.update(found)
    for path in filter(None, os.environ.get(ENV_FILES, "").split(os.pathsep)):
        target = load_target_file(Path(path))
        ordered[target.name] = target
    return ordered


TARGETS: dict[str, Target] = _load()


def register(target: Target) -> Target:
    """Add (or replace, by name) a target for this process, e.g. from ``--target-file``."""
    TARGETS[target.name] = target
    return target


def get_target(name: str) -> Target:
    """The target called *name*; ``KeyError`` lists the known names."""
    try:
        return TARGETS[name]
    except KeyError:
        raise KeyError(f"unknown target {name!r}; known: {', '.join(TARGETS)}") from None
