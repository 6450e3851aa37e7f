"""RFC 7692 §5–§7 through the server, with independent peers (websockets, aiohttp)."""
from __future__ import annotations

import asyncio
import os
import zlib

import aiohttp
import pytest
from websockets.asyncio.client import connect
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

from blackbull.config import Settings

from ..rfc6455.wsutil import client_frame, echo_app

UPGRADE = (b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")


@pytest.mark.parametrize("factory", [
    ClientPerMessageDeflateFactory(),
    ClientPerMessageDeflateFactory(server_no_context_takeover=True,
                                   client_no_context_takeover=True),
    ClientPerMessageDeflateFactory(server_max_window_bits=8, client_max_window_bits=9),
    ClientPerMessageDeflateFactory(server_max_window_bits=10, client_max_window_bits=True),
])
async def test_websockets_client_negotiates_and_messages_echo(serve, factory) -> None:
    """RFC 7692 §7.1: each parameter combination is agreed and messages round-trip."""
    srv = await serve(echo_app)
    async with connect(f"ws://127.0.0.1:{srv.bound_port}/", extensions=[factory],
                       compression=None, max_size=None) as ws:
        assert "permessage-deflate" in ws.response.headers["sec-websocket-extensions"]
        text = "compressible text " * 5000
        for _ in range(3):
            await ws.send(text)
            assert await ws.recv() == text
        data = os.urandom(1000) + b"\x00" * 100000
        await ws.send(data)
        assert await ws.recv() == data


async def test_aiohttp_compressed_session_echo(serve) -> None:
    """RFC 7692 §7.2: aiohttp's permessage-deflate messages round-trip."""
    srv = await serve(echo_app)
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"http://127.0.0.1:{srv.bound_port}/",
                                      compress=15) as ws:
            assert ws.compress
            await ws.send_str("hello " * 1000)
            msg = await ws.receive(timeout=5)
            assert msg.data == "hello " * 1000


async def test_disabled_by_setting_means_no_extension_answer(serve) -> None:
    """RFC 7692 §5: a server that does not accept answers no extension element."""
    srv = await serve(echo_app, Settings(ws_permessage_deflate=False))
    async with connect(f"ws://127.0.0.1:{srv.bound_port}/") as ws:
        assert "sec-websocket-extensions" not in ws.response.headers
        await ws.send("x")
        assert await ws.recv() == "x"


async def raw_session(port: int, offer: bytes, frame: bytes) -> tuple[bytes, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(UPGRADE + offer + b"\r\n" + frame)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    rest = b""
    while True:
        data = await asyncio.wait_for(reader.read(65536), 5)
        if not data:
            break
        rest += data
    writer.close()
    return head, rest


async def test_rsv1_without_agreement_is_closed_with_1002(serve) -> None:
    """RFC 7692 §6 / RFC 6455 §5.2: RSV1 when nothing was negotiated → Close 1002."""
    srv = await serve(echo_app)
    head, rest = await raw_session(srv.bound_port, b"",
                                   client_frame(0x1, b"\xf2\x48\xcd\xc9\xc9\x07\x00", rsv1=True))
    assert b"sec-websocket-extensions" not in head.lower()
    assert rest[0] == 0x88 and rest[2:4] == b"\x03\xea"   # Close, 1002


async def test_deflate_bomb_through_the_server_is_closed_with_1009(serve) -> None:
    """RFC 7692 §8 / RFC 6455 §7.4.1: inflation beyond the message limit → Close 1009."""
    srv = await serve(echo_app, Settings(ws_max_message_size=1 << 20))
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = (c.compress(b"\x00" * (32 << 20)) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]
    head, rest = await raw_session(
        srv.bound_port, b"Sec-WebSocket-Extensions: permessage-deflate\r\n",
        client_frame(0x2, bomb, rsv1=True))
    assert b"permessage-deflate" in head
    assert rest[0] == 0x88 and rest[2:4] == b"\x03\xf1"   # Close, 1009


async def test_invalid_offer_is_declined_and_the_valid_one_accepted(serve) -> None:
    """RFC 7692 §5: the server accepts the first offer it can honour."""
    srv = await serve(echo_app)
    head, _ = await raw_session(
        srv.bound_port,
        b"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=99, "
        b"permessage-deflate; server_no_context_takeover\r\n",
        client_frame(0x8, b"\x03\xe8"))
    assert b"sec-websocket-extensions: permessage-deflate; server_no_context_takeover" \
        in head.lower()
