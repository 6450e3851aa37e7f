"""HTTP/2 field sections to ASGI scopes, and the requests of server push.

Plain functions with no state but a bounded memo: the handler (:mod:`blackbull.server.http2`) calls them for
each new stream.

* :func:`request_head`: what a request's fields mean (RFC 9113 §8.3.1; ``cookie`` crumbs
  joined, §8.2.3; ``:authority`` as ``host``; RFC 8441 ``:protocol``; RFC 9218
  ``priority``), memoised per distinct field section;
* :func:`build_scope`: a request's fields as an ASGI ``http`` or ``websocket`` scope;
* :func:`push_request` (§8.4): the request of a stream the server promises itself.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import unquote_to_bytes

from ..protocol.http2.priority import Priority, parse_priority_field
from ..protocol.memo import remember
from .asgi import base_scope, scope_from_template

if TYPE_CHECKING:
    from .connection import Connection

Headers = list[tuple[bytes, bytes]]


class RequestHead(NamedTuple):
    """What a request's field section means to the server, apart from the connection:
    the parts of its ASGI scope, its RFC 8441 ``:protocol`` and its RFC 9218
    ``priority`` header."""

    method: str
    path: str
    raw_path: bytes
    query: bytes
    #: The regular fields as the scope lists them (a fresh list is made per request).
    fields: tuple[tuple[bytes, bytes], ...]
    protocol: bytes | None
    priority: Priority | None


#: Field section → its :class:`RequestHead`: clients repeat the same request heads, so
#: each distinct one is taken apart once. Bounded: cleared when full, and only sections
#: of at most ``_HEAD_MAX_OCTETS`` (as RFC 9113 §6.5.2 counts them) are kept.
_HEADS: dict[tuple[tuple[bytes, bytes], ...], RequestHead] = {}
_HEADS_MAX = 256
_HEAD_MAX_OCTETS = 4096


def request_head(headers: Headers, size: int = -1) -> RequestHead:
    """The :class:`RequestHead` of a field section; ``size`` is its §6.5.2 size when
    the caller knows it (computed otherwise)."""
    key = tuple(headers)
    head = _HEADS.get(key)
    if head is None:
        head = _request_head(headers)
        if size < 0:
            size = sum(32 + len(n) + len(v) for n, v in headers)
        if size <= _HEAD_MAX_OCTETS:
            remember(_HEADS, key, head, _HEADS_MAX)
    return head


def _request_head(headers: Headers) -> RequestHead:
    """Pseudo-header fields become method and path (§8.3.1), the regular fields stay
    in order with the cookie crumbs joined into one field for HTTP/1.1 semantics
    (§8.2.3), and ``:authority`` stands first as ``host`` when the request has no
    Host field."""
    method = b"GET"
    target = b"/"
    authority = None
    protocol = None
    priority = None
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
            elif name == b":protocol" and not regular and not cookies:
                protocol = value  # a pseudo-header only before the regular fields (§8.3)
        elif name == b"cookie":
            cookies.append(value)
        else:
            if name == b"host":
                has_host = True
            elif name == b"priority" and priority is None:
                priority = parse_priority_field(value)  # RFC 9218 §5
            regular.append((name, value))
    if cookies:
        regular.append((b"cookie", b"; ".join(cookies)))
    if authority is not None and not has_host:
        regular.insert(0, (b"host", authority))
    raw_path, _, query = target.partition(b"?")
    path = (unquote_to_bytes(raw_path) if b"%" in raw_path else raw_path).decode(
        "utf-8", "surrogateescape")
    return RequestHead(method.decode("ascii", "replace"), path, raw_path, query,
                       tuple(regular), protocol, priority)


def build_scope(conn: Connection, headers: Headers, kind: str = "http",
                head: RequestHead | None = None,
                template: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ASGI scope of a request stream (``kind`` ``http``, or ``websocket`` for
    RFC 8441), from its field section (see :func:`request_head`, whose result the
    caller may pass as ``head``). An ``http`` scope is copied from ``template`` when
    given (:func:`scope_template`): the connection's keys are not built again."""
    if head is None:
        head = request_head(headers)
    if template is not None and kind == "http":
        return scope_from_template(template, conn, "2", head.method, head.path,
                                   head.raw_path, head.query, list(head.fields))
    return base_scope(conn, kind, "2", head.method, head.path, head.raw_path, head.query,
                      list(head.fields))


def scope_template(conn: Connection) -> dict[str, Any]:
    """The keys of an ``http`` scope that are the connection's (scheme, client, server,
    root path), built once per connection for :func:`build_scope`."""
    return base_scope(conn, "http", "2", "GET", "/", b"/", b"", [])


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
