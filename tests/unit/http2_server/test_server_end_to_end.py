"""The HTTP/2 server handler end to end, driven by independent clients (h2, httpx, curl)."""
from __future__ import annotations

import asyncio
import logging
import shutil
import ssl
import subprocess

import h2.events
import h2.settings
import httpx
import pytest

from blackbull.config import Settings
from tests.conftest_h2 import (
    REQUEST,
    H2Client,
    Raw,
    client_tls_context,
    goaway_of,
    parse_frames,
)

from .apps import RECORD, app


def req(path: str, method: str = "GET") -> list[tuple[str, str]]:
    return [(":method", method), (":scheme", "https"), (":path", path),
            (":authority", "localhost")]


async def test_h2_over_tls_selected_by_alpn(serve, server_ssl_context, tls_certs) -> None:
    """RFC 9113 §3.2: "h2" negotiated by ALPN over TLS serves HTTP/2."""
    srv = await serve(app, ssl_context=server_ssl_context)
    client = await H2Client.connect(srv.bound_port, client_tls_context(tls_certs["ca"]))
    headers, body, _ = await client.request(REQUEST)
    assert headers[b":status"] == b"200" and body == b"hello"
    await client.close()


async def test_httpx_http2_over_tls(serve, server_ssl_context, tls_certs) -> None:
    """RFC 9113 §3.2: a mainstream client (httpx + h2) negotiates h2 and gets answers."""
    srv = await serve(app, ssl_context=server_ssl_context)
    verify = ssl.create_default_context(cafile=tls_certs["ca"])
    async with httpx.AsyncClient(http2=True, verify=verify) as http:
        url = f"https://localhost:{srv.bound_port}"
        responses = await asyncio.gather(*(http.post(f"{url}/len", content=b"z" * n)
                                           for n in (0, 10, 70_000, 300_000)))
    assert {r.http_version for r in responses} == {"HTTP/2"}
    assert [r.text for r in responses] == ["0", "10", "70000", "300000"]


async def test_httpx_h2c_prior_knowledge(serve) -> None:
    """RFC 9113 §3.3: cleartext HTTP/2 with prior knowledge starts with the preface."""
    srv = await serve(app)
    async with httpx.AsyncClient(http1=False, http2=True) as http:
        r = await http.get(f"http://127.0.0.1:{srv.bound_port}/")
    assert r.http_version == "HTTP/2" and r.text == "hello"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
async def test_curl_prior_knowledge_and_tls(serve, server_ssl_context, tls_certs) -> None:
    """RFC 9113 §3.3/§3.2: curl speaks HTTP/2 to us in cleartext and over TLS."""
    plain = await serve(app)
    tls = await serve(app, ssl_context=server_ssl_context)

    def run(*args: str) -> str:
        return subprocess.run(["curl", "-sS", "--max-time", "10", *args], capture_output=True,
                              text=True, check=True).stdout

    out = await asyncio.to_thread(run, "--http2-prior-knowledge", "-w", " %{http_version}",
                                  "--data-binary", "abc", f"http://127.0.0.1:{plain.bound_port}/len")
    assert out == "3 2"
    out = await asyncio.to_thread(run, "--cacert", tls_certs["ca"], "-w", " %{http_version}",
                                  f"https://localhost:{tls.bound_port}/")
    assert out == "hello 2"


