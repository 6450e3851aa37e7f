"""RFC 9110 §2.5 and §6.2: which HTTP versions are served, and the version we answer with.

§2.5: "A recipient that receives a message with a major version number that it implements
and a minor version number higher than what it implements SHOULD process the message as if
it were in the highest minor version within that major version to which the recipient is
conformant." §6.2: "A server SHOULD send a response version equal to the highest version to
which the server is conformant that has a major version less than or equal to the one
received in the request." §15.6.6: 505 refuses a major version.
"""
from __future__ import annotations

import asyncio

import pytest

from blackbull.protocol.http1.events import Request, RequestRejected
from blackbull.protocol.http1.parser import RequestParser
from tests.apps.basic import hello, scope_dump, stream
from tests.conftest import raw_exchange


@pytest.mark.parametrize("version", [b"1.2", b"1.9"])
def test_a_higher_minor_version_is_processed_as_http11(version: bytes) -> None:
    """RFC 9110 §2.5: HTTP/1.2 (a minor we do not know) is an HTTP/1.1 request, with 1.1's
    persistence default (RFC 9112 §9.3)."""
    events = RequestParser().feed(b"GET / HTTP/%s\r\nHost: x\r\n\r\n" % version)
    request = events[0]
    assert isinstance(request, Request)
    assert request.http_version == "1.1" and request.keep_alive is True


@pytest.mark.parametrize("version", [b"2.0", b"3.0", b"0.9", b"9.9"])
def test_another_major_version_is_505(version: bytes) -> None:
    """RFC 9110 §6.2 / §15.6.6: a major version this parser does not speak → 505."""
    events = RequestParser().feed(b"GET / HTTP/%s\r\nHost: x\r\n\r\n" % version)
    assert events == [RequestRejected(505, "HTTP version not supported")]


@pytest.mark.parametrize("version", [b"1.", b"1.10", b"01.1"])
def test_a_malformed_version_stays_400(version: bytes) -> None:
    """RFC 9112 §2.3: HTTP-version = HTTP-name "/" DIGIT "." DIGIT; anything else is an
    invalid request-line (400), however lenient we are about the digits."""
    events = RequestParser().feed(b"GET / HTTP/%s\r\nHost: x\r\n\r\n" % version)
    assert len(events) == 1 and isinstance(events[0], RequestRejected)
    assert events[0].status == 400


async def test_http12_is_served_as_http11(serve) -> None:
    """RFC 9110 §2.5: on the wire, HTTP/1.2 gets a 200 and the app sees http_version 1.1."""
    srv = await serve(scope_dump)
    data = await raw_exchange(srv.bound_port, b"GET / HTTP/1.2\r\nHost: x\r\n"
                              b"Connection: close\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200 ")
    assert b'"http_version": "1.1"' in data or b'"http_version":"1.1"' in data


async def test_an_http10_request_is_answered_http11_with_http10_framing(serve) -> None:
    """RFC 9110 §6.2: the answer to HTTP/1.0 says HTTP/1.1; its framing stays one an
    HTTP/1.0 client reads (RFC 9112 §6.3: no chunked, the body ends at the close)."""
    srv = await serve(stream)
    data = await raw_exchange(srv.bound_port, b"GET / HTTP/1.0\r\n\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"transfer-encoding" not in head.lower() and b"connection: close" in head.lower()
    assert body == b"part0;part1;part2;part3;part4;"


async def test_a_keep_alive_http10_connection_is_answered_http11(serve) -> None:
    """RFC 9110 §6.2 with RFC 9112 §C.2.2: keep-alive still honoured for a 1.0 client."""
    srv = await serve(hello)
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    try:
        for _ in range(2):
            writer.write(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            assert head.startswith(b"HTTP/1.1 200") and b"connection: keep-alive" in head
            assert await reader.readexactly(5) == b"hello"
    finally:
        writer.close()
