"""What ``python -m bench`` can measure: the benchmark ids, their rows, units and goals.

A *measurement* is what a server's ``[bench] supports`` list names and what one run
produces (e.g. ``lat-h2c``: a peak run, then a fixed-rate run). A measurement yields one
or more *rows* (``lat-h2c-p50``, ``lat-h2c-p99``, ``lat-h2c-p999``): each row is one
table and one chart in the report, with its unit and direction. Most measurements have
one row of the same name.
"""
from __future__ import annotations

from dataclasses import dataclass

# --- measurement ids (the ``supports`` entries of the target registry's [bench] tables) --
HTTP1, H2C, H2TLS = "http1", "h2c", "h2tls"
WS, WS64K, WS1M, WSDEFLATE = "ws", "ws64k", "ws1m", "wsdeflate"
MEM_H1, MEM_WS = "mem-h1", "mem-ws"
#: HTTP/2 large bodies over h2c (RFC 9113 §5.2 flow control): downloads with h2load's
#: 1 GiB windows and with the RFC's 65 535-byte default (``-w16 -W16``), and an upload.
H2_1M, H2_1M_W16, H2_64M, H2_64M_W16, H2_UP64M = (
    "h2-1m", "h2-1m-w16", "h2-64m", "h2-64m-w16", "h2-up64m")
#: Connection churn: HTTP/1.1 ``Connection: close`` (RFC 9112 §9.6), and new TLS
#: connections per second with ALPN http/1.1 or h2 (RFC 9113 §3.2).
H1_CLOSE, TLS_H1_CONN, TLS_H2_CONN = "h1-close", "tls-h1-conn", "tls-h2-conn"
#: Latency percentiles at half the server's own peak rate (h2load ``--rps``).
LAT_H2C, LAT_H1 = "lat-h2c", "lat-h1"
#: Memory: idle HTTP/2 connections after the SETTINGS exchange (RFC 9113 §3.4), idle TLS
#: connections after one request, and silent TCP connections on the TLS port.
MEM_H2, MEM_TLS, MEM_TLS_PENDING = "mem-h2", "mem-tls", "mem-tls-pending"
#: 10 000 keep-alive connections, 1 % of them active.
SCALE = "scale-10k"
#: The hello rows with ``--workers 2`` against 1.
WORKERS_H1, WORKERS_H2C = "workers-h1", "workers-h2c"
#: The HTTP/2 hello load in two more shapes: many streams on few connections
#: (RFC 9113 §5.1.2 concurrency) and many connections.
H2C_M100, H2C_C256, H2TLS_M100, H2TLS_C256 = "h2c-m100", "h2c-c256", "h2tls-m100", "h2tls-c256"
#: h2load shape per hello measurement: (TLS, connections ``-c``, streams each ``-m``).
H2_SHAPES: dict[str, tuple[bool, int, int]] = {
    H2C: (False, 16, 10), H2C_M100: (False, 4, 100), H2C_C256: (False, 256, 10),
    H2TLS: (True, 16, 10), H2TLS_M100: (True, 4, 100), H2TLS_C256: (True, 256, 10),
}

ALL_WS = frozenset({WS, WS64K, WS1M, WSDEFLATE, MEM_WS})
#: Measurements whose server is launched with TLS, and those run over h2c only.
TLS_MEASURES = frozenset({H2TLS, H2TLS_M100, H2TLS_C256, TLS_H1_CONN, TLS_H2_CONN, MEM_TLS, MEM_TLS_PENDING})
H2C_MEASURES = frozenset({H2C, H2C_M100, H2C_C256, H2_1M, H2_1M_W16, H2_64M, H2_64M_W16, H2_UP64M, LAT_H2C,
                          MEM_H2, WORKERS_H2C})
#: Large-body shapes: measurement → (path, bytes per response or upload, upload, window bits).
BIG_BODIES: dict[str, tuple[str, int, bool, int]] = {
    H2_1M: ("/1m", 1 << 20, False, 30), H2_1M_W16: ("/1m", 1 << 20, False, 16),
    H2_64M: ("/64m", 64 << 20, False, 30), H2_64M_W16: ("/64m", 64 << 20, False, 16),
    H2_UP64M: ("/", 64 << 20, True, 30),
}

