"""The command line: ``blackbull MODULE:ATTR [options]`` (uvicorn's flags, hypercorn's
``--bind``), and the same options for a script that calls ``app.run()``.

Every serving option is one :class:`~blackbull.config.Settings` field (:data:`FLAGS`).
A value comes from, weakest first: the field's default, the ``--config`` TOML file, the
``BB_*`` environment variable (``--env-file`` adds to the environment), the flag. A bad
value is one ``blackbull: error:`` line and exit status 2; an address already in use is
one line and status 1; an app that fails its lifespan startup exits with status 3.
"""
from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
from dataclasses import fields
from typing import Any, NoReturn

from .binds import Bind, parse_bind
from .cli_files import load_env_file, load_toml
from .config import Settings
from .config import _convert as convert
from .types import ASGIApp
from .version import __version__

#: flag destination → Settings field (the flags whose names differ from the field's).
FLAGS: dict[str, str] = {
    "timeout_keep_alive": "h1_keepalive_timeout",
    "timeout_graceful_shutdown": "graceful_timeout",
    "ws_max_size": "ws_max_message_size",
    "ws_max_queue": "ws_queue_depth",
    "ws_per_message_deflate": "ws_permessage_deflate",
    "h2_websocket": "h2_enable_websocket",
    "limit_max_connections": "max_connections",
}
#: Flags whose destination is the Settings field of the same name.
SAME_NAME = (
    "workers", "loop", "lifespan", "log_level", "log_config", "access_log", "root_path",
    "proxy_headers", "forwarded_allow_ips", "server_header", "limit_concurrency",
    "backlog", "limit_max_requests", "ws_ping_interval", "ssl_certfile", "ssl_keyfile", "ssl_keyfile_password",
    "ssl_ca_certs", "ssl_cert_reqs", "ssl_ciphers",
)
_FIELDS = {f.name for f in fields(Settings)}


class CLIError(Exception):
    """One line for stderr; exit status 2."""


def _bind(value: str) -> Bind:
    try:
        return parse_bind(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _header(value: str) -> str:
    name, sep, _ = value.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"--header wants NAME:VALUE, got {value!r}")
    return value


def _version() -> str:
    return (f"blackbull {__version__} ({platform.python_implementation()} "
            f"{platform.python_version()} on {platform.system()})")


