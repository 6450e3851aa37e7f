"""WebSocketH2Client / WebSocketH2Session (RFC 8441 client role) against real peers: our
server (TLS and h2c) and an independent ``h2`` + ``wsproto`` server peer."""
from __future__ import annotations

import asyncio
import ssl
import struct

import pytest
from wsproto.frame_protocol import Opcode as PeerOpcode

from blackbull.client import HandshakeError, WebSocketH2Client, WebSocketH2Session, WSOpcode
from blackbull.config import Settings
from conformance.interop.app import app as interop_app
from tests.conftest_h2 import parse_frames
from tests.rfc8441.h2peer import H2Peer

ON = Settings(h2_enable_websocket=True)


@pytest.fixture
def client_ctx(tls_certs: dict[str, str]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=tls_certs["ca"])
    ctx.set_alpn_protocols(["h2"])
    return ctx


@pytest.fixture
async def peer():
    peers: list[H2Peer] = []

    async def start(**kw) -> tuple[H2Peer, int]:
        p = H2Peer(**kw)
        peers.append(p)
        return p, await p.start()
    yield start
    for p in peers:
        await p.stop()


async def test_documented_usage_over_tls(serve, server_ssl_context, client_ctx) -> None:
    """RFC 8441 §4–§5: connect → 200, bytes echoed, close ends the stream (END_STREAM)."""
    srv = await serve(interop_app, ON, ssl_context=server_ssl_context)
    async with WebSocketH2Client("localhost", srv.bound_port, ssl=client_ctx) as c:
        assert c.connect_status is None
        ws = await c.connect("/ws")
        assert isinstance(ws, WebSocketH2Session) and c.connect_status == 200
        await ws.send_bytes(b"hello")
        assert await ws.receive() == (WSOpcode.BINARY, b"hello")
        await ws.send_text("?version")
        assert await ws.receive() == (WSOpcode.TEXT, "version:2")
        await ws.close()
        await ws.close()  # idempotent
        assert ws.closed and ws.close_code == 1000 and ws.end_stream_received


async def test_cleartext_h2c_prior_knowledge(serve) -> None:
    """RFC 8441 §4 over RFC 9113 §3.3 (h2c prior knowledge): :scheme http works too."""
    srv = await serve(interop_app, ON)
    async with WebSocketH2Client("127.0.0.1", srv.bound_port) as c:
        ws = await c.connect("/ws", subprotocols=["chat"])
        assert ws.subprotocol == "chat"
        await ws.send_text("plain")
        assert await ws.receive() == (WSOpcode.TEXT, "plain")
        await ws.close()


async def test_permessage_deflate_is_offered_and_used(serve, server_ssl_context,
                                                      client_ctx) -> None:
    """RFC 8441 §5 + RFC 7692 §5: the extension is negotiated in the CONNECT exchange."""
    srv = await serve(interop_app, ON, ssl_context=server_ssl_context)
    async with WebSocketH2Client("localhost", srv.bound_port, ssl=client_ctx) as c:
        ws = await c.connect("/ws")
        assert ws.core.deflate is not None
        assert any(b"permessage-deflate" in v for v in ws.extensions)
        await ws.send_text("z" * 100_000)
        assert await ws.receive() == (WSOpcode.TEXT, "z" * 100_000)
        await ws.close()


async def test_non_200_raises_handshake_error_with_status(peer) -> None:
    """RFC 8441 §5: only a 2xx opens the WebSocket; the status is kept."""
    _, port = await peer(status=403)
    async with WebSocketH2Client("127.0.0.1", port) as c:
        with pytest.raises(HandshakeError) as info:
            await c.connect("/ws")
        assert info.value.status == 403 and c.connect_status == 403


async def test_no_answer_raises_timeout(peer) -> None:
    """RFC 8441 §4: a CONNECT without an answer in time is a TimeoutError (stream cancelled)."""
    p, port = await peer(answer=False)
    async with WebSocketH2Client("127.0.0.1", port) as c:
        with pytest.raises(TimeoutError):
            await c.connect("/ws", response_timeout=0.3)
        assert c.connect_status is None
        assert 1 not in c.conn.streams  # RST_STREAM(CANCEL) sent


