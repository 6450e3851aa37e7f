"""Smoke tests of the idle-connection memory probe and of the report/goal logic."""
from __future__ import annotations

import os

from bench.loads import Sample
from bench.memory import idle_http1, idle_websockets
from bench.report import Cell, format_table, goal_cases, ratio


async def test_idle_keepalive_connections_are_held_and_measured(bare_port: int) -> None:
    """RFC 9112 §9.3: each connection completes one request and stays open, idle."""
    sample = await idle_http1(os.getpid(), bare_port, 20, settle=0.1)
    assert sample.value is not None
    assert sample.extra is not None and sample.extra["connections"] == 20
    assert sample.errors == 0


async def test_idle_websockets_complete_one_echo_each(websockets_port: int) -> None:
    """RFC 6455 §4.1 and §5.6: handshake plus one echoed message per idle WebSocket."""
    sample = await idle_websockets(os.getpid(), websockets_port, 10, settle=0.1)
    assert sample.value is not None
    assert sample.extra is not None and sample.extra["connections"] == 10
    assert sample.errors == 0


def _cell(bench: str, server: str, *values: float | None, errors: int = 0) -> Cell:
    return Cell(bench, server, [Sample(v, errors) for v in values])


def test_goal_passes_fails_and_errors_on_the_median_ratio() -> None:
    cells = {
        ("http1", "blackbull"): _cell("http1", "blackbull", 20.0, 30.0, 25.0),
        ("http1", "uvicorn"): _cell("http1", "uvicorn", 24.0, 26.0, 25.0),
        ("http1", "blackbull081"): _cell("http1", "blackbull081", 20.0, 20.0, 20.0),
        ("h2c", "blackbull"): _cell("h2c", "blackbull", 100.0, errors=2),
        ("h2c", "blackbull081"): _cell("h2c", "blackbull081", 10.0),
        ("h2c", "hypercorn"): _cell("h2c", "hypercorn", None),
    }
    cases = {c["id"]: c["status"] for c in goal_cases(cells)}
    assert cases["http1/vs-uvicorn"] == "pass"  # 25 / 25 = 1.0 ≥ 1.0
    assert cases["http1/vs-blackbull081"] == "fail"  # 1.25 < 2
    assert cases["h2c/vs-blackbull081"] == "fail"  # fast, but 2 failed requests
    assert cases["h2c/vs-hypercorn"] == "error"  # the peer produced no number


def test_memory_ratio_is_oriented_so_above_one_means_less_memory() -> None:
    ours = _cell("mem-h1", "blackbull", 4.0)
    peer = _cell("mem-h1", "hypercorn", 16.0)
    assert ratio(ours, peer) == 4.0
    cases = goal_cases({("mem-h1", "blackbull"): ours, ("mem-h1", "hypercorn"): peer})
    assert cases[0]["status"] == "informational"


def test_table_lists_median_spread_and_ratio() -> None:
    cells = {("ws", "blackbull"): _cell("ws", "blackbull", 30.0, 32.0, 31.0),
             ("ws", "uvicorn"): _cell("ws", "uvicorn", 10.0, 31.0, 20.0)}
    text = format_table(cells, ["ws"], ["blackbull", "uvicorn"])
    uvicorn_row = next(line for line in text.splitlines() if line.startswith("uvicorn"))
    assert "20.00" in uvicorn_row and "10.00–31.00" in uvicorn_row and "1.55×" in uvicorn_row
