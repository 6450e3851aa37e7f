"""WebSocket over HTTP/1.1 on a connection: the ASGI ``websocket`` adapter.

The HTTP/1.1 handler switches here for a request with ``Upgrade: websocket``. This
handler checks the opening handshake (RFC 6455 §4.2.1; 400/426 answered here), runs
the app with the ASGI ``websocket`` scope, sends the 101 when the app accepts (§4.2.2)
or the denial response when it refuses, and from then on drives the sans-I/O core
:class:`~blackbull.protocol.websocket.WebSocketConnection`.
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from enum import Enum
from typing import Any

from ..protocol.http1.events import Request
from ..protocol.websocket import (
    BytesMessage,
    CloseCode,
    CloseReceived,
    ConnectionFailed,
    DeflateParams,
    PerMessageDeflate,
    Role,
    TextMessage,
    WebSocketConnection,
    negotiate_server,
)
from ..protocol.websocket.handshake import (
    HandshakeRejection,
    HandshakeRequest,
    render_http1_response,
    server_response_headers,
    validate_upgrade_request,
)
from .asgi import base_scope
from .connection import ProtocolHandler

log = logging.getLogger("blackbull.server")

#: Bytes a client may send before the app accepts; past this we stop reading.
_PENDING_HIGH = 256 * 1024
_REASONS = {400: "Bad Request", 403: "Forbidden", 426: "Upgrade Required",
            500: "Internal Server Error"}


#: Seconds the app gets to answer messages that arrived before a Close (see
#: ``_close_pending``) before our Close goes out anyway.
_CLOSE_REPLY_GRACE = 1.0
_CLOSE_MARK: dict[str, Any] = {"type": "blackbull.close-mark"}


class ClientDisconnected(OSError):
    """ASGI: ``send`` on a WebSocket that is already closed."""


class Phase(Enum):
    HANDSHAKE = "handshake"   # waiting for the app's accept/close
    OPEN = "open"             # 101 sent; frames flow
    CLOSED = "closed"         # disconnect reached the app's queue (or never opened)


def pick_subprotocol(app: Any, offered: list[str]) -> str | None:
    """The first of the client's offers the app lists in ``available_ws_protocols``."""
    available = getattr(app, "available_ws_protocols", None)
    if not available:
        return None
    names = {p.decode("latin-1") if isinstance(p, bytes) else str(p) for p in available}
    for offer in offered:
        if offer in names:
            return offer
    return None


