"""The access log: one line per request on logger ``blackbull.access``.

The line is ``CLIENT - "METHOD TARGET HTTP/VERSION" STATUS BYTES DURATION``, e.g.::

    127.0.0.1:52814 - "GET /items?q=1 HTTP/1.1" 200 13 0.4ms
    [::1]:52816 - "CONNECT /chat HTTP/2" 200 0 1.2ms

It is an ASGI wrapper put around the app only when ``BB_ACCESS_LOG`` is on (checked once,
when the server starts), so a server without it pays nothing per request, and every
transport (HTTP/1.1, h2, h2c, WebSocket over HTTP/1.1 and RFC 8441) logs the same way.
A WebSocket is logged when its handshake is answered: ``101`` (RFC 6455 §4.2.2) or
``200`` (RFC 8441 §5) on accept, the denial status otherwise. STATUS and BYTES are the
response the app sent (BYTES: body octets); an app that fails before answering is
logged with the 500 the server sends for it (ASGI spec). The
fields are also on the log record (``record.client``, ``.method``, ``.target``,
``.http_version``, ``.status``, ``.bytes``, ``.duration``) for a ``--log-config``
formatter.
"""
from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger("blackbull.access")

_FORMAT = '%s - "%s %s HTTP/%s" %d %d %.1fms'


def _client(scope: dict[str, Any]) -> str:
    client = scope.get("client")
    if not client:
        return "-"
    host, port = client[0], client[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _target(scope: dict[str, Any]) -> str:
    raw: bytes = scope.get("raw_path") or scope.get("path", "").encode("utf-8")
    query = scope.get("query_string")
    if query:
        raw = raw + b"?" + query
    # The request target is ASCII on the wire; escape anything else (and quotes) so a
    # line always parses back into its fields.
    return raw.decode("ascii", "backslashreplace").replace('"', '\\"')


def log_request(scope: dict[str, Any], status: int, nbytes: int, seconds: float) -> None:
    """Emit the access-log line of one request (or WebSocket handshake)."""
    if scope["type"] == "http":
        method = scope.get("method", "-")
    else:  # websocket: what the wire carried (RFC 6455 §4.1 GET, RFC 8441 §4 CONNECT)
        method = "CONNECT" if scope.get("http_version") == "2" else "GET"
    client = _client(scope)
    target = _target(scope)
    version = scope.get("http_version", "1.1")
    millis = seconds * 1000.0
    log.info(_FORMAT, client, method, target, version, status, nbytes, millis,
             extra={"client": client, "method": method, "target": target,
                    "http_version": version, "status": status, "bytes": nbytes,
                    "duration": seconds})


class AccessLog:
    """ASGI wrapper that logs each ``http`` and ``websocket`` scope once."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __getattr__(self, name: str) -> Any:  # e.g. available_ws_protocols of the app
        return getattr(self.app, name)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        started = time.perf_counter()
        status = 0
        nbytes = 0

        async def watch(message: dict[str, Any]) -> None:
            nonlocal status, nbytes
            kind = message["type"]
            if kind == "http.response.body":
                nbytes += len(message.get("body", b""))
            elif kind == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            log_request(scope, status or 500, nbytes, time.perf_counter() - started)

    async def _websocket(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        started = time.perf_counter()
        status = 0
        nbytes = 0
        logged = False

        def done() -> None:
            nonlocal logged
            logged = True
            log_request(scope, status, nbytes, time.perf_counter() - started)

        async def watch(message: dict[str, Any]) -> None:
            nonlocal status, nbytes
            kind = message["type"]
            await send(message)
            if logged:
                return
            if kind == "websocket.accept":
                status = 200 if scope.get("http_version") == "2" else 101
                done()
            elif kind == "websocket.close":  # before accept: the denial (ASGI: 403)
                status = 403
                done()
            elif kind == "websocket.http.response.start":
                status = int(message["status"])
            elif kind == "websocket.http.response.body":
                nbytes += len(message.get("body", b""))
                if not message.get("more_body", False):
                    done()

        try:
            await self.app(scope, receive, watch)
        finally:
            if not logged:
                status = status or 500
                done()
