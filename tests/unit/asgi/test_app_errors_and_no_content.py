"""The ASGI app's failures and its content-less responses, on every protocol.

ASGI HTTP spec: an exception in the app is the server's to report — once, with its
traceback (issue 16: HTTP/2 logged one line without it). RFC 9110 §8.6, §6.4.1,
§15.3.5, §15.4.5: a 204 (and 1xx) response carries no Content-Length and no content; a
framework's 204/304 gets no default Content-Type for content that does not exist.
"""
from __future__ import annotations

import logging
from typing import Any

import pytest

from blackbull import Response
from blackbull.config import Settings
from tests.conftest import raw_exchange
from tests.conftest_h2 import REQUEST, H2Client, client_tls_context
from tests.unit.http2_server.test_rfc8441_websocket import CONNECT, open_ws


class Boom(Exception):
    pass


async def failing_app(scope: dict, receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
    else:
        await receive()
    raise Boom("the app failed")


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records
            if r.exc_info and r.exc_info[0] is Boom and r.levelno >= logging.ERROR]


def _boom_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "Boom" in r.getMessage()
            or "the app failed" in r.getMessage() or (r.exc_info and r.exc_info[0] is Boom)]


async def test_h1_app_exception_logs_its_traceback_once_and_answers_500(serve, caplog):
    """ASGI HTTP: an app exception before the response → 500, and one ERROR record
    carrying the traceback (HTTP/1.1)."""
    caplog.set_level(logging.DEBUG, logger="blackbull")
    srv = await serve(failing_app)
    data = await raw_exchange(srv.bound_port, b"GET / HTTP/1.1\r\nHost: x\r\n"
                                              b"Connection: close\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 500 ")
    assert len(_tracebacks(caplog)) == 1 and len(_boom_lines(caplog)) == 1


@pytest.mark.parametrize("transport", ["h2c", "h2-tls"])
async def test_h2_app_exception_logs_its_traceback_once_and_answers_500(
        serve, server_ssl_context, tls_certs, caplog, transport: str):
    """ASGI HTTP over HTTP/2 (h2c and h2 over TLS): an app exception before the
    response → :status 500, and one ERROR record carrying the traceback."""
    caplog.set_level(logging.DEBUG, logger="blackbull")
    tls = transport == "h2-tls"
    srv = await serve(failing_app, ssl_context=server_ssl_context if tls else None)
    client = await H2Client.connect(srv.bound_port,
                                    client_tls_context(tls_certs["ca"]) if tls else None)
    headers, _, _ = await client.request(REQUEST)
    await client.close()
    assert headers[b":status"] == b"500"
    assert len(_tracebacks(caplog)) == 1 and len(_boom_lines(caplog)) == 1


async def test_rfc8441_websocket_app_exception_logs_its_traceback_once(serve, caplog):
    """ASGI WebSocket over RFC 8441: an app exception after accept closes with 1011 and
    is logged once, with its traceback."""
    import asyncio

    caplog.set_level(logging.DEBUG, logger="blackbull")
    srv = await serve(failing_app, Settings(h2_enable_websocket=True))
    client, _, response = await open_ws(srv.bound_port, CONNECT)
    assert response[b":status"] == b"200"
    for _ in range(50):
        if _tracebacks(caplog):
            break
        await asyncio.sleep(0.02)
    await client.close()
    assert len(_tracebacks(caplog)) == 1 and len(_boom_lines(caplog)) == 1


async def no_content(scope: dict, receive: Any, send: Any) -> None:
    """204 with an app-supplied content-length: 0 (what many frameworks send)."""
    await receive()
    status = int(scope["query_string"] or b"204")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-length", b"0"), (b"x-app", b"1")]})
    await send({"type": "http.response.body", "body": b""})


async def test_h1_204_has_no_content_length(serve):
    """RFC 9110 §8.6: a server MUST NOT send Content-Length in a 204 response — not
    even one the app supplied; the connection stays usable (§15.3.5: no content)."""
    srv = await serve(no_content)
    data = await raw_exchange(srv.bound_port,
                              b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
                              b"GET /?304 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    first, second = data.split(b"HTTP/1.1 304 ")
    assert first.startswith(b"HTTP/1.1 204 ") and b"x-app: 1" in first
    assert b"content-length" not in first.lower()
    assert b"content-length: 0" in second.lower()  # §15.4.5: a 304 may keep it


@pytest.mark.parametrize("transport", ["h2c", "h2-tls"])
async def test_h2_204_has_no_content_length(serve, server_ssl_context, tls_certs,
                                            transport: str):
    """RFC 9110 §8.6 over HTTP/2: no content-length field in a 204 response."""
    tls = transport == "h2-tls"
    srv = await serve(no_content, ssl_context=server_ssl_context if tls else None)
    client = await H2Client.connect(srv.bound_port,
                                    client_tls_context(tls_certs["ca"]) if tls else None)
    headers, body, _ = await client.request(REQUEST)
    await client.close()
    assert headers[b":status"] == b"204" and headers[b"x-app"] == b"1"
    assert b"content-length" not in headers and body == b""


@pytest.mark.parametrize("status", [204, 304])
def test_framework_response_without_content_has_no_length_or_default_type(status: int):
    """RFC 9110 §6.4.1, §8.3, §8.6: BlackBull's Response for 204/304 adds neither a
    Content-Length nor a default Content-Type (there is no content to describe)."""
    names = {name for name, _ in Response(status=status).headers}
    assert b"content-length" not in names and b"content-type" not in names
    assert {n for n, _ in Response(b"", status=200).headers} >= {b"content-length",
                                                                 b"content-type"}
