"""Every serving flag is one ``Settings`` field (issue 16 §2), and the fields the
command line adds behave: default response fields (``--header``, ``--server-header``,
RFC 9110 §10.2.4), ``--root-path`` (ASGI ``root_path``), validation."""
from __future__ import annotations

from dataclasses import fields

import httpx
import pytest

from blackbull.binds import Bind, parse_bind
from blackbull.cli import build_parser, resolve, settings_overrides
from blackbull.config import Settings
from tests.apps.deploy import scope_info

FIELDS = {f.name for f in fields(Settings)}

#: flag and value → (Settings field, value it takes)
CASES = [
    (["--workers", "3"], "workers", 3),
    (["--loop", "asyncio"], "loop", "asyncio"),
    (["--lifespan", "off"], "lifespan", "off"),
    (["--log-level", "DEBUG"], "log_level", "debug"),
    (["--log-config", "log.json"], "log_config", "log.json"),
    (["--access-log"], "access_log", True),
    (["--no-access-log"], "access_log", False),
    (["--root-path", "/api"], "root_path", "/api"),
    (["--proxy-headers"], "proxy_headers", True),
    (["--forwarded-allow-ips", "*"], "forwarded_allow_ips", "*"),
    (["--server-header"], "server_header", True),
    (["--no-server-header"], "server_header", False),
    (["--header", "x-a: 1", "--header", "x-b:2"], "headers", "x-a: 1\nx-b:2"),
    (["--limit-concurrency", "50"], "limit_concurrency", 50),
    (["--limit-max-connections", "9"], "max_connections", 9),
    (["--limit-max-requests", "1000"], "limit_max_requests", 1000),
    (["--backlog", "64"], "backlog", 64),
    (["--timeout-keep-alive", "2.5"], "h1_keepalive_timeout", 2.5),
    (["--timeout-graceful-shutdown", "3"], "graceful_timeout", 3.0),
    (["--ws-max-size", "1000"], "ws_max_message_size", 1000),
    (["--ws-ping-interval", "20"], "ws_ping_interval", 20.0),
    (["--ws-max-queue", "16"], "ws_queue_depth", 16),
    (["--no-ws-per-message-deflate"], "ws_permessage_deflate", False),
    (["--h2-websocket"], "h2_enable_websocket", True),
    (["--ssl-certfile", "c.pem", "--ssl-keyfile", "k.pem"], "ssl_keyfile", "k.pem"),
    (["--certfile", "c.pem"], "ssl_certfile", "c.pem"),
    (["--ssl-keyfile-password", "pw", "--cert", "c"], "ssl_keyfile_password", "pw"),
    (["--ssl-ca-certs", "ca.pem"], "ssl_ca_certs", "ca.pem"),
    (["--ssl-cert-reqs", "2"], "ssl_cert_reqs", 2),
    (["--ssl-ciphers", "ECDHE+AESGCM"], "ssl_ciphers", "ECDHE+AESGCM"),
    (["--port", "0"], "bind", "127.0.0.1:0"),
    (["--host", "::1", "--port", "9"], "bind", "[::1]:9"),
    (["--bind", "127.0.0.1:1", "--bind", "[::1]:2"], "bind", "127.0.0.1:1,[::1]:2"),
    (["--uds", "/tmp/s"], "bind", "unix:/tmp/s"),
    (["--fd", "3"], "bind", "fd://3"),
]


@pytest.mark.parametrize(("argv", "field", "value"), CASES,
                         ids=[" ".join(c[0]) for c in CASES])
def test_flag_maps_to_its_settings_field(argv, field, value) -> None:
    args = build_parser().parse_args(["m:a", *argv])
    overrides = settings_overrides(args)
    assert overrides[field] == value
    if field in FIELDS:  # limit_concurrency arrives with the over-capacity work
        settings, _ = resolve(args, environ={})
        assert getattr(settings, field) == value


def test_flags_win_over_the_environment() -> None:
    args = build_parser().parse_args(["m:a", "--root-path", "/flag"])
    settings, _ = resolve(args, environ={"BB_ROOT_PATH": "/env", "BB_BACKLOG": "7"})
    assert settings.root_path == "/flag" and settings.backlog == 7


