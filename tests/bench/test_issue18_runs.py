"""Smoke tests of the issue-18 runners with real tools and real servers on loopback:
hypercorn (the test environment's, serving the bench app), the bare ceiling server and
nginx (the informational C reference). They check that numbers and failures are
captured, never how fast anything is."""
from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.churn import parse_churn
from bench.h2big import run_transfer
from bench.latency import run_latency
from bench.loads import Sample, run_marked
from bench.measure import RunConfig, run_once
from bench.memory_tls import idle_h2, idle_tls, pending_tls
from bench.process import RunningServer, free_port, start_server
from bench.scale import hold_and_load, raise_nofile
from bench.servers import APP, APPS_DIR, SERVERS, Launch, ServerSpec
from bench.tls import CertFiles, ensure_certs

ROOT = Path(__file__).resolve().parents[2]


def _require(tool: str) -> None:
    # A missing tool is a failure of the environment, not a pass or a skip.
    assert shutil.which(tool), f"{tool} is not installed (scripts/install-tools.sh)"


def _hypercorn(launch: Launch) -> list[str]:
    tls = ([] if launch.certfile is None else
           ["--certfile", str(launch.certfile), "--keyfile", str(launch.keyfile)])
    return [sys.executable, "-m", "hypercorn", APP, "--bind", f"127.0.0.1:{launch.port}",
            "--keep-alive", "60", *tls]


HYPERCORN = ServerSpec("hypercorn-test", "hypercorn (test env)", _hypercorn,
                       frozenset({"h2c"}), cwd=APPS_DIR)
