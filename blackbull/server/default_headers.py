"""Response fields the server adds to every response (``BB_SERVER_HEADER``, ``BB_HEADERS``).

An ASGI wrapper, put around the app only when one is configured: it adds each field the
app's ``http.response.start``, ``websocket.accept`` or ``websocket.http.response.start``
does not already carry (the app's own value wins). ``Server`` is RFC 9110 §10.2.4.
"""
from __future__ import annotations

from typing import Any

from ..version import __version__

Headers = list[tuple[bytes, bytes]]
_START = ("http.response.start", "websocket.accept", "websocket.http.response.start")


def parse_headers(spec: str) -> Headers:
    """``BB_HEADERS``: ``Name: value`` lines; raises ValueError on a malformed one."""
    out: Headers = []
    for line in spec.splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        name = name.strip()
        if not sep or not name or any(c in name for c in ' \t"(),/;<=>?@[\\]{}'):
            raise ValueError(f"BB_HEADERS: {line!r} is not 'Name: value'")
        out.append((name.lower().encode("ascii"), value.strip().encode("latin-1")))
    return out


def default_headers(server_header: bool, spec: str) -> Headers:
    fields = parse_headers(spec)
    if server_header and not any(name == b"server" for name, _ in fields):
        fields.insert(0, (b"server", f"blackbull/{__version__}".encode()))
    return fields


class DefaultHeaders:
    """ASGI wrapper adding ``fields`` to each response start the app sends."""

    def __init__(self, app: Any, fields: Headers) -> None:
        self.app = app
        self.fields = fields

    def __getattr__(self, name: str) -> Any:  # e.g. available_ws_protocols of the app
        return getattr(self.app, name)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        fields = self.fields

        async def add(message: dict[str, Any]) -> None:
            if message["type"] in _START:
                headers = list(message.get("headers") or ())
                present = {bytes(name).lower() for name, _ in headers}
                headers += [(n, v) for n, v in fields if n not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, add)
