"""RFC 9112 §6 and §7: message body length, chunked transfer coding, smuggling shapes."""
from __future__ import annotations

import httpx
import pytest

from blackbull.config import Settings
from tests.apps.basic import echo, hello, stream
from tests.conftest import raw_exchange


async def test_content_length_body_reaches_the_app(serve):
    """RFC 9112 §6.2: Content-Length delimits the request body."""
    srv = await serve(echo)
    async with httpx.AsyncClient() as client:
        response = await client.post(f"http://127.0.0.1:{srv.bound_port}/", content=b"x" * 100000)
    assert response.status_code == 200 and response.content == b"x" * 100000


async def test_chunked_request_body_is_decoded_and_streamed(serve):
    """RFC 9112 §7.1: a chunked body is de-chunked; pieces arrive with ``more_body``."""
    srv = await serve(echo)
    data = await raw_exchange(
        srv.bound_port,
        b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200")
    assert data.endswith(b"hello world")


async def test_streamed_body_is_sent_in_many_receive_messages(serve):
    """ASGI http.request ``more_body``: a body arriving in pieces is not buffered whole."""
    srv = await serve(echo)

    async def pieces():
        for _ in range(4):
            yield b"a" * 70000

    async with httpx.AsyncClient() as client:
        response = await client.post(f"http://127.0.0.1:{srv.bound_port}/", content=pieces())
    assert response.content == b"a" * 280000
    assert int(response.headers["x-messages"]) > 1


async def test_response_without_length_is_chunked(serve):
    """RFC 9112 §7.1: a streamed response of unknown length uses chunked coding."""
    srv = await serve(stream)
    data = await raw_exchange(srv.bound_port,
                              b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, body = data.split(b"\r\n\r\n", 1)
    assert b"transfer-encoding: chunked" in head.lower()
    assert body.endswith(b"0\r\n\r\n") and b"part4;" in body


async def test_streamed_response_to_http10_is_close_delimited(serve):
    """RFC 9112 §6.3 (item 8): no chunked for 1.0; the close ends the body."""
    srv = await serve(stream)
    data = await raw_exchange(srv.bound_port, b"GET / HTTP/1.0\r\n\r\n")
    head, body = data.split(b"\r\n\r\n", 1)
    assert b"chunked" not in head.lower()
    assert body == b"part0;part1;part2;part3;part4;"


@pytest.mark.parametrize("request_bytes", [
    # CL.TE and TE.CL: both headers present
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"0\r\n\r\nX",
    b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
    b"1\r\nA\r\n0\r\n\r\n",
    # two different Content-Length values
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
], ids=["cl-te", "te-cl", "duplicate-cl"])
async def test_conflicting_framing_is_400_and_close(serve, request_bytes):
    """RFC 9112 §6.3 and §11.2: conflicting Content-Length/Transfer-Encoding framing is a
    smuggling vector; the server answers 400 and closes the connection."""
    srv = await serve(hello)
    data = await raw_exchange(srv.bound_port, request_bytes + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 400")
    assert data.count(b"HTTP/1.1") == 1   # nothing smuggled after it
    assert b"connection: close" in data.lower()


async def test_unknown_transfer_coding_is_501(serve):
    """RFC 9112 §6.1: a transfer coding the server does not understand → 501."""
    srv = await serve(hello)
    data = await raw_exchange(srv.bound_port, b"POST / HTTP/1.1\r\nHost: x\r\n"
                              b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 501")


async def test_invalid_chunk_size_is_400(serve):
    """RFC 9112 §7.1: a chunk-size that is not hex is a malformed message."""
    srv = await serve(echo)
    data = await raw_exchange(srv.bound_port, b"POST / HTTP/1.1\r\nHost: x\r\n"
                              b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 400")


async def test_declared_body_over_limit_is_413(serve):
    """RFC 9110 §15.5.14: Content-Length above BB_H1_MAX_BODY → 413 before reading it."""
    srv = await serve(echo, Settings(h1_max_body=1000))
    data = await raw_exchange(srv.bound_port, b"POST / HTTP/1.1\r\nHost: x\r\n"
                              b"Content-Length: 5000\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 413")


async def test_chunked_body_over_limit_is_413(serve):
    """RFC 9110 §15.5.14: a chunked body growing past the limit → 413 and close."""
    srv = await serve(echo, Settings(h1_max_body=1000))
    chunk = b"400\r\n" + b"a" * 1024 + b"\r\n"
    data = await raw_exchange(srv.bound_port, b"POST / HTTP/1.1\r\nHost: x\r\n"
                              b"Transfer-Encoding: chunked\r\n\r\n" + chunk * 3)
    assert data.startswith(b"HTTP/1.1 413")
