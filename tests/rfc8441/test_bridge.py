"""The Autobahn-over-RFC 8441 bridge (conformance/h2bridge): an HTTP/1.1 WebSocket client
(``websockets``, or raw bytes) on one side, an HTTP/2 server (ours, or the ``h2`` peer)
on the other."""
from __future__ import annotations

import asyncio
import os

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from blackbull.config import Settings
from blackbull.protocol.websocket import Opcode, encode_frame
from blackbull.protocol.websocket.handshake import accept_key, client_request, generate_key
from conformance.autobahn.__main__ import parse_args
from conformance.h2bridge.bridge import Upstream, serve
from conformance.interop.app import app as interop_app
from tests.rfc8441.h2peer import H2Peer

ON = Settings(h2_enable_websocket=True)


@pytest.fixture
async def bridge():
    servers: list[asyncio.AbstractServer] = []

    async def start(upstream_port: int) -> int:
        srv = await serve("127.0.0.1", 0, Upstream("127.0.0.1", upstream_port))
        servers.append(srv)
        return srv.sockets[0].getsockname()[1]
    yield start
    for srv in servers:
        srv.close()
        await srv.wait_closed()


async def test_handshake_offers_and_answers_are_forwarded(serve, bridge) -> None:
    """RFC 8441 §5: the offered subprotocols and extensions travel on the CONNECT and the
    server's choice returns in the 101 with a valid Sec-WebSocket-Accept (RFC 6455 §4.2.2)."""
    srv = await serve(interop_app, ON)
    port = await bridge(srv.bound_port)
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws", subprotocols=["chat"],
                                  max_size=None) as ws:
        assert ws.subprotocol == "chat"
        assert "permessage-deflate" in ws.response.headers["sec-websocket-extensions"]
        await ws.send("?version")
        assert await ws.recv() == "version:2"
        big = os.urandom(2_000_000)
        await ws.send(big)
        assert await ws.recv() == big
        await ws.send("close:4002")
        await ws.wait_closed()
    assert ws.close_code == 4002


async def test_frame_bytes_are_relayed_unchanged(bridge) -> None:
    """RFC 8441 §5: the bridge is byte-transparent: what the client writes after the 101
    arrives at the server's stream as the same octets, fragmented or not."""
    peer = H2Peer()
    upstream = await peer.start()
    port = await bridge(upstream)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = generate_key()
    writer.write(client_request(f"127.0.0.1:{port}", "/raw", key))
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101") and accept_key(key).encode() in head
    sent = b"".join(encode_frame(op, part, fin=fin, mask=os.urandom(4)) for op, part, fin in (
        (Opcode.TEXT, b"frag", False), (Opcode.PING, b"p", True),
        (Opcode.CONTINUATION, b"ment", True)))
    writer.write(sent)
    await writer.drain()
    for _ in range(100):
        if peer.streams and len(next(iter(peer.streams.values())).raw) >= len(sent):
            break
        await asyncio.sleep(0.02)
    (stream,) = peer.streams.values()
    assert bytes(stream.raw) == sent
    assert stream.headers[b":path"] == b"/raw" and stream.headers[b":protocol"] == b"websocket"
    writer.close()
    await peer.stop()


async def test_server_without_the_setting_gets_no_connect(serve, bridge) -> None:
    """RFC 8441 §3: the bridge never sends :protocol to a server that did not advertise
    it; the HTTP/1.1 client is refused instead."""
    srv = await serve(interop_app, Settings(h2_enable_websocket=False))
    port = await bridge(srv.bound_port)
    with pytest.raises(InvalidStatus) as info:
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws"):
            pass
    assert info.value.response.status_code == 502


async def test_upstream_refusal_status_is_relayed(bridge) -> None:
    """RFC 8441 §5: a non-2xx answer to the CONNECT reaches the client as that status."""
    peer = H2Peer(status=403)
    port = await bridge(await peer.start())
    with pytest.raises(InvalidStatus) as info:
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws"):
            pass
    assert info.value.response.status_code == 403
    await peer.stop()


def test_autobahn_harness_has_the_h2_bridge_variant() -> None:
    """RFC 8441 §5: Autobahn's fuzzing client reaches the server through the bridge as
    its own variant (reported as its own column)."""
    assert parse_args(["--target", "blackbull", "--h2-bridge"]).variant == "h2-bridge"
    assert parse_args(["--target", "blackbull"]).variant == "ws"
