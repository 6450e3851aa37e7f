"""A server over capacity answers instead of resetting (RFC 9110 §15.6.4 503 with
Retry-After §10.2.3; RFC 9113 §6.8 GOAWAY), logs it once per interval, and does not
hold a client that never reads its response (BB_H1_WRITE_TIMEOUT)."""
from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any

import pytest

from blackbull.config import Settings
from blackbull.server import ratelog
from tests.apps.basic import hello
from tests.conftest import raw_exchange
from tests.conftest_h2 import PREFACE, goaway_of, parse_frames


@pytest.fixture(autouse=True)
def _fresh_log_causes():
    ratelog.reset()
    yield
    ratelog.reset()


async def _hold(port: int, n: int) -> list[asyncio.StreamWriter]:
    """``n`` idle connections that count against BB_MAX_CONNECTIONS."""
    writers = []
    for _ in range(n):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writers.append(writer)
    await asyncio.sleep(0.1)
    return writers


async def test_h1_connection_over_max_connections_gets_503_retry_after_and_close(
        serve, caplog):
    """RFC 9110 §15.6.4, §10.2.3: a connection over BB_MAX_CONNECTIONS is answered
    ``503`` with ``Retry-After`` and ``Connection: close`` (not reset); a flood of them
    is logged once (BB_LOG_REPEAT_INTERVAL)."""
    caplog.set_level(logging.INFO, logger="blackbull")
    srv = await serve(hello, Settings(max_connections=2, retry_after=7))
    held = await _hold(srv.bound_port, 2)
    answers = await asyncio.gather(*(raw_exchange(
        srv.bound_port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") for _ in range(30)))
    for answer in answers:
        head = answer.split(b"\r\n\r\n")[0].lower()
        assert head.startswith(b"http/1.1 503 "), answer
        assert b"retry-after: 7" in head and b"connection: close" in head
    limit_lines = [r for r in caplog.records if "BB_MAX_CONNECTIONS" in r.getMessage()]
    assert len(limit_lines) == 1, [r.getMessage() for r in limit_lines]
    for writer in held:
        writer.close()
    await asyncio.sleep(0.1)
    data = await raw_exchange(srv.bound_port, b"GET / HTTP/1.1\r\nHost: x\r\n"
                                              b"Connection: close\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200 "), data  # below the limit again: served


async def test_h2c_preface_over_max_connections_gets_settings_and_goaway(serve):
    """RFC 9113 §3.4, §6.8: a cleartext connection that starts with the HTTP/2 preface
    gets our SETTINGS, then GOAWAY(last_stream_id=0, REFUSED_STREAM): nothing was
    processed, the client may retry."""
    srv = await serve(hello, Settings(max_connections=1))
    held = await _hold(srv.bound_port, 1)
    data = await raw_exchange(srv.bound_port, PREFACE + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
    frames = parse_frames(data)
    assert type(frames[0]).__name__ == "SettingsFrame"
    goaway = goaway_of(data)
    assert goaway is not None and goaway.last_stream_id == 0 and goaway.error_code == 0x7
    for writer in held:
        writer.close()


async def test_silent_connection_over_max_connections_still_gets_503_not_a_bare_close(serve):
    """RFC 9110 §15.6.4, RFC 9112 §9.6: a cleartext connection over BB_MAX_CONNECTIONS
    whose request has not arrived within the linger (a busy client) is answered the
    HTTP/1.1 ``503`` before the close, not closed without a word; one that began the
    HTTP/2 preface gets GOAWAY(REFUSED_STREAM) instead (RFC 9113 §3.4, §6.8)."""
    srv = await serve(hello, Settings(max_connections=1))
    held = await _hold(srv.bound_port, 1)
    silent = await raw_exchange(srv.bound_port, b"", timeout=5.0)
    head = silent.split(b"\r\n\r\n")[0].lower()
    assert head.startswith(b"http/1.1 503 ") and b"connection: close" in head, silent
    partial = await raw_exchange(srv.bound_port, PREFACE[:10], timeout=5.0)
    goaway = goaway_of(partial)
    assert goaway is not None and goaway.error_code == 0x7, partial
    for writer in held:
        writer.close()


async def test_h2_alpn_over_max_connections_gets_goaway(serve, server_ssl_context,
                                                        tls_certs):
    """RFC 9113 §3.3, §6.8: over TLS with ALPN h2 the refusal is SETTINGS + GOAWAY at
    once (the protocol is known before any byte is read)."""
    srv = await serve(hello, Settings(max_connections=1), ssl_context=server_ssl_context)
    ctx = ssl.create_default_context(cafile=tls_certs["ca"])
    ctx.set_alpn_protocols(["h2"])
    _, held = await asyncio.open_connection("127.0.0.1", srv.bound_port, ssl=ctx,
                                            server_hostname="localhost")
    await asyncio.sleep(0.1)
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port, ssl=ctx,
                                                   server_hostname="localhost")
    writer.write(PREFACE + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
    data = b""
    try:
        while chunk := await asyncio.wait_for(reader.read(65536), 5):
            data += chunk
    except (ConnectionError, ssl.SSLError):
        pass
    writer.close()
    held.close()
    goaway = goaway_of(data)
    assert goaway is not None and goaway.error_code == 0x7, data


async def test_limit_concurrency_answers_503_over_the_limit(serve):
    """uvicorn's --limit-concurrency (BB_LIMIT_CONCURRENCY): with the limit's worth of
    requests running, a new one gets 503 + Retry-After without reaching the app; below
    it again, requests are served."""
    release = asyncio.Event()
    reached = []

    async def app(scope: dict, receive: Any, send: Any) -> None:
        await receive()
        reached.append(scope["path"])
        if scope["path"] == "/hold":
            await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    srv = await serve(app, Settings(limit_concurrency=2))
    holds = [asyncio.create_task(raw_exchange(
        srv.bound_port, b"GET /hold HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
        for _ in range(2)]
    while len(reached) < 2:
        await asyncio.sleep(0.01)
    busy = await raw_exchange(srv.bound_port, b"GET /new HTTP/1.1\r\nHost: x\r\n\r\n")
    assert busy.startswith(b"HTTP/1.1 503 ") and b"retry-after: 1" in busy.lower()
    assert "/new" not in reached
    release.set()
    await asyncio.gather(*holds)
    ok = await raw_exchange(srv.bound_port, b"GET /new HTTP/1.1\r\nHost: x\r\n"
                                            b"Connection: close\r\n\r\n")
    assert ok.startswith(b"HTTP/1.1 200 ")


async def test_client_that_never_reads_is_closed_after_the_write_timeout(serve, caplog):
    """BB_H1_WRITE_TIMEOUT (nginx's send_timeout): a client that asks for 50 MB and
    reads nothing is closed once the response could not be written for that long; the
    app's send() raises an OSError (ASGI 2.4) and the cause is logged once."""
    caplog.set_level(logging.INFO, logger="blackbull")
    outcome: list[Any] = []

    async def big(scope: dict, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"%d" % (50 << 20))]})
        try:
            for _ in range(800):
                await send({"type": "http.response.body", "body": b"x" * 65536,
                            "more_body": True})
        except OSError as exc:
            outcome.append(exc)

    srv = await serve(big, Settings(h1_write_timeout=0.5))
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await asyncio.sleep(2.0)  # never reading meanwhile
    assert outcome and isinstance(outcome[0], OSError), "the app's send() did not raise"
    got = 0
    try:
        while chunk := await asyncio.wait_for(reader.read(1 << 20), 5):
            got += len(chunk)
    except ConnectionError:
        pass
    writer.close()
    assert got < 50 << 20
    lines = [r for r in caplog.records if "BB_H1_WRITE_TIMEOUT" in r.getMessage()]
    assert len(lines) == 1


async def test_limit_concurrency_answers_503_on_http2_streams_too(serve):
    """BB_LIMIT_CONCURRENCY over HTTP/2 (h2c): with the limit's worth of streams running,
    a new stream is answered :status 503 with retry-after; the held one still completes."""
    import h2.events

    from tests.conftest_h2 import REQUEST, H2Client

    release = asyncio.Event()

    async def app(scope: dict, receive: Any, send: Any) -> None:
        await receive()
        if scope["path"] == "/hold":
            await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    srv = await serve(app, Settings(limit_concurrency=1))
    client = await H2Client.connect(srv.bound_port)
    held = client.conn.get_next_available_stream_id()
    client.conn.send_headers(held, [(k, "/hold" if k == ":path" else v) for k, v in REQUEST],
                             end_stream=True)
    client.flush()
    await asyncio.sleep(0.2)
    headers, _, _ = await client.request(REQUEST)
    assert headers[b":status"] == b"503" and headers[b"retry-after"] == b"1"
    release.set()
    await client.wait_for(lambda e: isinstance(e, h2.events.StreamEnded)
                          and e.stream_id == held)
    await client.close()


async def test_refusals_beyond_max_refusals_are_reset(serve):
    """BB_MAX_REFUSALS bounds what answering costs: with no answer allowed under way, a
    connection over BB_MAX_CONNECTIONS is reset as before, without a 503."""
    srv = await serve(hello, Settings(max_connections=1, max_refusals=0))
    held = await _hold(srv.bound_port, 1)
    data = await raw_exchange(srv.bound_port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert data == b""
    for writer in held:
        writer.close()
