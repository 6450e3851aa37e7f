"""TLS state is created only when a client has spoken (RFC 8446 §4.1.2: the server acts
on the ClientHello; before it there is nothing to do): a silent connection holds no SSL
object, is closed at BB_TLS_HANDSHAKE_TIMEOUT, one that closes first leaves nothing, and
a client that speaks is served over h2 and HTTP/1.1 as before, on asyncio and uvloop."""
from __future__ import annotations

import asyncio
import gc
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from blackbull.config import Settings
from blackbull.server.serve import Server


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"5")]})
    await send({"type": "http.response.body", "body": b"hello"})


def _client_context(tls_certs: dict[str, str], alpn: str) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=tls_certs["ca"])
    ctx.set_alpn_protocols([alpn])
    return ctx


async def _serve(server_ssl_context: ssl.SSLContext, body: Callable[[Server], Awaitable[None]],
                 **settings: Any) -> None:
    server = Server(hello, Settings(lifespan="off", **settings), port=0,
                    ssl_context=server_ssl_context)
    await server.start()
    try:
        await body(server)
    finally:
        await server.shutdown()


def _ssl_objects() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, ssl.SSLObject))


async def _get(port: int, ctx: ssl.SSLContext) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx,
                                                   server_hostname="localhost")
    writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return data


async def test_silent_connections_hold_no_tls_state(server_ssl_context, tls_certs) -> None:
    """RFC 8446 §4.1.2: before a ClientHello the server keeps no SSL object; the
    connections are accepted (counted as pending) and a speaking client is served."""
    async def body(server: Server) -> None:
        before = _ssl_objects()
        silent = [await asyncio.open_connection("127.0.0.1", server.bound_port)
                  for _ in range(20)]
        for _ in range(100):
            if sum(lst.pending for lst in server._tls_listeners) == 20:
                break
            await asyncio.sleep(0.01)
        assert sum(lst.pending for lst in server._tls_listeners) == 20
        assert _ssl_objects() == before
        data = await _get(server.bound_port, _client_context(tls_certs, "http/1.1"))
        assert data.startswith(b"HTTP/1.1 200") and data.endswith(b"hello")
        for _, writer in silent:
            writer.close()

    await _serve(server_ssl_context, body)


async def test_silent_connection_closed_at_handshake_timeout(server_ssl_context) -> None:
    """BB_TLS_HANDSHAKE_TIMEOUT bounds the wait for the first bytes: the server closes."""
    async def body(server: Server) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
        assert await asyncio.wait_for(reader.read(), 5) == b""
        assert sum(lst.pending for lst in server._tls_listeners) == 0
        writer.close()

    await _serve(server_ssl_context, body, tls_handshake_timeout=0.3)


async def test_client_closing_before_hello_leaves_nothing(server_ssl_context) -> None:
    """A connection closed before its first byte is closed without TLS state."""
    async def body(server: Server) -> None:
        _, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
        await asyncio.sleep(0.05)
        writer.close()
        for _ in range(100):
            if sum(lst.pending for lst in server._tls_listeners) == 0:
                break
            await asyncio.sleep(0.01)
        assert sum(lst.pending for lst in server._tls_listeners) == 0
        assert not server.state.connections

    await _serve(server_ssl_context, body)


async def test_pending_connections_beyond_max_connections_are_closed(
        server_ssl_context) -> None:
    """BB_MAX_CONNECTIONS also bounds connections that have not spoken: one beyond is
    closed at accept."""
    async def body(server: Server) -> None:
        held = [await asyncio.open_connection("127.0.0.1", server.bound_port)
                for _ in range(2)]
        reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
        for _, w in held:
            w.close()

    await _serve(server_ssl_context, body, max_connections=2)


@pytest.mark.parametrize("defer", [True, False])
def test_h2_and_http11_served_after_deferred_handshake_on_uvloop(
        server_ssl_context, tls_certs, defer: bool) -> None:
    """RFC 7301 §3.2 / RFC 9113 §3.2: ALPN still selects h2 or http/1.1, with the TLS
    state made late (BB_TLS_DEFER) or at accept, on uvloop."""
    uvloop = pytest.importorskip("uvloop")
    from tests.conftest_h2 import get_response_headers

    async def body(server: Server) -> None:
        data = await _get(server.bound_port, _client_context(tls_certs, "http/1.1"))
        assert data.startswith(b"HTTP/1.1 200")
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", server.bound_port, ssl=_client_context(tls_certs, "h2"),
            server_hostname="localhost")
        assert writer.get_extra_info("ssl_object").selected_alpn_protocol() == "h2"
        headers = await get_response_headers(reader, writer, "https", "localhost")
        status = dict(headers)[b":status"]
        assert status == b"200"
        writer.close()

    loop = uvloop.new_event_loop()
    try:
        loop.run_until_complete(_serve(server_ssl_context, body, tls_defer=defer))
    finally:
        loop.close()