async def test_server_without_setting_is_refused_before_any_connect(peer) -> None:
    """RFC 8441 §3: without SETTINGS_ENABLE_CONNECT_PROTOCOL=1 no extended CONNECT is sent."""
    p, port = await peer(enable_connect=False)
    async with WebSocketH2Client("127.0.0.1", port) as c:
        with pytest.raises(HandshakeError, match="SETTINGS_ENABLE_CONNECT_PROTOCOL"):
            await c.connect("/ws")
        await asyncio.sleep(0.05)
        assert p.streams == {} and c.conn.highest_local_id == 0


async def test_request_carries_pseudo_headers_and_offers(peer) -> None:
    """RFC 8441 §4–§5: :protocol websocket, :scheme, :path, :authority, version 13,
    offered subprotocols and permessage-deflate, and no Sec-WebSocket-Key."""
    p, port = await peer()
    async with WebSocketH2Client("127.0.0.1", port) as c:
        ws = await c.connect("/chat?x=1", subprotocols=["chat", "superchat"])
        await ws.close()
    (stream,) = p.streams.values()
    h = stream.headers
    assert h[b":method"] == b"CONNECT" and h[b":protocol"] == b"websocket"
    assert h[b":scheme"] == b"http" and h[b":path"] == b"/chat?x=1"
    assert h[b":authority"] == f"127.0.0.1:{port}".encode()
    assert h[b"sec-websocket-version"] == b"13"
    assert h[b"sec-websocket-protocol"] == b"chat, superchat"
    assert b"permessage-deflate" in h[b"sec-websocket-extensions"]
    assert b"sec-websocket-key" not in h


async def test_outgoing_frames_masked_and_cut_at_max_frame_size_within_windows(peer) -> None:
    """RFC 9113 §4.2/§6.9 and RFC 6455 §5.3: a 300 KB message goes out masked (wsproto
    rejects unmasked client frames), in DATA frames no larger than the peer's
    MAX_FRAME_SIZE, waiting for WINDOW_UPDATE past the 65535-octet initial windows."""
    p, port = await peer(max_frame_size=16384)
    payload = bytes(range(256)) * 1200
    async with WebSocketH2Client("127.0.0.1", port) as c:
        ws = await c.connect("/ws", compress=False)
        await ws.send_bytes(payload)
        assert await ws.receive(timeout=10) == (WSOpcode.BINARY, payload)
        await ws.close()
    (stream,) = p.streams.values()
    assert max(stream.data_sizes) <= 16384 and sum(stream.data_sizes) > 65535
    assert (PeerOpcode.BINARY, payload) in stream.messages
    assert p.window_updates_received > 0


async def test_received_data_is_credited_back_with_window_update(peer) -> None:
    """RFC 9113 §6.9: with 64 KiB receive windows, a 400 KB message arrives only because
    the client returns credit (per stream and per connection) as it consumes DATA."""
    p, port = await peer()
    async with WebSocketH2Client("127.0.0.1", port, stream_window=65535,
                                 connection_window=65535) as c:
        ws = await c.connect("/ws", compress=False)
        await ws.send_text("send:400000")
        opcode, data = await ws.receive(timeout=10)
        assert opcode is WSOpcode.BINARY and data == b"x" * 400000
        await ws.close()


async def test_several_sessions_share_one_connection(peer) -> None:
    """RFC 8441 §5: each WebSocket is its own stream on the same connection."""
    p, port = await peer()
    async with WebSocketH2Client("127.0.0.1", port) as c:
        a, b = await c.connect("/a"), await c.connect("/b")
        await b.send_text("to-b")
        await a.send_text("to-a")
        assert await a.receive() == (WSOpcode.TEXT, "to-a")
        assert await b.receive() == (WSOpcode.TEXT, "to-b")
        assert (a.stream_id, b.stream_id) == (1, 3) and p.connections == 1
        await a.close()
        await b.close()


async def test_ping_is_answered_with_pong(peer) -> None:
    """RFC 6455 §5.5.2 over RFC 8441 §5: ping() → the peer's Pong is received."""
    _, port = await peer()
    async with WebSocketH2Client("127.0.0.1", port) as c:
        ws = await c.connect("/ws")
        await ws.ping(b"p1")
        assert await ws.receive() == (WSOpcode.PONG, b"p1")
        await ws.close()


async def test_close_with_code_sends_end_stream(peer) -> None:
    """RFC 8441 §5: the closing handshake, then END_STREAM from us."""
    p, port = await peer()
    async with WebSocketH2Client("127.0.0.1", port) as c:
        ws = await c.connect("/ws")
        await ws.close(4001)
        assert ws.close_code == 4001
    (stream,) = p.streams.values()
    assert stream.ended
    assert any(op is PeerOpcode.CLOSE and payload[0] == 4001 for op, payload in stream.messages)


