"""The access log (``BB_ACCESS_LOG`` / ``--access-log``): one line per request with client,
method, target, protocol version, status, bytes and duration, on every transport —
HTTP/1.1, h2c, h2 over TLS, and WebSocket handshakes over HTTP/1.1 (RFC 6455 §4) and
HTTP/2 (RFC 8441 §5) — and nothing at all (not even a wrapper) when it is off."""
from __future__ import annotations

import logging
import re
import ssl

import httpx
import pytest
import websockets

from blackbull.client import WebSocketH2Client, WSOpcode
from blackbull.config import Settings
from tests.apps.deploy import scope_info

ON = Settings(access_log=True, h2_enable_websocket=True)
LINE = re.compile(r'^(?P<client>\S+) - "(?P<method>[A-Z]+) (?P<target>\S+) HTTP/(?P<version>[\d.]+)" '
                  r'(?P<status>\d{3}) (?P<bytes>\d+) (?P<ms>\d+\.\d)ms$')


def access_lines(caplog: pytest.LogCaptureFixture) -> list[re.Match]:
    out = []
    for record in caplog.records:
        if record.name == "blackbull.access":
            match = LINE.match(record.getMessage())
            assert match, record.getMessage()
            out.append(match)
    return out


@pytest.fixture(autouse=True)
def _capture(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="blackbull.access")


async def test_http1_request_line_has_every_field(serve, caplog) -> None:
    """RFC 9112 §3: method, target with query, HTTP/1.1; status and body bytes sent."""
    srv = await serve(scope_info, ON)
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{srv.bound_port}/items?id=7")
    [line] = access_lines(caplog)
    assert line["client"].startswith("127.0.0.1:") and line["method"] == "GET"
    assert line["target"] == "/items?id=7" and line["version"] == "1.1"
    assert int(line["status"]) == 200 and int(line["bytes"]) == len(response.content)


async def test_h2c_request_is_logged_as_http2(serve, caplog) -> None:
    """RFC 9113 §3.3 prior knowledge: the line says HTTP/2."""
    srv = await serve(scope_info, ON)
    async with httpx.AsyncClient(http1=False, http2=True) as client:
        response = await client.post(f"http://127.0.0.1:{srv.bound_port}/h2c", content=b"x")
    assert response.http_version == "HTTP/2"
    [line] = access_lines(caplog)
    assert (line["method"], line["target"], line["version"], line["status"]) == \
        ("POST", "/h2c", "2", "200")


async def test_h2_over_tls_request_is_logged(serve, server_ssl_context, tls_certs,
                                             caplog) -> None:
    srv = await serve(scope_info, ON, ssl_context=server_ssl_context)
    ctx = ssl.create_default_context(cafile=tls_certs["ca"])
    async with httpx.AsyncClient(http2=True, verify=ctx) as client:
        response = await client.get(f"https://localhost:{srv.bound_port}/tls")
    assert response.http_version == "HTTP/2"
    [line] = access_lines(caplog)
    assert (line["target"], line["version"], line["status"]) == ("/tls", "2", "200")


async def test_app_error_is_logged_with_the_500_the_server_sends(serve, caplog) -> None:
    async def broken(scope, receive, send):
        raise RuntimeError("boom")

    srv = await serve(broken, ON)
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{srv.bound_port}/broken")
    assert response.status_code == 500
    [line] = access_lines(caplog)
    assert line["status"] == "500" and line["target"] == "/broken"


async def test_websocket_handshake_over_http1_is_logged_as_101(serve, caplog) -> None:
    """RFC 6455 §4.2.2: the accepted handshake is a GET answered 101."""
    srv = await serve(scope_info, ON)
    async with websockets.connect(f"ws://127.0.0.1:{srv.bound_port}/chat") as ws:
        await ws.send("hi")
        assert await ws.recv() == "hi"
    [line] = access_lines(caplog)
    assert (line["method"], line["target"], line["version"], line["status"]) == \
        ("GET", "/chat", "1.1", "101")


async def test_websocket_over_http2_is_logged_as_connect_200(serve, caplog) -> None:
    """RFC 8441 §4–§5: extended CONNECT answered 200."""
    srv = await serve(scope_info, ON)
    async with WebSocketH2Client("127.0.0.1", srv.bound_port) as client:
        ws = await client.connect("/h2chat")
        await ws.send_text("hi")
        assert await ws.receive() == (WSOpcode.TEXT, "hi")
        await ws.close()
    [line] = access_lines(caplog)
    assert (line["method"], line["target"], line["version"], line["status"]) == \
        ("CONNECT", "/h2chat", "2", "200")


async def test_websocket_denied_by_the_app_is_logged_as_403(serve, caplog) -> None:
    """ASGI websocket spec: websocket.close before accept → HTTP 403."""
    async def deny(scope, receive, send):
        await receive()
        await send({"type": "websocket.close"})

    srv = await serve(deny, ON)
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(f"ws://127.0.0.1:{srv.bound_port}/no"):
            pass
    [line] = access_lines(caplog)
    assert line["status"] == "403"


async def test_off_means_no_line_and_no_wrapper(serve, caplog) -> None:
    """Disabled, the server calls the app itself: nothing is added per request."""
    srv = await serve(scope_info, Settings())
    assert srv.state.app is scope_info
    async with httpx.AsyncClient() as client:
        await client.get(f"http://127.0.0.1:{srv.bound_port}/")
    assert access_lines(caplog) == []
