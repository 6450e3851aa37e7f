"""The target options every conformance command shares: ``--target``, ``--target-file``,
``--url``, ``--name``, ``--insecure``, ``--ca`` (conformance/targets/README.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from conformance.targets.external import UrlError, external_target
from conformance.targets.files import TargetFileError, load_target_file
from conformance.targets.registry import TARGETS, register


def add_target_arguments(parser: argparse.ArgumentParser, *, default: str | None = "blackbull",
                         many: bool = False) -> None:
    """Add the shared options; with *many*, ``--target`` is repeatable."""
    parser.set_defaults(default_target=default)
    parser.add_argument("--target", action="append" if many else "store", default=None,
                        help=f"registry name (default {default}); known: {', '.join(TARGETS)}")
    parser.add_argument("--target-file", action="append", type=Path, default=[],
                        help="a target file (TOML) to add to the registry; repeatable")
    parser.add_argument("--url", action="append", default=[],
                        help="a server already running: h2c://, h2://, https://, http://, "
                             "ws://, wss:// HOST:PORT/PATH; repeatable (one server)")
    parser.add_argument("--name", default=None,
                        help="the report's label for the --url server (default HOST-PORT)")
    parser.add_argument("--insecure", action="store_true",
                        help="--url over TLS: do not verify the server's certificate")
    parser.add_argument("--ca", type=Path, default=None,
                        help="--url over TLS: PEM file of the CA that signed its certificate")


def resolve_targets(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """Register the run's target files and --url server; the target names to test.

    ``--url`` wins over the default target; ``--target-file`` names are tested when no
    ``--target`` is given. Errors in files or URLs end the command with a clear message.
    """
    names: list[str] = []
    try:
        for path in args.target_file:
            names.append(register(load_target_file(path)).name)
        if args.url:
            names.append(register(external_target(args.url, name=args.name,
                                                  insecure=args.insecure,
                                                  ca=args.ca or "")).name)
    except (TargetFileError, UrlError, OSError) as exc:
        parser.error(str(exc))
    given = args.target if isinstance(args.target, list) else (
        [args.target] if args.target else [])
    explicit = [n for n in given if n]
    chosen = explicit or names or ([args.default_target] if args.default_target else [])
    unknown = [n for n in chosen if n not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s) {unknown}; known: {', '.join(TARGETS)}")
    return chosen
