"""One measurement against one freshly started server: how each benchmark id is run.

:func:`run_once` starts the server (TLS or h2c-only as the measurement needs, pinned to
the server core), warms it up where the load tool does not, measures with the load
generator on the other core, and stops it. ``workers-*`` start it twice, unpinned, with
1 and 2 workers (bench/catalog.py has the ids, units and rows).
"""
from __future__ import annotations

import asyncio
import dataclasses
import sys
from dataclasses import dataclass

from .bodies import upload_file
from .catalog import (
    BIG_BODIES,
    H1_CLOSE,
    H2_SHAPES,
    H2C,
    H2C_MEASURES,
    HTTP1,
    LAT_H1,
    LAT_H2C,
    MEM_H1,
    MEM_H2,
    MEM_TLS,
    MEM_TLS_PENDING,
    MEM_WS,
    SCALE,
    TLS_H1_CONN,
    TLS_H2_CONN,
    TLS_MEASURES,
    WORKERS_H1,
    WORKERS_H2C,
    WS,
    WS1M,
    WS64K,
    WSDEFLATE,
)
from .churn import parse_churn
from .h2big import run_transfer
from .latency import run_latency
from .loads import Sample, run_h2load, run_marked, run_wrk, run_ws
from .memory import idle_http1, idle_websockets
from .memory_tls import idle_h2, idle_tls, pending_tls
from .process import ServerFailed, cpu_pins, cpu_seconds, free_port, start_server
from .scale import hold_and_load
from .servers import Launch, ServerSpec
from .tls import CertFiles

#: WebSocket load shape per benchmark: (connections, message bytes, deflate).
WS_SHAPES = {WS: (32, 64, False), WS64K: (32, 65536, False), WS1M: (8, 1 << 20, False),
             WSDEFLATE: (32, 1024, True)}
#: Connections the scale row drives (1 %) out of ``RunConfig.scale_conns``.
SCALE_ACTIVE_SHARE = 0.01


@dataclass(frozen=True, slots=True)
class RunConfig:
    duration: float
    warmup: float
    rounds: int
    mem_conns: int
    certs: CertFiles | None
    h2_requests: int = 0  # > 0: h2load -n N instead of a time-boxed run
    scale_conns: int = 10_000


def big_requests(measure: str, duration: float) -> int:
    """Sequential transfers per large-body run: about *duration* seconds at a few hundred
    MB/s, at least 2 (the 64 MiB ones) or 20 (1 MiB)."""
    size = BIG_BODIES[measure][1]
    return max(2, round(duration / 2)) if size > 16 << 20 else max(20, round(duration * 30))


#: From this many connections on, the hello load runs a fixed request count (``-n``).
#: h2load's time-boxed mode (``-D``) stops only the clients already connected when the
#: time is up: one still in its TLS handshake then connects and sends requests until it
#: is killed. With 256 TLS connections that happened in 5 of 6 runs against BlackBull
#: (whose handshakes queue behind the busy connections), 0 of 4 against granian.
H2_FIXED_COUNT_FROM = 64


def h2_fixed_count(clients: int, streams: int, duration: float) -> int:
    """``-n`` for a many-connection shape (0: time-boxed): every connection's streams
    filled ``max(4, 2 × duration)`` times, e.g. 51 200 requests for -c256 -m10 at 10 s."""
    if clients < H2_FIXED_COUNT_FROM:
        return 0
    return clients * streams * max(4, round(duration * 2))


def run_once(spec: ServerSpec, bench: str, cfg: RunConfig) -> Sample:
    """Start *spec* fresh, warm it up, measure *bench* once, stop it."""
    if bench in (WORKERS_H1, WORKERS_H2C):
        return _run_workers(spec, bench, cfg)
    server_pin, load_pin = cpu_pins()
    return _run_started(spec, bench, cfg, _launch(bench, cfg), server_pin, load_pin)


def _launch(bench: str, cfg: RunConfig, workers: int = 1) -> Launch:
    certs = cfg.certs if bench in TLS_MEASURES else None
    return Launch(port=free_port(), certfile=certs.certfile if certs else None,
                  keyfile=certs.keyfile if certs else None, h2_only=bench in H2C_MEASURES,
                  workers=workers)


def _run_started(spec: ServerSpec, bench: str, cfg: RunConfig, launch: Launch,
                 server_pin: list[str], load_pin: list[str]) -> Sample:
    if bench in TLS_MEASURES and cfg.certs is None:
        return Sample(None, 1, "no TLS certificates were made for this run")
    try:
        server = start_server(spec, launch, server_pin)
    except ServerFailed as exc:
        return Sample(None, 1, str(exc)[:400])
    try:
        sample = _measure(bench, server.pid, launch.port, cfg, load_pin)
        if not server.alive():
            sample.errors += 1
            sample.message = (f"server died (exit {server.proc.returncode}); "
                              + sample.message + " " + server.log_tail(300))
        elif sample.value is None and not sample.message:
            sample.message = server.log_tail(300)
        return sample
    finally:
        server.stop()


