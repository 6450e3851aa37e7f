"""RFC 9112 §2–§5: request line, Host, field syntax, and the limits on them."""
from __future__ import annotations

import asyncio

import httpx
import pytest

from blackbull.config import Settings
from tests.apps.basic import hello
from tests.conftest import raw_exchange


async def test_request_target_over_limit_is_414(serve):
    """RFC 9112 §3 / RFC 9110 §15.5.15: a request-target longer than the server accepts
    (BB_H1_MAX_REQUEST_LINE) → 414."""
    srv = await serve(hello, Settings(h1_max_request_line=100))
    data = await raw_exchange(srv.bound_port, b"GET /" + b"a" * 200 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 414")


async def test_header_section_over_limit_is_431(serve):
    """RFC 6585 §5: header fields larger than BB_H1_MAX_HEADER_BYTES → 431."""
    srv = await serve(hello, Settings(h1_max_header_bytes=1000))
    data = await raw_exchange(srv.bound_port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: "
                              + b"v" * 2000 + b"\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 431")


async def test_too_many_header_fields_is_431(serve):
    """RFC 6585 §5: more fields than BB_H1_MAX_HEADERS → 431."""
    srv = await serve(hello, Settings(h1_max_headers=20))
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(50))
    data = await raw_exchange(srv.bound_port, b"GET / HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
    assert data.startswith(b"HTTP/1.1 431")


async def test_missing_host_in_http11_is_400(serve):
    """RFC 9112 §3.2: an HTTP/1.1 request without Host → 400."""
    srv = await serve(hello)
    data = await raw_exchange(srv.bound_port, b"GET / HTTP/1.1\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 400")


async def test_duplicate_host_is_400(serve):
    """RFC 9112 §3.2: more than one Host field → 400."""
    srv = await serve(hello)
    data = await raw_exchange(srv.bound_port, b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 400")


@pytest.mark.parametrize("request_bytes", [
    b"GET / HTTP/1.1\nHost: x\n\n",                          # bare LF line endings
    b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",      # obs-fold
    b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",                    # space before the colon
    b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",                  # space in the target
], ids=["bare-lf", "obs-fold", "space-before-colon", "space-in-target"])
async def test_malformed_request_is_400_and_close(serve, request_bytes):
    """RFC 9112 §2.2, §5.1, §5.2: malformed messages are answered 400, then closed."""
    srv = await serve(hello)
    data = await raw_exchange(srv.bound_port, request_bytes)
    assert data.startswith(b"HTTP/1.1 400")
    assert b"connection: close" in data.lower()


async def test_unknown_method_is_501(serve):
    """RFC 9110 §9.1: a method the server does not recognise → 501."""
    srv = await serve(hello)
    data = await raw_exchange(srv.bound_port, b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 501")


async def test_a_method_that_is_not_a_token_is_400(serve):
    """RFC 9112 §3 / RFC 9110 §9.1: the method is a token; "G(T" makes the request-line
    invalid, which is a 400 (RFC 9112 §3), not the 501 of a well-formed unknown method."""
    srv = await serve(hello)
    data = await raw_exchange(srv.bound_port, b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 400")
    assert b"connection: close" in data.lower()


async def test_closing_on_bytes_that_are_not_http_is_logged_without_a_status(serve, caplog):
    """RFC 9112 §2.2: what is not HTTP is closed unanswered (see below); the log says so
    instead of naming a 400 that was never sent."""
    srv = await serve(hello)
    with caplog.at_level("INFO", logger="blackbull"):
        data = await raw_exchange(srv.bound_port, b"this is not an HTTP request\r\n\r\n")
    assert data == b""
    lines = [r.getMessage() for r in caplog.records if "not an HTTP request" in r.getMessage()]
    assert lines and all("without an answer" in line and "400" not in line for line in lines)


async def test_bytes_that_are_not_http_are_closed_without_an_answer(serve):
    """RFC 9112 §2.2: what is not an HTTP request line gets no HTTP response; the server
    closes (this is also h2spec http2/3.5/2 on a shared cleartext port)."""
    srv = await serve(hello)
    data = await raw_exchange(srv.bound_port, b"INVALID CONNECTION PREFACE\r\n\r\n")
    assert data == b""


async def test_unsupported_http_version_is_505(serve):
    """RFC 9110 §15.6.6: a major version we do not speak on this parser → 505 (a higher
    minor, HTTP/1.2, is served as 1.1: test_rfc9110_sec_2_5_and_6_2_versions.py)."""
    srv = await serve(hello)
    data = await raw_exchange(srv.bound_port, b"GET / HTTP/3.0\r\nHost: x\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 505")


async def test_other_clients_keep_being_served_during_bad_requests(serve):
    """RFC 9112 §2.2: a bad request ends only its own connection; an honest client on
    another connection keeps getting 200s meanwhile."""
    srv = await serve(hello, Settings(h1_max_header_bytes=2000))
    bad = [b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
           b"GET / HTTP/1.1\r\nX: " + b"a" * 5000 + b"\r\n\r\n",
           b"\x16\x03\x01\x02\x00garbage\r\n\r\n",
           b"GET / HTTP/1.1\nHost: x\n\n"]
    statuses = []

    async def honest():
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{srv.bound_port}") as client:
            for _ in range(40):
                statuses.append((await client.get("/")).status_code)

    async def attacker():
        for _ in range(10):
            for b in bad:
                await raw_exchange(srv.bound_port, b, timeout=1)

    await asyncio.gather(honest(), attacker())
    assert statuses == [200] * 40
