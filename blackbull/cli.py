"""``blackbull MODULE:ATTR --bind HOST:PORT [--certfile F --keyfile F] [--workers N]``."""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any

from .config import Settings


def parse_bind(value: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[::1]:PORT`` or ``:PORT`` (127.0.0.1)."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"--bind wants HOST:PORT, got {value!r}")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


def load_app(target: str) -> Any:
    module_name, sep, attr = target.partition(":")
    if not sep or not attr:
        raise SystemExit(f"blackbull: expected MODULE:ATTR, got {target!r}")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SystemExit(f"blackbull: cannot import {module_name!r}: {exc}") from exc
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise SystemExit(f"blackbull: {module_name!r} has no attribute {attr!r}") from None
    return obj


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="blackbull", description="Serve an ASGI 3 application.")
    p.add_argument("app", help="the application, as MODULE:ATTR")
    p.add_argument("--bind", "-b", type=parse_bind, default=None,
                   help="HOST:PORT to listen on (default 127.0.0.1:8000)")
    p.add_argument("--host", default=None, help="host to listen on (alternative to --bind)")
    p.add_argument("--port", type=int, default=None, help="port (alternative to --bind)")
    p.add_argument("--certfile", "--cert", default=None, help="TLS certificate (PEM)")
    p.add_argument("--keyfile", "--key", default=None, help="TLS private key (PEM)")
    p.add_argument("--workers", "-w", type=int, default=1, help="worker processes")
    p.add_argument("--factory", action="store_true", help="ATTR is a factory to call")
    return p


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    host, port = args.bind or (args.host or "127.0.0.1", args.port or 8000)
    if args.bind and (args.host or args.port):
        raise SystemExit("blackbull: give --bind or --host/--port, not both")
    if args.keyfile and not args.certfile:
        raise SystemExit("blackbull: --keyfile needs --certfile")
    settings = Settings.from_env()
    app = load_app(args.app)
    if args.factory:
        app = app()
    from .server.serve import run

    run(app, host, port, certfile=args.certfile, keyfile=args.keyfile,
        workers=args.workers, settings=settings)


def script_overrides(argv: list[str] | None = None) -> argparse.Namespace:
    """The serving flags of a script that calls ``app.run()``; unknown flags are left alone."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--bind", type=parse_bind, default=None)
    p.add_argument("--certfile", "--cert", default=None)
    p.add_argument("--keyfile", "--key", default=None)
    p.add_argument("--workers", type=int, default=None)
    opts, _ = p.parse_known_args(sys.argv[1:] if argv is None else argv)
    if opts.bind:
        opts.host, opts.port = opts.bind
    return opts