def build_parser(script: bool = False) -> argparse.ArgumentParser:
    """The options; ``script``: for ``app.run()`` (no MODULE:ATTR, no --factory)."""
    S = argparse.SUPPRESS  # an option not given leaves its setting to file/env/default
    p = argparse.ArgumentParser(
        prog=os.path.basename(sys.argv[0]) if script else "blackbull", allow_abbrev=False,
        description="Serve an ASGI 3 application over HTTP/1.1, HTTP/2 and WebSocket.",
        epilog="Every option is also a BB_* environment variable (see the README's "
               "settings table); options win over the environment, which wins over "
               "--config.")
    if not script:
        p.add_argument("app", nargs="?", help="the application, as MODULE:ATTR")
        p.add_argument("--factory", action="store_true", default=S,
                       help="ATTR is a factory: call it to get the application")
        p.add_argument("--app-dir", default=S,
                       help="directory put first on sys.path to import the app (default .)")
    p.add_argument("--version", action="version", version=_version())
    p.add_argument("--config", default=S, metavar="FILE.toml",
                   help="a TOML file of settings (field names; see blackbull/cli_files.py)")
    p.add_argument("--env-file", default=S, metavar="FILE",
                   help="KEY=value lines added to the environment (set variables win)")

    a = p.add_argument_group("addresses")
    a.add_argument("--bind", "-b", type=_bind, action="append", default=S, metavar="ADDR",
                   help="HOST:PORT, [IPv6]:PORT, unix:PATH or fd://N; repeat to listen on "
                        "several (BB_BIND, default 127.0.0.1:8000)")
    a.add_argument("--host", default=S, help="host to listen on (with --port)")
    a.add_argument("--port", type=int, default=S,
                   help="port to listen on (0: a free one, logged at startup)")
    a.add_argument("--uds", default=S, metavar="PATH", help="listen on a Unix socket")
    a.add_argument("--fd", type=int, default=S, help="listen on an inherited socket fd")
    a.add_argument("--backlog", type=int, default=S, help="listen() backlog (BB_BACKLOG)")

    w = p.add_argument_group("processes")
    w.add_argument("--workers", "-w", type=int, default=S, help="worker processes (BB_WORKERS)")
    w.add_argument("--reload", action="store_true", default=S,
                   help="restart when a .py file changes (development; needs watchfiles)")
    w.add_argument("--reload-dir", action="append", default=S, metavar="DIR",
                   help="directory to watch with --reload (repeatable; default .)")
    w.add_argument("--reload-include", action="append", default=S, metavar="GLOB",
                   help="files that trigger a reload (repeatable; default *.py)")
    w.add_argument("--reload-exclude", action="append", default=S, metavar="GLOB",
                   help="files that never trigger a reload (repeatable)")
    w.add_argument("--reload-delay", type=float, default=S, metavar="SECONDS",
                   help="seconds between two looks for changes (default 0.05)")
    w.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default=S,
                   help="event loop (BB_LOOP)")
    w.add_argument("--lifespan", choices=("auto", "on", "off"), default=S,
                   help="ASGI lifespan protocol (BB_LIFESPAN)")

    lg = p.add_argument_group("logging")
    lg.add_argument("--log-level", default=S, type=str.lower,
                    choices=("critical", "error", "warning", "info", "debug", "trace"),
                    help="level of the blackbull loggers (BB_LOG_LEVEL)")
    lg.add_argument("--log-config", default=S, metavar="FILE",
                    help="logging config: .json/.yaml dictConfig or .ini fileConfig")
    lg.add_argument("--access-log", action=argparse.BooleanOptionalAction, default=S,
                    help="one line per request on logger blackbull.access (BB_ACCESS_LOG)")

    h = p.add_argument_group("HTTP")
    h.add_argument("--root-path", default=S, help="ASGI root_path (BB_ROOT_PATH)")
    h.add_argument("--proxy-headers", action=argparse.BooleanOptionalAction, default=S,
                   help="client and scheme from Forwarded / X-Forwarded-* of trusted peers")
    h.add_argument("--forwarded-allow-ips", default=S, metavar="IPS",
                   help="trusted proxies: addresses/networks, comma-separated, or '*'")
    h.add_argument("--server-header", action=argparse.BooleanOptionalAction, default=S,
                   help="send 'server: blackbull/VERSION' (BB_SERVER_HEADER)")
    h.add_argument("--header", type=_header, action="append", default=S, metavar="NAME:VALUE",
                   help="a response field to add to every response (repeatable)")
    h.add_argument("--limit-concurrency", type=int, default=S, metavar="N",
                   help="requests beyond N at once are answered 503 (BB_LIMIT_CONCURRENCY)")
    h.add_argument("--limit-max-requests", type=int, default=S, metavar="N",
                   help="a worker serves N requests, then is replaced (BB_LIMIT_MAX_REQUESTS)")
    h.add_argument("--limit-max-connections", type=int, default=S, metavar="N",
                   help="open connections per worker (BB_MAX_CONNECTIONS)")
    h.add_argument("--timeout-keep-alive", type=float, default=S, metavar="SECONDS",
                   help="idle HTTP/1.1 keep-alive connections close after (BB_H1_KEEPALIVE_TIMEOUT)")
    h.add_argument("--timeout-graceful-shutdown", type=float, default=S, metavar="SECONDS",
                   help="in-flight requests get this long on shutdown (BB_GRACEFUL_TIMEOUT)")
    h.add_argument("--h2-websocket", action=argparse.BooleanOptionalAction, default=S,
                   help="WebSocket over HTTP/2, RFC 8441 (BB_H2_ENABLE_WEBSOCKET)")

    ws = p.add_argument_group("WebSocket")
    ws.add_argument("--ws-max-size", type=int, default=S, metavar="BYTES",
                    help="largest message; larger → close 1009 (BB_WS_MAX_MESSAGE_SIZE)")
    ws.add_argument("--ws-max-queue", type=int, default=S, metavar="N",
                    help="messages queued for the app before reading pauses (BB_WS_QUEUE_DEPTH)")
    ws.add_argument("--ws-ping-interval", type=float, default=S, metavar="SECONDS",
                    help="keep-alive pings, 0 off (BB_WS_PING_INTERVAL)")
    ws.add_argument("--ws-per-message-deflate", action=argparse.BooleanOptionalAction,
                    default=S, help="negotiate permessage-deflate, RFC 7692")

    t = p.add_argument_group("TLS")
    t.add_argument("--ssl-certfile", "--certfile", "--cert", dest="ssl_certfile", default=S,
                   metavar="PEM", help="certificate chain; enables TLS with ALPN h2, http/1.1")
    t.add_argument("--ssl-keyfile", "--keyfile", "--key", dest="ssl_keyfile", default=S,
                   metavar="PEM", help="private key")
    t.add_argument("--ssl-keyfile-password", default=S, metavar="PASSWORD",
                   help="password of an encrypted key")
    t.add_argument("--ssl-ca-certs", default=S, metavar="PEM",
                   help="CA bundle to verify client certificates")
    t.add_argument("--ssl-cert-reqs", type=int, choices=(0, 1, 2), default=S,
                   help="client certificates: 0 none, 1 optional, 2 required")
    t.add_argument("--ssl-ciphers", default=S, help="OpenSSL cipher list (TLS 1.2)")
    return p


