"""RFC 9113 §10.5 (denial-of-service): what one HTTP/2 connection may hold, end to end
against a real socket: response data while the peer does not read, and the
connection's objects once it is closed."""
from __future__ import annotations

import asyncio
import gc
import socket
import weakref
from collections import Counter

import h2.settings

from tests.conftest_h2 import REQUEST, H2Client, h2_client

from .apps import app

_CHUNK = 256 * 1024
_CHUNKS = 64  # 16 MiB: far more than the loopback socket buffers hold
_MAX_WINDOW = 2**31 - 1


async def test_response_data_waits_while_the_peer_does_not_read(serve) -> None:
    """RFC 9113 §10.5: with both flow-control windows open wide, a peer that stops
    reading must not make the server copy a whole streamed response into its write
    buffer: once the transport is over its high-water mark the sender holds the DATA,
    and the app's ``send()`` waits, until the peer reads again."""
    sent: list[int] = []

    async def streaming(scope: dict, receive, send) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for i in range(_CHUNKS):
            await send({"type": "http.response.body", "body": b"x" * _CHUNK,
                        "more_body": True})
            sent.append(i)
        await send({"type": "http.response.body", "body": b""})

    srv = await serve(streaming)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", srv.bound_port))
    client = h2_client({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: _MAX_WINDOW})
    client.increment_flow_control_window(_MAX_WINDOW - 65535)
    client.send_headers(1, REQUEST, end_stream=True)
    await loop.sock_sendall(sock, client.data_to_send())  # and never read
    deadline = loop.time() + 5
    try:
        while not sent and loop.time() < deadline:  # the response has begun
            await asyncio.sleep(0.01)
        (conn,) = srv.state.connections
        before, stable_since = -1, loop.time()
        while len(sent) < _CHUNKS and loop.time() - stable_since < 0.5:
            await asyncio.sleep(0.05)
            if len(sent) != before:
                before, stable_since = len(sent), loop.time()
        buffered = conn.transport.get_write_buffer_size()
        assert len(sent) < _CHUNKS, "the whole response went to a peer that does not read"
        assert buffered < 2 * 1024 * 1024, f"{buffered} octets in the write buffer"
    finally:
        sock.close()


def _census(kinds: tuple[str, ...]) -> dict[str, int]:
    """Live objects of these blackbull classes among those the cyclic collector tracks."""
    names = Counter(type(o).__name__ for o in gc.get_objects()
                    if str(type(o).__module__).startswith("blackbull."))
    return {kind: names[kind] for kind in kinds}


async def test_a_closed_connection_is_freed_by_reference_counting(serve) -> None:
    """RFC 9113 §10.5: a closed connection gives its memory back at once, not at the
    cyclic garbage collector's next full collection, which under a flood of short
    connections comes late: the handler, its core and its components leave no
    reference cycle (the components refer to the handler weakly)."""
    srv = await serve(app)
    gc.collect()
    gc.disable()
    try:
        client = await H2Client.connect(srv.bound_port)
        headers, body, _ = await client.request(REQUEST)
        assert headers[b":status"] == b"200"
        (conn,) = srv.state.connections
        handler_ref = weakref.ref(conn.handler)
        kinds = ("HTTP2Handler", "H2Connection", "OutboundScheduler", "ConnectionTimers",
                 "ConnectionCloser", "StreamSpawner", "H2Stream")
        del conn
        await client.close()
        for _ in range(200):
            await asyncio.sleep(0.01)
            if handler_ref() is None:
                break
        assert handler_ref() is None, "the closed connection's handler is still alive"
        assert _census(kinds) == dict.fromkeys(kinds, 0)
    finally:
        gc.enable()