def test_every_uvicorn_common_flag_is_accepted() -> None:
    """The flags uvicorn users type most (uvicorn --help), accepted as they are spelled."""
    help_text = build_parser().format_help()
    for flag in ("--host", "--port", "--uds", "--fd", "--reload", "--reload-dir", "--workers",
                 "--loop", "--ws-max-size", "--ws-max-queue", "--ws-ping-interval", "--lifespan", "--env-file",
                 "--log-config", "--log-level", "--access-log", "--no-access-log",
                 "--proxy-headers", "--forwarded-allow-ips", "--root-path",
                 "--limit-concurrency", "--backlog", "--timeout-keep-alive",
                 "--timeout-graceful-shutdown", "--ssl-keyfile", "--ssl-certfile",
                 "--ssl-keyfile-password", "--ssl-cert-reqs", "--ssl-ca-certs", "--ssl-ciphers",
                 "--header", "--server-header", "--no-server-header", "--version",
                 "--app-dir", "--factory"):
        assert flag in help_text, flag


@pytest.mark.parametrize(("value", "bind"), [
    ("127.0.0.1:8000", Bind("tcp", host="127.0.0.1", port=8000)),
    (":8000", Bind("tcp", host="127.0.0.1", port=8000)),
    ("[::1]:0", Bind("tcp", host="::1", port=0)),
    ("unix:/run/app.sock", Bind("unix", path="/run/app.sock")),
    ("fd://3", Bind("fd", fd=3)),
])
def test_parse_bind(value, bind) -> None:
    assert parse_bind(value) == bind


@pytest.mark.parametrize("value", ["8000", "::1:8000", "[::1:80", "host:99999", "fd://x",
                                   "unix:"])
def test_parse_bind_refuses(value) -> None:
    with pytest.raises(ValueError, match="'"):
        parse_bind(value)


def test_ipv6_bind_is_written_back_with_brackets() -> None:
    assert str(parse_bind("[::1]:8000")) == "[::1]:8000"


def test_settings_validation_names_the_variable() -> None:
    for kwargs, variable in (({"loop": "x"}, "BB_LOOP"), ({"lifespan": "x"}, "BB_LIFESPAN"),
                             ({"log_level": "x"}, "BB_LOG_LEVEL"),
                             ({"ssl_cert_reqs": 5}, "BB_SSL_CERT_REQS"),
                             ({"workers": 0}, "BB_WORKERS"), ({"bind": "x"}, "BB_BIND")):
        with pytest.raises(ValueError, match=variable):
            Settings(**kwargs)


async def test_default_headers_and_server_header_are_added_unless_the_app_sets_them(
        serve) -> None:
    """RFC 9110 §10.2.4 Server; the app's own value of a field wins."""
    async def own_server(scope, receive, send):
        await receive()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"server", b"mine")]})
        await send({"type": "http.response.body", "body": b""})

    settings = Settings(server_header=True, headers="x-frame-options: DENY\nx-extra: 1")
    srv = await serve(scope_info, settings)
    mine = await serve(own_server, settings)
    plain = await serve(scope_info, Settings())
    async with httpx.AsyncClient() as client:
        r = await client.get(f"http://127.0.0.1:{srv.bound_port}/")
        r_mine = await client.get(f"http://127.0.0.1:{mine.bound_port}/")
        r_plain = await client.get(f"http://127.0.0.1:{plain.bound_port}/")
    assert r.headers["server"].startswith("blackbull/")
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-extra"] == "1"
    assert r_mine.headers["server"] == "mine" and r_mine.headers["x-frame-options"] == "DENY"
    assert "server" not in r_plain.headers and plain.state.app is scope_info


def test_a_malformed_header_setting_is_refused() -> None:
    from blackbull.server.default_headers import parse_headers

    with pytest.raises(ValueError, match="BB_HEADERS"):
        parse_headers("no colon here")


async def test_root_path_reaches_the_scope(serve) -> None:
    """ASGI HTTP scope ``root_path``: the mount point a proxy serves the app under."""
    srv = await serve(scope_info, Settings(root_path="/api"))
    async with httpx.AsyncClient() as client:
        data = (await client.get(f"http://127.0.0.1:{srv.bound_port}/x")).json()
    assert data["root_path"] == "/api"
