"""One HTTP/1.1 request and its response: the ASGI ``http`` ``receive``/``send`` pair
(ASGI HTTP spec 2.4), fed by :class:`~blackbull.server.http1.HTTP1Handler`.

``receive()`` yields the body as it is parsed and reports ``http.disconnect`` when the
client is gone (or, after the body, has closed its side); ``send()`` frames the response
with :class:`ResponseWriter`, waits while the socket's write buffer is full, and raises
:class:`ClientDisconnected` once the client is gone.
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING, Any

from ..protocol.http1.events import Request
from ..protocol.http1.response import ResponseError, ResponseWriter, simple_response
from .asgi import ClientDisconnected, base_scope
from .clock import http_date
from .ratelog import log_limited

if TYPE_CHECKING:
    from .http1 import HTTP1Handler

log = logging.getLogger("blackbull.server")

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_DISCONNECT = {"type": "http.disconnect"}


class RequestCycle:
    """One request and its response: the ASGI ``receive``/``send`` pair."""

    __slots__ = (
        "handler", "request", "scope", "chunks", "buffered", "body_complete", "waiter",
        "writer", "response_complete", "disconnected", "continue_sent", "keep_alive",
        "final_sent", "client_eof", "_start",
    )

    def __init__(self, handler: HTTP1Handler, request: Request) -> None:
        self.handler = handler
        self.request = request
        self.chunks: deque[bytes] | None = None  # made when a body piece arrives
        self.buffered = 0
        self.body_complete = not request.has_body
        self.waiter: asyncio.Future | None = None
        self.writer: ResponseWriter | None = None
        self.response_complete = False
        self.disconnected = False
        self.continue_sent = False
        self.final_sent = False
        self.client_eof = False
        self.keep_alive = request.keep_alive
        self._start: dict[str, Any] | None = None
        conn = handler.conn
        self.scope = base_scope(
            conn, "http", request.http_version, request.method, request.path,
            request.raw_path, request.query_string, request.headers)

    # --- fed by the handler ----------------------------------------------------------
    def feed_body(self, data: bytes) -> None:
        if self.response_complete:
            return  # the app is done with this request: discard the rest of its body
        chunks = self.chunks
        if chunks is None:
            chunks = self.chunks = deque()
        chunks.append(data)
        self.buffered += len(data)
        self._wake()

    def end_body(self) -> None:
        self.body_complete = True
        self._wake()

    def disconnect(self) -> None:
        self.disconnected = True
        self._wake()

    def end_of_input(self) -> None:
        """The client closed its sending side after this request's body (a full close
        looks the same until a write fails): an app waiting on ``receive()`` for more
        than the body is told ``http.disconnect``, as uvicorn, hypercorn and nginx
        read an EOF; what the app still sends goes out, for a client that half-closed
        and still reads (RFC 9112 §9.6), unless the app was told of the disconnect."""
        self.client_eof = True
        self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- ASGI ------------------------------------------------------------------------
    async def receive(self) -> dict[str, Any]:
        while True:
            if self.disconnected:
                return _DISCONNECT
            if self.chunks:
                body = b"".join(self.chunks) if len(self.chunks) > 1 else self.chunks[0]
                self.chunks.clear()
                self.buffered = 0
                self.final_sent = self.body_complete
                self.handler.body_consumed()
                return {"type": "http.request", "body": body,
                        "more_body": not self.body_complete}
            if self.body_complete:
                if not self.final_sent:
                    self.final_sent = True
                    return {"type": "http.request", "body": b"", "more_body": False}
                if self.response_complete:
                    return _DISCONNECT
                if self.client_eof:
                    self.disconnected = True  # told so: from now on send() raises
                    return _DISCONNECT
            elif self.request.expect_continue and not self.continue_sent \
                    and self.writer is None:
                # RFC 9110 §10.1.1: the client waits for 100 before sending the body.
                self.continue_sent = True
                self.handler.conn.write(_CONTINUE)
            waiter = self.waiter = self.handler.loop.create_future()
            await waiter

    async def send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if self.disconnected or (self.handler.conn.transport.is_closing()  # type: ignore[union-attr]
                                 and not self.response_complete):
            # ASGI spec 2.4: send() once the client is gone raises an OSError subclass
            # (a failed write closes the transport before connection_lost reaches us).
            raise ClientDisconnected("the HTTP/1.1 client has gone away")
        if kind == "http.response.start":
            if self._start is not None or self.writer is not None:
                raise RuntimeError("http.response.start sent twice")
            self._start = message
        elif kind == "http.response.body":
            await self._send_body(message.get("body", b""), message.get("more_body", False))
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} on an HTTP/1.1 request")

    async def _send_body(self, body: bytes, more: bool) -> None:
        writer = self.writer
        if writer is None:
            start = self._start
            if start is None:
                raise RuntimeError("http.response.body before http.response.start")
            handler = self.handler
            keep_alive = self.keep_alive and not handler.closing and not (
                handler.input_ended and handler.cycles and handler.cycles[-1] is self
                and not handler._unparsed)  # the last request of a half-closed client
            if self.request.expect_continue and not self.continue_sent \
                    and not self.body_complete:
                keep_alive = False  # the client may never send the body we skipped
            writer = ResponseWriter(
                start["status"], start.get("headers", ()),
                head_request=self.request.method == "HEAD",
                version=self.request.http_version, keep_alive=keep_alive,
                date=http_date())
            data = writer.body(body, more)  # a ResponseError here leaves room for a 500
            self.writer = writer
        elif writer.complete:
            raise RuntimeError("http.response.body after the response completed")
        else:
            data = writer.body(body, more)
        handler = self.handler
        if data:
            handler.conn.write(data)
        if not more:
            self.keep_alive = writer.keep_alive
            self.response_complete = True
            self._wake()
            handler.cycle_done(self)
        elif not handler.writable.is_set():
            await handler.writable.wait()
            if self.disconnected:
                raise ClientDisconnected("the HTTP/1.1 client has gone away")

    async def run(self, app: Any) -> None:
        try:
            await app(self.scope, self.receive, self.send)
        except asyncio.CancelledError:
            self._abort_response()
            raise
        except BaseException as exc:  # noqa: BLE001 - an app bug must not kill the server
            if isinstance(exc, ResponseError):
                log.error("invalid response from the ASGI app: %s", exc)
            elif self.disconnected or self.client_eof:
                # Most often our own ClientDisconnected, re-raised by the app (Starlette
                # turns it into ClientDisconnect): the client's doing, so folded.
                log_limited(log, logging.INFO, "h1-app-after-disconnect",
                            self.handler.settings.log_repeat_interval,
                            "ASGI app ended with %r after its HTTP/1.1 client went away",
                            exc)
                log.debug("ASGI app traceback", exc_info=True)
            else:
                log.exception("exception in ASGI application")
            self._abort_response()
            if not isinstance(exc, Exception):
                raise
        else:
            if not self.response_complete:
                if self.writer is None and not self.disconnected:
                    log.error("ASGI app returned without sending a response")
                self._abort_response()

    def _abort_response(self) -> None:
        """The app failed: a 500 if nothing was sent yet, else close the connection."""
        if self.response_complete:
            return
        self.response_complete = True
        handler = self.handler
        if self.writer is None and not self.disconnected:
            self.keep_alive = self.keep_alive and self.body_complete
            handler.conn.write(simple_response(500, b"Internal Server Error",
                                               close=not self.keep_alive, date=http_date()))
        else:
            self.keep_alive = False
        handler.cycle_done(self)
