"""Helpers shared by the ASGI adapters of every transport (ASGI 3 spec)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .connection import Connection

ASGI_VERSION = {"version": "3.0", "spec_version": "2.4"}


class ClientDisconnected(OSError):
    """ASGI spec 2.4: ``send()`` once the client is gone (connection closed, stream
    reset, WebSocket closed) raises this ``OSError`` subclass instead of doing nothing,
    so a streaming app stops producing (HTTP and WebSocket specs, "send")."""


def base_scope(
    conn: Connection,
    scope_type: str,
    http_version: str,
    method: str,
    path: str,
    raw_path: bytes,
    query_string: bytes,
    headers: list[tuple[bytes, bytes]],
    scheme: str | None = None,
) -> dict[str, Any]:
    """The keys common to ``http`` and ``websocket`` scopes.

    ``scheme`` defaults to http/https, or ws/wss for websocket scopes, by the transport.
    """
    if scheme is None:
        secure = conn.scheme_secure
        if scope_type == "websocket":
            scheme = "wss" if secure else "ws"
        else:
            scheme = "https" if secure else "http"
    scope: dict[str, Any] = {
        "type": scope_type,
        "asgi": ASGI_VERSION,
        "http_version": http_version,
        "scheme": scheme,
        "path": path,
        "raw_path": raw_path,
        "query_string": query_string,
        "root_path": conn.state.root_path,
        "headers": headers,
        "client": conn.client,
        "server": conn.server,
        "state": conn.state.lifespan_state.copy(),
        "extensions": {},
    }
    if scope_type == "http":
        scope["method"] = method
    return scope


def scope_from_template(template: dict[str, Any], conn: Connection, http_version: str,
                        method: str, path: str, raw_path: bytes, query_string: bytes,
                        headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """:func:`base_scope` of an ``http`` request, from ``template`` (a ``base_scope`` of
    the same connection, built once): a copy with the request's own keys set costs less
    than building all of them again."""
    scope = template.copy()
    scope["http_version"] = http_version
    scope["method"] = method
    scope["path"] = path
    scope["raw_path"] = raw_path
    scope["query_string"] = query_string
    scope["headers"] = headers
    scope["state"] = conn.state.lifespan_state.copy()
    scope["extensions"] = {}
    return scope