def settings_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The Settings fields the given flags set (addresses and headers included)."""
    given = vars(args)
    out: dict[str, Any] = {}
    for dest in SAME_NAME:
        if dest in given:
            out[dest] = given[dest]
    for dest, field_name in FLAGS.items():
        if dest in given:
            out[field_name] = given[dest]
    if "header" in given:
        out["headers"] = "\n".join(given["header"])
    binds = _binds(given)
    if binds:
        out["bind"] = ",".join(str(b) for b in binds)
    return out


def _binds(given: dict[str, Any]) -> list[Bind]:
    binds: list[Bind] = list(given.get("bind", ()))
    if "host" in given or "port" in given:
        if binds:
            raise CLIError("give --bind or --host/--port, not both")
        binds.append(Bind("tcp", host=given.get("host", "127.0.0.1").strip("[]"),
                          port=given.get("port", 8000)))
    if "uds" in given:
        binds.append(Bind("unix", path=given["uds"]))
    if "fd" in given:
        binds.append(Bind("fd", fd=given["fd"]))
    return binds


def resolve(args: argparse.Namespace,
            environ: os._Environ[str] | dict[str, str] | None = None) -> tuple[Settings, dict[str, Any]]:
    """Settings from file < environment < flags, and the file's app/factory/app_dir."""
    environ = os.environ if environ is None else environ
    given = vars(args)
    if "env_file" in given:
        load_env_file(given["env_file"], environ)
    from_file: dict[str, Any] = {}
    cli_keys: dict[str, Any] = {}
    if "config" in given:
        from_file, cli_keys = load_toml(given["config"])
    overrides = settings_overrides(args)
    missing = [name for name in overrides if name not in _FIELDS]
    if missing:
        raise CLIError(f"this build has no setting {missing[0]!r}")
    values = dict(from_file)
    for f in fields(Settings):  # the environment wins over the file
        if f.metadata["env"] in environ:
            values[f.name] = convert(f, environ[f.metadata["env"]])
    values.update(overrides)
    return Settings(**values), cli_keys  # checked once, as a whole


def load_app(target: str, app_dir: str | None = None) -> Any:
    """Import ``MODULE:ATTR`` (ATTR may be dotted) with ``app_dir`` first on sys.path."""
    module_name, sep, attr = target.partition(":")
    if not sep or not attr or not module_name:
        raise SystemExit(f"blackbull: error: expected MODULE:ATTR, got {target!r}")
    directory = os.path.abspath(app_dir or os.getcwd())
    if directory not in sys.path:
        sys.path.insert(0, directory)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise SystemExit(f"blackbull: error: cannot import {module_name!r}: {exc}") from exc
        raise  # an import inside the app failed: its traceback is the useful answer
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise SystemExit(f"blackbull: error: {module_name!r} has no attribute "
                             f"{attr!r}") from None
    return obj


def _fail(message: str) -> NoReturn:
    print(f"blackbull: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def prepare(argv: list[str] | None, script: bool) -> tuple[argparse.Namespace, Settings, dict[str, Any]]:
    args = build_parser(script).parse_args(argv)
    try:
        settings, cli_keys = resolve(args)
    except (CLIError, ValueError) as exc:  # ConfigFileError and Settings' own checks
        _fail(str(exc))
    if getattr(args, "reload", False) and settings.workers > 1:
        _fail("--reload runs one process: it cannot be combined with --workers")
    return args, settings, cli_keys


def _reload(command: list[str], args: argparse.Namespace, settings: Settings) -> None:
    """--reload: this process only watches; ``command`` (minus the reload flags) serves."""
    from .server.logs import configure_logging
    from .server.reload import run_with_reload, without_reload_flags

    try:
        configure_logging(settings)
    except ValueError as exc:
        _fail(str(exc))
    given = vars(args)
    raise SystemExit(run_with_reload(
        without_reload_flags(command), given.get("reload_dir") or ["."],
        given.get("reload_include"), given.get("reload_exclude"),
        given.get("reload_delay", 0.05)))


def main(argv: list[str] | None = None) -> None:
    arg_list = sys.argv[1:] if argv is None else list(argv)
    args, settings, cli_keys = prepare(arg_list, script=False)
    target = args.app or cli_keys.get("app")
    if not target:
        _fail("no application: give MODULE:ATTR (or 'app' in the --config file)")
    if getattr(args, "reload", False):
        _reload([sys.executable, "-m", "blackbull", *arg_list], args, settings)
    app = load_app(target, getattr(args, "app_dir", None) or cli_keys.get("app_dir"))
    if getattr(args, "factory", False) or cli_keys.get("factory"):
        app = app()
    from .server.serve import run

    run(app, settings=settings)


def run_script(app: ASGIApp, argv: list[str] | None, defaults: dict[str, Any]) -> None:
    """``app.run()``: the script's command line (``--help``, ``--port`` …) over the
    arguments given in the code (``defaults``: Settings fields), over the environment."""
    arg_list = sys.argv[1:] if argv is None else list(argv)
    args, settings, _ = prepare(arg_list, script=True)
    given = set(settings_overrides(args))
    code = {k: v for k, v in defaults.items() if k not in given}
    if code:
        try:
            settings = settings.replace(**code)
        except ValueError as exc:
            _fail(str(exc))
    if getattr(args, "reload", False):
        _reload([sys.executable, *sys.orig_argv[1:]], args, settings)
    from .server.serve import run

    run(app, settings=settings)
