"""Memory per idle connection: RSS growth of the server's process tree per connection.

HTTP/1.1: N connections each complete one keep-alive ``GET /`` (RFC 9112 §9.3) and then
stay open and silent. WebSocket: N connections each complete the RFC 6455 §4 handshake
and one echo, then stay open and silent. The server's RSS (``VmRSS`` of it and its
workers, from ``/proc``) is read before and after; the difference over N is the cost of
one idle connection, including whatever buffers and tasks the server keeps for it.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from .loads import Sample
from .process import rss_kib
from .wsclient import EchoClient, Stats, WsLoadConfig, make_payload, open_clients

_GET = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _one_keepalive(port: int) -> Conn | None:
    """Open a connection, complete one request, and keep it (None on failure)."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(_GET)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await asyncio.wait_for(reader.readexactly(length), 10)
    except (OSError, ValueError, asyncio.IncompleteReadError, TimeoutError):
        return None
    return reader, writer


async def _warm(port: int) -> None:
    """A few requests first, so lazily imported code does not count as per-connection."""
    for _ in range(20):
        conn = await _one_keepalive(port)
        if conn is not None:
            conn[1].close()
    await asyncio.sleep(0.3)


async def open_batched(count: int, opener: Callable[[], Awaitable[Conn | None]]) -> list[Conn]:
    """``count`` connections from ``opener``, 200 at a time (batches keep us inside the
    listen backlog); those that failed are left out."""
    conns: list[Conn] = []
    for start in range(0, count, 200):
        batch = await asyncio.gather(*(opener() for _ in range(start, min(count, start + 200))))
        conns += [c for c in batch if c is not None]
    return conns


async def idle_http1(pid: int, port: int, count: int, settle: float = 1.0) -> Sample:
    """KiB of server RSS per idle HTTP/1.1 keep-alive connection."""
    await _warm(port)
    before = rss_kib(pid)
    conns = await open_batched(count, lambda: _one_keepalive(port))
    await asyncio.sleep(settle)
    after = rss_kib(pid)
    # A connection the server closed meanwhile shows as EOF on our reader.
    alive = sum(1 for r, w in conns if not r.at_eof() and not w.is_closing())
    for _, writer in conns:
        writer.transport.abort()
    return _sample(before, after, len(conns), alive, count)


async def idle_websockets(pid: int, port: int, count: int, settle: float = 1.0) -> Sample:
    """KiB of server RSS per idle WebSocket (after one 64-byte echo each)."""
    await _warm(port)
    before = rss_kib(pid)
    cfg = WsLoadConfig(port=port, conns=count, size=64, depth=1)
    stats = Stats()
    clients = await open_clients(cfg, stats, make_payload(cfg.size))
    for client in clients:  # one echo each, without starting the closed loop
        if client.transport is not None:
            client.transport.write(client.frame)
    deadline = time.monotonic() + 15
    while stats.messages < len(clients) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(settle)
    after = rss_kib(pid)
    alive = sum(1 for c in clients if c.transport is not None and not c.transport.is_closing())
    _close_all(clients)
    sample = _sample(before, after, len(clients), alive, count)
    if stats.messages < len(clients):
        sample.errors += len(clients) - stats.messages
        sample.message = f"{len(clients) - stats.messages} echoes missing; " + sample.message
    return sample


def _close_all(clients: list[EchoClient]) -> None:
    for client in clients:
        if client.transport is not None:
            client.transport.abort()


def _sample(before: int, after: int, opened: int, alive: int, wanted: int) -> Sample:
    extra = {"rss_before_kib": float(before), "rss_after_kib": float(after),
             "connections": float(alive)}
    if opened == 0 or before == 0:
        return Sample(None, 1, f"no connection could be opened ({opened}/{wanted})", extra)
    errors = wanted - alive
    message = f"{alive}/{wanted} connections held" if errors else ""
    return Sample(round((after - before) / opened, 2), errors, message, extra)
