"""Smoke tests of the load runners and the server process handling, with real tools
(wrk, h2load) against real servers; they check that numbers and failures are captured,
never how fast anything is."""
from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import pytest

from bench.cli import RunConfig, run_once
from bench.loads import parse_h2load, parse_wrk, run_h2load, run_wrk, run_ws
from bench.process import ServerFailed, cpu_seconds, free_port, rss_kib, start_server
from bench.servers import APP, APPS_DIR, H2C, Launch, ServerSpec
from bench.tls import ensure_certs


def _hypercorn_spec() -> ServerSpec:
    """hypercorn from the test environment (no venv needed) running the shared app."""

    def build(launch: Launch) -> list[str]:
        tls = ([] if launch.certfile is None else
               ["--certfile", str(launch.certfile), "--keyfile", str(launch.keyfile)])
        return [sys.executable, "-m", "hypercorn", APP, "--bind", f"127.0.0.1:{launch.port}",
                *tls]

    return ServerSpec("hypercorn-test", "hypercorn (test env)", build, frozenset({H2C}),
                      cwd=APPS_DIR)


def _require(tool: str) -> None:
    # A missing tool is a failure of the environment, not a pass or a skip.
    assert shutil.which(tool), f"{tool} is not installed (scripts/install-tools.sh)"


async def test_wrk_result_is_parsed_from_a_real_run(bare_port: int) -> None:
    """RFC 9112 §9.3 keep-alive: wrk reuses 4 connections; the run yields req/s, 0 errors."""
    _require("wrk")
    sample = await asyncio.to_thread(run_wrk, bare_port, 1, [], 4)
    assert sample.value is not None and sample.value > 0
    assert sample.errors == 0
    assert sample.extra is not None and sample.extra["requests"] > 0


def test_wrk_non_2xx_and_socket_errors_count_as_errors() -> None:
    text = ("Running 1s test @ http://127.0.0.1:1/\n  Socket errors: connect 0, read 3, "
            "write 1, timeout 2\n  Non-2xx or 3xx responses: 5\nRequests/sec:   1234.50\n")
    sample = parse_wrk(text)
    assert sample.value == 1234.5
    assert sample.errors == 11


def test_wrk_zero_requests_is_no_number() -> None:
    sample = parse_wrk("Socket errors: connect 0, read 99, write 0, timeout 0\n"
                       "Requests/sec:      0.00\n")
    assert sample.value is None and sample.errors == 99


def test_h2load_failed_requests_and_non_2xx_are_errors() -> None:
    text = ("finished in 2.00s, 500.00 req/s, 10KB/s\n"
            "requests: 1000 total, 1000 started, 1000 done, 990 succeeded, 10 failed, "
            "10 errored, 0 timeout\nstatus codes: 980 2xx, 0 3xx, 10 4xx, 0 5xx\n")
    sample = parse_h2load(text)
    assert sample.value == 500.0
    assert sample.errors == 30


def test_h2c_prior_knowledge_run_against_hypercorn() -> None:
    """RFC 9113 §3.3: h2load opens h2c with the preface; every request is counted done."""
    _require("h2load")
    server = start_server(_hypercorn_spec(), Launch(port=free_port(), h2_only=True), [])
    try:
        assert rss_kib(server.pid) > 0
        sample = run_h2load(server.launch.port, False, 1, 0, [], clients=2, streams=2,
                            cpu=lambda: cpu_seconds(server.pid))
    finally:
        server.stop()
    assert server.proc.poll() is not None
    _mostly_served(sample, in_flight=2 * 2)
    assert sample.extra is not None and sample.extra["requests"] > 0
    # The server did the work: its CPU time over the window was read from /proc.
    assert sample.extra["server_cpu_s"] > 0 and sample.extra["per_cpu_s"] > 0


def test_h2_over_tls_with_the_harness_certificates(tmp_path: Path) -> None:
    """RFC 9113 §3.2: h2 negotiated by TLS ALPN, with the trustme-made certificate."""
    _require("h2load")
    certs = ensure_certs(tmp_path)
    launch = Launch(port=free_port(), certfile=certs.certfile, keyfile=certs.keyfile)
    server = start_server(_hypercorn_spec(), launch, [])
    try:
        sample = run_h2load(launch.port, True, 1, 0, [], clients=2, streams=2)
    finally:
        server.stop()
    _mostly_served(sample, in_flight=2 * 2)


def _mostly_served(sample, in_flight: int) -> None:
    """The harness got a rate and the requests were served. A peer may leave the requests
    still in flight when h2load's time window closes unanswered (hypercorn sometimes does:
    "2001 done, 2000 succeeded, 1 failed, 1 errored"); those few count as the sample's
    errors (the bench table shows them), anything more is a real failure."""
    assert sample.value is not None and sample.value > 0
    assert sample.errors <= in_flight, sample.message


def test_a_server_that_exits_is_reported_with_its_exit_code() -> None:
    spec = ServerSpec("dies", "exits at once",
                      lambda launch: [sys.executable, "-c", "raise SystemExit(3)"],
                      frozenset({H2C}))
    with pytest.raises(ServerFailed, match="exited with 3"):
        start_server(spec, Launch(port=free_port()), [], timeout=10)


def test_run_once_turns_a_failed_start_into_an_error_sample() -> None:
    spec = ServerSpec("dies", "exits at once",
                      lambda launch: [sys.executable, "-c", "raise SystemExit(3)"],
                      frozenset({H2C}))
    sample = run_once(spec, H2C, RunConfig(duration=1, warmup=0, rounds=1, mem_conns=1,
                                           certs=None))
    assert sample.value is None
    assert sample.errors == 1 and "exited with 3" in sample.message


def test_ws_run_reads_server_cpu_at_the_window_edges() -> None:
    """RFC 6455 §4.1/§5.2 echo through the real client subprocess, against the bare
    server subprocess; the client's markers bracket the measured window."""
    spec = ServerSpec("bare-test", "bare", lambda launch: [sys.executable,
                      str(APPS_DIR / "bare_server.py"), str(launch.port)], frozenset({H2C}))
    server = start_server(spec, Launch(port=free_port()), [])
    try:
        sample = run_ws(server.launch.port, 0.5, 0.1, [], conns=2,
                        cpu=lambda: cpu_seconds(server.pid))
    finally:
        server.stop()
    assert sample.value is not None and sample.errors == 0
    assert sample.extra is not None and sample.extra["requests"] > 0
    assert "server_cpu_s" in sample.extra
