"""The ``blackbull`` command as uvicorn users expect it (issue 16 §2): addresses (port 0,
several binds, IPv6, Unix sockets, inherited fds), errors (mistyped flags, bad ``BB_*``
values, a busy port), the startup and shutdown lines, config files, ``app.run()``'s
command line and ``--reload``. Real server processes, real clients (httpx, raw sockets)."""
from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import PYTHON, ROOT

APP = "tests.apps.deploy:scope_info"


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: str | None = None,
            timeout: float = 30) -> subprocess.CompletedProcess[str]:
    import os

    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([PYTHON, "-m", "blackbull", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd or str(ROOT), timeout=timeout)


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


# --- addresses ----------------------------------------------------------------------------
def test_port_0_listens_on_a_free_port_and_logs_the_real_one(cli_server):
    """``--port 0`` asks the OS for a port (not 8000) and the startup line names it."""
    srv = cli_server(APP, "--port", "0")
    [address] = srv.addresses()
    port = int(address.rsplit(":", 1)[1])
    assert address.startswith("http://127.0.0.1:") and port not in (0, 8000)
    assert httpx.get(f"http://127.0.0.1:{port}/").json()["path"] == "/"


@pytest.mark.skipif(not _ipv6_loopback(), reason="this machine has no IPv6 loopback")
def test_several_binds_all_listen_and_ipv6_is_printed_in_brackets(cli_server):
    """Every ``--bind`` is served (as hypercorn does); RFC 3986 §3.2.2 brackets for IPv6."""
    srv = cli_server(APP, "--bind", "127.0.0.1:0", "--bind", "[::1]:0")
    v4, v6 = srv.addresses(count=2)
    assert v4.startswith("http://127.0.0.1:") and v6.startswith("http://[::1]:")
    for url in (v4, v6):
        assert httpx.get(url + "/x").json()["path"] == "/x"


def test_uds_serves_on_a_unix_socket_and_removes_it_on_shutdown(cli_server, tmp_path):
    path = tmp_path / "bb.sock"
    srv = cli_server(APP, "--uds", str(path))
    assert srv.addresses() == [f"http+unix:{path}"]
    with httpx.Client(transport=httpx.HTTPTransport(uds=str(path))) as client:
        assert client.get("http://localhost/u").json()["path"] == "/u"
    assert srv.stop() == 0
    assert not path.exists()


def test_unix_bind_is_the_same_as_uds(cli_server, tmp_path):
    path = tmp_path / "bind.sock"
    srv = cli_server(APP, "--bind", f"unix:{path}")
    srv.addresses()
    with httpx.Client(transport=httpx.HTTPTransport(uds=str(path))) as client:
        assert client.get("http://localhost/").status_code == 200


def test_fd_serves_on_an_inherited_listening_socket(cli_server):
    """``--fd N`` (and ``fd://N``): a socket a supervisor such as systemd opened."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    port = sock.getsockname()[1]
    try:
        srv = cli_server(APP, "--fd", str(sock.fileno()), pass_fds=(sock.fileno(),))
        assert srv.addresses() == [f"http://127.0.0.1:{port}"]
        assert httpx.get(f"http://127.0.0.1:{port}/fd").json()["path"] == "/fd"
    finally:
        sock.close()


# --- errors -------------------------------------------------------------------------------
def test_a_mistyped_flag_is_an_error():
    result = run_cli(APP, "--prot", "8000")
    assert result.returncode == 2
    assert "unrecognized arguments: --prot" in result.stderr


def test_an_abbreviated_flag_is_not_guessed():
    """``--po`` is not taken for ``--port`` (allow_abbrev off: a typo never silently binds)."""
    result = run_cli(APP, "--po", "0")
    assert result.returncode == 2


@pytest.mark.parametrize(("variable", "value"), [
    ("BB_LOOP", "bogus"), ("BB_LIFESPAN", "bogus"), ("BB_LOG_LEVEL", "bogus"),
    ("BB_WORKERS", "many"), ("BB_BIND", "nowhere"), ("BB_H1_MAX_BODY", "1MB"),
])
def test_a_bad_setting_is_one_line_and_exit_2(variable, value):
    result = run_cli(APP, env={variable: value})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("blackbull: error: ") and \
        variable in lines[0], result.stderr


def test_version_prints_the_package_version():
    import blackbull

    result = run_cli("--version")
    assert result.returncode == 0 and f"blackbull {blackbull.__version__}" in result.stdout


def test_a_port_in_use_is_one_line_exit_1_and_the_app_never_starts(tmp_path):
    """The sockets are opened before the lifespan: nothing of the app ran, nothing to undo."""
    marker = tmp_path / "lifespan"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli(APP, "--port", str(port), env={"BB_TEST_MARKER": str(marker)})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"cannot listen on 127.0.0.1:{port}" in lines[0] \
        and "in use" in lines[0], result.stderr
    assert "Traceback" not in result.stderr and not marker.exists()


def test_startup_and_shutdown_lines_in_order_with_the_lifespan(cli_server, tmp_path):
    marker = tmp_path / "lifespan"
    srv = cli_server(APP, "--port", "0", env={"BB_TEST_MARKER": str(marker)})
    srv.addresses()
    srv.wait_for("application startup complete")
    assert srv.stop() == 0
    wanted = ["started server process", "listening on http://127.0.0.1:",
              "(http/1.1, h2c, websocket)", "application startup complete",
              "shutting down", "finished server process"]
    positions = [srv.output.find(w) for w in wanted]
    assert -1 not in positions and positions == sorted(positions), srv.output
    assert marker.read_text().split() == ["startup", "shutdown"]


def test_a_failed_app_startup_is_logged_and_exits_3(cli_server):
    srv = cli_server("tests.apps.deploy:failing_startup", "--port", "0")
    assert srv.wait() == 3
    assert "application startup failed: no database" in srv.output


# --- files and the app's location -----------------------------------------------------------
def test_config_file_then_environment_then_flags(cli_server, tmp_path):
    """--config TOML < BB_* < flags; the file may name the app."""
    config = tmp_path / "bb.toml"
    config.write_text(f'app = "{APP}"\nbind = ["127.0.0.1:0"]\nroot_path = "/file"\n'
                      'access-log = true\n')
    srv = cli_server("--config", str(config))
    port = srv.port()
    assert httpx.get(f"http://127.0.0.1:{port}/").json()["root_path"] == "/file"
    srv.wait_for(r'"GET / HTTP/1.1" 200')  # access_log from the file
    srv = cli_server("--config", str(config), env={"BB_ROOT_PATH": "/env"})
    assert httpx.get(f"http://127.0.0.1:{srv.port()}/").json()["root_path"] == "/env"
    srv = cli_server("--config", str(config), "--root-path", "/flag",
                     env={"BB_ROOT_PATH": "/env"})
    assert httpx.get(f"http://127.0.0.1:{srv.port()}/").json()["root_path"] == "/flag"


def test_config_file_with_an_unknown_key_is_one_line_exit_2(tmp_path):
    config = tmp_path / "bb.toml"
    config.write_text('prot = 1\n')
    result = run_cli(APP, "--config", str(config))
    assert result.returncode == 2 and "unknown setting 'prot'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_env_file_adds_variables_but_the_environment_wins(cli_server, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("# settings\nexport BB_TEST_VALUE='from file'\nBB_ROOT_PATH=/envfile\n")
    srv = cli_server(APP, "--port", "0", "--env-file", str(env_file))
    data = httpx.get(f"http://127.0.0.1:{srv.port()}/").json()
    assert data["env"] == "from file" and data["root_path"] == "/envfile"
    srv = cli_server(APP, "--port", "0", "--env-file", str(env_file),
                     env={"BB_TEST_VALUE": "real"})
    assert httpx.get(f"http://127.0.0.1:{srv.port()}/").json()["env"] == "real"


def test_app_dir_and_factory(cli_server, tmp_path):
    (tmp_path / "myapp.py").write_text(
        "from tests.apps.deploy import scope_info\n"
        "def create():\n    return scope_info\n")
    srv = cli_server("myapp:create", "--factory", "--app-dir", str(tmp_path), "--port", "0")
    assert httpx.get(f"http://127.0.0.1:{srv.port()}/f").json()["path"] == "/f"


def test_log_config_json_routes_the_access_log_with_its_fields(cli_server, tmp_path):
    """--log-config (dictConfig): a formatter reads the access record's own fields."""
    out = tmp_path / "access.log"
    config = {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"f": {"format": "%(method)s %(target)s %(status)s %(bytes)s"}},
        "handlers": {"file": {"class": "logging.FileHandler", "filename": str(out),
                              "formatter": "f"},
                     "console": {"class": "logging.StreamHandler"}},
        "loggers": {"blackbull.access": {"handlers": ["file"], "level": "INFO",
                                         "propagate": False},
                    "blackbull": {"handlers": ["console"], "level": "INFO"}},
    }
    path = tmp_path / "log.json"
    path.write_text(json.dumps(config))
    srv = cli_server(APP, "--port", "0", "--log-config", str(path), "--access-log")
    body = httpx.get(f"http://127.0.0.1:{srv.port()}/logged?a=1").content
    assert srv.stop() == 0
    assert out.read_text().strip() == f"GET /logged?a=1 200 {len(body)}"


