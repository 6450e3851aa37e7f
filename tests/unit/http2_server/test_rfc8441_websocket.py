"""RFC 8441: WebSocket over our HTTP/2 server, driven by h2 (extended CONNECT) with
wsproto's frame layer as the independent WebSocket peer."""
from __future__ import annotations

import asyncio
from typing import Any

import h2.events
import h2.settings
import pytest
from wsproto.frame_protocol import FrameProtocol, Opcode

from blackbull.config import Settings
from tests.conftest_h2 import H2Client, parse_frames

SEEN: dict[str, Any] = {}
CONNECT = [(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "http"),
           (":path", "/chat"), (":authority", "localhost"), ("sec-websocket-version", "13")]


async def ws_app(scope: dict, receive: Any, send: Any) -> None:
    """Echo; refuses the path /deny before accepting."""
    assert scope["type"] == "websocket"
    SEEN["scope"] = scope
    await receive()  # websocket.connect
    if scope["path"] == "/deny":
        await send({"type": "websocket.close"})
        return
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            SEEN["disconnect"] = message
            return
        if "text" in message and message["text"] is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})


async def open_ws(port: int, headers=CONNECT) -> tuple[H2Client, int, dict]:
    client = await H2Client.connect(port)
    await client.wait_for(lambda e: isinstance(e, h2.events.RemoteSettingsChanged))
    sid = client.conn.get_next_available_stream_id()
    client.conn.send_headers(sid, headers)
    client.flush()
    response = await client.wait_for(
        lambda e: isinstance(e, h2.events.ResponseReceived) and e.stream_id == sid)
    return client, sid, dict(response.headers)


async def ws_frames(client: H2Client, sid: int, frames: FrameProtocol, n: int) -> list:
    got: list = []
    while len(got) < n:
        seen = getattr(client, "ws_seen", 0)
        for event in client.events[seen:]:
            if isinstance(event, h2.events.DataReceived) and event.stream_id == sid:
                client.conn.acknowledge_received_data(event.flow_controlled_length, sid)
                frames.receive_bytes(event.data)
                got += list(frames.received_frames())
        client.ws_seen = len(client.events)
        client.flush()
        if len(got) < n:
            await client.read_once()
    return got


async def test_extended_connect_echo_and_closing_handshake(serve) -> None:
    """RFC 8441 §3–§5: SETTINGS_ENABLE_CONNECT_PROTOCOL=1 is advertised, the extended
    CONNECT is answered 200, DATA carries WebSocket frames, and the closing handshake
    ends with END_STREAM both ways."""
    srv = await serve(ws_app, Settings(h2_enable_websocket=True))
    client, sid, headers = await open_ws(srv.bound_port)
    assert client.conn.remote_settings.enable_connect_protocol == 1
    assert headers[b":status"] == b"200" and b"sec-websocket-accept" not in headers
    scope = SEEN["scope"]
    assert scope["http_version"] == "2" and scope["scheme"] == "ws" and scope["path"] == "/chat"
    frames = FrameProtocol(client=True, extensions=[])
    client.conn.send_data(sid, frames.send_data("hello over h2", fin=True))
    client.flush()
    (echo,) = await ws_frames(client, sid, frames, 1)
    assert echo.opcode == Opcode.TEXT and echo.payload == "hello over h2"
    client.conn.send_data(sid, frames.close(1000, "bye"))
    client.flush()
    (close,) = await ws_frames(client, sid, frames, 1)
    assert close.opcode == Opcode.CLOSE
    await client.wait_for(lambda e: isinstance(e, h2.events.StreamEnded) and e.stream_id == sid)
    client.conn.end_stream(sid)
    client.flush()
    for _ in range(200):
        if "disconnect" in SEEN:
            break
        await asyncio.sleep(0.01)
    assert SEEN.pop("disconnect")["code"] == 1000
    await client.close()


async def test_a_megabyte_message_flows_both_ways(serve) -> None:
    """RFC 8441 §5 + RFC 9113 §6.9: a 1 MiB binary message crosses the stream's
    flow-control windows in both directions."""
    srv = await serve(ws_app, Settings(h2_enable_websocket=True))
    client, sid, _ = await open_ws(srv.bound_port)
    frames = FrameProtocol(client=True, extensions=[])
    payload = bytes(range(256)) * 4096
    data = frames.send_data(payload, fin=True)
    sent = 0
    while sent < len(data):
        window = client.conn.local_flow_control_window(sid)
        if window == 0:
            await client.read_once()
            continue
        n = min(window, 16384, len(data) - sent)
        client.conn.send_data(sid, data[sent:sent + n])
        sent += n
        client.flush()
    pieces = []
    while not pieces or not pieces[-1].message_finished:
        pieces += await ws_frames(client, sid, frames, 1)
    assert b"".join(p.payload for p in pieces) == payload
    await client.close()


