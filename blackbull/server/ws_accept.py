"""The server's answers to a WebSocket opening handshake, as the ASGI app gives them.

``websocket.accept`` opens the session: the subprotocol (RFC 6455 §4.2.2 item 5, §1.9)
and the sans-I/O core with this server's limits (:func:`server_core`). A
``websocket.http.response.start`` and its ``…body`` messages (the ASGI WebSocket Denial
Response extension) refuse it with an HTTP response instead (:class:`Denial`).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..config import Settings
from ..protocol.websocket import DeflateParams, PerMessageDeflate, Role, WebSocketConnection
from .ws_carrier import Headers


def pick_subprotocol(app: object, offered: list[str]) -> str | None:
    """The first of the client's offers the app lists in ``available_ws_protocols``."""
    available = getattr(app, "available_ws_protocols", None)
    if not available:
        return None
    names = {p.decode("latin-1") if isinstance(p, bytes) else str(p) for p in available}
    for offer in offered:
        if offer in names:
            return offer
    return None


def server_core(settings: Settings, params: DeflateParams | None,
                clock: Callable[[], float]) -> WebSocketConnection:
    """The server's core for an accepted WebSocket: permessage-deflate when it was agreed
    (RFC 7692 §5), the BB_WS_* limits (RFC 6455 §10.4), and our own Close answers
    (``auto_close=False``: the bridge lets the app answer what came before a Close)."""
    return WebSocketConnection(
        Role.SERVER,
        deflate=PerMessageDeflate(params, is_server=True,
                                  max_window_bits=settings.ws_deflate_window_bits)
        if params else None,
        max_frame_size=settings.ws_max_frame_size,
        max_message_size=settings.ws_max_message_size,
        max_fragments=settings.ws_max_fragments,
        max_empty_fragments=settings.ws_max_empty_fragments,
        ping_burst=settings.ws_max_ping_burst,
        ping_rate=settings.ws_max_ping_rate,
        clock=clock,
        auto_close=False)


class Denial:
    """An HTTP response the app sends instead of accepting (ASGI WebSocket Denial
    Response): its ``websocket.http.response.start``, then body pieces until one has no
    ``more_body``."""

    __slots__ = ("start", "_body")

    def __init__(self, start: dict[str, Any]) -> None:
        self.start = start
        self._body: list[bytes] = []

    def add(self, message: dict[str, Any]) -> tuple[int, bytes, Headers] | None:
        """A ``websocket.http.response.body``; the whole response (status, body,
        headers) once it was the last piece, else None."""
        self._body.append(message.get("body", b""))
        if message.get("more_body", False):
            return None
        headers = [(bytes(k).lower(), bytes(v)) for k, v in self.start.get("headers", [])]
        return int(self.start.get("status", 403)), b"".join(self._body), headers
