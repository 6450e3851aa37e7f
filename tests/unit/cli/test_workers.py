"""``--workers N``: an app that fails its startup stops the whole server after the first
failure (exit 3, no restart loop); a worker that crashes later is restarted with a
back-off that doubles per crash in a row; the parent logs every exit and start."""
from __future__ import annotations

import time

import httpx
import pytest

from blackbull.server.workers import BACKOFF_MAX, backoff


def test_backoff_doubles_from_half_a_second_up_to_a_cap() -> None:
    assert [backoff(n) for n in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0]
    assert backoff(100) == BACKOFF_MAX


def test_startup_failure_with_workers_exits_3_without_restarting(cli_server) -> None:
    """Before: 49 worker restarts in 6 s, forever. Now: each worker starts once."""
    started = time.monotonic()
    srv = cli_server("tests.apps.deploy:failing_startup", "--port", "0", "--workers", "2")
    assert srv.wait(timeout=30) == 3
    assert time.monotonic() - started < 20
    assert srv.output.count("started worker process") == 2, srv.output
    assert "application startup failed; stopping" in srv.output
    assert "restarting" not in srv.output


def test_a_crashed_worker_is_restarted_with_growing_backoff(cli_server) -> None:
    srv = cli_server("tests.apps.deploy:crashy", "--port", "0", "--workers", "2")
    port = int(srv.addresses(count=2)[0].rsplit(":", 1)[1])
    for _ in range(3):
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/crash", timeout=30)
    srv.wait_for(r"exited unexpectedly \(exit code 7\); restarting in 0\.5s")
    # Three crashes on two workers: one of them crashed twice in a row.
    srv.wait_for(r"exited unexpectedly \(exit code 7\); restarting in 1\.0s", timeout=30)
    # After the back-off, workers serve again, and the parent logged each start.
    assert httpx.get(f"http://127.0.0.1:{port}/", timeout=30).status_code == 200
    srv.wait_for("started worker process", count=5, timeout=30)
    assert srv.stop() == 0, srv.output


def test_limit_max_requests_ends_a_single_server_gracefully(cli_server) -> None:
    """--limit-max-requests N: the Nth request is answered, then the server shuts down."""
    srv = cli_server("tests.apps.deploy:crashy", "--port", "0", "--limit-max-requests", "3")
    port = srv.port()
    for _ in range(3):
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
    assert srv.wait(timeout=20) == 0
    assert "served BB_LIMIT_MAX_REQUESTS requests" in srv.output


def test_limit_max_requests_replaces_workers_without_backoff(cli_server) -> None:
    srv = cli_server("tests.apps.deploy:crashy", "--port", "0", "--workers", "2",
                     "--limit-max-requests", "2")
    port = int(srv.addresses(count=2)[0].rsplit(":", 1)[1])
    pids = set()
    for _ in range(8):
        response = httpx.get(f"http://127.0.0.1:{port}/", timeout=20)
        assert response.status_code == 200
        pids.add(response.json()["pid"])
    assert len(pids) >= 3  # at least one worker was replaced
    srv.wait_for(r"worker \d+ finished; starting another")
    assert "restarting in" not in srv.output
    assert srv.stop() == 0, srv.output


def _pids_of_a_burst(port: int, count: int = 64) -> list[int]:
    """Open ``count`` connections at once, then one keep-alive request on each: the pid of
    the worker that accepted each connection."""
    import json
    import socket

    conns = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]
    pids = []
    try:
        for conn in conns:
            conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        for conn in conns:
            data = b""
            while not data.endswith(b"}"):
                chunk = conn.recv(4096)
                assert chunk, data
                data += chunk
            pids.append(json.loads(data.split(b"\r\n\r\n", 1)[1])["pid"])
    finally:
        for conn in conns:
            conn.close()
    return pids


def test_two_workers_share_a_burst_of_connections(cli_server) -> None:
    """BB_REUSE_PORT (SO_REUSEPORT, one listening socket per worker): a burst of 64
    connections is spread over both workers by the kernel, instead of the worker that
    woke first accepting all of it from one shared socket."""
    srv = cli_server("tests.apps.deploy:crashy", "--port", "0", "--workers", "2")
    ports = {int(a.rsplit(":", 1)[1]) for a in srv.addresses(count=2)}
    assert len(ports) == 1  # both workers listen on the same port
    pids = _pids_of_a_burst(ports.pop())
    counts = sorted(pids.count(pid) for pid in set(pids))
    assert len(counts) == 2 and counts[0] >= 64 // 5, counts
    assert srv.stop() == 0, srv.output