def _run_workers(spec: ServerSpec, bench: str, cfg: RunConfig) -> Sample:
    """The hello load against 1 and then 2 workers, both unpinned (the load generator
    shares the cores with the workers: on two cores that caps the scaling factor)."""
    inner = HTTP1 if bench == WORKERS_H1 else H2C
    one = _run_started(spec, inner, cfg, _launch(inner, cfg, 1), [], [])
    two = _run_started(spec, inner, cfg, _launch(inner, cfg, 2), [], [])
    if one.value is None or two.value is None:
        bad = one if one.value is None else two
        return Sample(None, one.errors + two.errors,
                      f"{'1' if bad is one else '2'}-worker run: {bad.message}")
    extra = {**(two.extra or {}), "one_worker": one.value,
             "scaling": round(two.value / one.value, 3)}
    notes = "; ".join(m for m in (one.message, two.message) if m)
    return Sample(two.value, one.errors + two.errors, notes, extra)


def _measure(bench: str, pid: int, port: int, cfg: RunConfig, pin: list[str]) -> Sample:
    """Warm up, then measure, reading the server's CPU time around the measured window."""
    def cpu() -> float:
        return cpu_seconds(pid)

    if bench in (HTTP1, H1_CLOSE):
        headers = ("Connection: close",) if bench == H1_CLOSE else ()
        conns = 16 if bench == H1_CLOSE else 64
        if cfg.warmup:
            run_wrk(port, cfg.warmup, pin, conns=conns, headers=headers)
        return run_wrk(port, cfg.duration, pin, conns=conns, cpu=cpu, headers=headers)
    if bench in H2_SHAPES:
        tls, clients, streams = H2_SHAPES[bench]
        count = cfg.h2_requests or h2_fixed_count(clients, streams, cfg.duration)
        if cfg.warmup:  # a separate run, so the measured one counts only measured requests
            run_h2load(port, tls, cfg.warmup, 0, pin, clients=clients, streams=streams,
                       requests=clients * streams if count else 0)
        return run_h2load(port, tls, cfg.duration, 0, pin, clients=clients, streams=streams,
                          requests=count, cpu=cpu)
    if bench in WS_SHAPES:
        conns, size, deflate = WS_SHAPES[bench]
        return run_ws(port, cfg.duration, cfg.warmup, pin, conns=conns, size=size,
                      deflate=deflate, cpu=cpu)
    if bench in BIG_BODIES:
        path, size, upload, bits = BIG_BODIES[bench]
        data = upload_file() if upload else None
        if cfg.warmup:
            run_transfer(port, path, 2, bits, pin, upload=data, body_bytes=size)
        return run_transfer(port, path, big_requests(bench, cfg.duration), bits, pin,
                            upload=data, body_bytes=0 if upload else size, cpu=cpu,
                            timeout=max(60.0, cfg.duration * 6))
    if bench in (TLS_H1_CONN, TLS_H2_CONN):
        alpn = "h2" if bench == TLS_H2_CONN else "http/1.1"
        cmd = [*pin, sys.executable, "-m", "bench.churn", "--port", str(port), "--alpn", alpn,
               "--duration", str(cfg.duration), "--warmup", str(cfg.warmup), "--markers"]
        return run_marked(cmd, parse_churn, cpu, "churn client")
    if bench in (LAT_H2C, LAT_H1):
        return run_latency(port, cfg.duration, cfg.warmup, pin, h1=bench == LAT_H1, cpu=cpu)
    if bench == SCALE:
        active = max(1, round(cfg.scale_conns * SCALE_ACTIVE_SHARE))
        if cfg.warmup:
            run_wrk(port, cfg.warmup, pin, conns=active)
        return asyncio.run(hold_and_load(pid, port, cfg.scale_conns, active, cfg.duration,
                                         pin, cpu=cpu))
    memory = {MEM_H1: idle_http1, MEM_WS: idle_websockets, MEM_H2: idle_h2,
              MEM_TLS: idle_tls, MEM_TLS_PENDING: pending_tls}
    if bench in memory:
        return asyncio.run(memory[bench](pid, port, cfg.mem_conns))
    raise ValueError(bench)


_CPU_KEYS = frozenset({"per_cpu_s", "server_cpu_s", "load_cpu_s"})


def split(measure: str, sample: Sample, rows: tuple[tuple[str, str], ...]
          ) -> list[tuple[str, Sample]]:
    """One sample per row of *measure*: its own value, or a number from its ``extra``
    (missing there: no number, with the sample's errors and message)."""
    out = []
    for row, key in rows:
        if not key:
            out.append((row, sample))
            continue
        value = (sample.extra or {}).get(key) if sample.value is not None else None
        # The load's CPU figures are about the parent row's unit, not this one's.
        extra = {k: v for k, v in (sample.extra or {}).items() if k not in _CPU_KEYS}
        out.append((row, dataclasses.replace(
            sample, value=None if value is None else float(value), extra=extra,
            errors=sample.errors if value is not None else max(sample.errors, 1),
            message=sample.message or ("" if value is not None else f"no {key} measured"))))
    return out
