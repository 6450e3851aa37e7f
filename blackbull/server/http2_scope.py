"""HTTP/2 field sections to ASGI scopes, and the requests of server push.

Plain functions, no state: the handler (:mod:`blackbull.server.http2`) calls them for
each new stream.

* :func:`build_scope`: a request's fields as an ASGI ``http`` or ``websocket`` scope
  (RFC 9113 §8.3.1; ``cookie`` crumbs joined, §8.2.3; ``:authority`` as ``host``);
* :func:`push_request` (§8.4): the request of a stream the server promises itself.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

from .asgi import base_scope

if TYPE_CHECKING:
    from .connection import Connection

Headers = list[tuple[bytes, bytes]]


def build_scope(conn: Connection, headers: Headers, kind: str = "http") -> dict[str, Any]:
    """The ASGI scope of a request stream (``kind`` ``http``, or ``websocket`` for
    RFC 8441): pseudo-header fields become method and path (§8.3.1), the regular
    fields stay in order with the cookie crumbs joined into one field for HTTP/1.1
    semantics (§8.2.3), and ``:authority`` stands first as ``host`` when the request
    has no Host field."""
    method = b"GET"
    target = b"/"
    authority = None
    regular: Headers = []
    cookies: list[bytes] = []
    has_host = False
    for name, value in headers:
        if name[:1] == b":":
            if name == b":method":
                method = value
            elif name == b":path":
                target = value
            elif name == b":authority":
                authority = value
        elif name == b"cookie":
            cookies.append(value)
        else:
            if name == b"host":
                has_host = True
            regular.append((name, value))
    if cookies:
        regular.append((b"cookie", b"; ".join(cookies)))
    if authority is not None and not has_host:
        regular.insert(0, (b"host", authority))
    raw_path, _, query = target.partition(b"?")
    path = (unquote_to_bytes(raw_path) if b"%" in raw_path else raw_path).decode(
        "utf-8", "surrogateescape")
    return base_scope(conn, kind, "2", method.decode("ascii", "replace"), path,
                      raw_path, query, regular)


def push_request(parent: Mapping[str, Any], message: Mapping[str, Any]) -> Headers:
    """RFC 9113 §8.4.1: the request of a PUSH_PROMISE for ``http.response.push``: a GET
    of the message's path on the parent request's scheme and authority, with the
    message's headers."""
    path = message["path"]
    if isinstance(path, str):
        path = path.encode()
    authority = next((v for k, v in parent["headers"] if k == b"host"), b"")
    extra = [(bytes(k).lower(), bytes(v)) for k, v in message.get("headers", ())]
    return [(b":method", b"GET"), (b":scheme", parent["scheme"].encode()),
            (b":authority", authority), (b":path", path)] + extra
