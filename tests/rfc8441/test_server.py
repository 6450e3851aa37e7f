"""Our RFC 8441 server side, driven by independent peers: the ``h2`` library for HTTP/2
(with ``wsproto`` frames) and, for the transport comparison, our two clients."""
from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import h2.config
import h2.connection
import h2.events
import pytest
from wsproto.frame_protocol import FrameProtocol, Opcode

from blackbull import BlackBull
from blackbull.client import WebSocketClient, WebSocketH2Client, WSOpcode
from blackbull.config import Settings
from blackbull.middleware import websocket as accept_websocket
from blackbull.utils import Scheme
from tests.conftest import PYTHON, ROOT, free_port
from tests.conftest_h2 import H2Client

ON = Settings(h2_enable_websocket=True)
CONNECT = [(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "http"),
           (":path", "/ws"), (":authority", "localhost"), ("sec-websocket-version", "13")]
EVENTS: list[dict[str, Any]] = []


async def recording_echo(scope: dict, receive: Any, send: Any) -> None:
    """Accepts (subprotocol ``chat`` if offered), echoes, records every ASGI message."""
    EVENTS.append({"type": "scope", "http_version": scope["http_version"]})
    await receive()
    accept: dict[str, Any] = {"type": "websocket.accept"}
    if "chat" in scope["subprotocols"]:
        accept["subprotocol"] = "chat"
    await send(accept)
    while True:
        message = await receive()
        EVENTS.append(message)
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "text": message.get("text"),
                    "bytes": message.get("bytes")})


async def connect(port: int, headers: list[tuple[str, str]] = CONNECT,
                  validate: bool = True) -> tuple[H2Client, int, h2.events.Event]:
    client = await H2Client.connect(port)
    if not validate:
        client.conn.config.validate_outbound_headers = False
        client.conn.config.normalize_outbound_headers = False
    await client.wait_for(lambda e: isinstance(e, h2.events.RemoteSettingsChanged))
    sid = client.conn.get_next_available_stream_id()
    client.conn.send_headers(sid, headers)
    client.flush()
    answer = await client.wait_for(lambda e: getattr(e, "stream_id", None) == sid and isinstance(
        e, h2.events.ResponseReceived | h2.events.StreamReset))
    return client, sid, answer