YAML_CONFIG = """
version: 1
disable_existing_loggers: false
formatters: {f: {format: "%(method)s %(target)s %(status)s"}}
handlers: {file: {class: logging.FileHandler, filename: OUT, formatter: f}}
loggers: {blackbull.access: {handlers: [file], level: INFO, propagate: false}}
"""
INI_CONFIG = """
[loggers]
keys = root, access
[handlers]
keys = file
[formatters]
keys = f
[logger_root]
handlers =
[logger_access]
qualname = blackbull.access
handlers = file
level = INFO
propagate = 0
[handler_file]
class = FileHandler
args = ('OUT',)
formatter = f
[formatter_f]
format = %(method)s %(target)s %(status)s
"""


@pytest.mark.parametrize(("suffix", "text"), [(".yaml", YAML_CONFIG), (".ini", INI_CONFIG)])
def test_log_config_yaml_and_ini(cli_server, tmp_path, suffix, text):
    """--log-config: YAML is dictConfig like JSON; any other file is INI fileConfig."""
    out = tmp_path / "access.log"
    path = tmp_path / f"log{suffix}"
    path.write_text(text.replace("OUT", str(out)))
    srv = cli_server(APP, "--bind", "127.0.0.1:0", "--log-config", str(path), "--access-log")
    port = None
    deadline = time.monotonic() + 20
    while port is None and time.monotonic() < deadline:  # the config sends nothing to stderr
        out_lines = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
        for line in out_lines.splitlines():
            if f"pid={srv.proc.pid}," in line:
                port = int(line.split()[3].rsplit(":", 1)[1])
        time.sleep(0.1)
    assert port, srv.output
    httpx.get(f"http://127.0.0.1:{port}/yaml-or-ini")
    assert srv.stop() == 0
    assert out.read_text().strip() == "GET /yaml-or-ini 200"