async def test_rst_stream_ends_the_session(peer) -> None:
    """RFC 8441 §5 / RFC 9113 §6.4: RST_STREAM ends the WebSocket abnormally (1006)."""
    p, port = await peer()
    async with WebSocketH2Client("127.0.0.1", port) as c:
        ws = await c.connect("/ws")
        p.reset(ws.stream_id, 8)
        assert await ws.receive() == (WSOpcode.CLOSE, b"")
        assert ws.close_code == 1006 and ws.reset_code == 8 and ws.closed


async def test_goaway_ends_sessions_above_last_stream_id(peer) -> None:
    """RFC 9113 §6.8: streams above GOAWAY's last-stream-id end; earlier ones go on."""
    p, port = await peer()
    async with WebSocketH2Client("127.0.0.1", port) as c:
        a, b = await c.connect("/a"), await c.connect("/b")
        p.goaway(0, last_stream_id=a.stream_id)
        assert await b.receive() == (WSOpcode.CLOSE, b"")
        await a.send_text("still")
        assert await a.receive() == (WSOpcode.TEXT, "still")
        with pytest.raises(ConnectionError):
            await c.connect("/c")
        await a.close()


async def test_server_close_code_reaches_client(serve, server_ssl_context, client_ctx) -> None:
    """RFC 8441 §5: the server's Close (4002) is delivered; the stream then ends."""
    srv = await serve(interop_app, ON, ssl_context=server_ssl_context)
    async with WebSocketH2Client("localhost", srv.bound_port, ssl=client_ctx) as c:
        ws = await c.connect("/ws")
        await ws.send_text("close:4002")
        assert await ws.receive() == (WSOpcode.CLOSE, struct.pack("!H", 4002))
        await ws.close()
        assert ws.closed and ws.end_stream_received and ws.reset_code is None


async def test_lost_connection_ends_sessions_abnormally(peer) -> None:
    """RFC 6455 §7.1.5 over RFC 8441: when the HTTP/2 connection drops, every session
    ends with 1006 and says the connection (not a stream reset) was lost."""
    p, port = await peer()
    async with WebSocketH2Client("127.0.0.1", port) as c:
        ws = await c.connect("/ws")
        p._writer.transport.abort()
        assert await ws.receive() == (WSOpcode.CLOSE, b"")
        assert ws.close_code == 1006 and ws.connection_lost and ws.reset_code is None
        with pytest.raises(ConnectionError):
            await c.connect("/again")


async def test_send_after_close_is_refused(serve) -> None:
    """RFC 6455 §5.5.1 over RFC 8441 §5: after our Close no data frame may follow."""
    srv = await serve(interop_app, ON)
    async with WebSocketH2Client("127.0.0.1", srv.bound_port) as c:
        ws = await c.connect("/ws")
        await ws.close()
        with pytest.raises(ConnectionError):
            await ws.send_text("late")


async def test_connection_error_sends_goaway_and_closes() -> None:
    """RFC 9113 §5.4.1: a peer breaking HTTP/2 (PING on a stream) gets our GOAWAY
    PROTOCOL_ERROR, the TCP connection closes and the sessions end."""
    from hyperframe.frame import GoAwayFrame, PingFrame, SettingsFrame

    got = bytearray()
    closed = asyncio.Event()
    go = asyncio.Event()

    async def bad_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        settings = SettingsFrame(0)
        settings.settings = {8: 1}  # SETTINGS_ENABLE_CONNECT_PROTOCOL
        writer.write(settings.serialize())
        await go.wait()
        ping = PingFrame(0)
        ping.stream_id = 1  # §6.7: PING on a stream is a connection error
        writer.write(ping.serialize())
        while data := await reader.read(65536):
            got.extend(data)
        closed.set()
        writer.close()

    server = await asyncio.start_server(bad_server, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    c = WebSocketH2Client("127.0.0.1", port)
    await c.open()
    go.set()
    await asyncio.wait_for(closed.wait(), 5)
    goaways = [f for f in parse_frames(bytes(got)[24:]) if isinstance(f, GoAwayFrame)]
    assert goaways and goaways[-1].error_code == 1
    await c.aclose()
    server.close()
    await server.wait_closed()