#: Rows of a measurement that yields several: (row id, key of the sample's ``extra``).
#: The first row of a measurement with ``""`` takes the sample's own value.
SPLITS: dict[str, tuple[tuple[str, str], ...]] = {
    LAT_H2C: (("lat-h2c-p50", "p50_ms"), ("lat-h2c-p99", "p99_ms"),
              ("lat-h2c-p999", "p999_ms")),
    LAT_H1: (("lat-h1-p50", "p50_ms"), ("lat-h1-p99", "p99_ms"), ("lat-h1-p999", "p999_ms")),
    MEM_H2: ((MEM_H2, ""), ("mem-h2-kept", "kept_kib_per_conn")),
    MEM_TLS: ((MEM_TLS, ""), ("mem-tls-kept", "kept_kib_per_conn")),
    MEM_TLS_PENDING: ((MEM_TLS_PENDING, ""), ("mem-tls-pending-kept", "kept_kib_per_conn")),
    SCALE: ((SCALE, ""), ("scale-10k-rss", "rss_mib")),
    WORKERS_H1: ((WORKERS_H1, ""), ("workers-h1-scaling", "scaling")),
    WORKERS_H2C: ((WORKERS_H2C, ""), ("workers-h2c-scaling", "scaling")),
}


@dataclass(frozen=True, slots=True)
class Goal:
    peer: str
    ratio: float  # BlackBull median / peer median must be ≥ this
    zero_failures: bool = False


@dataclass(frozen=True, slots=True)
class BenchInfo:
    title: str
    unit: str
    higher_is_better: bool = True
    goals: tuple[Goal, ...] = ()
    method: str = ""  # how it is measured, for the report's notes


#: Issue 18's goals: HTTP/2 ≥ 1.1× granian with no failed request in every h2load shape;
#: HTTP/1.1 ≥ 0.5× and WebSocket 64 B ≥ 0.8× the bare uvloop ceiling.
_VS_GRANIAN_H2 = Goal("granian", 1.1, True)
_H2_GOALS = (Goal("blackbull081", 2.0, True), Goal("hypercorn", 6.0, True), _VS_GRANIAN_H2)
_H2_SHAPE_GOALS = (_VS_GRANIAN_H2, Goal("hypercorn", 0.0), Goal("blackbull081", 0.0))
_WS_GOALS = (Goal("uvicorn", 1.0), Goal("websockets", 1.3))
_MEM_PEERS = (Goal("blackbull081", 0.0), Goal("hypercorn", 0.0))
#: The issue-18 rows have no threshold yet: they are measured first, informational.
_VS_GRANIAN = (Goal("granian", 0.0), Goal("hypercorn", 0.0))

_BIG = "h2load -c1 -m1 -n N over h2c, MB/s of response data (10^6 bytes)"
_LAT = ("h2load -c16 {m} --rps at half the server's own peak (a closed-loop h2load run "
        "just before), per-request durations from --log-file; not corrected for "
        "coordinated omission")
_KEPT = "RSS still held 2 s after the client closed them, KiB per connection"

