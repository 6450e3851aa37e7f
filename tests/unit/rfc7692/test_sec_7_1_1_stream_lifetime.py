"""RFC 7692 §7.1.1 and §7.2: how long the zlib streams of a connection live.

A zlib stream is native memory (a deflate stream with a 15-bit window is hundreds of KiB),
so the codec holds one only while the agreement needs it: none before the first compressed
message, none between messages of a direction without context takeover, none after the
connection closed.
"""
from __future__ import annotations

import asyncio
import gc
import weakref
import zlib

from websockets.asyncio.client import connect

from blackbull.config import Settings
from blackbull.protocol.websocket import (
    BytesMessage,
    CloseReceived,
    DeflateParams,
    Opcode,
    PerMessageDeflate,
    Role,
    TextMessage,
    WebSocketConnection,
)
from blackbull.protocol.websocket.handshake import validate_extended_connect
from blackbull.server.state import ServerState
from blackbull.server.ws_bridge import WebSocketBridge

from ..rfc6455.test_sec_4_bridge_over_another_carrier import CONNECT, StreamCarrier, echo
from ..rfc6455.wsutil import client_frame, echo_app, feed

TRAILER = b"\x00\x00\xff\xff"
TEXT = b"a message that repeats itself, a message that repeats itself " * 8


def client_deflate(data: bytes, stream=None) -> bytes:
    stream = stream or zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    out = stream.compress(data) + stream.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4]


def test_a_new_codec_holds_no_zlib_stream_until_a_message_needs_one() -> None:
    """RFC 7692 §7.2.1/§7.2.2: a stream is created by the first message it compresses or
    inflates, not by the agreement (an idle connection holds no zlib memory)."""
    codec = PerMessageDeflate(DeflateParams(), is_server=True)
    assert codec.streams == 0
    compressed = codec.compress(TEXT)
    assert codec.streams == 1
    assert zlib.decompressobj(-15).decompress(compressed + TRAILER) == TEXT
    codec.start_message()
    assert codec.finish_message(1 << 20) == b""  # an empty compressed message
    assert codec.streams == 2


def test_context_takeover_keeps_the_compressor_between_messages() -> None:
    """RFC 7692 §7.1.1: without no_context_takeover the next message may refer to the
    previous one, so the compressor survives and the repeat compresses to almost nothing."""
    codec = PerMessageDeflate(DeflateParams(), is_server=True)
    first = codec.compress(TEXT)
    second = codec.compress(TEXT)
    assert codec.streams == 1
    assert len(second) < len(first) // 2
    inflater = zlib.decompressobj(-15)
    assert inflater.decompress(first + TRAILER) == TEXT
    assert inflater.decompress(second + TRAILER) == TEXT


def test_server_no_context_takeover_drops_the_compressor_after_each_message() -> None:
    """RFC 7692 §7.1.1.1: with server_no_context_takeover every message is compressed
    afresh, so no compressor is kept between messages, and each one inflates alone."""
    codec = PerMessageDeflate(DeflateParams(server_no_context_takeover=True), is_server=True)
    for _ in range(3):
        compressed = codec.compress(TEXT)
        assert codec.streams == 0
        assert zlib.decompressobj(-15).decompress(compressed + TRAILER) == TEXT


def test_client_no_context_takeover_drops_the_inflater_after_each_message() -> None:
    """RFC 7692 §7.1.1.2: the client starts each message afresh, so the server keeps no
    inflater between its messages; each independently compressed message inflates."""
    server = WebSocketConnection(Role.SERVER, deflate=PerMessageDeflate(
        DeflateParams(client_no_context_takeover=True), is_server=True))
    for _ in range(3):
        events = feed(server, client_frame(Opcode.BINARY, client_deflate(TEXT), rsv1=True))
        assert events == [BytesMessage(TEXT)]
        assert server.deflate.streams == 0


def test_inflater_with_context_takeover_reads_back_references_to_the_last_message() -> None:
    """RFC 7692 §7.1.1: with context takeover the server's inflater is kept, so a second
    message that only refers to the first one's text inflates."""
    server = WebSocketConnection(Role.SERVER, deflate=PerMessageDeflate(
        DeflateParams(), is_server=True))
    stream = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    first, second = client_deflate(TEXT, stream), client_deflate(TEXT, stream)
    assert len(second) < len(first) // 2  # the second one is back references only
    assert feed(server, client_frame(Opcode.TEXT, first, rsv1=True)) == [
        TextMessage(TEXT.decode())]
    assert feed(server, client_frame(Opcode.TEXT, second, rsv1=True)) == [
        TextMessage(TEXT.decode())]
    assert server.deflate.streams == 1