class WebSocketHandler(ProtocolHandler):
    """One WebSocket connection: handshake, ASGI bridge, frames, closing handshake."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.phase = Phase.HANDSHAKE
        self.handshake: HandshakeRequest | None = None
        self.deflate_params: DeflateParams | None = None
        self.ws: WebSocketConnection | None = None
        self.inbox: deque[dict[str, Any]] = deque()
        self.disconnect: dict[str, Any] | None = None
        self._waiter: asyncio.Future | None = None
        self._writable: asyncio.Event | None = None
        self._pending = bytearray()
        self._connect_delivered = False
        self._denial: dict[str, Any] | None = None
        self._denial_body: list[bytes] = []
        self._close_timer: asyncio.TimerHandle | None = None
        self._ping_timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task | None = None

    # --- ProtocolHandler --------------------------------------------------------------
    def start(self, initial_data: bytes) -> None:
        request = self.request
        try:
            self.handshake = validate_upgrade_request(
                request.method, request.http_version, request.headers)
        except HandshakeRejection as rejection:
            self._reject(rejection.status, rejection.reason, rejection.headers)
            return
        settings = self.conn.state.settings
        if settings.ws_permessage_deflate:
            self.deflate_params = negotiate_server(self.handshake.extensions)
        self._writable = asyncio.Event()
        self._writable.set()
        self._pending += initial_data
        scope = base_scope(self.conn, "websocket", request.http_version, request.method,
                           request.path, request.raw_path, request.query_string,
                           request.headers)
        scope["subprotocols"] = list(self.handshake.subprotocols)
        scope["extensions"]["websocket.http.response"] = {}
        self._task = self.conn.state.spawn(self._run_app(scope))

    def data_received(self, data: bytes) -> None:
        if self.phase is Phase.HANDSHAKE:
            self._pending += data
            if len(self._pending) > _PENDING_HIGH:
                self.conn.pause_reading()
            return
        if self.ws is None:
            return
        for event in self.ws.receive_data(data):
            if isinstance(event, TextMessage):
                self._deliver({"type": "websocket.receive", "text": event.data})
            elif isinstance(event, BytesMessage):
                self._deliver({"type": "websocket.receive", "bytes": event.data})
            elif isinstance(event, CloseReceived | ConnectionFailed):
                self._flush()
                self._close_pending()
                return
        self._flush()

    def _close_pending(self) -> None:
        """A Close arrived or the peer broke the protocol. Messages that came before it are
        still queued for the app: the answering Close goes out once the app has taken them
        (its next ``receive``), so their replies precede it (§5.5.1 "as soon as
        practical"), or after a short grace period."""
        assert self.ws is not None
        if self.ws.close_sent or not self.inbox:
            # nothing queued the app could still answer (or we already sent our Close)
            if self.ws.close_sent or self._waiter is not None:
                self._complete_close()
                return
        self.inbox.append(_CLOSE_MARK)
        self._close_timer = asyncio.get_running_loop().call_later(
            _CLOSE_REPLY_GRACE, self._complete_close)
        self._wake()

    def _complete_close(self) -> None:
        """Send our Close (echo, or the failure's code) and end the TCP connection."""
        ws = self.ws
        if ws is None or self.phase is Phase.CLOSED:
            return
        self._cancel_timers()
        ws.answer_close()
        self._flush()
        if ws.failure is not None:
            self._fail(ws.failure)
        else:
            received = ws.close_received
            assert received is not None
            self._finish(received.code, received.reason)
            self.conn.close()  # §7.1.1: the server closes the TCP connection first

    def eof_received(self) -> bool | None:
        return None  # asyncio closes the transport; connection_lost reports 1006

    def connection_lost(self, exc: BaseException | None) -> None:
        self._cancel_timers()
        if self._writable is not None:
            self._writable.set()
        ws = self.ws
        if ws is not None and ws.failure is not None:
            self._finish(ws.failure.code, ws.failure.reason)
        elif ws is not None and ws.close_received is not None:
            self._finish(ws.close_received.code, ws.close_received.reason)
        else:
            self._finish(CloseCode.ABNORMAL, "")  # §7.1.5: no Close frame was received

    def pause_writing(self) -> None:
        if self._writable is not None:
            self._writable.clear()

    def resume_writing(self) -> None:
        if self._writable is not None:
            self._writable.set()

    def shutdown(self) -> None:
        """Graceful shutdown: 1001 Going Away (RFC 6455 §7.4.1), then the close timer."""
        if self.phase is Phase.OPEN and self.ws is not None and not self.ws.close_sent:
            self._start_close(CloseCode.GOING_AWAY, "server shutting down")
        elif self.phase is not Phase.OPEN:
            self.conn.close()

    @property
    def idle(self) -> bool:
        return self.phase is Phase.CLOSED

    # --- ASGI receive/send ------------------------------------------------------------
    async def receive(self) -> dict[str, Any]:
        if not self._connect_delivered:
            self._connect_delivered = True
            return {"type": "websocket.connect"}
        while not self.inbox:
            if self.disconnect is not None:
                return self.disconnect
            loop = asyncio.get_running_loop()
            self._waiter = loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        message = self.inbox.popleft()
        if message is _CLOSE_MARK:
            self._complete_close()
            assert self.disconnect is not None
            return self.disconnect
        if len(self.inbox) < self.conn.state.settings.ws_queue_depth:
            self.conn.resume_reading()
        return message

    async def send(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if self.phase is Phase.HANDSHAKE:
            self._send_handshake(kind, message)
            return
        ws = self.ws
        if self.phase is Phase.CLOSED or ws is None or ws.close_sent or self.conn.closed:
            raise ClientDisconnected("the WebSocket is closed")
        if kind == "websocket.send":
            text, data = message.get("text"), message.get("bytes")
            if data is not None:
                ws.send_bytes(data)
            elif text is not None:
                ws.send_text(text)
            else:
                raise ValueError("websocket.send needs 'bytes' or 'text'")
            self._flush()
            assert self._writable is not None
            if not self._writable.is_set():
                await self._writable.wait()  # transport buffer is full: back-pressure
        elif kind == "websocket.close":
            self._start_close(message.get("code", CloseCode.NORMAL),
                              message.get("reason") or "")
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} on an open WebSocket")

    def _send_handshake(self, kind: Any, message: dict[str, Any]) -> None:
        if kind == "websocket.accept":
            self._accept(message)
        elif kind == "websocket.close":
            self._reject(403, "the application refused the WebSocket")
        elif kind == "websocket.http.response.start":
            self._denial = message
        elif kind == "websocket.http.response.body" and self._denial is not None:
            self._denial_body.append(message.get("body", b""))
            if not message.get("more_body", False):
                self._send_denial()
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} before accept")

    # --- handshake outcomes -----------------------------------------------------------
    def _accept(self, message: dict[str, Any]) -> None:
        """RFC 6455 §4.2.2 item 5: the 101 answer, then the frames begin."""
        assert self.handshake is not None
        subprotocol = message.get("subprotocol") or pick_subprotocol(
            self.conn.state.app, self.handshake.subprotocols)
        params = self.deflate_params
        headers = server_response_headers(
            self.handshake, subprotocol, params.render() if params else None,
            message.get("headers") or ())
        self.conn.write(render_http1_response(101, "Switching Protocols", headers))
        settings = self.conn.state.settings
        self.ws = WebSocketConnection(
            Role.SERVER,
            deflate=PerMessageDeflate(params, is_server=True) if params else None,
            max_frame_size=settings.ws_max_frame_size,
            max_message_size=settings.ws_max_message_size,
            auto_close=False)
        self.phase = Phase.OPEN
        if settings.ws_ping_interval > 0:
            self._schedule_ping()
        pending = bytes(self._pending)
        self._pending.clear()
        self.conn.resume_reading()
        if pending:
            self.data_received(pending)

    def _reject(self, status: int, reason: str,
                headers: list[tuple[bytes, bytes]] | None = None) -> None:
        """Answer the handshake with an HTTP error and close (§4.2.1, §4.4)."""
        body = reason.encode("utf-8")
        head = list(headers or []) + [(b"content-type", b"text/plain; charset=utf-8"),
                                      (b"content-length", str(len(body)).encode()),
                                      (b"connection", b"close")]
        self.conn.write(render_http1_response(status, _REASONS.get(status, "Error"),
                                              head, body))
        self.phase = Phase.CLOSED
        self.disconnect = {"type": "websocket.disconnect", "code": CloseCode.ABNORMAL,
                           "reason": ""}
        self.conn.close()

    def _send_denial(self) -> None:
        """The ``websocket.http.response`` extension: the app's own denial response."""
        start = self._denial or {}
        body = b"".join(self._denial_body)
        status = int(start.get("status", 403))
        headers = [(bytes(k).lower(), bytes(v)) for k, v in start.get("headers", [])]
        headers = [(k, v) for k, v in headers if k not in (b"content-length", b"connection")]
        headers += [(b"content-length", str(len(body)).encode()), (b"connection", b"close")]
        self.conn.write(render_http1_response(status, _REASONS.get(status, "Denied"),
                                              headers, body))
        self.phase = Phase.CLOSED
        self.disconnect = {"type": "websocket.disconnect", "code": CloseCode.ABNORMAL,
                           "reason": ""}
        self.conn.close()

    # --- closing ----------------------------------------------------------------------
    def _start_close(self, code: int, reason: str) -> None:
        """We start the closing handshake (§7.1.2) and wait for the peer's Close."""
        assert self.ws is not None
        try:
            self.ws.send_close(code, reason)
        except ValueError:
            self.ws.send_close(CloseCode.INTERNAL_ERROR, "invalid close code from the app")
        self._flush()
        if self.ws.close_received is not None:
            self.conn.close()
            return
        timeout = self.conn.state.settings.ws_close_timeout
        self._close_timer = asyncio.get_running_loop().call_later(timeout, self.conn.abort)

    def _fail(self, event: ConnectionFailed) -> None:
        """§7.1.7: our Close is sent; stop processing input, close the TCP connection."""
        log.debug("websocket failed: %d %s", event.code, event.reason)
        self._finish(event.code, event.reason)
        transport = self.conn.transport
        if transport is not None and transport.can_write_eof() and not self.conn.closed:
            # Half-close so the client reads our Close before the socket goes away; its
            # answer is discarded (the core ignores input once failed).
            transport.write_eof()
            timeout = self.conn.state.settings.ws_close_timeout
            self._close_timer = asyncio.get_running_loop().call_later(timeout,
                                                                      self.conn.abort)
        else:
            self.conn.close()

    def _finish(self, code: int, reason: str) -> None:
        """Queue ``websocket.disconnect`` once (ASGI)."""
        if self.disconnect is None:
            self.disconnect = {"type": "websocket.disconnect", "code": int(code),
                               "reason": reason}
        self.phase = Phase.CLOSED
        self._wake()

    # --- plumbing ---------------------------------------------------------------------
    def _deliver(self, message: dict[str, Any]) -> None:
        self.inbox.append(message)
        if len(self.inbox) >= self.conn.state.settings.ws_queue_depth:
            self.conn.pause_reading()  # back-pressure: the app is behind
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _flush(self) -> None:
        if self.ws is not None:
            data = self.ws.data_to_send()
            if data:
                self.conn.write(data)

    def _schedule_ping(self) -> None:
        interval = self.conn.state.settings.ws_ping_interval
        self._ping_timer = asyncio.get_running_loop().call_later(interval, self._ping)

    def _ping(self) -> None:
        if self.phase is Phase.OPEN and self.ws is not None and not self.ws.close_sent:
            self.ws.send_ping(b"blackbull")
            self._flush()
            self._schedule_ping()

    def _cancel_timers(self) -> None:
        for timer in (self._close_timer, self._ping_timer):
            if timer is not None:
                timer.cancel()
        self._close_timer = self._ping_timer = None

    async def _run_app(self, scope: dict[str, Any]) -> None:
        try:
            await self.conn.state.app(scope, self.receive, self.send)
        except ClientDisconnected:
            pass
        except Exception as exc:  # the app's bug must not take the server down
            log.error("websocket application error: %s: %s", type(exc).__name__, exc)
            self._after_app(error=True)
        else:
            self._after_app(error=False)

    def _after_app(self, *, error: bool) -> None:
        """ASGI: an app that ends before accepting gets 500 (403 if it closed); one that
        ends while open has its connection closed (1011 after an error, else 1000)."""
        if self.phase is Phase.HANDSHAKE:
            self._reject(500, "the application did not accept the WebSocket")
        elif self.phase is Phase.OPEN and self.ws is not None and not self.ws.close_sent:
            if error:
                self._start_close(CloseCode.INTERNAL_ERROR, "")
            else:
                self._start_close(CloseCode.NORMAL, "")