BENCHES: dict[str, BenchInfo] = {
    HTTP1: BenchInfo("HTTP/1.1 hello, wrk -t1 -c64", "req/s",
                     goals=(Goal("uvicorn", 1.0), Goal("blackbull081", 2.0), Goal("bare", 0.5),
                            Goal("granian", 0.0))),
    H2C: BenchInfo("h2c hello, h2load -c16 -m10", "req/s", goals=_H2_GOALS),
    H2TLS: BenchInfo("h2 over TLS hello, h2load -c16 -m10", "req/s", goals=_H2_GOALS),
    H2C_M100: BenchInfo("h2c hello, many streams, h2load -c4 -m100", "req/s",
                        goals=_H2_SHAPE_GOALS),
    H2C_C256: BenchInfo("h2c hello, many connections, h2load -c256 -m10", "req/s",
                        goals=_H2_SHAPE_GOALS),
    H2TLS_M100: BenchInfo("h2 over TLS hello, many streams, h2load -c4 -m100", "req/s",
                          goals=_H2_SHAPE_GOALS),
    H2TLS_C256: BenchInfo("h2 over TLS hello, many connections, h2load -c256 -m10", "req/s",
                          goals=_H2_SHAPE_GOALS),
    WS: BenchInfo("WebSocket echo, 32 conns, 64 B", "msg/s",
                  goals=(*_WS_GOALS, Goal("bare", 0.8), Goal("granian", 0.0))),
    WS64K: BenchInfo("WebSocket echo, 32 conns, 64 KiB", "msg/s", goals=_WS_GOALS),
    WS1M: BenchInfo("WebSocket echo, 8 conns, 1 MiB", "msg/s", goals=_WS_GOALS),
    WSDEFLATE: BenchInfo("WebSocket echo, 32 conns, 1 KiB, permessage-deflate", "msg/s",
                         goals=_WS_GOALS),
    MEM_H1: BenchInfo("RSS per idle HTTP/1.1 keep-alive connection", "KiB/conn",
                      higher_is_better=False, goals=_MEM_PEERS),
    MEM_WS: BenchInfo("RSS per idle WebSocket", "KiB/conn", higher_is_better=False,
                      goals=_MEM_PEERS),
    H2_1M: BenchInfo("h2c 1 MiB response, 1 GiB windows (-w30 -W30)", "MB/s",
                     goals=_VS_GRANIAN, method=_BIG),
    H2_1M_W16: BenchInfo("h2c 1 MiB response, default 64 KiB windows (-w16 -W16)", "MB/s",
                         goals=_VS_GRANIAN, method=_BIG),
    H2_64M: BenchInfo("h2c 64 MiB response, 1 GiB windows (-w30 -W30)", "MB/s",
                      goals=_VS_GRANIAN, method=_BIG),
    H2_64M_W16: BenchInfo("h2c 64 MiB response, default 64 KiB windows (-w16 -W16)", "MB/s",
                          goals=_VS_GRANIAN, method=_BIG),
    H2_UP64M: BenchInfo("h2c 64 MiB upload (h2load -d), the server's own receive window",
                        "MB/s", goals=_VS_GRANIAN,
                        method="h2load -c1 -m1 -n N -d FILE over h2c: uploaded bytes / time"),
    H1_CLOSE: BenchInfo("HTTP/1.1 Connection: close per request, wrk -t1 -c16", "req/s",
                        goals=_VS_GRANIAN),
    TLS_H1_CONN: BenchInfo("new TLS connections, ALPN http/1.1, one request each",
                           "conn/s", goals=_VS_GRANIAN,
                           method="python -m bench.churn: 16 workers, full handshakes "
                                  "(no session resumption), uvloop"),
    TLS_H2_CONN: BenchInfo("new TLS connections, ALPN h2, one request each", "conn/s",
                           goals=_VS_GRANIAN,
                           method="python -m bench.churn: 16 workers, full handshakes "
                                  "(no session resumption), uvloop"),
    "lat-h2c-p50": BenchInfo("h2c latency p50 at half peak, h2load -c16 -m10 --rps", "ms",
                             False, _VS_GRANIAN, _LAT.format(m="-m10")),
    "lat-h2c-p99": BenchInfo("h2c latency p99 at half peak, h2load -c16 -m10 --rps", "ms",
                             False, _VS_GRANIAN, _LAT.format(m="-m10")),
    "lat-h2c-p999": BenchInfo("h2c latency p99.9 at half peak, h2load -c16 -m10 --rps", "ms",
                              False, _VS_GRANIAN, _LAT.format(m="-m10")),
    "lat-h1-p50": BenchInfo("HTTP/1.1 latency p50 at half peak, h2load --h1 -c16 --rps",
                            "ms", False, _VS_GRANIAN, _LAT.format(m="--h1 -m1")),
    "lat-h1-p99": BenchInfo("HTTP/1.1 latency p99 at half peak, h2load --h1 -c16 --rps",
                            "ms", False, _VS_GRANIAN, _LAT.format(m="--h1 -m1")),
    "lat-h1-p999": BenchInfo("HTTP/1.1 latency p99.9 at half peak, h2load --h1 -c16 --rps",
                             "ms", False, _VS_GRANIAN, _LAT.format(m="--h1 -m1")),
    MEM_H2: BenchInfo("RSS per idle HTTP/2 connection (after the SETTINGS exchange)",
                      "KiB/conn", False, _MEM_PEERS),
    "mem-h2-kept": BenchInfo("RSS kept after idle HTTP/2 connections closed", "KiB/conn",
                             False, _MEM_PEERS, _KEPT),
    MEM_TLS: BenchInfo("RSS per idle TLS connection (handshake + one HTTP/1.1 request)",
                       "KiB/conn", False, _MEM_PEERS),
    "mem-tls-kept": BenchInfo("RSS kept after idle TLS connections closed", "KiB/conn",
                              False, _MEM_PEERS, _KEPT),
    MEM_TLS_PENDING: BenchInfo("RSS per pending TLS handshake (silent TCP connection)",
                               "KiB/conn", False, _MEM_PEERS),
    "mem-tls-pending-kept": BenchInfo("RSS kept after pending TLS handshakes closed",
                                      "KiB/conn", False, _MEM_PEERS, _KEPT),
    SCALE: BenchInfo("10 000 keep-alive connections, 1 % active (wrk -c100)", "req/s",
                     goals=_VS_GRANIAN,
                     method="9 900 idle HTTP/1.1 keep-alive connections held by the bench "
                            "process while wrk -t1 -c100 runs"),
    "scale-10k-rss": BenchInfo("server RSS holding 10 000 connections", "MiB", False,
                               _MEM_PEERS),
    WORKERS_H1: BenchInfo("HTTP/1.1 hello with --workers 2, wrk -t1 -c64", "req/s",
                          goals=_VS_GRANIAN,
                          method="server and load unpinned: the load generator competes "
                                 "with the two workers for the machine's cores"),
    "workers-h1-scaling": BenchInfo("HTTP/1.1 hello, 2 workers / 1 worker", "×",
                                    goals=_VS_GRANIAN,
                                    method="both runs unpinned, back to back"),
    WORKERS_H2C: BenchInfo("h2c hello with --workers 2, h2load -c16 -m10", "req/s",
                           goals=_VS_GRANIAN,
                           method="server and load unpinned: the load generator competes "
                                  "with the two workers for the machine's cores"),
    "workers-h2c-scaling": BenchInfo("h2c hello, 2 workers / 1 worker", "×",
                                     goals=_VS_GRANIAN,
                                     method="both runs unpinned, back to back"),
}


