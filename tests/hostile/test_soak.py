"""Soak: 10 000 connections opened and closed (mixed HTTP/1.1, HTTP/2, WebSocket); the
server's memory, descriptors and tasks come back to where they started."""
from __future__ import annotations

import asyncio
import itertools

import pytest

from tests.hostile.clients import h2_get, http1_get, websocket_echo
from tests.hostile.harness import ServerProcess, machine_lock

TOTAL = 10_000
CONCURRENCY = 40


async def _mixed(port: int, count: int) -> dict[str, int]:
    """``count`` one-shot connections, a third of each protocol, CONCURRENCY at once."""
    outcome = {"ok": 0, "failed": 0}
    kinds = itertools.cycle(("h1", "h2", "ws"))
    queue: asyncio.Queue[str] = asyncio.Queue()
    for _ in range(count):
        queue.put_nowait(next(kinds))

    async def worker() -> None:
        while not queue.empty():
            kind = queue.get_nowait()
            try:
                if kind == "h1":
                    ok = await http1_get(port) == 200
                elif kind == "h2":
                    ok = await h2_get(port) == 200
                else:
                    ok = await websocket_echo(port)
            except (OSError, TimeoutError, Exception):  # noqa: BLE001 - counted, not hidden
                ok = False
            outcome["ok" if ok else "failed"] += 1

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return outcome


async def _settled_tasks(port: int) -> int:
    await asyncio.sleep(1.5)  # lingering closes (HTTP/2 GOAWAY linger, WebSocket close) end
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /tasks HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return int(answer.rpartition(b"\r\n\r\n")[2])


@pytest.mark.slow
@pytest.mark.parametrize("deflate", [
    pytest.param(False, id="ws-plain"),
    pytest.param(True, id="ws-deflate"),
])
async def test_soak_10000_mixed_connections_leave_nothing_behind(deflate: bool,
                                                                hostile_case) -> None:
    """RFC 9112 §9.6, RFC 9113 §6.8, RFC 6455 §7: 10 000 connections, each opened,
    used once and closed: RSS back within 10 % of its start (after a warm-up of 600),
    the same number of descriptors, no task left in the server's loop. With RFC 7692
    permessage-deflate the zlib streams (~200 KiB each, native memory) must be given back
    when a WebSocket ends, not when the cyclic GC collects its objects."""
    hostile_case.rfc, hostile_case.section = "RFC 9113", "6.8"
    hostile_case.description = (f"soak: {TOTAL} connections (HTTP/1.1, h2, WebSocket "
                                f"{'with' if deflate else 'without'} permessage-deflate)")
    hostile_case.bound = "RSS within 10 % of start; descriptors and server tasks back to start"
    with machine_lock():  # 10 000 connections must not fall into another test's windows
        await _soak(deflate, hostile_case)


async def _soak(deflate: bool, case) -> None:
    server = ServerProcess({"BB_H2_IDLE_TIMEOUT": "2",
                            "BB_WS_PERMESSAGE_DEFLATE": "1" if deflate else "0"})
    try:
        warm = await _mixed(server.port, 600)
        assert warm["failed"] == 0, warm
        tasks_start = await _settled_tasks(server.port)
        rss_start, fds_start = server.rss_kb(), server.fds()
        outcome = await _mixed(server.port, TOTAL)
        tasks_end = await _settled_tasks(server.port)
        rss_end, fds_end, hwm = server.rss_kb(), server.fds(), server.hwm_kb()
        case.message = (f"soak: {outcome}; RSS {rss_start} → {rss_end} kB (peak {hwm} kB); "
                        f"fds {fds_start} → {fds_end}; tasks {tasks_start} → {tasks_end}")
        print(case.message)
        assert outcome == {"ok": TOTAL, "failed": 0}
        assert rss_end <= rss_start * 1.10, (rss_start, rss_end)
        assert fds_end <= fds_start, (fds_start, fds_end)
        assert tasks_end <= tasks_start, (tasks_start, tasks_end)
        assert server.alive()
    finally:
        server.stop()
