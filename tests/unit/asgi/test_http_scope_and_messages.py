"""ASGI 3 HTTP connection scope and messages, as our server produces them over HTTP/1.1."""
from __future__ import annotations

import asyncio
import logging
import ssl

import httpx

from tests.apps.basic import scope_dump
from tests.conftest import raw_exchange


async def test_http_scope_has_the_asgi_keys(serve):
    """ASGI HTTP scope: type, asgi.version, http_version, method, scheme, path, raw_path,
    query_string, root_path, headers, client, server; no HTTP/2 extensions on 1.1."""
    srv = await serve(scope_dump)
    async with httpx.AsyncClient() as client:
        r = await client.get(f"http://127.0.0.1:{srv.bound_port}/a%20b/c?x=1&y=%20",
                             headers={"X-Test": "yes"})
    scope = r.json()
    assert scope["type"] == "http" and scope["asgi"]["version"] == "3.0"
    assert scope["http_version"] == "1.1" and scope["method"] == "GET"
    assert scope["scheme"] == "http"
    assert scope["path"] == "/a b/c" and scope["raw_path"] == "/a%20b/c"
    assert scope["query_string"] == "x=1&y=%20"
    assert ["x-test", "yes"] in scope["headers"]
    assert scope["client"][0] == "127.0.0.1" and scope["server"] == ["127.0.0.1", srv.bound_port]
    assert scope["root_path"] == ""
    assert not any(k.startswith("http.response.priority") or k == "http.response.push"
                   for k in scope["extension_keys"])
    assert "http2_priority" not in scope


async def test_https_scope_scheme(serve, server_ssl_context, tls_certs):
    """ASGI HTTP scope ``scheme`` is https over TLS (ALPN http/1.1)."""
    srv = await serve(scope_dump, ssl_context=server_ssl_context)
    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=tls_certs["ca"])) as client:
        r = await client.get(f"https://localhost:{srv.bound_port}/")
    assert r.json()["scheme"] == "https" and r.http_version == "HTTP/1.1"


async def test_receive_reports_disconnect_after_the_response(serve):
    """ASGI ``http.disconnect``: once the response is sent, receive() returns disconnect."""
    seen = []

    async def app(scope, receive, send):
        seen.append(await receive())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
        seen.append(await asyncio.wait_for(receive(), 2))

    srv = await serve(app)
    await raw_exchange(srv.bound_port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    await asyncio.sleep(0.1)
    assert seen[0] == {"type": "http.request", "body": b"", "more_body": False}
    assert seen[1] == {"type": "http.disconnect"}


async def test_client_disconnect_mid_body_reaches_the_app(serve):
    """ASGI ``http.disconnect``: a client that goes away while the app reads the body."""
    seen = []
    done = asyncio.Event()

    async def app(scope, receive, send):
        while True:
            message = await receive()
            seen.append(message["type"])
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                break
        done.set()

    srv = await serve(app)
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
    await asyncio.sleep(0.1)
    writer.close()
    await asyncio.wait_for(done.wait(), 3)
    assert seen[-1] == "http.disconnect"


async def test_app_exception_becomes_500_and_server_stays_up(serve, caplog):
    """ASGI: an exception before the response starts is answered 500; the next request on
    the same connection is still served."""
    calls = []

    async def app(scope, receive, send):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"fine"})

    srv = await serve(app)
    with caplog.at_level(logging.ERROR):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{srv.bound_port}") as c:
            assert (await c.get("/")).status_code == 500
            assert (await c.get("/")).text == "fine"
    assert "boom" in caplog.text


async def test_app_returning_without_response_is_500(serve):
    """ASGI: an app that returns without sending a response gets a 500 on its behalf."""
    async def app(scope, receive, send):
        return None

    srv = await serve(app)
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"http://127.0.0.1:{srv.bound_port}/")).status_code == 500


async def test_app_response_header_is_validated(serve):
    """RFC 9110 §5.5: a header value with CR/LF from the app is never written (500)."""
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"x-bad", b"a\r\nSet-Cookie: evil=1")]})
        await send({"type": "http.response.body", "body": b"x"})

    srv = await serve(app)
    data = await raw_exchange(srv.bound_port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", timeout=2)
    assert data.startswith(b"HTTP/1.1 500") and b"evil" not in data


async def test_slow_reader_back_pressure_pauses_the_app(serve):
    """ASGI send() waits while the transport's buffer is full, so a slow client cannot make
    the server buffer an unbounded response."""
    sent = []

    async def app(scope, receive, send):
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(400):
            await send({"type": "http.response.body", "body": b"x" * 65536, "more_body": True})
            sent.append(1)
        await send({"type": "http.response.body", "body": b""})

    srv = await serve(app)
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port, limit=1024)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await asyncio.sleep(0.5)  # read nothing
    assert len(sent) < 400  # the app was held back
    total = 0
    while total < 400 * 65536:
        chunk = await asyncio.wait_for(reader.read(1 << 20), 5)
        if not chunk:
            break
        total += len(chunk)
        if b"0\r\n\r\n" == chunk[-5:]:
            break
    assert len(sent) == 400
    writer.close()