def test_close_releases_both_streams() -> None:
    """RFC 7692 §7.2: the streams belong to one connection; close() gives them back."""
    codec = PerMessageDeflate(DeflateParams(), is_server=True)
    codec.compress(TEXT)
    codec.start_message()
    codec.finish_message(1 << 20)
    assert codec.streams == 2
    codec.close()
    assert codec.streams == 0


async def _open_bridge_with_deflate() -> tuple[WebSocketBridge, StreamCarrier,
                                               WebSocketConnection]:
    """A server bridge with permessage-deflate agreed, after one compressed message each
    way (so both of its zlib streams exist)."""
    carrier = StreamCarrier()
    state = ServerState(app=echo, settings=Settings())
    bridge = WebSocketBridge(state, carrier, validate_extended_connect(CONNECT),
                             DeflateParams())
    bridge.start({"type": "websocket", "path": "/chat", "extensions": {}})
    for _ in range(50):
        if carrier.accepted is not None:
            break
        await asyncio.sleep(0.01)
    client = WebSocketConnection(Role.CLIENT, deflate=PerMessageDeflate(
        DeflateParams(), is_server=False))
    client.send_text(TEXT.decode())
    bridge.feed(client.data_to_send())
    events: list = []
    for _ in range(50):
        events += client.receive_data(bytes(carrier.sent))
        carrier.sent.clear()
        if events:
            break
        await asyncio.sleep(0.01)
    assert events == [TextMessage(TEXT.decode())]
    assert bridge.ws is not None and bridge.ws.deflate is not None
    assert bridge.ws.deflate.streams == 2
    return bridge, carrier, client


async def test_closing_handshake_releases_the_streams() -> None:
    """RFC 6455 §7.1.2/§7.1.4 with RFC 7692: once the WebSocket is closed the server holds
    no zlib stream, even while the connection's objects wait for the cyclic GC."""
    bridge, carrier, client = await _open_bridge_with_deflate()
    client.send_close(1000)
    bridge.feed(client.data_to_send())
    for _ in range(50):
        if carrier.ended:
            break
        await asyncio.sleep(0.01)
    assert client.receive_data(bytes(carrier.sent)) == [CloseReceived(1000, "")]
    assert bridge.ws.deflate.streams == 0
    await asyncio.wait_for(bridge.task, 5)


async def test_lost_connection_releases_the_streams() -> None:
    """RFC 6455 §7.1.5 (closed without a Close frame, 1006) with RFC 7692: the streams
    are given back when the transport is lost, too."""
    bridge, _, _ = await _open_bridge_with_deflate()
    bridge.lost()
    assert bridge.ws.deflate.streams == 0
    await asyncio.wait_for(bridge.task, 5)


async def test_closed_compressed_websocket_is_freed_without_the_cyclic_gc(serve) -> None:
    """RFC 6455 §7.1.1 with RFC 7692 §7.2: once a compressed WebSocket over HTTP/1.1 is
    closed, its connection, handler, bridge and core are freed by reference counting
    alone; none waits in a reference cycle for the cyclic GC (which cannot see the native
    memory such objects may hold)."""
    srv = await serve(echo_app)
    gc.collect()
    gc.disable()
    try:
        async with connect(f"ws://127.0.0.1:{srv.bound_port}/", compression="deflate") as ws:
            await ws.send(TEXT.decode())
            assert await ws.recv() == TEXT.decode()
            assert ws.response.headers["sec-websocket-extensions"].startswith(
                "permessage-deflate")
            (conn,) = srv.state.connections
            refs = [weakref.ref(obj) for obj in (conn, conn.handler, conn.handler.bridge,
                                                 conn.handler.bridge.ws)]
            del conn
        for _ in range(100):
            if all(ref() is None for ref in refs):
                break
            await asyncio.sleep(0.02)
        alive = [type(ref()).__name__ for ref in refs if ref() is not None]
    finally:
        gc.enable()
    assert alive == []
