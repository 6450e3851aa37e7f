"""RFC 9112 §9: connection persistence, pipelining, and closing."""
from __future__ import annotations

import asyncio
import json

import httpx

from tests.apps.basic import hello, slow
from tests.conftest import raw_exchange


async def test_keep_alive_serves_several_requests_on_one_connection(serve):
    """RFC 9112 §9.3: HTTP/1.1 connections persist by default (httpx reuses one socket)."""
    srv = await serve(hello)
    ports = set()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{srv.bound_port}") as client:
        for _ in range(5):
            response = await client.get("/", extensions={})
            assert response.status_code == 200 and response.text == "hello"
            ports.add(response.extensions["network_stream"].get_extra_info("client_addr"))
    assert len(ports) == 1


async def test_pipelined_requests_are_answered_in_order(serve):
    """RFC 9112 §9.3.2: responses to pipelined requests are sent in request order, even
    when a later request would finish first."""
    srv = await serve(slow)
    requests = b"".join(
        b"GET /r%d?%s HTTP/1.1\r\nHost: x\r\n\r\n" % (i, delay)
        for i, delay in enumerate([b"0.3", b"0", b"0.1"]))
    data = await raw_exchange(srv.bound_port, requests + b"GET /last HTTP/1.1\r\nHost: x\r\n"
                              b"Connection: close\r\n\r\n")
    bodies = [json.loads(part.split(b"\r\n\r\n", 1)[1].split(b"HTTP/1.1")[0])
              for part in data.split(b"HTTP/1.1 200 OK")[1:]]
    assert [b["path"] for b in bodies] == ["/r0", "/r1", "/r2", "/last"]


async def test_connection_close_request_closes_after_response(serve):
    """RFC 9112 §9.6: a request with ``Connection: close`` is the last on the connection."""
    srv = await serve(hello)
    data = await raw_exchange(srv.bound_port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close"
                              b"\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert data.count(b"HTTP/1.1 200") == 1
    assert b"connection: close" in data.lower()


async def test_http10_request_closes_by_default(serve):
    """RFC 9112 §9.3: an HTTP/1.0 request without keep-alive is answered and closed."""
    srv = await serve(hello)
    data = await raw_exchange(srv.bound_port, b"GET / HTTP/1.0\r\n\r\n", timeout=3)
    assert data.startswith(b"HTTP/1.1 200 OK")  # RFC 9110 §6.2: our version, 1.1
    assert data.endswith(b"hello")


async def test_http10_keep_alive_is_honoured(serve):
    """RFC 9112 §C.2.2: ``Connection: keep-alive`` on 1.0 keeps the connection open."""
    srv = await serve(hello)
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    for _ in range(2):
        writer.write(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and b"connection: keep-alive" in head
        await reader.readexactly(5)
    writer.close()


async def test_idle_keep_alive_connection_is_closed_after_timeout(serve):
    """RFC 9112 §9.8: a server may close idle connections (BB_H1_KEEPALIVE_TIMEOUT)."""
    from blackbull.config import Settings

    srv = await serve(hello, Settings(h1_keepalive_timeout=0.3))
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await reader.readuntil(b"hello")
    assert await asyncio.wait_for(reader.read(), 3) == b""  # closed by the server
    writer.close()


async def test_keep_alive_timeout_counts_from_the_last_response(serve):
    """RFC 9112 §9.8: the idle timeout (BB_H1_KEEPALIVE_TIMEOUT) runs from the end of
    the last exchange: requests every 0.2 s keep a 0.5 s-timeout connection open well past
    0.5 s, and once they stop it closes no sooner than 0.5 s after the last response."""
    import time

    from blackbull.config import Settings

    srv = await serve(hello, Settings(h1_keepalive_timeout=0.5))
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    for _ in range(6):  # 1.2 s of traffic on one connection
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await asyncio.wait_for(reader.readuntil(b"hello"), 3)
        last = time.monotonic()
        await asyncio.sleep(0.2)
    assert await asyncio.wait_for(reader.read(), 3) == b""  # closed by the server
    idle = time.monotonic() - last
    assert 0.45 <= idle < 2.0, idle
    writer.close()


async def test_slow_request_head_gets_408_after_header_timeout(serve):
    """RFC 9110 §15.5.9: a client too slow to send its request head gets 408 and a close;
    trickling bytes does not extend the deadline (slowloris)."""
    from blackbull.config import Settings

    srv = await serve(hello, Settings(h1_header_timeout=0.5))
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    writer.write(b"GET / HTTP/1.1\r\n")
    for _ in range(4):  # 0.4 s of trickle: still inside the 0.5 s deadline
        await asyncio.sleep(0.1)
        writer.write(b"X-A: b\r\n")
    data = await asyncio.wait_for(reader.read(), 3)
    assert data.startswith(b"HTTP/1.1 408")
    writer.close()


async def test_half_closed_client_still_gets_its_pipelined_answers(serve):
    """RFC 9112 §9.3.2, §9.6: a client that pipelines requests and then closes its
    sending side (shutdown SHUT_WR) still reads every answer — an EOF alone is not a
    disconnect for an app that does not wait on receive() for one."""
    srv = await serve(slow)
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    writer.write(b"GET /?0.2 HTTP/1.1\r\nHost: x\r\n\r\n" * 3)
    await writer.drain()
    writer.write_eof()
    data = await asyncio.wait_for(reader.read(-1), 10)
    writer.close()
    assert data.count(b"HTTP/1.1 200 ") == 3, data
