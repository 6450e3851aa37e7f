"""The ``blackbull`` command: binding, TLS, workers, signals and graceful shutdown, with
independent clients (curl, httpx) against a real server process."""
from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import time

import httpx
import pytest

from tests.conftest import PYTHON, ROOT, free_port


def cli(app: str, port: int, *extra: str) -> list[str]:
    return [PYTHON, "-m", "blackbull", app, "--bind", f"127.0.0.1:{port}", *extra]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_curl_gets_200_from_cli_started_hello_app(spawn_server):
    """The README quick start: `blackbull app:app --bind 127.0.0.1:PORT`, then curl."""
    port = free_port()
    spawn_server(cli("tests.apps.basic:framework", port), port, cwd=str(ROOT))
    out = subprocess.run(["curl", "-sv", f"http://127.0.0.1:{port}/"], capture_output=True,
                         text=True, timeout=10)
    assert "< HTTP/1.1 200 OK" in out.stderr and out.stdout == "Hello, world!"


def test_console_script_and_module_are_the_same_cli(spawn_server):
    exe = shutil.which("blackbull")
    assert exe is not None, "the blackbull console script is installed with the package"
    port = free_port()
    spawn_server([exe, "tests.apps.basic:hello", "--bind", f"127.0.0.1:{port}"], port,
                 cwd=str(ROOT))
    assert httpx.get(f"http://127.0.0.1:{port}/").text == "hello"


def test_bind_listens_only_on_the_given_host(spawn_server):
    """--bind 127.0.0.1 must not listen on other addresses of the machine."""
    port = free_port()
    proc = spawn_server(cli("tests.apps.basic:hello", port), port, cwd=str(ROOT))
    listening = subprocess.run(["ss", "-ltnp"], capture_output=True, text=True).stdout \
        if shutil.which("ss") else ""
    lines = [ln for ln in listening.splitlines() if f":{port} " in ln]
    if lines:
        assert all(f"127.0.0.1:{port}" in ln for ln in lines), lines
    # Independently of ss: another loopback address can take the same port, which a
    # wildcard (0.0.0.0) listener would forbid with EADDRINUSE.
    with socket.socket() as probe:
        probe.bind(("127.0.0.2", port))
    assert proc.proc.poll() is None


def test_tls_certfile_keyfile_serve_https(spawn_server, tls_certs):
    port = free_port()
    spawn_server(cli("tests.apps.basic:hello", port, "--certfile", tls_certs["cert"],
                     "--keyfile", tls_certs["key"]), port, cwd=str(ROOT))
    import ssl

    ctx = ssl.create_default_context(cafile=tls_certs["ca"])
    assert httpx.get(f"https://localhost:{port}/", verify=ctx).text == "hello"


def test_sigterm_finishes_in_flight_request_then_exits(spawn_server):
    """Graceful shutdown: stop accepting, finish the in-flight request, exit 0."""
    port = free_port()
    proc = spawn_server(cli("tests.apps.basic:slow", port), port, cwd=str(ROOT))
    # The request is on the wire before the signal (a client's own start-up time, e.g.
    # httpx building its TLS defaults on a loaded machine, must not race the signal).
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn.sendall(b"GET /?1.0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    time.sleep(0.4)
    proc.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=2)  # no longer accepting
    response = b""
    while chunk := conn.recv(65536):
        response += chunk
    conn.close()
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and json.loads(body)["delay"] == 1.0
    assert proc.proc.wait(10) == 0


def test_sigint_stops_the_server(spawn_server):
    """Ctrl-C (SIGINT) shuts down like SIGTERM."""
    port = free_port()
    proc = spawn_server(cli("tests.apps.basic:hello", port), port, cwd=str(ROOT))
    proc.proc.send_signal(signal.SIGINT)
    assert proc.proc.wait(10) == 0


def test_workers_share_the_port_and_stop_together(spawn_server):
    """--workers 2: two processes serve one socket; SIGTERM stops them all."""
    port = free_port()
    proc = spawn_server(cli("tests.apps.basic:scope_dump", port, "--workers", "2"), port,
                        cwd=str(ROOT))
    for _ in range(10):
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
    children = subprocess.run(["pgrep", "-P", str(proc.proc.pid)], capture_output=True,
                              text=True).stdout.split()
    assert len(children) == 2
    proc.proc.send_signal(signal.SIGTERM)
    assert proc.proc.wait(15) == 0
    time.sleep(0.2)
    for pid in children:
        assert subprocess.run(["kill", "-0", pid], capture_output=True).returncode != 0


def test_bb_environment_settings_reach_the_server(spawn_server):
    """Settings come from BB_* variables: a tiny BB_H1_MAX_HEADERS gives 431."""
    port = free_port()
    spawn_server(cli("tests.apps.basic:hello", port), port, cwd=str(ROOT),
                 env={"BB_H1_MAX_HEADERS": "3"})
    headers = {f"x-{i}": "v" for i in range(6)}
    assert httpx.get(f"http://127.0.0.1:{port}/", headers=headers).status_code == 431


def test_starlette_app_with_lifespan_runs_under_blackbull(spawn_server):
    """ASGI lifespan: a Starlette app's lifespan state reaches its requests."""
    port = free_port()
    spawn_server(cli("tests.apps.starlette_app:app", port), port, cwd=str(ROOT))
    assert httpx.get(f"http://127.0.0.1:{port}/").json() == {"started": "yes-from-lifespan"}


def test_blackbull_app_runs_under_uvicorn(spawn_server):
    """BlackBull() is a plain ASGI 3 app: uvicorn serves it."""
    port = free_port()
    spawn_server([PYTHON, "-m", "uvicorn", "tests.apps.basic:framework", "--host", "127.0.0.1",
                  "--port", str(port)], port, cwd=str(ROOT))
    assert httpx.get(f"http://127.0.0.1:{port}/").text == "Hello, world!"
    assert httpx.get(f"http://127.0.0.1:{port}/items/3").json() == {"item": 3}


def test_blackbull_app_runs_under_hypercorn(spawn_server):
    """BlackBull() is a plain ASGI 3 app: hypercorn serves it."""
    port = free_port()
    spawn_server([PYTHON, "-m", "hypercorn", "tests.apps.basic:framework", "--bind",
                  f"127.0.0.1:{port}"], port, cwd=str(ROOT))
    assert httpx.get(f"http://127.0.0.1:{port}/").text == "Hello, world!"


def test_app_run_reads_port_and_tls_flags_from_the_script_command_line(
        spawn_server, tmp_path, tls_certs):
    """``python app.py --port P --cert C --key K`` works for any ``app.run()`` call."""
    script = tmp_path / "app.py"
    script.write_text(
        "from blackbull import BlackBull\n"
        "app = BlackBull()\n"
        "@app.route(path='/')\n"
        "async def hello():\n"
        "    return 'Hello, world!'\n"
        "if __name__ == '__main__':\n"
        "    app.run(port=1)\n")
    port = free_port()
    spawn_server([PYTHON, str(script), "--port", str(port), "--cert", tls_certs["cert"],
                  "--key", tls_certs["key"]], port, cwd=str(tmp_path))
    import ssl

    ctx = ssl.create_default_context(cafile=tls_certs["ca"])
    assert httpx.get(f"https://localhost:{port}/", verify=ctx).text == "Hello, world!"