def rows_of(measure: str) -> tuple[tuple[str, str], ...]:
    """The (row id, extra key) pairs one measurement fills."""
    return SPLITS.get(measure, ((measure, ""),))


#: Every measurement id ``--only`` and ``supports`` accept.
MEASURES: tuple[str, ...] = (
    HTTP1, H2C, H2TLS, H2C_M100, H2C_C256, H2TLS_M100, H2TLS_C256, WS, WS64K, WS1M, WSDEFLATE, MEM_H1, MEM_WS,
    *BIG_BODIES, H1_CLOSE, TLS_H1_CONN, TLS_H2_CONN, LAT_H2C, LAT_H1,
    MEM_H2, MEM_TLS, MEM_TLS_PENDING, SCALE, WORKERS_H1, WORKERS_H2C,
)

GROUPS: dict[str, list[str]] = {
    "ws": [WS, WS64K, WS1M, WSDEFLATE], "mem": [MEM_H1, MEM_WS],
    "h2big": list(BIG_BODIES), "churn": [H1_CLOSE, TLS_H1_CONN, TLS_H2_CONN],
    "latency": [LAT_H2C, LAT_H1], "mem-h2": [MEM_H2, MEM_TLS, MEM_TLS_PENDING],
    "scale": [SCALE], "workers": [WORKERS_H1, WORKERS_H2C],
    "h2shapes": [H2C_M100, H2C_C256, H2TLS_M100, H2TLS_C256],
}
GROUPS["issue18"] = [m for g in ("h2shapes", "h2big", "churn", "latency", "mem-h2", "scale", "workers")
                     for m in GROUPS[g]]
GROUPS["all"] = list(MEASURES)

assert all(row in BENCHES for m in MEASURES for row, _ in rows_of(m))