async def test_app_denial_is_an_http_response_on_the_stream(serve) -> None:
    """RFC 8441 §5: a refusal is an ordinary non-2xx response (403 for websocket.close
    before accept, ASGI spec)."""
    srv = await serve(ws_app, Settings(h2_enable_websocket=True))
    client, sid, headers = await open_ws(
        srv.bound_port, [*CONNECT[:3], (":path", "/deny"), *CONNECT[4:]])
    assert headers[b":status"] == b"403"
    await client.close()


async def test_refusals_carry_date(serve) -> None:
    """RFC 9110 §6.6.1: Date on every refusal of an extended CONNECT (the app's 403, the
    400 for a version we do not speak)."""
    srv = await serve(ws_app, Settings(h2_enable_websocket=True))
    client, _, denied = await open_ws(
        srv.bound_port, [*CONNECT[:3], (":path", "/deny"), *CONNECT[4:]])
    await client.close()
    client, _, bad_version = await open_ws(
        srv.bound_port, [*CONNECT[:5], ("sec-websocket-version", "99")])
    await client.close()
    assert (denied[b":status"], bad_version[b":status"]) == (b"403", b"400")
    assert denied[b"date"].endswith(b" GMT") and bad_version[b"date"].endswith(b" GMT")


async def test_unknown_protocol_is_refused_clearly(serve) -> None:
    """RFC 8441 §4: only the protocols we speak are accepted: another :protocol gets a
    501 response."""
    srv = await serve(ws_app, Settings(h2_enable_websocket=True))
    client, _, headers = await open_ws(
        srv.bound_port, [CONNECT[0], (":protocol", "webtransport"), *CONNECT[2:]])
    assert headers[b":status"] == b"501"
    await client.close()


async def test_extended_connect_without_the_setting_is_malformed(serve) -> None:
    """RFC 8441 §3: without SETTINGS_ENABLE_CONNECT_PROTOCOL the :protocol pseudo-header
    is unknown, so the request is malformed (RFC 9113 §8.1.1: RST_STREAM PROTOCOL_ERROR)."""
    import h2.config
    import h2.connection
    srv = await serve(ws_app)
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(
        client_side=True, header_encoding=None, validate_outbound_headers=False,
        normalize_outbound_headers=False))
    conn.initiate_connection()
    conn.send_headers(1, CONNECT)
    writer.write(conn.data_to_send())
    client = H2Client(reader, writer, conn)
    reset = await client.wait_for(lambda e: isinstance(e, h2.events.StreamReset))
    assert reset.error_code == 1  # PROTOCOL_ERROR
    await client.close()


async def test_shutdown_closes_the_websocket_with_1001(serve) -> None:
    """RFC 6455 §7.4.1 over RFC 8441: a server going away sends GOAWAY and a Close 1001 on
    the WebSocket stream. (Raw frames: the h2 client stops reading at GOAWAY.)"""
    import h2.config
    import h2.connection
    srv = await serve(ws_app, Settings(h2_enable_websocket=True, ws_close_timeout=0.3))
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(
        client_side=True, header_encoding=None, validate_outbound_headers=False))
    conn.initiate_connection()
    conn.send_headers(1, CONNECT)
    writer.write(conn.data_to_send())
    data = b""
    while not any(type(f).__name__ == "HeadersFrame" for f in parse_frames(data)):
        data += (await asyncio.wait_for(reader.read(65536), 5)) or pytest.fail("closed by the server")
    shutdown = asyncio.create_task(srv.shutdown())
    while chunk := await asyncio.wait_for(reader.read(65536), 5):
        data += chunk
    frames = parse_frames(data)
    assert any(type(f).__name__ == "GoAwayFrame" for f in frames)
    ws = FrameProtocol(client=True, extensions=[])
    ws.receive_bytes(b"".join(f.data for f in frames
                              if type(f).__name__ == "DataFrame" and f.stream_id == 1))
    (close,) = ws.received_frames()
    assert close.opcode == Opcode.CLOSE and close.payload[0] == 1001
    writer.close()
    await shutdown
