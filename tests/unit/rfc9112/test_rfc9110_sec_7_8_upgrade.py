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


_UPGRADES = {
    "h2c": b"Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n"
           b"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n",
    "websocket": b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                 b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
    "foo": b"Upgrade: foo\r\nConnection: upgrade\r\n",
}


def _chunked(body: bytes, piece: int = 7000) -> bytes:
    out = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + piece]), body[i:i + piece])
                   for i in range(0, len(body), piece))
    return out + b"0\r\n\r\n"


async def _send_in_reads(port: int, head: bytes, body_wire: bytes, tail: bytes,
                         pieces: int) -> bytes:
    """The head alone first, then the body in ``pieces`` later writes (each its own
    read on the server: the sends are apart in time), then ``tail``."""
    import asyncio

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head)
        await writer.drain()
        await asyncio.sleep(0.05)
        step = max(1, -(-len(body_wire) // pieces))
        for i in range(0, len(body_wire), step):
            writer.write(body_wire[i:i + step])
            await writer.drain()
            await asyncio.sleep(0.02)
        writer.write(tail)
        out = b""
        while chunk := await asyncio.wait_for(reader.read(65536), 10):
            out += chunk
        return out
    finally:
        writer.close()


@pytest.mark.parametrize("upgrade", sorted(_UPGRADES))
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
@pytest.mark.parametrize("size", [1, 5000, 300_000])
async def test_upgrade_request_with_body_in_later_reads_is_answered_once(
        serve, upgrade: str, framing: str, size: int):
    """RFC 9110 §7.8 / RFC 9113 §3.2 / RFC 9112 §6: an Upgrade request whose body (any
    size, Content-Length or chunked) is not in the head's read is not upgraded: it is
    served over HTTP/1.1 with its whole body, answered exactly once, and the request
    after it is the next request (no second answer, no desynchronisation)."""
    srv = await serve(echo)
    body = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
    if framing == "chunked":
        fields, wire = b"Transfer-Encoding: chunked\r\n", _chunked(body)
    else:
        fields, wire = b"Content-Length: %d\r\n" % size, body
    head = b"POST /up HTTP/1.1\r\nHost: x\r\n" + _UPGRADES[upgrade] + fields + b"\r\n"
    tail = b"GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    data = await _send_in_reads(srv.bound_port, head, wire, tail, pieces=4)
    assert data.count(b"HTTP/1.1 ") == 2, data[:300]
    first, second = data.split(b"HTTP/1.1 200 OK")[1:]
    assert b"x-path: /up" in first and first.endswith(b"\r\n\r\n" + body)
    assert b"x-path: /next" in second and b" 400 " not in data and b" 101 " not in data


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
async def test_curl_h2c_upgrade_with_300kb_body_gets_its_whole_body(serve, tmp_path):
    """RFC 9113 §3.2: ``curl --http2 --data-binary @300KB`` (Upgrade: h2c with a body, and
    Expect: 100-continue) is answered once over HTTP/1.1 with the body's whole length."""
    import asyncio

    srv = await serve(echo)
    payload = tmp_path / "body"
    payload.write_bytes(b"b" * 300_000)
    proc = await asyncio.create_subprocess_exec(
        "curl", "-s", "--http2", "--data-binary", f"@{payload}", "-o", "/dev/null",
        "-w", "%{http_version} %{http_code} %{size_download} %{num_connects}",
        f"http://127.0.0.1:{srv.bound_port}/up", stdout=subprocess.PIPE)
    out, _ = await asyncio.wait_for(proc.communicate(), 15)
    assert out.decode() == "1.1 200 300000 1"


@pytest.mark.parametrize("split", [0, 1, 7, 40])
def test_parser_ignored_upgrade_body_is_one_message_whatever_the_reads(split: int):
    """RFC 9110 §7.8, RFC 9112 §6.3 (sans-I/O): the chunked body of an Upgrade request
    that is not upgraded, cut anywhere into reads, is one request's Data and one
    EndOfMessage — a request line inside the chunk data is data, not a second request."""
    from blackbull.protocol.http1.events import Data, EndOfMessage, Request
    from blackbull.protocol.http1.parser import RequestParser

    parser = RequestParser()
    head = (b"POST /a HTTP/1.1\r\nHost: x\r\nUpgrade: foo\r\nConnection: upgrade\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    inner = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    wire = b"%x\r\n%s\r\n0\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n" % (len(inner), inner)
    events = parser.feed(head)
    for piece in (wire[:split], wire[split:]) if split else (wire,):
        events += parser.feed(piece)
    requests = [e.path for e in events if isinstance(e, Request)]
    assert requests == ["/a", "/b"]
    first_end = next(i for i, e in enumerate(events) if isinstance(e, EndOfMessage))
    assert b"".join(e.data for e in events[:first_end] if isinstance(e, Data)) == inner
    assert sum(isinstance(e, EndOfMessage) for e in events) == 2


def test_parser_ignored_upgrade_body_keeps_the_body_limit():
    """RFC 9110 §15.5.14: BB_H1_MAX_BODY still applies to the chunked body of an ignored
    Upgrade request read in a later read → 413."""
    from blackbull.protocol.http1.events import RequestRejected
    from blackbull.protocol.http1.parser import RequestParser

    parser = RequestParser(max_body=10)
    parser.feed(b"POST / HTTP/1.1\r\nHost: x\r\nUpgrade: foo\r\nConnection: upgrade\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n")
    events = parser.feed(b"b\r\nabcabcabcab\r\n0\r\n\r\n")
    assert [e.status for e in events if isinstance(e, RequestRejected)] == [413]
