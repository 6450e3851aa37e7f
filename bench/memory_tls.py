"""Memory per idle HTTP/2 connection, per idle TLS connection, per pending TLS handshake,
and what stays after they closed.

* ``mem-h2``: N h2c connections (prior knowledge, RFC 9113 §3.3) each send the preface
  and SETTINGS, wait for the server's SETTINGS and its ACK of ours (§6.5.3), ACK the
  server's, and then stay silent.
* ``mem-tls``: N TLS connections (ALPN http/1.1) each complete one keep-alive ``GET /``
  (RFC 9112 §9.3) and stay silent.
* ``mem-tls-pending``: N TCP connections to the TLS port that never send a ClientHello:
  what a server holds for a handshake that has not started (a cheap attack, RFC 8446
  §4.1.2 gives the server nothing to act on).

The server's RSS is read before, while they are held, and ``settle`` s after the client
closed them all: the first difference over N is the row's KiB/conn, the last over N is
``kept_kib_per_conn`` (the ``-kept`` row: memory the server did not give back).
"""
from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from .churn import client_context
from .loads import Sample
from .memory import _sample, open_batched
from .process import rss_kib

_H2_CONFIG = h2.config.H2Configuration(client_side=True, header_encoding=None)
Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _h2_settled(port: int, timeout: float = 10.0) -> Conn | None:
    """An h2c connection after the SETTINGS exchange both ways (None on failure)."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        conn = h2.connection.H2Connection(_H2_CONFIG)
        conn.initiate_connection()
        writer.write(conn.data_to_send())
        theirs = acked = False
        while not (theirs and acked):
            data = await asyncio.wait_for(reader.read(65536), timeout)
            if not data:
                return None
            for event in conn.receive_data(data):
                theirs |= isinstance(event, h2.events.RemoteSettingsChanged)
                acked |= isinstance(event, h2.events.SettingsAcknowledged)
            writer.write(conn.data_to_send())  # our ACK of their SETTINGS
    except (OSError, TimeoutError, h2.exceptions.ProtocolError):
        return None
    return reader, writer


async def _tls_keepalive(port: int, ctx: ssl.SSLContext, timeout: float = 10.0) -> Conn | None:
    """A TLS connection after one keep-alive ``GET /`` (None on failure)."""
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port, ssl=ctx), timeout)
        writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        await asyncio.wait_for(reader.readexactly(length), timeout)
    except (OSError, ValueError, TimeoutError, ssl.SSLError, asyncio.IncompleteReadError):
        return None
    return reader, writer


async def _silent(port: int) -> Conn | None:
    """A TCP connection that sends nothing (None on failure)."""
    try:
        return await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return None


async def _hold(pid: int, count: int, opener: Callable[[], Awaitable[Conn | None]],
                settle: float, warm: Callable[[], Awaitable[None]]) -> Sample:
    await warm()
    before = rss_kib(pid)
    conns = await open_batched(count, opener)
    await asyncio.sleep(settle)
    during = rss_kib(pid)
    alive = sum(1 for r, w in conns if not r.at_eof() and not w.is_closing())
    for _, writer in conns:
        writer.transport.abort()
    await asyncio.sleep(max(settle, 2.0))  # let the server notice and free them
    after = rss_kib(pid)
    sample = _sample(before, during, len(conns), alive, count)
    extra = sample.extra if sample.extra is not None else {}
    extra["rss_closed_kib"] = float(after)
    if conns and before:
        extra["kept_kib_per_conn"] = round((after - before) / len(conns), 2)
    sample.extra = extra
    return sample


async def idle_h2(pid: int, port: int, count: int, settle: float = 1.0) -> Sample:
    """KiB of server RSS per idle h2c connection after the SETTINGS exchange."""
    async def warm() -> None:
        for _ in range(20):
            if (conn := await _h2_settled(port)) is not None:
                conn[1].transport.abort()
        await asyncio.sleep(0.3)

    return await _hold(pid, count, lambda: _h2_settled(port), settle, warm)


async def idle_tls(pid: int, port: int, count: int, settle: float = 1.0) -> Sample:
    """KiB of server RSS per idle TLS connection after one HTTP/1.1 request."""
    ctx = client_context("http/1.1")

    async def warm() -> None:
        for _ in range(20):
            if (conn := await _tls_keepalive(port, ctx)) is not None:
                conn[1].transport.abort()
        await asyncio.sleep(0.3)

    return await _hold(pid, count, lambda: _tls_keepalive(port, ctx), settle, warm)


async def pending_tls(pid: int, port: int, count: int, settle: float = 1.0) -> Sample:
    """KiB of server RSS per silent TCP connection on the TLS port."""
    ctx = client_context("http/1.1")

    async def warm() -> None:  # the TLS code paths are loaded by a few real handshakes
        for _ in range(10):
            if (conn := await _tls_keepalive(port, ctx)) is not None:
                conn[1].transport.abort()
        await asyncio.sleep(0.3)

    return await _hold(pid, count, lambda: _silent(port), settle, warm)

