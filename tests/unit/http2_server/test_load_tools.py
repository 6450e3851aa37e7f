"""HTTP/2 load clients against the server: every request answered, none failed.
(No timing assertions: the numbers go to the bench harness.)"""
from __future__ import annotations

import asyncio
import re
import shutil

import pytest

from tests.apps.basic import hello

pytestmark = pytest.mark.slow


async def h2load(*args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        "h2load", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    return out.decode()


@pytest.mark.skipif(shutil.which("h2load") is None, reason="h2load (nghttp2-client) missing")
@pytest.mark.parametrize("tls", [False, True], ids=["h2c", "h2-tls"])
async def test_h2load_multiplexed_requests_all_succeed(serve, server_ssl_context, tls) -> None:
    """RFC 9113 §5: 16 connections × 10 concurrent streams, 20 000 requests, 0 errors."""
    srv = await serve(hello, ssl_context=server_ssl_context if tls else None)
    scheme = "https" if tls else "http"
    out = await h2load("-n", "20000", "-c", "16", "-m", "10",
                       f"{scheme}://127.0.0.1:{srv.bound_port}/")
    summary = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, "
                        r"(\d+) failed, (\d+) errored", out)
    assert summary, out
    total, done, ok, failed, errored = map(int, summary.groups())
    assert (total, done, ok, failed, errored) == (20000, 20000, 20000, 0, 0)
    assert "20000 2xx" in out


@pytest.mark.skipif(shutil.which("h2load") is None, reason="h2load (nghttp2-client) missing")
async def test_h2load_uploads_flow_through_the_windows(serve, tmp_path) -> None:
    """RFC 9113 §6.9: 200 uploads of 1 MB each (far beyond the 64 KiB stream window)."""
    payload = tmp_path / "upload.bin"
    payload.write_bytes(b"u" * 1_000_000)
    srv = await serve(hello)
    out = await h2load("-n", "200", "-c", "2", "-m", "10", "-d", str(payload),
                       f"http://127.0.0.1:{srv.bound_port}/")
    assert re.search(r"200 succeeded, 0 failed, 0 errored", out), out