def test_a_broken_log_config_is_one_line_exit_2(tmp_path):
    path = tmp_path / "log.json"
    path.write_text("{not json")
    result = run_cli(APP, "--log-config", str(path))
    assert result.returncode == 2 and "BB_LOG_CONFIG" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# --- TLS and timeouts ---------------------------------------------------------------------
def test_ssl_cert_reqs_2_requires_a_client_certificate(cli_server, tmp_path):
    """--ssl-ca-certs + --ssl-cert-reqs 2: mutual TLS (RFC 8446 §4.3.2 CertificateRequest)."""
    import trustme

    ca = trustme.CA()
    server_cert = ca.issue_cert("localhost", "127.0.0.1")
    client_cert = ca.issue_cert("client@example.org")
    paths = {name: str(tmp_path / f"{name}.pem") for name in ("ca", "cert", "key", "client")}
    ca.cert_pem.write_to_path(paths["ca"])
    server_cert.private_key_and_cert_chain_pem.write_to_path(paths["cert"])
    server_cert.private_key_pem.write_to_path(paths["key"])
    client_cert.private_key_and_cert_chain_pem.write_to_path(paths["client"])
    srv = cli_server(APP, "--port", "0", "--ssl-certfile", paths["cert"], "--ssl-keyfile",
                     paths["key"], "--ssl-ca-certs", paths["ca"], "--ssl-cert-reqs", "2")
    [address] = srv.addresses()
    assert address.startswith("https://") and "(h2, http/1.1, websocket)" in srv.output
    url = address.replace("127.0.0.1", "localhost") + "/"
    ctx = ssl.create_default_context(cafile=paths["ca"])
    with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
        httpx.get(url, verify=ctx)
    ctx.load_cert_chain(paths["client"])
    assert httpx.get(url, verify=ctx).status_code == 200


def test_ssl_keyfile_password_opens_an_encrypted_key(cli_server, tmp_path):
    import trustme
    from cryptography.hazmat.primitives import serialization

    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    key = serialization.load_pem_private_key(cert.private_key_pem.bytes(), None)
    (tmp_path / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"s3cret")))
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    srv = cli_server(APP, "--port", "0", "--ssl-certfile", str(tmp_path / "cert.pem"),
                     "--ssl-keyfile", str(tmp_path / "key.pem"),
                     "--ssl-keyfile-password", "s3cret")
    ctx = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    assert httpx.get(f"https://localhost:{srv.port()}/", verify=ctx).status_code == 200