async def test_h2c_upgrade_serves_the_request_on_stream_1(serve) -> None:
    """RFC 7540 §3.2: after 101 Switching Protocols the upgraded request is answered on
    stream 1 (half-closed remote), and the client preface still follows."""
    import h2.config
    import h2.connection
    srv = await serve(app)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True,
                                                                header_encoding=None))
    settings = conn.initiate_upgrade_connection()
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    writer.write(b"GET /len HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                 b"Upgrade: h2c\r\nHTTP2-Settings: " + settings + b"\r\n\r\n")
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 101")
    writer.write(conn.data_to_send())
    client = H2Client(reader, writer, conn)
    headers, body, _ = await client.response(1)
    assert headers[b":status"] == b"200" and body == b"0"
    await client.close()


async def test_request_body_larger_than_windows_flows(serve) -> None:
    """RFC 9113 §6.9: the server returns credit as the app consumes the body, so a body
    far beyond the initial windows arrives whole."""
    srv = await serve(app)
    client = await H2Client.connect(srv.bound_port)
    sid = client.conn.get_next_available_stream_id()
    client.conn.send_headers(sid, req("/len", "POST"))
    client.flush()
    payload = b"p" * 3_000_000
    sent = 0
    while sent < len(payload):
        window = client.conn.local_flow_control_window(sid)
        if window == 0:
            await client.read_once()
            continue
        n = min(window, 16384, len(payload) - sent)
        client.conn.send_data(sid, payload[sent:sent + n], end_stream=sent + n == len(payload))
        sent += n
        client.flush()
    headers, body, _ = await client.response(sid)
    assert body == b"3000000"
    updates = [e for e in client.events if isinstance(e, h2.events.WindowUpdated)]
    assert len(updates) < 3_000_000 // 16384  # batched, not one per DATA frame
    await client.close()


async def test_a_stream_that_never_reads_does_not_block_others(serve) -> None:
    """RFC 9113 §5.2/§6.9: a slow application stalls only its own stream."""
    srv = await serve(app)
    client = await H2Client.connect(srv.bound_port)
    stalled = client.conn.get_next_available_stream_id()
    client.conn.send_headers(stalled, req("/never-read", "POST"))
    for _ in range(4):
        client.conn.send_data(stalled, b"s" * 16383)  # 65532 octets the app never reads
    client.flush()
    sid = client.conn.get_next_available_stream_id()
    client.conn.send_headers(sid, req("/len", "POST"))
    client.flush()
    payload = b"q" * 2_000_000
    sent = 0
    while sent < len(payload):
        window = client.conn.local_flow_control_window(sid)
        if window == 0:
            await client.read_once()
            continue
        n = min(window, 16384, len(payload) - sent)
        client.conn.send_data(sid, payload[sent:sent + n], end_stream=sent + n == len(payload))
        sent += n
        client.flush()
    _, body, _ = await client.response(sid)
    assert body == b"2000000"
    RECORD["never-read"].set()
    await client.close()


async def test_large_response_respects_the_client_window_and_frame_size(serve) -> None:
    """RFC 9113 §6.9/§4.2: a 500 kB response waits for WINDOW_UPDATEs and no DATA frame
    exceeds the peer's SETTINGS_MAX_FRAME_SIZE."""
    srv = await serve(app)
    client = await H2Client.connect(srv.bound_port)
    headers, body, sid = await client.request(req("/big"))
    assert len(body) == 500_000
    sizes = [e.flow_controlled_length for e in client.events
             if isinstance(e, h2.events.DataReceived)]
    assert max(sizes) <= 16384
    await client.close()


async def test_scope_and_live_stream_window_view(serve) -> None:
    """ASGI scope for HTTP/2: http_version "2", host from :authority, the live
    http.response.http2_stream view of the send windows."""
    srv = await serve(app)
    client = await H2Client.connect(srv.bound_port)
    await client.request([*req("/scope?x=1"), ("cookie", "a=1"), ("cookie", "b=2")])
    scope = RECORD["scope"]
    assert scope["http_version"] == "2" and scope["query_string"] == b"x=1"
    assert (b"host", b"localhost") in scope["headers"]
    assert (b"cookie", b"a=1; b=2") in scope["headers"]  # RFC 9113 §8.2.3
    assert RECORD["window-before"] - RECORD["window-after"] == 1000
    assert RECORD["view"]["stream_id"] == 1
    assert set(RECORD["view"]) == {"stream_id", "send_window_remaining",
                                   "connection_send_window_remaining"}
    await client.close()


async def test_server_push_sends_push_promise_and_the_pushed_response(serve) -> None:
    """RFC 9113 §8.4: http.response.push → PUSH_PROMISE on the parent with an even id;
    the pushed request is answered by the app."""
    srv = await serve(app)
    client = await H2Client.connect(srv.bound_port)
    _, body, _ = await client.request(req("/push"))
    assert body == b"page"
    promise = await client.wait_for(lambda e: isinstance(e, h2.events.PushedStreamReceived))
    assert promise.pushed_stream_id == 2 and promise.parent_stream_id == 1
    assert (b":path", b"/pushed.css") in promise.headers
    headers, pushed, _ = await client.response(2)
    assert pushed == b"body{}" and headers[b":status"] == b"200"
    await client.close()


async def test_no_push_extension_when_the_client_disables_push(serve) -> None:
    """RFC 9113 §6.5.2: with SETTINGS_ENABLE_PUSH=0 the scope offers no push."""
    srv = await serve(app)
    client = await H2Client.connect(srv.bound_port,
                                    settings={h2.settings.SettingCodes.ENABLE_PUSH: 0})
    await client.wait_for(lambda e: isinstance(e, h2.events.SettingsAcknowledged))
    await client.request(req("/scope"))
    assert "http.response.push" not in RECORD["scope"]["extensions"]
    _, body, _ = await client.request(req("/push"))
    assert body == b"page"
    assert not any(isinstance(e, h2.events.PushedStreamReceived) for e in client.events)
    await client.close()


async def test_response_trailers(serve) -> None:
    """RFC 9113 §8.1: trailers go in a final HEADERS frame with END_STREAM."""
    srv = await serve(app)
    client = await H2Client.connect(srv.bound_port)
    sid = client.conn.get_next_available_stream_id()
    client.conn.send_headers(sid, req("/trailers"), end_stream=True)
    client.flush()
    trailers = await client.wait_for(lambda e: isinstance(e, h2.events.TrailersReceived))
    assert (b"x-checksum", b"42") in trailers.headers
    await client.close()


async def test_app_exception_gives_500_or_rst_and_one_traceback(serve, caplog) -> None:
    """RFC 9113 §5.4.2: an app failure ends only its stream: 500 before the response
    started, RST_STREAM INTERNAL_ERROR after; each failure is logged once, with its
    traceback (as over HTTP/1.1: the app's bug is the operator's to see)."""
    srv = await serve(app)
    client = await H2Client.connect(srv.bound_port)
    with caplog.at_level(logging.INFO, logger="blackbull"):
        headers, _, _ = await client.request(req("/boom"))
        assert headers[b":status"] == b"500"
        with pytest.raises(ConnectionResetError, match="INTERNAL_ERROR"):
            await client.request(req("/boom-late"))
        _, body, _ = await client.request(REQUEST)
    assert body == b"hello"
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(failures) == 2 and all(r.exc_info for r in failures), failures
    await client.close()


async def test_client_reset_reaches_the_app_as_disconnect(serve) -> None:
    """RFC 9113 §6.4: RST_STREAM from the client → http.disconnect for the app."""
    RECORD["started"] = asyncio.Event()
    srv = await serve(app)
    client = await H2Client.connect(srv.bound_port)
    sid = client.conn.get_next_available_stream_id()
    client.conn.send_headers(sid, req("/wait-disconnect"), end_stream=True)
    client.flush()
    await asyncio.wait_for(RECORD["started"].wait(), 5)
    client.conn.reset_stream(sid)
    client.flush()
    for _ in range(200):
        if "disconnect" in RECORD:
            break
        await asyncio.sleep(0.01)
    assert RECORD.pop("disconnect") == {"type": "http.disconnect"}
    await client.close()


async def test_graceful_shutdown_sends_goaway_and_drains(serve) -> None:
    """RFC 9113 §6.8: shutdown first sends GOAWAY 2^31-1 with a PING; after the PING ACK
    the final GOAWAY names the last processed stream; that stream finishes, then the
    connection closes. (Raw frames: the h2 client stops processing at any GOAWAY.)"""
    RECORD["slow-started"] = asyncio.Event()
    RECORD["slow-release"] = asyncio.Event()
    srv = await serve(app)
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    raw = Raw()
    writer.write(Raw.preface() + raw.headers(1, req("/slow")))
    await asyncio.wait_for(RECORD["slow-started"].wait(), 5)
    shutdown = asyncio.create_task(srv.shutdown())

    def frames_of(kind: str) -> list:
        return [f for f in parse_frames(data) if type(f).__name__ == kind]

    data = b""
    while not frames_of("PingFrame"):
        data += (await asyncio.wait_for(reader.read(65536), 5)) or pytest.fail("closed by the server")
    first = frames_of("GoAwayFrame")[0]
    assert first.last_stream_id == 2**31 - 1 and first.error_code == 0
    ping = frames_of("PingFrame")[0]
    writer.write(Raw.frame(0x6, 0x1, 0, ping.opaque_data))  # the ACK ends the first step
    while len(frames_of("GoAwayFrame")) < 2:
        data += (await asyncio.wait_for(reader.read(65536), 5)) or pytest.fail("closed by the server")
    final = frames_of("GoAwayFrame")[1]
    assert final.last_stream_id == 1 and final.error_code == 0
    RECORD["slow-release"].set()
    while chunk := await asyncio.wait_for(reader.read(65536), 5):
        data += chunk  # until the server closes
    body = b"".join(f.data for f in frames_of("DataFrame"))
    assert body == b"finished"
    assert any("END_STREAM" in f.flags for f in parse_frames(data) if f.stream_id == 1)
    writer.close()
    await shutdown


async def test_requests_in_flight_during_the_first_goaway_are_served(serve) -> None:
    """RFC 9113 §6.8: a stream the client opened before it saw the final GOAWAY (while
    the first, 2^31-1 one was in flight) is still processed."""
    srv = await serve(app)
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    raw = Raw()
    writer.write(Raw.preface())
    await asyncio.wait_for(reader.read(65536), 5)
    (conn,) = srv.state.connections
    conn.handler.shutdown()
    writer.write(raw.headers(1, req("/")))
    data = b""
    while not any(type(f).__name__ == "PingFrame" for f in parse_frames(data)):
        data += (await asyncio.wait_for(reader.read(65536), 5)) or pytest.fail("closed by the server")
    ping = next(f for f in parse_frames(data) if type(f).__name__ == "PingFrame")
    writer.write(Raw.frame(0x6, 0x1, 0, ping.opaque_data))
    while chunk := await asyncio.wait_for(reader.read(65536), 5):
        data += chunk
    frames = parse_frames(data)
    goaways = [f for f in frames if type(f).__name__ == "GoAwayFrame"]
    assert [g.last_stream_id for g in goaways] == [2**31 - 1, 1]
    assert b"".join(f.data for f in frames if type(f).__name__ == "DataFrame") == b"hello"
    writer.close()


async def test_idle_connection_is_closed_with_goaway(serve) -> None:
    """RFC 9113 §9.1: an idle connection may be closed; GOAWAY announces it."""
    srv = await serve(app, Settings(h2_idle_timeout=0.3))
    client = await H2Client.connect(srv.bound_port)
    await client.request(REQUEST)
    goaway = await client.wait_for(lambda e: isinstance(e, h2.events.ConnectionTerminated))
    assert goaway.error_code == 0
    await client.close()


async def test_settings_come_from_blackbull_settings(serve) -> None:
    """RFC 9113 §6.5.2: the advertised SETTINGS are those of blackbull.config.Settings."""
    srv = await serve(app, Settings(h2_max_concurrent_streams=7, h2_initial_window_size=12345,
                                    h2_enable_websocket=True))
    client = await H2Client.connect(srv.bound_port)
    await client.wait_for(lambda e: isinstance(e, h2.events.RemoteSettingsChanged))
    remote = client.conn.remote_settings
    assert remote.max_concurrent_streams == 7 and remote.initial_window_size == 12345
    assert remote.enable_connect_protocol == 1
    await client.close()


async def test_peer_goaway_does_not_make_us_reset_the_connection(serve) -> None:
    """RFC 9113 §6.8/§7: after the peer's GOAWAY (unknown code) we keep reading: a PING
    is answered, and the connection ends with the peer's close, not a TCP reset."""
    srv = await serve(app)
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    writer.write(Raw.preface() + Raw.frame(0x7, 0, 0, b"\0\0\0\0\0\0\x12\x34")
                 + Raw.frame(0x6, 0, 0, b"pingpong"))
    data = b""
    while not any(type(f).__name__ == "PingFrame" and "ACK" in f.flags
                  for f in parse_frames(data)):
        data += (await asyncio.wait_for(reader.read(65536), 5)) or pytest.fail("closed by the server")
    writer.close()


async def test_connection_error_goaway_reaches_the_client_before_close(serve) -> None:
    """RFC 9113 §5.4.1: after a connection error the server sends GOAWAY and closes
    (half-closing first), so the client reads the GOAWAY and then end-of-stream."""
    srv = await serve(app)
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    writer.write(Raw.preface() + Raw.frame(0x0, 0, 0, b"x") + Raw.frame(0x6, 0, 0, b"\0" * 8))
    data = b""
    while chunk := await asyncio.wait_for(reader.read(65536), 5):
        data += chunk
    assert goaway_of(data).error_code == 1  # PROTOCOL_ERROR
    writer.close()


async def test_receive_after_the_response_reports_disconnect(serve) -> None:
    """ASGI HTTP spec: once the response is complete, receive() returns http.disconnect
    (it does not hang until the task is cancelled)."""
    srv = await serve(app)
    client = await H2Client.connect(srv.bound_port)
    _, body, _ = await client.request(req("/after-response"))
    assert body == b"done"
    for _ in range(200):
        if "after-response" in RECORD:
            break
        await asyncio.sleep(0.01)
    assert RECORD.pop("after-response") == {"type": "http.disconnect"}
    await client.close()


async def test_expect_100_continue_is_answered_when_the_app_reads(serve) -> None:
    """RFC 9110 §10.1.1 over RFC 9113 §8.1: an informational 100 precedes the body."""
    srv = await serve(app)
    client = await H2Client.connect(srv.bound_port)
    sid = client.conn.get_next_available_stream_id()
    client.conn.send_headers(sid, [*req("/len", "POST"), ("expect", "100-continue")])
    client.flush()
    informational = await client.wait_for(
        lambda e: isinstance(e, h2.events.InformationalResponseReceived))
    assert dict(informational.headers)[b":status"] == b"100"
    client.conn.send_data(sid, b"abcd", end_stream=True)
    client.flush()
    _, body, _ = await client.response(sid)
    assert body == b"4"
    await client.close()


async def test_pushed_requests_cannot_push_again(serve) -> None:
    """RFC 9113 §8.4: PUSH_PROMISE is only sent on a client-initiated stream; a pushed
    request's scope offers no http.response.push."""
    srv = await serve(app)
    client = await H2Client.connect(srv.bound_port)
    await client.request(req("/push"))
    for _ in range(200):
        if "pushed-extensions" in RECORD:
            break
        await asyncio.sleep(0.01)
    extensions = RECORD.pop("pushed-extensions")
    assert "http.response.push" not in extensions and "http.response.trailers" in extensions
    await client.close()


async def test_head_response_carries_no_data(serve) -> None:
    """RFC 9110 §9.3.2 over RFC 9113 §8.1: the body an app sends for HEAD is dropped."""
    srv = await serve(app)
    client = await H2Client.connect(srv.bound_port)
    headers, body, _ = await client.request(req("/big", "HEAD"))
    assert headers[b":status"] == b"200" and body == b""
    assert not any(isinstance(e, h2.events.DataReceived) and e.data for e in client.events)
    await client.close()


async def test_first_frame_from_the_server_is_settings(serve) -> None:
    """RFC 9113 §3.4 (h2spec 2.6 "http2/3.2/1"): after the client preface the server's
    first frame is its SETTINGS (the server connection preface)."""
    srv = await serve(app)
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    writer.write(Raw.preface({4: 65535}))
    data = b""
    while not parse_frames(data):
        data += (await asyncio.wait_for(reader.read(65536), 5)) or pytest.fail("closed by the server")
    first = parse_frames(data)[0]
    assert type(first).__name__ == "SettingsFrame" and "ACK" not in first.flags
    writer.close()


async def test_ping_flood_from_a_peer_that_never_reads_is_bounded(serve) -> None:
    """RFC 9113 §10.5: a peer sending PINGs without reading the ACKs cannot make the
    server buffer without limit: the server stops reading once its output backs up."""
    srv = await serve(app)
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    writer.transport.set_write_buffer_limits(high=1 << 20)
    writer.write(Raw.preface())
    ping = Raw.frame(0x6, 0, 0, b"\0" * 8)
    (conn,) = srv.state.connections
    burst = ping * 1000
    for _ in range(3000):  # up to 51 MB of PINGs (102 MB of answers unread)
        writer.write(burst)
        await asyncio.sleep(0)
        if conn.paused_reading:
            break
    assert conn.paused_reading  # the server stopped reading the flood
    assert conn.transport.get_write_buffer_size() < 16 * 1024 * 1024
    writer.transport.abort()


async def test_empty_data_frames_are_not_queued_for_the_app(serve) -> None:
    """RFC 9113 §10.5: zero-length DATA frames cost no flow-control window, so a flood of
    them must not pile up in the stream's body queue."""
    RECORD["never-read"] = None
    srv = await serve(app)
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    raw = Raw()
    writer.write(Raw.preface() + raw.headers(1, req("/never-read", "POST"),
                                              flags=("END_HEADERS",)))
    # 900 stays under the empty-DATA flood bucket (BB_H2_MAX_FLOOD_BURST, 1000): past it
    # the connection ends with ENHANCE_YOUR_CALM (tests/hostile covers that side).
    writer.write(Raw.data(1, b"") * 900 + Raw.frame(0x6, 0, 0, b"flooded!"))
    data = b""
    while not any(type(f).__name__ == "PingFrame" for f in parse_frames(data)):
        chunk = await asyncio.wait_for(reader.read(65536), 5)
        assert chunk, "connection closed before the PING was answered"
        data += chunk
    (conn,) = srv.state.connections
    stream = conn.handler.streams[1]
    assert not stream.chunks and stream.buffered == 0
    while not isinstance(RECORD.get("never-read"), asyncio.Event):
        await asyncio.sleep(0.01)
    RECORD["never-read"].set()
    writer.close()


async def test_path_is_percent_decoded_and_raw_path_kept(serve) -> None:
    """ASGI HTTP scope from RFC 9113 §8.3.1 :path: ``path`` is percent-decoded UTF-8,
    ``raw_path`` the octets before '?', ``query_string`` the rest."""
    seen = {}

    async def record(scope, receive, send):
        seen.update(path=scope["path"], raw=scope["raw_path"], qs=scope["query_string"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    srv = await serve(record)
    client = await H2Client.connect(srv.bound_port)
    headers, _, _ = await client.request(req("/caf%C3%A9/a%20b?q=%20"))
    assert headers[b":status"] == b"204"
    assert seen == {"path": "/café/a b", "raw": b"/caf%C3%A9/a%20b", "qs": b"q=%20"}
    await client.close()


async def test_app_that_forgets_its_promised_trailers_gets_its_stream_reset(serve) -> None:
    """RFC 9113 §5.4.2/§8.1: a response that can never end (trailers announced, never
    sent) is reset with INTERNAL_ERROR instead of leaving the client waiting."""
    srv = await serve(app)
    client = await H2Client.connect(srv.bound_port)
    with pytest.raises(ConnectionResetError, match="INTERNAL_ERROR"):
        await client.request(req("/trailers-forgotten"))
    await client.close()


async def test_unacknowledged_settings_end_in_settings_timeout(serve) -> None:
    """RFC 9113 §6.5.3: a peer that never ACKs our SETTINGS gets a connection error
    SETTINGS_TIMEOUT (after BB_H2_SETTINGS_TIMEOUT)."""
    from blackbull.config import Settings

    srv = await serve(app, Settings(h2_settings_timeout=0.2))
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    writer.write(Raw.preface())  # and never an ACK
    data = b""
    while chunk := await asyncio.wait_for(reader.read(65536), 5):
        data += chunk
    assert goaway_of(data).error_code == 0x4  # SETTINGS_TIMEOUT
    writer.close()