BARE = ServerSpec("bare-test", "bare", lambda launch: [
    sys.executable, str(APPS_DIR / "bare_server.py"), str(launch.port)],
    frozenset({"http1", "workers-h1"}))


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    return ensure_certs(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def h2c_server() -> Iterator[RunningServer]:
    server = start_server(HYPERCORN, Launch(port=free_port(), h2_only=True), [])
    yield server
    server.stop()


@pytest.fixture
def tls_server(certs: CertFiles) -> Iterator[RunningServer]:
    launch = Launch(port=free_port(), certfile=certs.certfile, keyfile=certs.keyfile)
    server = start_server(HYPERCORN, launch, [])
    yield server
    server.stop()


def test_large_h2c_download_counts_every_byte(h2c_server: RunningServer) -> None:
    """RFC 9113 §5.2/§6.9: three 1 MiB responses through the RFC's default 64 KiB windows
    (h2load -w16 -W16), so the server had to wait for WINDOW_UPDATEs."""
    _require("h2load")
    sample = run_transfer(h2c_server.launch.port, "/1m", 3, 16, [], body_bytes=1 << 20)
    assert sample.value is not None and sample.value > 0, sample.message
    assert sample.errors == 0 and sample.extra is not None
    assert sample.extra["bytes"] >= 3 * (1 << 20)


def test_large_h2c_upload_is_read_by_the_server(h2c_server: RunningServer,
                                               tmp_path: Path) -> None:
    """RFC 9113 §8.1: a POST with a 1 MiB body gets its 200 after the body was read."""
    _require("h2load")
    upload = tmp_path / "up.bin"
    upload.write_bytes(b"x" * (1 << 20))
    sample = run_transfer(h2c_server.launch.port, "/", 2, 30, [], upload=upload)
    assert sample.value is not None and sample.errors == 0, sample.message
    assert sample.extra is not None and sample.extra["bytes"] == 2 * (1 << 20)


def test_latency_at_half_the_peak_gives_ordered_percentiles(h2c_server: RunningServer) -> None:
    """h2c (RFC 9113 §3.3): a peak run, then h2load --rps with --log-file at half of it."""
    _require("h2load")
    sample = run_latency(h2c_server.launch.port, 1, 1, [], h1=False)
    assert sample.value is not None, sample.message
    extra = sample.extra or {}
    assert 0 < extra["p50_ms"] <= extra["p99_ms"] <= extra["p999_ms"]
    assert extra["rate"] > 0 and extra["requests"] > 0


@pytest.mark.parametrize("alpn", ["http/1.1", "h2"])
def test_new_tls_connections_complete_one_request_each(tls_server: RunningServer,
                                                      alpn: str) -> None:
    """RFC 7301 ALPN picks the protocol; each connection is a full handshake plus one
    200 (RFC 9112 §9.6 Connection: close, or RFC 9113 §8.1 over h2)."""
    cmd = [sys.executable, "-m", "bench.churn", "--port", str(tls_server.launch.port),
           "--alpn", alpn, "--conns", "4", "--duration", "1", "--warmup", "0.2"]
    sample = run_marked(cmd, parse_churn, None, "churn client")
    assert sample.value is not None and sample.value > 0, sample.message
    assert sample.errors == 0, sample.message


def test_idle_http2_connections_after_the_settings_exchange(h2c_server: RunningServer) -> None:
    """RFC 9113 §3.4 and §6.5.3: preface, SETTINGS both ways, ACKs, then silence."""
    sample = asyncio.run(idle_h2(h2c_server.pid, h2c_server.launch.port, 20, settle=0.2))
    assert sample.value is not None and sample.errors == 0, sample.message
    extra = sample.extra or {}
    assert extra["connections"] == 20 and "kept_kib_per_conn" in extra
    assert extra["rss_closed_kib"] > 0


def test_idle_and_pending_tls_connections_are_held(tls_server: RunningServer) -> None:
    """Idle TLS after one HTTP/1.1 request (RFC 9112 §9.3), and TCP connections that
    never send a ClientHello (RFC 8446 §4.1.2): both held until the client closes."""
    port = tls_server.launch.port
    idle = asyncio.run(idle_tls(tls_server.pid, port, 10, settle=0.2))
    pending = asyncio.run(pending_tls(tls_server.pid, port, 10, settle=0.2))
    for sample in (idle, pending):
        assert sample.value is not None and sample.errors == 0, sample.message
        assert (sample.extra or {})["connections"] == 10


def test_scale_holds_idle_connections_while_wrk_drives_the_active_ones() -> None:
    """RFC 9112 §9.3: 57 idle keep-alive connections stay open under a wrk -c3 load."""
    _require("wrk")
    assert raise_nofile(100) is None
    server = start_server(BARE, Launch(port=free_port()), [])
    try:
        sample = asyncio.run(hold_and_load(server.pid, server.launch.port, 60, 3, 1, []))
    finally:
        server.stop()
    assert sample.value is not None and sample.errors == 0, sample.message
    extra = sample.extra or {}
    assert extra["idle_held"] == 57 and extra["rss_mib"] > 0


def test_a_hard_fd_limit_below_the_count_is_an_error() -> None:
    import resource

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 30
    assert "hard limit" in (raise_nofile(hard + 1) or "")


def test_workers_row_runs_one_and_two_workers_and_reports_the_factor() -> None:
    """The workers-h1 measurement: the hello load against 1 worker, then against 2."""
    _require("wrk")
    cfg = RunConfig(duration=1, warmup=0, rounds=1, mem_conns=1, certs=None)
    sample = run_once(BARE, "workers-h1", cfg)
    assert sample.value is not None, sample.message
    extra = sample.extra or {}
    assert extra["one_worker"] > 0
    assert extra["scaling"] == pytest.approx(sample.value / extra["one_worker"], rel=1e-2)


def test_nginx_serves_hello_and_the_large_bodies_from_its_rendered_config() -> None:
    """The informational C reference: its [bench] templates are rendered per launch into
    a workdir that is removed afterwards; /1m is the same 1 MiB the ASGI app sends."""
    _require("nginx")
    _require("h2load")
    from bench.bodies import ensure_bodies

    data = ensure_bodies()
    assert (data / "1m.bin").stat().st_size == 1 << 20
    server = start_server(SERVERS["nginx"], Launch(port=free_port(), h2_only=True), [])
    workdir = server.launch.workdir
    try:
        assert workdir is not None and (workdir / "bench-h2c.conf").exists()
        sample = run_transfer(server.launch.port, "/1m", 2, 30, [], body_bytes=1 << 20)
    finally:
        server.stop()
    assert sample.value is not None and sample.errors == 0, sample.message
    assert workdir is not None and not workdir.exists()


def test_a_tls_server_without_alpn_counts_as_http1(certs: CertFiles) -> None:
    """RFC 7301 §3.2: uvicorn ignores ALPN; its TLS connections speak HTTP/1.1, so the
    tls-h1-conn row counts them (an h2 client would have nothing to talk to)."""
    def uvicorn(launch: Launch) -> list[str]:
        return [sys.executable, "-m", "uvicorn", APP, "--host", "127.0.0.1", "--port",
                str(launch.port), "--ssl-certfile", str(launch.certfile), "--ssl-keyfile",
                str(launch.keyfile), "--log-level", "warning"]

    spec = ServerSpec("uvicorn-test", "uvicorn (test env)", uvicorn, frozenset({"tls-h1-conn"}),
                      cwd=APPS_DIR)
    launch = Launch(port=free_port(), certfile=certs.certfile, keyfile=certs.keyfile)
    server = start_server(spec, launch, [])
    try:
        def churn(alpn: str) -> Sample:
            cmd = [sys.executable, "-m", "bench.churn", "--port", str(launch.port), "--alpn",
                   alpn, "--conns", "2", "--duration", "0.5", "--warmup", "0.1"]
            return run_marked(cmd, parse_churn, None, "churn client")

        h1, h2 = churn("http/1.1"), churn("h2")
    finally:
        server.stop()
    assert h1.value is not None and h1.errors == 0, h1.message
    assert h2.value is None and "ALPN chose None" in h2.message
