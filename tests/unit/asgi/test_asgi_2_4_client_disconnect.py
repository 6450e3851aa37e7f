"""ASGI HTTP spec 2.4 ("Disconnected Client", "Response Body - send"): a client that goes
away reaches the app, on every protocol — ``receive()`` returns ``http.disconnect`` and
``send()`` raises an ``OSError`` subclass, so streaming stops.

The independent check is Starlette's own ``StreamingResponse`` (with spec 2.4 it stops on
the ``OSError`` of ``send()``; with older specs it listens on ``receive()``), and uvicorn,
run in the same test on the same app, is the reference for how soon it must stop.
"""
from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any

import h2.errors
import h2.events
import pytest
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from wsproto.frame_protocol import FrameProtocol

from blackbull.config import Settings
from tests.conftest import free_port
from tests.conftest_h2 import REQUEST, H2Client, client_tls_context
from tests.unit.http2_server.test_rfc8441_websocket import CONNECT, open_ws, ws_frames

#: Chunks a streaming app may still produce after its client went away. uvicorn stops
#: within ~5 here (its receive() reports the close); a server whose send() never raises
#: lets the generator run on (119 chunks measured, issue 16).
MAX_CHUNKS_AFTER_CLOSE = 12


class Probe:
    """What one app run saw: chunks produced, how it ended, when."""

    def __init__(self) -> None:
        self.chunks = 0
        self.ended = asyncio.Event()
        self.ended_at = 0.0
        self.outcome: Any = None

    def end(self, outcome: Any) -> None:
        self.outcome = outcome
        self.ended_at = asyncio.get_running_loop().time()
        self.ended.set()


