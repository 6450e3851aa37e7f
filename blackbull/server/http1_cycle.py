"""One HTTP/1.1 request and its response: the carrier of an
:class:`~blackbull.server.http_stream.HTTPStream`, fed by
:class:`~blackbull.server.http1.HTTP1Handler`.

The ASGI rules are the stream's; this carrier frames the response with
:class:`ResponseWriter` (RFC 9112 §6), decides whether the connection stays open after
it (RFC 9112 §9.3), waits while the socket's write buffer is full, and hands the
connection to the next pipelined request when the response is complete.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..protocol.http1.events import Request
from ..protocol.http1.response import ResponseWriter, complete_response, simple_response
from .asgi import ClientDisconnected, scope_from_template
from .clock import http_date
from .http_stream import Headers, HTTPStream, Message

if TYPE_CHECKING:
    from .http1 import HTTP1Handler

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class RequestCycle(HTTPStream):
    """One request on an HTTP/1.1 connection, answered in order (RFC 9112 §9.3.2)."""

    __slots__ = ("handler", "request", "writer", "keep_alive")

    disconnect_log_key = "h1-app-after-disconnect"
    start_hook = False  # no trailers extension: a chunked trailer section is not offered
    end_hook = False    # cycle_done ran when the response completed or failed
    task_name = "blackbull-http1"

    def __init__(self, handler: HTTP1Handler, request: Request) -> None:
        self.handler = handler
        self.request = request
        self.writer: ResponseWriter | None = None
        self.keep_alive = request.keep_alive
        HTTPStream.__init__(self, scope_from_template(
            handler.scope_template, handler.conn, request.http_version, request.method,
            request.path, request.raw_path, request.query_string, request.headers),
            handler.loop, not request.has_body, request.expect_continue)

    def feed_body(self, data: bytes) -> None:
        self.add_body(data, len(data))  # refused once the app is done: discarded

    # --- carrier hooks ---------------------------------------------------------------
    def where(self) -> str:
        return "the HTTP/1.1 client"

    def log_interval(self) -> float:
        return self.handler.settings.log_repeat_interval

    def consumed(self, credit: int) -> None:
        self.handler.body_consumed()

    def send_continue(self) -> None:
        self.handler.conn.write(_CONTINUE)

    def send_head(self, start: Message, body: bytes, end: bool) -> bool:
        handler = self.handler
        transport = handler.conn.transport
        if transport.is_closing():  # type: ignore[union-attr]
            # A failed write closes the transport before connection_lost reaches us.
            raise ClientDisconnected("the HTTP/1.1 client is gone")
        request = self.request
        # RFC 9112 §9.3/§9.6 and RFC 9110 §10.1.1 (a body held back for a 100 we never
        # sent): the core decides whether this response keeps the connection.
        keep_alive = handler.core.keep_alive(
            self, self.keep_alive, bool(handler._unparsed),
            unread_body=self.expect_continue and not self.body_complete)
        if end:
            # The whole response at once (the usual case): no writer is kept for it.
            data, self.keep_alive = complete_response(
                start["status"], start.get("headers", ()), body,
                head_request=request.method == "HEAD", version=request.http_version,
                keep_alive=keep_alive, date=http_date())  # a ResponseError: room for a 500
            # Straight to the transport: one that is not closing belongs to an open
            # connection (Connection.write would check that again).
            transport.write(data)  # type: ignore[union-attr]
            handler.cycle_done(self)
            return False
        writer = ResponseWriter(
            start["status"], start.get("headers", ()),
            head_request=request.method == "HEAD", version=request.http_version,
            keep_alive=keep_alive, date=http_date())
        data = writer.body(body, True)  # a ResponseError here leaves room for a 500
        self.writer = writer
        return self._write(writer, data, False)

    def send_body(self, body: bytes, end: bool) -> bool:
        handler = self.handler
        if handler.conn.transport.is_closing():  # type: ignore[union-attr]
            raise ClientDisconnected("the HTTP/1.1 client is gone")
        writer: ResponseWriter = self.writer  # type: ignore[assignment]
        return self._write(writer, writer.body(body, not end), end)

    def _write(self, writer: ResponseWriter, data: bytes, end: bool) -> bool:
        """Write a framed part of the response. Its end completes the cycle (RFC 9112
        §9.3: the connection goes on to the next request or closes); before it, True
        tells the stream to wait while the socket's write buffer is full."""
        handler = self.handler
        if data:
            handler.conn.write(data)
        if end:
            self.keep_alive = writer.keep_alive
            handler.cycle_done(self)
            return False
        return not handler.writable.is_set()

    def send_trailers(self, trailers: Headers) -> bool:
        raise RuntimeError("http.response.trailers on an HTTP/1.1 request")

    async def drain(self) -> None:
        await self.handler.writable.wait()

    def push(self, message: Message) -> None:
        raise RuntimeError("unexpected ASGI message 'http.response.push' on an HTTP/1.1 "
                           "request")

    def send_error(self) -> None:
        self.keep_alive = self.keep_alive and self.body_complete
        self.handler.conn.write(simple_response(500, b"Internal Server Error",
                                                close=not self.keep_alive,
                                                date=http_date()))
        self.handler.cycle_done(self)

    def abort(self) -> None:
        self.keep_alive = False
        self.handler.cycle_done(self)
