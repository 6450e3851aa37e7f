"""One HTTP/1.1 request and its response: the :class:`HTTPCarrier` of an
:class:`~blackbull.server.http_stream.HTTPStream`, fed by
:class:`~blackbull.server.http1.HTTP1Handler`.

The ASGI rules are the stream's; this carrier frames the response with
:class:`ResponseWriter` (RFC 9112 §6), decides whether the connection stays open after
it (RFC 9112 §9.3), waits while the socket's write buffer is full, and hands the
connection to the next pipelined request when the response is complete.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..protocol.http1.events import Request
from ..protocol.http1.response import ResponseWriter, simple_response
from .asgi import base_scope
from .clock import http_date
from .http_stream import Headers, HTTPStream, Message

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from .http1 import HTTP1Handler

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class RequestCycle:
    """One request on an HTTP/1.1 connection, answered in order (RFC 9112 §9.3.2)."""

    __slots__ = ("handler", "request", "stream", "writer", "keep_alive")

    disconnect_log_key = "h1-app-after-disconnect"

    def __init__(self, handler: HTTP1Handler, request: Request) -> None:
        self.handler = handler
        self.request = request
        self.writer: ResponseWriter | None = None
        self.keep_alive = request.keep_alive
        scope = base_scope(
            handler.conn, "http", request.http_version, request.method, request.path,
            request.raw_path, request.query_string, request.headers)
        self.stream = HTTPStream(self, scope, handler.loop, not request.has_body,
                                 request.expect_continue)

    # --- fed by the handler ----------------------------------------------------------
    def feed_body(self, data: bytes) -> None:
        self.stream.feed(data, len(data))  # refused once the app is done: discarded

    def end_body(self) -> None:
        self.stream.end_body()

    def disconnect(self) -> None:
        self.stream.disconnect()

    def end_of_input(self) -> None:
        self.stream.end_of_input()

    def run(self, app: Any) -> Coroutine[Any, Any, None]:
        return self.stream.run(app)

    @property
    def scope(self) -> dict[str, Any]:
        return self.stream.scope

    @property
    def body_complete(self) -> bool:
        return self.stream.body_complete

    @property
    def buffered(self) -> int:
        """Request body bytes received and not yet read by the app."""
        return self.stream.pending

    @property
    def disconnected(self) -> bool:
        return self.stream.disconnected

    @property
    def response_complete(self) -> bool:
        return self.stream.response_complete

    @response_complete.setter
    def response_complete(self, value: bool) -> None:
        """Set by the handler when it answered for the app (an error of the request)."""
        self.stream.response_complete = value

    # --- HTTPCarrier -----------------------------------------------------------------
    def where(self) -> str:
        return "the HTTP/1.1 client"

    def log_interval(self) -> float:
        return self.handler.settings.log_repeat_interval

    def gone(self) -> bool:
        # A failed write closes the transport before connection_lost reaches us.
        return self.handler.conn.transport.is_closing()  # type: ignore[union-attr]

    def consumed(self, credit: int) -> None:
        self.handler.body_consumed()

    def send_continue(self) -> None:
        self.handler.conn.write(_CONTINUE)

    def on_start(self, start: Message) -> bool:
        return False  # no trailers extension: a chunked trailer section is not offered

    def send_head(self, start: Message, body: bytes, end: bool) -> bool:
        handler = self.handler
        request = self.request
        keep_alive = self.keep_alive and not handler.closing and not (
            handler.input_ended and handler.cycles and handler.cycles[-1] is self
            and not handler._unparsed)  # the last request of a half-closed client
        stream = self.stream
        if stream.expect_continue and not stream.body_complete:
            keep_alive = False  # the client may never send the body we skipped
        writer = ResponseWriter(
            start["status"], start.get("headers", ()),
            head_request=request.method == "HEAD", version=request.http_version,
            keep_alive=keep_alive, date=http_date())
        data = writer.body(body, not end)  # a ResponseError here leaves room for a 500
        self.writer = writer
        handler.conn.write(data)
        return not end and not handler.writable.is_set()

    def send_body(self, body: bytes, end: bool) -> bool:
        data = self.writer.body(body, not end)  # type: ignore[union-attr]
        handler = self.handler
        if data:
            handler.conn.write(data)
        return not end and not handler.writable.is_set()

    def send_trailers(self, trailers: Headers) -> bool:
        raise RuntimeError("http.response.trailers on an HTTP/1.1 request")

    async def drain(self) -> None:
        await self.handler.writable.wait()

    def push(self, message: Message) -> None:
        raise RuntimeError("unexpected ASGI message 'http.response.push' on an HTTP/1.1 "
                           "request")

    def complete(self) -> None:
        self.keep_alive = self.writer.keep_alive  # type: ignore[union-attr]
        self.handler.cycle_done(self)

    def send_error(self) -> None:
        self.keep_alive = self.keep_alive and self.stream.body_complete
        self.handler.conn.write(simple_response(500, b"Internal Server Error",
                                                close=not self.keep_alive,
                                                date=http_date()))
        self.handler.cycle_done(self)

    def abort(self) -> None:
        self.keep_alive = False
        self.handler.cycle_done(self)

    def finished(self) -> None:
        pass