def test_timeout_keep_alive_closes_an_idle_connection(cli_server):
    """--timeout-keep-alive (RFC 9112 §9.8: a server may close an idle connection)."""
    srv = cli_server(APP, "--port", "0", "--timeout-keep-alive", "0.3")
    with socket.create_connection(("127.0.0.1", srv.port()), timeout=5) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while b"}" not in data:
            data += conn.recv(65536)
        started = time.monotonic()
        assert conn.recv(65536) == b""  # closed by the server, well before the 5 s default
        assert time.monotonic() - started < 3


# --- app.run() and --reload ---------------------------------------------------------------
SCRIPT = """
from blackbull import BlackBull
app = BlackBull()

@app.route(path='/')
async def hello():
    return 'VERSION'

if __name__ == '__main__':
    app.run(port=1)
"""


def test_app_run_help_prints_the_options_and_does_not_serve(tmp_path):
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    result = subprocess.run([PYTHON, str(script), "--help"], capture_output=True, text=True,
                            timeout=30, cwd=str(tmp_path), env={"PYTHONPATH": str(ROOT)})
    assert result.returncode == 0 and "--port" in result.stdout and "--uds" in result.stdout
    assert "listening" not in result.stdout + result.stderr


def test_app_run_rejects_a_mistyped_flag(tmp_path):
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    result = subprocess.run([PYTHON, str(script), "--prot", "8000"], capture_output=True,
                            text=True, timeout=30, cwd=str(tmp_path),
                            env={"PYTHONPATH": str(ROOT)})
    assert result.returncode == 2 and "--prot" in result.stderr


def test_app_run_port_0_from_the_command_line(cli_server, tmp_path):
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    srv = cli_server(argv=[PYTHON, str(script), "--port", "0"], cwd=str(tmp_path))
    assert httpx.get(f"http://127.0.0.1:{srv.port()}/").text == "VERSION"


def test_reload_restarts_the_server_when_a_source_file_changes(cli_server, tmp_path):
    """--reload --reload-dir: a saved change is served without restarting by hand."""
    module = tmp_path / "reloaded.py"
    module.write_text(SCRIPT.replace("if __name__", "if False and __name__"))
    srv = cli_server("reloaded:app", "--app-dir", str(tmp_path), "--port", "0", "--reload",
                     "--reload-dir", str(tmp_path), "--reload-exclude", "scratch_*.py")
    assert httpx.get(f"http://127.0.0.1:{srv.port()}/").text == "VERSION"
    time.sleep(0.5)
    (tmp_path / "scratch_1.py").write_text("x = 1\n")  # excluded: no restart
    (tmp_path / "notes.txt").write_text("not a source file\n")  # not *.py: no restart
    time.sleep(2.5)  # past watchfiles' 1.6 s debounce
    assert "changed; restarting" not in srv.output
    module.write_text(module.read_text().replace("'VERSION'", "'CHANGED'"))
    srv.wait_for("watching .* for changes")
    srv.wait_for("reloaded.py changed; restarting", timeout=20)
    address = srv.addresses(count=2, timeout=20)[1]
    assert httpx.get(address + "/").text == "CHANGED"
    assert srv.stop(timeout=20) in (0, -2, 130)  # watchfiles ends on the signal


def test_reload_flags_are_not_passed_to_the_child_and_globs_match():
    from blackbull.server.reload import matches, without_reload_flags

    argv = ["app:app", "--reload", "--reload-dir", "src", "--reload-include=*.toml",
            "--reload-exclude", "tests/*", "--reload-delay", "0.2", "--port", "0"]
    assert without_reload_flags(argv) == ["app:app", "--port", "0"]
    assert matches("/src/app.py", ["*.py"], [])
    assert not matches("/src/app.txt", ["*.py"], [])
    assert not matches("/src/tests/test_x.py", ["*.py"], ["*/tests/*"])
    assert matches("/src/settings.toml", ["*.py", "*.toml"], [])


def test_reload_and_workers_together_is_an_error():
    result = run_cli(APP, "--reload", "--workers", "2")
    assert result.returncode == 2 and "--reload" in result.stderr


if sys.platform != "linux":  # pragma: no cover
    pytestmark = pytest.mark.skip(reason="Unix sockets, fds and fork: Linux CI")


def test_limit_concurrency_flag_reaches_the_server(cli_server):
    """--limit-concurrency 1: while one request runs, another is answered 503 (RFC 9110
    §15.6.4) with Retry-After instead of reaching the app."""
    srv = cli_server("tests.apps.basic:slow", "--port", "0", "--limit-concurrency", "1")
    port = srv.port()
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn.sendall(b"GET /?1.5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    time.sleep(0.5)
    second = httpx.get(f"http://127.0.0.1:{port}/?0", timeout=10)
    assert second.status_code == 503 and "retry-after" in second.headers
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    conn.close()
    assert data.startswith(b"HTTP/1.1 200")
