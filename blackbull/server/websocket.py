"""WebSocket over HTTP/1.1 (RFC 6455 §4): the carrier of :class:`WebSocketBridge`.

The HTTP/1.1 handler switches here for a request with ``Upgrade: websocket``. This
handler checks the opening handshake (§4.2.1; 400, or 426 for another version, §4.4),
builds the ASGI ``websocket`` scope and hands the session to the transport-independent
:class:`~blackbull.server.ws_bridge.WebSocketBridge`; it answers 101 when the app
accepts (§4.2.2) and owns the TCP side of the closing handshake (§7.1.1, §7.1.7).

Received bytes go to the bridge whole; the bridge paces them by frames (RFC 6455
§10.4, ``BB_WS_FRAMES_PER_TURN``): a read full of small frames is parsed over
several event-loop turns, with reading paused meanwhile, so one flooding peer cannot
hold the loop while others wait.
"""
from __future__ import annotations

import asyncio
import contextlib
import socket
import struct

from ..protocol.http1.events import Request
from ..protocol.websocket import negotiate_server
from ..protocol.websocket.handshake import (
    HandshakeRejection,
    render_http1_refusal,
    render_http1_response,
    validate_upgrade_request,
)
from .asgi import ClientDisconnected, base_scope
from .clock import http_date
from .connection import ProtocolHandler
from .ws_bridge import Headers, Phase, WebSocketBridge, pick_subprotocol

__all__ = ["ClientDisconnected", "WebSocketHandler", "pick_subprotocol"]

_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            426: "Upgrade Required", 500: "Internal Server Error"}


class WebSocketHandler(ProtocolHandler):
    """One WebSocket on an HTTP/1.1 connection (the ``Upgrade`` was asked by ``request``)."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.bridge: WebSocketBridge | None = None
        self._end_timer: asyncio.TimerHandle | None = None

    # --- ProtocolHandler --------------------------------------------------------------
    def start(self, initial_data: bytes) -> None:
        request = self.request
        try:
            handshake = validate_upgrade_request(
                request.method, request.http_version, request.headers)
        except HandshakeRejection as rejection:
            self.send_refusal(rejection.status, rejection.headers,
                              rejection.reason.encode("utf-8"))
            return
        state = self.conn.state
        deflate = negotiate_server(handshake.extensions) \
            if state.settings.ws_permessage_deflate else None
        self.bridge = bridge = WebSocketBridge(state, self, handshake, deflate)
        conn = self.conn
        scope = base_scope(conn, "websocket", request.http_version, request.method,
                           request.path, request.raw_path, request.query_string,
                           request.headers)
        bridge.start(scope)
        if initial_data:
            bridge.feed(initial_data)

    def data_received(self, data: bytes) -> None:
        if self.bridge is not None:
            self.bridge.feed(data)  # paced by frames in the bridge

    def eof_received(self) -> bool | None:
        return None  # asyncio closes the transport; connection_lost reports 1006

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._end_timer is not None:
            self._end_timer.cancel()
        bridge, self.bridge = self.bridge, None  # no cycle left behind (bridge.carrier)
        if bridge is not None:
            bridge.lost()

    def pause_writing(self) -> None:
        if self.bridge is not None:
            self.bridge.pause_writing()

    def resume_writing(self) -> None:
        if self.bridge is not None:
            self.bridge.resume_writing()

    def shutdown(self) -> None:
        if self.bridge is not None:
            self.bridge.shutdown()
        else:
            self.conn.close()

    @property
    def idle(self) -> bool:
        return self.bridge is None or self.bridge.phase is Phase.CLOSED

    # --- WebSocketCarrier -------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self.conn.closed

    def send_accept(self, headers: Headers) -> None:
        """RFC 6455 §4.2.2 item 5: 101 Switching Protocols."""
        self.conn.write(render_http1_response(101, "Switching Protocols", headers))

    def send_refusal(self, status: int, headers: Headers, body: bytes) -> None:
        """An HTTP/1.1 answer instead of the upgrade (§4.2.1, §4.4, ASGI denial)."""
        self.conn.write(render_http1_refusal(status, _REASONS.get(status, "Refused"),
                                             headers, body, date=http_date()))
        self.conn.close()

    def write(self, data: bytes) -> None:
        conn = self.conn  # Connection.write written out: once per message
        if not conn.closed:
            conn.transport.write(data)  # type: ignore[union-attr]

    def writelines(self, parts: list[bytes]) -> None:
        self.conn.writelines(parts)

    def end(self) -> None:
        self.conn.close()

    def end_after_failure(self, timeout: float) -> None:
        """§7.1.7: after our Close, half-close so the client reads it before the socket
        goes away; its answer is not processed. Abort if it never closes its side."""
        transport = self.conn.transport
        if transport is None or self.conn.closed:
            return
        if transport.can_write_eof():
            transport.write_eof()
            self._end_timer = asyncio.get_running_loop().call_later(timeout, self.conn.abort)
        else:
            self.conn.close()

    def abort(self) -> None:
        self.conn.abort()

    def discard(self) -> None:
        """Reset the TCP connection (SO_LINGER 0): the unread bytes in our socket's
        buffer go with it, instead of the kernel keeping them for a peer that never
        reads (a FIN would wait behind them)."""
        transport = self.conn.transport
        sock = transport.get_extra_info("socket") if transport is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.conn.abort()

    def pause_reading(self) -> None:
        self.conn.pause_reading()

    def resume_reading(self) -> None:
        self.conn.resume_reading()
