"""RFC 9113 §10.5 (denial-of-service): what one HTTP/2 connection may hold, end to end
against a real socket: the connection's objects once it is closed."""
from __future__ import annotations

import asyncio
import gc
import weakref
from collections import Counter

from tests.conftest_h2 import REQUEST, H2Client

from .apps import app

_CHUNK = 256 * 1024
_CHUNKS = 64  # 16 MiB: far more than the loopback socket buffers hold
_MAX_WINDOW = 2**31 - 1


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
