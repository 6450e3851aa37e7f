"""RFC 9110 §7.8 (Upgrade) on the HTTP/1.1 side: what is upgraded and what is not."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.apps.basic import echo
from tests.conftest import raw_exchange


async def test_unknown_upgrade_is_ignored_and_request_served_with_body(serve):
    """RFC 9110 §7.8: a server may ignore Upgrade; the request (with its body) is then
    served over HTTP/1.1 and the connection goes on."""
    srv = await serve(echo)
    data = await raw_exchange(
        srv.bound_port,
        b"POST /a HTTP/1.1\r\nHost: x\r\nUpgrade: foo\r\nConnection: upgrade\r\n"
        b"Content-Length: 3\r\n\r\nabc"
        b"GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    first, second = data.split(b"HTTP/1.1 200 OK")[1:]
    assert b"x-path: /a" in first and first.endswith(b"abc")
    assert b"x-path: /b" in second


async def test_h2c_upgrade_with_body_is_served_on_http11(serve):
    """RFC 7540 §3.2 / RFC 9110 §7.8: we upgrade to h2c only requests without a body; one
    with a body is answered over HTTP/1.1 (no 101)."""
    srv = await serve(echo)
    data = await raw_exchange(
        srv.bound_port,
        b"POST / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n"
        b"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nContent-Length: 3\r\n\r\nabc"
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200") and b" 101 " not in data
    assert data.count(b"HTTP/1.1 200") == 2


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
async def test_curl_h2c_upgrade_get_switches_to_http2(serve):
    """RFC 7540 §3.2: ``curl --http2`` on http:// sends Upgrade: h2c; the answer to the
    upgraded request arrives over HTTP/2."""
    import asyncio

    srv = await serve(echo)
    proc = await asyncio.create_subprocess_exec(
        "curl", "-s", "--http2", "-o", "/dev/null", "-w", "%{http_version} %{http_code}",
        f"http://127.0.0.1:{srv.bound_port}/up", stdout=subprocess.PIPE)
    out, _ = await asyncio.wait_for(proc.communicate(), 15)
    assert out.decode() == "2 200"
