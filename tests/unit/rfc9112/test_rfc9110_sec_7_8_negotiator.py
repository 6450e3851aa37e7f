"""One place decides protocol switches (issue 17 §3): ``server/negotiate.py``.

Every handler a connection gets comes from the :class:`Negotiator` the server was
given: the first one by ALPN (RFC 9113 §3.3) or the cleartext preface (§3.4), the next
one for an HTTP/1.1 ``Upgrade`` (RFC 9110 §7.8) to WebSocket (RFC 6455 §4.2) or h2c
(RFC 7540 §3.2). These tests give the server a negotiator that records which of its
constructors ran, and drive it with real clients (python-hyper ``h2``, ``websockets``,
the ``ssl`` module): no handler builds another by itself.
"""
from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import h2.config
import h2.connection
import pytest
import websockets

from blackbull.config import Settings
from blackbull.server.connection import ProtocolHandler
from blackbull.server.negotiate import Negotiator, PrefaceDetector
from blackbull.server.serve import Server, default_negotiator
from tests.apps.basic import echo
from tests.conftest import raw_exchange

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


async def ws_echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "websocket":
        await echo(scope, receive, send)
        return
    await receive()
    await send({"type": "websocket.accept"})
    message = await receive()
    await send({"type": "websocket.send", "text": message.get("text")})
    await send({"type": "websocket.close", "code": 1000})


class Recorder:
    """The default negotiator's constructors, each noting its name when it runs."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        base = default_negotiator()
        self.negotiator: Negotiator = replace(
            base, http1=self._noting("http1", base.http1), http2=self._noting("http2", base.http2),
            h2c=self._noting("h2c", base.h2c), websocket=self._noting("websocket", base.websocket))

    def _noting(self, name: str, make: Callable[..., ProtocolHandler]
                ) -> Callable[..., ProtocolHandler]:
        def noted(*args: Any) -> ProtocolHandler:
            self.calls.append(name)
            return make(*args)
        return noted


@pytest.fixture
async def recorded() -> AsyncIterator[Callable[..., Any]]:
    servers: list[Server] = []

    async def start(ssl_context: ssl.SSLContext | None = None) -> tuple[Server, Recorder]:
        recorder = Recorder()
        srv = Server(ws_echo, Settings(lifespan="off"), host="127.0.0.1", port=0,
                     ssl_context=ssl_context, negotiator=recorder.negotiator)
        await srv.start()
        servers.append(srv)
        return srv, recorder

    yield start
    for srv in servers:
        await srv.shutdown()


def test_a_new_cleartext_connection_starts_with_the_preface_detector() -> None:
    """RFC 9113 §3.4: on cleartext nothing is known before the first bytes."""
    class Cleartext:
        alpn = None
        scheme_secure = False

    assert isinstance(default_negotiator().first(Cleartext()), PrefaceDetector)  # type: ignore[arg-type]


async def test_cleartext_http11_and_prior_knowledge_h2_come_from_the_negotiator(
        recorded) -> None:
    """RFC 9113 §3.4: bytes that cannot be the preface → the negotiator's HTTP/1.1
    handler; the preface → its HTTP/2 handler."""
    srv, recorder = await recorded()
    data = await raw_exchange(srv.bound_port,
                              b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200")
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    client.initiate_connection()
    answer = await raw_exchange(srv.bound_port, client.data_to_send(),
                                read_until_close=False)
    assert answer[3] == 0x4  # the server's SETTINGS frame: HTTP/2 is spoken
    assert recorder.calls == ["http1", "http2"]


async def test_upgrades_to_websocket_and_h2c_are_built_by_the_negotiator(recorded) -> None:
    """RFC 9110 §7.8 → RFC 6455 §4.2 and RFC 7540 §3.2: the HTTP/1.1 handler asks,
    the negotiator builds the next handler."""
    srv, recorder = await recorded()
    async with websockets.connect(f"ws://127.0.0.1:{srv.bound_port}/") as ws:
        await ws.send("hi")
        assert await ws.recv() == "hi"
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    value = client.initiate_upgrade_connection()
    data = await raw_exchange(
        srv.bound_port, b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\n"
        b"Connection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: " + value + b"\r\n\r\n",
        read_until_close=False)
    assert data.startswith(b"HTTP/1.1 101 ")
    assert recorder.calls == ["http1", "websocket", "http1", "h2c"]


async def test_h2c_upgrade_over_tls_is_not_switched(recorded, server_ssl_context) -> None:
    """RFC 7540 §3.2: ``h2c`` is HTTP/2 over cleartext; over TLS the Upgrade is ignored
    and the request answered over HTTP/1.1 (RFC 9110 §7.8). ALPN picks the first
    handler: ``http/1.1`` → HTTP/1.1, ``h2`` → HTTP/2 (RFC 9113 §3.3)."""
    srv, recorder = await recorded(server_ssl_context)
    for alpn in ("http/1.1", "h2"):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols([alpn])
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port, ssl=ctx)
        if alpn == "h2":
            writer.write(PREFACE + b"\0\0\0\x04\0\0\0\0\0")
            frame = await asyncio.wait_for(reader.readexactly(9), 5)
            assert frame[3] == 0x4
        else:
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\n"
                         b"Connection: Upgrade, HTTP2-Settings, close\r\n"
                         b"HTTP2-Settings: AAMAAABkAARAAAAA\r\n\r\n")
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            assert head.startswith(b"HTTP/1.1 200")
        writer.close()
    assert recorder.calls == ["http1", "http2"]
