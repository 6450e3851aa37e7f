"""RFC 9110 §10.1.1 (Expect: 100-continue) and §9.3.2 (HEAD) over HTTP/1.1."""
from __future__ import annotations

import asyncio

from tests.apps.basic import echo, hello, stream
from tests.conftest import raw_exchange


async def test_expect_100_continue_gets_interim_response_before_body(serve):
    """RFC 9110 §10.1.1: the server sends 100 (Continue) when the app asks for the body,
    and the client then sends it."""
    srv = await serve(echo)
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
    interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 3)
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.write(b"hello")
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 3)
    assert head.startswith(b"HTTP/1.1 200")
    assert await reader.readexactly(5) == b"hello"
    writer.close()


async def test_expect_100_continue_not_sent_when_app_answers_without_body(serve):
    """RFC 9110 §10.1.1: an app that answers without reading the body gets no 100 sent,
    and the connection is closed since the client may still send the body."""
    async def refuse(scope, receive, send):
        await send({"type": "http.response.start", "status": 417, "headers": []})
        await send({"type": "http.response.body", "body": b"no"})

    srv = await serve(refuse)
    data = await raw_exchange(srv.bound_port, b"POST / HTTP/1.1\r\nHost: x\r\n"
                              b"Content-Length: 5\r\nExpect: 100-continue\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 417")
    assert b"100 Continue" not in data and b"connection: close" in data.lower()


async def test_head_response_has_headers_but_no_body(serve):
    """RFC 9110 §9.3.2: HEAD gets the GET headers (Content-Length included), no content."""
    srv = await serve(hello)
    data = await raw_exchange(srv.bound_port, b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"
                              b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    first, rest = data.split(b"\r\n\r\n", 1)
    assert first.startswith(b"HTTP/1.1 200") and b"content-length: 5" in first.lower()
    assert rest.startswith(b"HTTP/1.1 200")  # no body bytes between the two responses
    assert rest.endswith(b"hello")


async def test_head_of_streamed_response_is_not_chunked(serve):
    """RFC 9110 §9.3.2 and RFC 9112 §6.3: a HEAD response ends at its header section."""
    srv = await serve(stream)
    data = await raw_exchange(srv.bound_port, b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"
                              b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    first, rest = data.split(b"\r\n\r\n", 1)
    assert b"chunked" not in first.lower()
    assert rest.startswith(b"HTTP/1.1 200")