async def wait_events(predicate: Any, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, f"timed out; events: {EVENTS}"
        await asyncio.sleep(0.01)


@pytest.fixture(autouse=True)
def _clear_events() -> None:
    EVENTS.clear()


async def test_setting_is_advertised_only_when_enabled(serve) -> None:
    """RFC 8441 §3: SETTINGS_ENABLE_CONNECT_PROTOCOL=1 in our initial SETTINGS when
    enabled, absent (so :protocol is refused) when not."""
    on = await serve(recording_echo, ON)
    off = await serve(recording_echo, Settings(h2_enable_websocket=False))
    for srv, expected in ((on, 1), (off, None)):
        client = await H2Client.connect(srv.bound_port)
        event = await client.wait_for(lambda e: isinstance(e, h2.events.RemoteSettingsChanged))
        got = event.changed_settings.get(h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL)
        assert (got.new_value if got else None) == expected
        await client.close()


@pytest.mark.parametrize("missing", [":scheme", ":path", ":authority"])
async def test_extended_connect_missing_a_pseudo_header_is_refused(serve, missing) -> None:
    """RFC 8441 §4: an extended CONNECT carries :scheme, :path and :authority; without
    one the request is malformed (RFC 9113 §8.1.1) and never reaches the app."""
    srv = await serve(recording_echo, ON)
    headers = [h for h in CONNECT if h[0] != missing]
    client, sid, answer = await connect(srv.bound_port, headers, validate=False)
    refused = isinstance(answer, h2.events.StreamReset) or \
        dict(answer.headers)[b":status"] != b"200"
    assert refused and EVENTS == []
    await client.close()


@pytest.mark.parametrize("version", [None, "8"])
async def test_websocket_version_is_checked(serve, version) -> None:
    """RFC 8441 §5 + RFC 6455 §4.2.1 item 6: Sec-WebSocket-Version 13 is required; the
    refusal names the version we speak."""
    srv = await serve(recording_echo, ON)
    headers = [h for h in CONNECT if h[0] != "sec-websocket-version"]
    if version:
        headers.append(("sec-websocket-version", version))
    client, sid, answer = await connect(srv.bound_port, headers)
    fields = dict(answer.headers)
    assert fields[b":status"] == b"400" and fields[b"sec-websocket-version"] == b"13"
    assert EVENTS == []
    await client.close()


async def test_subprotocol_and_deflate_negotiated_on_a_200_without_content_length(
        serve) -> None:
    """RFC 8441 §5: success is :status 200 with no content-length, carrying the chosen
    Sec-WebSocket-Protocol and the permessage-deflate answer (RFC 7692 §5)."""
    srv = await serve(recording_echo, ON)
    client, sid, answer = await connect(srv.bound_port, [
        *CONNECT, ("sec-websocket-protocol", "x, chat"),
        ("sec-websocket-extensions", "permessage-deflate; client_max_window_bits")])
    fields = dict(answer.headers)
    assert fields[b":status"] == b"200" and b"content-length" not in fields
    assert fields[b"sec-websocket-protocol"] == b"chat"
    assert fields[b"sec-websocket-extensions"].startswith(b"permessage-deflate")
    assert b"sec-websocket-accept" not in fields and not answer.stream_ended
    await client.close()


async def test_rst_stream_from_the_client_disconnects_the_app(serve) -> None:
    """RFC 8441 §5 / RFC 9113 §6.4: RST_STREAM ends the WebSocket; the app gets
    websocket.disconnect."""
    srv = await serve(recording_echo, ON)
    client, sid, _ = await connect(srv.bound_port)
    client.conn.reset_stream(sid, 8)
    client.flush()
    await wait_events(lambda: any(e["type"] == "websocket.disconnect" for e in EVENTS))
    await client.close()


async def test_goaway_and_close_from_the_client_disconnect_every_session(serve) -> None:
    """RFC 9113 §6.8 over RFC 8441 §5: the client's GOAWAY and TCP close end all of its
    WebSocket streams; each app gets websocket.disconnect."""
    srv = await serve(recording_echo, ON)
    client, first, _ = await connect(srv.bound_port)
    second = client.conn.get_next_available_stream_id()
    client.conn.send_headers(second, CONNECT)
    client.flush()
    await client.wait_for(lambda e: isinstance(e, h2.events.ResponseReceived)
                          and e.stream_id == second)
    client.conn.close_connection()
    client.flush()
    await client.close()
    await wait_events(lambda: sum(e["type"] == "websocket.disconnect" for e in EVENTS) == 2)


async def test_per_connection_websocket_cap(serve, caplog) -> None:
    """RFC 8441 §5 (many WebSockets share one connection) with our limit: past
    ``h2_max_websocket_streams`` a CONNECT gets REFUSED_STREAM (logged once per
    connection); earlier ones go on."""
    srv = await serve(recording_echo, ON.replace(h2_max_websocket_streams=2))
    caplog.set_level("INFO", logger="blackbull.server")
    async with WebSocketH2Client("127.0.0.1", srv.bound_port) as c:
        a, b = await c.connect("/a"), await c.connect("/b")
        for path in ("/c", "/d"):
            with pytest.raises(Exception, match="RST_STREAM 7"):
                await c.connect(path)
        assert sum("h2_max_websocket_streams" in r.getMessage() for r in caplog.records) == 1
        await b.send_text("still here")
        assert await b.receive() == (WSOpcode.TEXT, "still here")
        await a.close()
        await b.close()


async def test_data_frames_carry_frames_both_ways_with_flow_control(serve) -> None:
    """RFC 8441 §5 + RFC 9113 §6.9: a 300 KB masked message from wsproto crosses the
    65535-octet windows and is echoed back."""
    srv = await serve(recording_echo, ON)
    client, sid, _ = await connect(srv.bound_port)
    frames = FrameProtocol(client=True, extensions=[])
    data = frames.send_data(b"z" * 300_000)
    while data:
        room = min(client.conn.local_flow_control_window(sid), client.conn.max_outbound_frame_size)
        if room:
            client.conn.send_data(sid, data[:room])
            data = data[room:]
            client.flush()
        else:
            await client.read_once()
    received = b""
    seen = 0
    while len(received) < 300_000:
        for event in client.events[seen:]:
            if isinstance(event, h2.events.DataReceived) and event.stream_id == sid:
                client.conn.acknowledge_received_data(event.flow_controlled_length, sid)
                frames.receive_bytes(event.data)
                for f in frames.received_frames():
                    assert f.opcode in (Opcode.BINARY, Opcode.CONTINUATION)
                    received += f.payload
        seen = len(client.events)
        client.flush()
        if len(received) < 300_000:
            await client.read_once()
    assert received == b"z" * 300_000
    await client.close()


def framework_app() -> BlackBull:
    app = BlackBull()

    @app.route(path="/ws", scheme=Scheme.websocket, middlewares=[accept_websocket])
    async def ws(scope, receive, send):
        message = await receive()
        await send({"type": "websocket.send",
                    "text": f"{message.get('text')} via {scope['http_version']}"})

    return app


async def test_same_route_and_handler_serve_both_transports(serve, server_ssl_context,
                                                            tls_certs) -> None:
    """RFC 8441 §5: one ASGI websocket route serves HTTP/1.1 Upgrade and HTTP/2 extended
    CONNECT unchanged; ``http_version`` ("1.1" / "2") tells them apart."""
    import ssl

    srv = await serve(framework_app(), ON, ssl_context=server_ssl_context)
    ctx_h1 = ssl.create_default_context(cafile=tls_certs["ca"])
    ctx_h2 = ssl.create_default_context(cafile=tls_certs["ca"])
    ctx_h2.set_alpn_protocols(["h2"])
    async with WebSocketClient("localhost", srv.bound_port, ssl=ctx_h1) as c1:
        ws = await c1.connect("/ws")
        await ws.send_text("hi")
        assert await ws.receive() == (WSOpcode.TEXT, "hi via 1.1")
    async with WebSocketH2Client("localhost", srv.bound_port, ssl=ctx_h2) as c2:
        ws2 = await c2.connect("/ws")
        await ws2.send_text("hi")
        assert await ws2.receive() == (WSOpcode.TEXT, "hi via 2")
        await ws2.close()


@pytest.mark.parametrize("enabled", ["1", "0"])
async def test_cli_opt_in_by_environment(spawn_server, tls_certs, enabled) -> None:
    """RFC 8441 §3 through the ``blackbull`` CLI: BB_H2_ENABLE_WEBSOCKET=1 advertises the
    setting and serves WebSocket over h2; unset, the client refuses before any CONNECT."""
    from blackbull.client import HandshakeError

    port = free_port()
    spawn_server([PYTHON, "-m", "blackbull", "conformance.interop.app:app", "--bind",
                  f"127.0.0.1:{port}"], port, env={"BB_H2_ENABLE_WEBSOCKET": enabled},
                 cwd=str(ROOT))
    async with WebSocketH2Client("127.0.0.1", port) as c:
        if enabled == "1":
            ws = await c.connect("/ws")
            await ws.send_text("?version")
            assert await ws.receive() == (WSOpcode.TEXT, "version:2")
            await ws.close()
        else:
            with pytest.raises(HandshakeError):
                await c.connect("/ws")


APP_SCRIPT = """\
import sys
sys.path.insert(0, ROOT)
from blackbull import BlackBull
from blackbull.middleware import websocket
from blackbull.utils import Scheme

app = BlackBull()


@app.route(path="/ws", scheme=Scheme.websocket, middlewares=[websocket])
async def ws(scope, receive, send):
    await receive()
    await send({"type": "websocket.send", "text": scope["http_version"]})

if __name__ == "__main__":
    app.run()
"""


def test_app_run_reads_port_cert_key(spawn_server, tls_certs, tmp_path) -> None:
    """RFC 8441 §3: ``BB_H2_ENABLE_WEBSOCKET=1 python app.py --port N --cert c --key k``
    serves WebSocket over h2/TLS."""
    script = tmp_path / "app.py"
    script.write_text(APP_SCRIPT.replace("ROOT", repr(str(ROOT))))
    port = free_port()
    spawn_server([sys.executable, str(script), "--port", str(port), "--cert",
                  tls_certs["cert"], "--key", tls_certs["key"]], port,
                 env={"BB_H2_ENABLE_WEBSOCKET": "1"}, cwd=str(tmp_path))

    async def talk() -> tuple:
        import ssl
        ctx = ssl.create_default_context(cafile=tls_certs["ca"])
        ctx.set_alpn_protocols(["h2"])
        async with WebSocketH2Client("localhost", port, ssl=ctx) as c:
            ws = await c.connect("/ws")
            await ws.send_text("x")
            got = await ws.receive()
            await ws.close()
            return got
    assert asyncio.run(talk()) == (WSOpcode.TEXT, "2")
    assert os.environ.get("BB_H2_ENABLE_WEBSOCKET") is None