def waiting_app(probe: Probe) -> Any:
    """Plain ASGI: read the body, then wait on receive() (long polling)."""
    async def app(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        probe.end(await receive())
    return app


def starlette_streaming_app(probe: Probe) -> Any:
    """Starlette: an endless StreamingResponse (server-sent-events style) and a
    WebSocket that sends until it is told the client is gone."""
    async def ticks():
        while True:
            probe.chunks += 1
            yield b"data: %d\n\n" % probe.chunks + b"x" * 1000
            await asyncio.sleep(0.005)

    async def stream(request: Any) -> StreamingResponse:
        return StreamingResponse(ticks(), media_type="text/event-stream")

    async def feed(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                probe.chunks += 1
                await websocket.send_bytes(b"x" * 1000)
                await asyncio.sleep(0.005)
        except WebSocketDisconnect as exc:
            probe.end(exc)

    inner = Starlette(routes=[Route("/stream", stream), WebSocketRoute("/ws", feed)])

    async def app(scope: dict, receive: Any, send: Any) -> None:
        try:
            await inner(scope, receive, send)
        except Exception as exc:  # Starlette re-raises the disconnect as ClientDisconnect
            probe.end(exc)
        else:
            if not probe.ended.is_set():
                probe.end(None)
    return app


async def _uvicorn(app: Any) -> tuple[Any, asyncio.Task, int]:
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           lifespan="off", log_level="critical"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    return server, task, port


async def _stop_uvicorn(server: Any, task: asyncio.Task) -> None:
    server.should_exit = True
    await asyncio.wait_for(task, 10)


async def _h1_stream_then_close(port: int, probe: Probe,
                                ssl_context: ssl.SSLContext | None = None) -> int:
    """GET /stream over HTTP/1.1, read ~10 chunks, close the socket; the app's chunk
    count at the moment of the close."""
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=ssl_context,
        server_hostname="localhost" if ssl_context else None)
    writer.write(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
    got = b""
    while got.count(b"data: ") < 10:
        got += await asyncio.wait_for(reader.read(65536), 5)
    at_close = probe.chunks
    writer.close()
    await asyncio.wait_for(probe.ended.wait(), 5)
    return at_close


async def _h1_wait_then_close(port: int, probe: Probe, after: float) -> float:
    """A GET whose app waits on receive(); the client closes after ``after`` seconds
    (``curl -m``); seconds from the close to the app's http.disconnect."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await asyncio.sleep(after)
    closed_at = asyncio.get_running_loop().time()
    writer.close()
    await asyncio.wait_for(probe.ended.wait(), 5)
    return probe.ended_at - closed_at


async def test_h1_http_disconnect_reaches_an_app_waiting_on_receive(serve):
    """ASGI HTTP 2.4 "Disconnect": over HTTP/1.1 a client that closes while the app
    waits on ``receive()`` after its body is reported as ``http.disconnect`` at once
    (uvicorn, same app, same test: the same)."""
    ours = Probe()
    srv = await serve(waiting_app(ours))
    delay = await _h1_wait_then_close(srv.bound_port, ours, 0.5)
    assert ours.outcome == {"type": "http.disconnect"}
    reference = Probe()
    server, task, port = await _uvicorn(waiting_app(reference))
    try:
        ref_delay = await _h1_wait_then_close(port, reference, 0.5)
    finally:
        await _stop_uvicorn(server, task)
    assert reference.outcome == {"type": "http.disconnect"}
    assert delay < ref_delay + 0.5, (delay, ref_delay)


async def test_h1_starlette_streaming_stops_soon_after_the_client_closes(serve, caplog):
    """ASGI HTTP 2.4 "send": after the client closed, ``send()`` raises an OSError
    subclass, so Starlette's StreamingResponse stops within a few chunks, as under
    uvicorn; the disconnect is not logged as an application error with a traceback."""
    caplog.set_level(logging.INFO, logger="blackbull")
    ours = Probe()
    srv = await serve(starlette_streaming_app(ours))
    at_close = await _h1_stream_then_close(srv.bound_port, ours)
    after = ours.chunks - at_close
    assert isinstance(ours.outcome, Exception), ours.outcome  # ClientDisconnect
    reference = Probe()
    server, task, port = await _uvicorn(starlette_streaming_app(reference))
    try:
        ref_close = await _h1_stream_then_close(port, reference)
    finally:
        await _stop_uvicorn(server, task)
    assert after <= MAX_CHUNKS_AFTER_CLOSE, (after, reference.chunks - ref_close)
    assert not [r for r in caplog.records if r.exc_info and r.levelno >= logging.ERROR]


async def test_h1_send_after_disconnect_raises_oserror(serve):
    """ASGI HTTP 2.4: ``send()`` once ``http.disconnect`` was received raises an
    ``OSError`` subclass (the old rule, "sends are no-ops", is gone)."""
    probe = Probe()

    async def app(scope: dict, receive: Any, send: Any) -> None:
        await receive()
        assert (await receive())["type"] == "http.disconnect"
        try:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        except OSError as exc:
            probe.end(exc)
        else:
            probe.end("no error")

    srv = await serve(app)
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await asyncio.sleep(0.1)
    writer.close()
    await asyncio.wait_for(probe.ended.wait(), 5)
    assert isinstance(probe.outcome, OSError), probe.outcome


async def _h2_stream_then_go(port: int, probe: Probe, how: str,
                             ssl_context: ssl.SSLContext | None = None) -> int:
    client = await H2Client.connect(port, ssl_context)
    scheme = "https" if ssl_context else "http"
    headers = [(k, scheme if k == ":scheme" else ("/stream" if k == ":path" else v))
               for k, v in REQUEST]
    sid = client.conn.get_next_available_stream_id()
    client.conn.send_headers(sid, headers, end_stream=True)
    client.flush()
    got = 0
    seen = 0
    while got < 10:
        await client.read_once()
        for event in client.events[seen:]:
            if isinstance(event, h2.events.DataReceived):
                got += event.data.count(b"data: ")
                client.conn.acknowledge_received_data(event.flow_controlled_length, sid)
        seen = len(client.events)
        client.flush()
    at_close = probe.chunks
    if how == "reset":
        client.conn.reset_stream(sid, h2.errors.ErrorCodes.CANCEL)
        client.flush()
        await asyncio.wait_for(probe.ended.wait(), 5)
        await client.close()
    else:
        await client.close()
        await asyncio.wait_for(probe.ended.wait(), 5)
    return at_close


@pytest.mark.parametrize("how", ["reset", "close"])
@pytest.mark.parametrize("transport", ["h2c", "h2-tls"])
async def test_h2_starlette_streaming_stops_soon_after_the_client_goes(
        serve, server_ssl_context, tls_certs, caplog, transport: str, how: str):
    """ASGI HTTP 2.4 "send" over HTTP/2 (h2c prior knowledge and h2 over TLS): after
    RST_STREAM(CANCEL) or the connection's close, ``send()`` raises an OSError subclass
    and Starlette's StreamingResponse stops within a few chunks (RFC 9113 §5.4.2, §8.1);
    no traceback is logged for it."""
    caplog.set_level(logging.INFO, logger="blackbull")
    probe = Probe()
    tls = transport == "h2-tls"
    srv = await serve(starlette_streaming_app(probe),
                      ssl_context=server_ssl_context if tls else None)
    at_close = await _h2_stream_then_go(srv.bound_port, probe, how,
                                        client_tls_context(tls_certs["ca"]) if tls else None)
    assert isinstance(probe.outcome, Exception), probe.outcome  # ClientDisconnect
    assert probe.chunks - at_close <= MAX_CHUNKS_AFTER_CLOSE, probe.chunks - at_close
    assert not [r for r in caplog.records if r.exc_info and r.levelno >= logging.ERROR]


@pytest.mark.parametrize("how", ["reset", "close"])
async def test_rfc8441_starlette_websocket_send_raises_after_the_client_goes(
        serve, how: str):
    """ASGI WebSocket spec ("Send", 2.4) over RFC 8441: once the client reset the
    CONNECT stream or closed the connection, ``websocket.send`` raises an OSError
    subclass, which Starlette turns into WebSocketDisconnect within a few sends."""
    probe = Probe()
    srv = await serve(starlette_streaming_app(probe), Settings(h2_enable_websocket=True))
    headers = [(k, "/ws" if k == ":path" else v) for k, v in CONNECT]
    client, sid, response = await open_ws(srv.bound_port, headers)
    assert response[b":status"] == b"200"
    await ws_frames(client, sid, FrameProtocol(client=True, extensions=[]), 10)
    at_close = probe.chunks
    if how == "reset":
        client.conn.reset_stream(sid, h2.errors.ErrorCodes.CANCEL)
        client.flush()
        await asyncio.wait_for(probe.ended.wait(), 5)
        await client.close()
    else:
        await client.close()
        await asyncio.wait_for(probe.ended.wait(), 5)
    assert isinstance(probe.outcome, WebSocketDisconnect), probe.outcome
    assert probe.chunks - at_close <= MAX_CHUNKS_AFTER_CLOSE, probe.chunks - at_close


@pytest.mark.parametrize("transport", ["h2c", "h2-tls"])
async def test_h2_http_disconnect_reaches_an_app_waiting_on_receive(
        serve, server_ssl_context, tls_certs, transport: str):
    """ASGI HTTP 2.4 "Disconnect" over HTTP/2: an app waiting on ``receive()`` after
    its body gets ``http.disconnect`` when the client resets the stream."""
    probe = Probe()
    tls = transport == "h2-tls"
    srv = await serve(waiting_app(probe), ssl_context=server_ssl_context if tls else None)
    client = await H2Client.connect(srv.bound_port,
                                    client_tls_context(tls_certs["ca"]) if tls else None)
    sid = client.conn.get_next_available_stream_id()
    client.conn.send_headers(sid, REQUEST, end_stream=True)
    client.flush()
    await asyncio.sleep(0.2)
    client.conn.reset_stream(sid, h2.errors.ErrorCodes.CANCEL)
    client.flush()
    await asyncio.wait_for(probe.ended.wait(), 5)
    assert probe.outcome == {"type": "http.disconnect"}
    await client.close()


def starlette_long_poll_app(probe: Probe) -> Any:
    """Starlette long polling: wait for news until ``request.is_disconnected()``."""
    async def poll(request: Any) -> Any:
        while not await request.is_disconnected():
            await asyncio.sleep(0.01)
        probe.end("disconnected")
        return StreamingResponse(iter(()))

    return Starlette(routes=[Route("/", poll)])


@pytest.mark.parametrize("transport", ["h1", "h2c"])
async def test_starlette_is_disconnected_sees_the_client_go(serve, transport: str):
    """ASGI HTTP 2.4 "Disconnect": Starlette's ``Request.is_disconnected()`` (a
    ``receive()`` that must not block) turns true once the client closed (HTTP/1.1) or
    reset its stream (HTTP/2), as under uvicorn."""
    probe = Probe()
    srv = await serve(starlette_long_poll_app(probe))
    if transport == "h1":
        _, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await asyncio.sleep(0.3)
        writer.close()
    else:
        client = await H2Client.connect(srv.bound_port)
        sid = client.conn.get_next_available_stream_id()
        client.conn.send_headers(sid, REQUEST, end_stream=True)
        client.flush()
        await asyncio.sleep(0.3)
        client.conn.reset_stream(sid, h2.errors.ErrorCodes.CANCEL)
        client.flush()
    await asyncio.wait_for(probe.ended.wait(), 5)
    assert probe.outcome == "disconnected" and not probe.chunks
    if transport != "h1":
        await client.close()


async def test_h1_over_tls_starlette_streaming_stops_soon_after_the_client_closes(
        serve, server_ssl_context, tls_certs, caplog):
    """ASGI HTTP 2.4 "send" over HTTP/1.1 on TLS (ALPN http/1.1): the client's close
    makes ``send()`` raise; Starlette's StreamingResponse stops within a few chunks."""
    caplog.set_level(logging.INFO, logger="blackbull")
    probe = Probe()
    srv = await serve(starlette_streaming_app(probe), ssl_context=server_ssl_context)
    ctx = ssl.create_default_context(cafile=tls_certs["ca"])
    ctx.set_alpn_protocols(["http/1.1"])
    at_close = await _h1_stream_then_close(srv.bound_port, probe, ctx)
    assert isinstance(probe.outcome, Exception), probe.outcome
    assert probe.chunks - at_close <= MAX_CHUNKS_AFTER_CLOSE, probe.chunks - at_close
    assert not [r for r in caplog.records if r.exc_info and r.levelno >= logging.ERROR]
