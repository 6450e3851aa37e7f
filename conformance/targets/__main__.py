"""``python -m conformance.targets list | install [NAME ...]``: the registry, and preparing it.

``list`` prints every target (registry and ``--target-file``), its language, version,
protocols, and why it cannot run here, if it cannot. ``install`` creates the Python peers'
venvs and runs each target file's ``install`` step ahead of a run; exit 1 if one failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.targets.base import TargetUnavailable
from conformance.targets.files import TargetFileError, load_target_file
from conformance.targets.registry import TARGETS, register


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.targets",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("list", "install"))
    parser.add_argument("names", nargs="*", help="targets (default: all)")
    parser.add_argument("--target-file", action="append", type=Path, default=[])
    args = parser.parse_args(argv)
    try:
        for path in args.target_file:
            register(load_target_file(path))
    except TargetFileError as exc:
        parser.error(str(exc))
    names = args.names or list(TARGETS)
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s) {unknown}; known: {', '.join(TARGETS)}")
    failed = 0
    for name in names:
        target = TARGETS[name]
        reason = target.unavailable_reason()
        if args.command == "list":
            state = f"CANNOT RUN: {reason}" if reason else (
                "ready" if target.is_installed() else "will install on first use")
            protocols = ",".join(sorted(p.value for p in target.protocols))
            print(f"{name:<14} {target.language:<11} {protocols:<40} {state}")
            print(f"{'':<14} {target.description} — version {target.version()}")
            continue
        if reason:
            print(f"{name}: cannot run here: {reason}")
            failed += 1
            continue
        try:
            target.ensure_installed()
            print(f"{name}: installed ({target.version()})")
        except TargetUnavailable as exc:
            print(f"{name}: install failed: {exc}")
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
