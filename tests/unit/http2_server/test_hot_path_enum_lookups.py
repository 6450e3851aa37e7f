"""The per-request path of the HTTP/2 server (RFC 9113 §8.1: a request stream from
HEADERS to its END_STREAM response) reads no enum member through its class.

In CPython 3.11 ``StreamState.OPEN`` is an attribute of a class whose metaclass
(``EnumType``) defines ``__getattr__``, which puts every such lookup on the interpreter's
slow path: about ten of them per request cost 9 % of the instructions of a whole h2c
request (``scripts/profile_requests.py --proto h2c``: 136.4k before, 123.2k with module
constants). The hot modules use module-level constants instead; this guards that no
per-request lookup comes back. Per-connection ones (SETTINGS) are not counted: the
connection is open before the measured requests.
"""
from __future__ import annotations

import collections
import enum
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import blackbull
from tests.conftest_h2 import REQUEST, H2Client

from .apps import app

PACKAGE = str(Path(blackbull.__file__).parent)


@contextmanager
def enum_member_lookups() -> Iterator[collections.Counter[str]]:
    """Counts ``EnumClass.NAME`` lookups made by the server's own code."""
    seen: collections.Counter[str] = collections.Counter()
    lookup = type.__getattribute__

    def counting(cls: type, name: str) -> object:
        if not name.startswith("_"):
            code = sys._getframe(1).f_code
            if code.co_filename.startswith(PACKAGE):
                seen[f"{cls.__name__}.{name} in {code.co_name}"] += 1
        return lookup(cls, name)

    enum.EnumType.__getattribute__ = counting  # type: ignore[method-assign,assignment]
    try:
        yield seen
    finally:
        del enum.EnumType.__getattribute__


async def test_requests_on_an_open_connection_look_up_no_enum_member(serve) -> None:
    """Twenty GETs with their whole responses on an open h2c connection (the python-hyper
    ``h2`` client as the peer): the server's code reads no enum member by its class."""
    srv = await serve(app)
    client = await H2Client.connect(srv.bound_port)
    for _ in range(5):  # the SETTINGS exchange and its ACKs are done meanwhile
        headers, body, _ = await client.request(REQUEST)
        assert headers[b":status"] == b"200" and body == b"hello"
    with enum_member_lookups() as seen:
        for _ in range(20):
            headers, body, _ = await client.request(REQUEST)
            assert headers[b":status"] == b"200" and body == b"hello"
    await client.close()
    assert dict(seen) == {}


async def test_a_new_connection_and_its_first_request_look_up_no_enum_member(serve) -> None:
    """§3.4, §6.5: the preface, both SETTINGS and their ACKs, one request and the
    client's GOAWAY: what every new connection costs (the churn and many-connection
    loads) reads no enum member by its class either."""
    srv = await serve(app)
    warm = await H2Client.connect(srv.bound_port)  # imports and memos of a first use
    await warm.request(REQUEST)
    await warm.close()
    with enum_member_lookups() as seen:
        client = await H2Client.connect(srv.bound_port)
        headers, body, _ = await client.request(REQUEST)
        assert headers[b":status"] == b"200" and body == b"hello"
        await client.close()
    assert dict(seen) == {}


def test_the_counter_sees_a_lookup_by_the_servers_code() -> None:
    """The guard can fail: ``StreamState.OPEN`` read by code compiled as one of the
    package's modules is counted; the same read from a test is not."""
    from blackbull.protocol.http2.stream import StreamState

    probe = compile("StreamState.OPEN", f"{PACKAGE}/probe.py", "eval")
    with enum_member_lookups() as seen:
        assert eval(probe, {"StreamState": StreamState}) is StreamState.OPEN  # noqa: S307
    assert seen == {"StreamState.OPEN in <module>": 1}
