"""One HTTP/2 request stream as an ASGI ``http`` cycle (ASGI HTTP spec 2.4).

``receive()`` yields the request body as ``http.request`` messages and returns its
flow-control credit to the peer as the app consumes it (RFC 9113 §6.9, batched by
the core); ``send()`` turns ``http.response.*`` messages into HEADERS and DATA, the
DATA queued in the connection's :class:`HTTP2Sender`.
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..protocol.http2 import ErrorCode, Priority, StreamState
from ..protocol.http2.headers import CONNECTION_SPECIFIC
from ..protocol.http2.priority import merge_priority
from .asgi import ClientDisconnected
from .clock import http_date
from .ratelog import log_limited

if TYPE_CHECKING:
    from .http2 import HTTP2Handler

log = logging.getLogger("blackbull.server")

_DISCONNECT = {"type": "http.disconnect"}
_STATUS = {n: str(n).encode() for n in range(100, 600)}


class StreamWindowView(Mapping):
    """``scope["extensions"]["http.response.http2_stream"]``: live send windows."""

    __slots__ = ("_h2", "_sid")
    _KEYS = ("stream_id", "send_window_remaining", "connection_send_window_remaining")

    def __init__(self, h2: Any, stream_id: int) -> None:
        self._h2 = h2
        self._sid = stream_id

    def __getitem__(self, key: str) -> int:
        if key == "stream_id":
            return self._sid
        if key == "send_window_remaining":
            stream = self._h2.streams.get(self._sid)
            return stream.outbound_window if stream is not None else 0
        if key == "connection_send_window_remaining":
            return self._h2.outbound_window
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._KEYS)

    def __len__(self) -> int:
        return len(self._KEYS)


class H2Stream:
    """ASGI state of one stream; also the sender's :class:`Outbound`."""

    __slots__ = (
        "handler", "stream_id", "scope", "body", "body_complete", "request_done",
        "disconnected", "waiter", "start", "headers_sent", "response_complete",
        "trailers_expected", "trailers", "priority", "urgency", "incremental",
        "out_chunks", "out_size", "out_end", "drain_waiter", "task", "expect_continue",
    )

    def __init__(self, handler: HTTP2Handler, stream_id: int, scope: dict[str, Any],
                 priority: Priority, body_complete: bool) -> None:
        self.handler = handler
        self.stream_id = stream_id
        self.scope = scope
        self.body: deque[tuple[bytes, int]] = deque()
        self.body_complete = body_complete
        self.request_done = False
        self.disconnected = False
        self.waiter: asyncio.Future | None = None
        self.start: dict[str, Any] | None = None
        self.headers_sent = False
        self.response_complete = False
        self.trailers_expected = False
        self.trailers: list[tuple[bytes, bytes]] | None = None
        self.priority = priority.as_dict()
        self.urgency = priority.urgency
        self.incremental = priority.incremental
        self.out_chunks: deque[bytes | memoryview] = deque()
        self.out_size = 0
        self.out_end = False
        self.drain_waiter: asyncio.Future | None = None
        self.task: asyncio.Task | None = None
        self.expect_continue = not body_complete and (b"expect", b"100-continue") in scope[
            "headers"]

    # --- fed by the handler ------------------------------------------------------------
    def feed(self, data: bytes, flow_length: int, end: bool) -> None:
        if self.response_complete or self.disconnected or not data:
            # Nobody will read it, or there is nothing to read (padding only): credit back
            # now. Empty DATA frames cost no window, so queueing them would be unbounded.
            self.handler.ack(flow_length, self.stream_id)
        else:
            self.body.append((data, flow_length))
        if end:
            self.body_complete = True
        self._wake()

    def end_body(self) -> None:
        self.body_complete = True
        self._wake()

    def set_priority(self, urgency: int, incremental: bool) -> None:
        """RFC 9218 §7: a PRIORITY_UPDATE takes effect for data not yet sent."""
        self.urgency = urgency
        self.incremental = incremental
        self.priority["urgency"] = urgency
        self.priority["incremental"] = incremental

    def disconnect(self) -> None:
        if self.disconnected:
            return
        self.disconnected = True
        self.out_chunks.clear()
        self.out_size = 0
        self._release_body()
        self._wake()
        self.on_output_drained()

    def _release_body(self) -> None:
        credit = sum(n for _, n in self.body)
        self.body.clear()
        if credit:
            self.handler.ack(credit, self.stream_id)

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def on_output_drained(self) -> None:
        """Called by the sender when the queued data went into the core (or was void)."""
        if self.out_size == 0 and self.trailers is not None and not self.disconnected:
            trailers, self.trailers = self.trailers, None
            self.handler.send_trailers(self.stream_id, trailers)
        waiter = self.drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- ASGI receive --------------------------------------------------------------------
    async def receive(self) -> dict[str, Any]:
        while True:
            if self.body:
                if len(self.body) == 1:
                    data, credit = self.body.popleft()
                else:
                    parts = list(self.body)
                    self.body.clear()
                    data = b"".join(p for p, _ in parts)
                    credit = sum(n for _, n in parts)
                self.handler.ack(credit, self.stream_id)
                more = not self.body_complete
                self.request_done = not more
                return {"type": "http.request", "body": data, "more_body": more}
            if self.body_complete and not self.request_done and not self.disconnected:
                self.request_done = True
                return {"type": "http.request", "body": b"", "more_body": False}
            if self.disconnected or (self.response_complete and self.request_done):
                # ASGI: once the response is sent, receive() reports the end.
                return dict(_DISCONNECT)
            if self.expect_continue:
                self.expect_continue = False
                if not self.headers_sent:
                    # RFC 9110 §10.1.1: the app wants the body: invite it.
                    self.handler.send_headers(self.stream_id, [(b":status", b"100")], False)
            self.waiter = self.handler.loop.create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None

    # --- ASGI send -----------------------------------------------------------------------
    async def send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if self.disconnected and not self.response_complete:
            # ASGI spec 2.4: the stream was reset or the connection is gone.
            raise ClientDisconnected(f"HTTP/2 stream {self.stream_id} is gone")
        if kind == "http.response.body":
            await self._send_body(message.get("body", b""), message.get("more_body", False))
        elif kind == "http.response.start":
            if self.start is not None:
                raise RuntimeError("http.response.start sent twice")
            self.start = message
            self.trailers_expected = bool(message.get("trailers", False))
            for name, value in message.get("headers", ()):
                if bytes(name).lower() == b"priority":
                    # RFC 9218 §8: the server's own signal refines the client's.
                    merged = merge_priority(Priority(self.urgency, self.incremental),
                                            bytes(value))
                    self.set_priority(merged.urgency, merged.incremental)
        elif kind == "http.response.trailers":
            await self._send_trailers(message)
        elif kind == "http.response.push":
            self.handler.push(self, message)
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} on an HTTP/2 stream")

    def _response_headers(self) -> list[tuple[bytes, bytes]]:
        start = self.start
        if start is None:
            raise RuntimeError("http.response.body before http.response.start")
        status = int(start["status"])
        headers = [(b":status", _STATUS.get(status) or str(status).encode())]
        dated = False
        for name, value in start.get("headers", ()):
            name = bytes(name).lower()
            if name in CONNECTION_SPECIFIC:
                continue  # RFC 9113 §8.2.2: never sent on HTTP/2
            if name == b"content-length" and status == 204:
                continue  # RFC 9110 §8.6: never in a 204 response
            if name == b"date":
                dated = True  # the app's own Date wins
            headers.append((name, bytes(value)))
        if not dated:
            headers.append((b"date", http_date()))  # RFC 9110 §6.6.1
        return headers

    async def _send_body(self, body: bytes, more: bool) -> None:
        if self.response_complete:
            raise RuntimeError("response already complete")
        handler = self.handler
        end = not more and not self.trailers_expected
        if body and (self.scope["method"] == "HEAD" or (
                self.start is not None and self.start["status"] in (204, 304))):
            body = b""  # RFC 9110 §9.3.2, §6.4.1: HEAD, 204 and 304 carry no content
        if not self.headers_sent:
            self.headers_sent = True
            headers = self._response_headers()
            if not body and end:
                self.response_complete = True
                handler.send_headers(self.stream_id, headers, end_stream=True)
                return
            handler.send_headers(self.stream_id, headers, end_stream=False)
        if not more:
            self.response_complete = True
            self.out_end = end
            self._wake()
        if end and not self.out_size and handler.send_final_now(self.stream_id, body):
            return  # fast path: nothing queued anywhere and the windows allow it all
        if body:
            self.out_chunks.append(body)
            self.out_size += len(body)
        if body or end:
            handler.queue_output(self)
        if self.out_size and not self.disconnected:
            await self._drained()
            if self.disconnected:
                raise ClientDisconnected(f"HTTP/2 stream {self.stream_id} is gone")

    async def _drained(self) -> None:
        """Back-pressure: return when the data is in the core (flow control allowed it)."""
        while self.out_size and not self.disconnected:
            self.drain_waiter = self.handler.loop.create_future()
            try:
                await self.drain_waiter
            finally:
                self.drain_waiter = None

    async def _send_trailers(self, message: dict[str, Any]) -> None:
        if not self.trailers_expected or not self.headers_sent:
            raise RuntimeError("http.response.trailers without trailers=True and a body")
        trailers = [(bytes(k).lower(), bytes(v)) for k, v in message.get("headers", ())]
        if message.get("more_trailers", False):
            self.trailers = (self.trailers or []) + trailers
            return
        self.trailers = (self.trailers or []) + trailers
        self.response_complete = True
        if self.out_size == 0:
            self.on_output_drained()
        else:
            await self._drained()

    # --- the app task ----------------------------------------------------------------------
    async def run(self, app: Any) -> None:
        try:
            await app(self.scope, self.receive, self.send)
        except Exception as exc:  # noqa: BLE001 - the app's failure ends only its stream
            if self.disconnected:
                # Most often our own ClientDisconnected, re-raised by the app: the
                # peer's doing (a reset, a closed connection), so folded.
                log_limited(log, logging.INFO, "h2-app-after-disconnect",
                            self.handler.conn.state.settings.log_repeat_interval,
                            "ASGI app ended with %r after HTTP/2 stream %d was reset",
                            exc, self.stream_id)
                log.debug("ASGI app traceback", exc_info=True)
            else:
                log.exception("exception in ASGI application (HTTP/2 stream %d)",
                              self.stream_id)
            self._abort()
        else:
            if not self.response_complete and not self.disconnected:
                log.error("ASGI app returned without completing the response")
                self._abort()
        finally:
            self.handler.stream_done(self)

    def _abort(self) -> None:
        """500 if nothing was sent yet (ASGI spec), else RST_STREAM INTERNAL_ERROR."""
        if self.disconnected:
            return
        if not self.headers_sent:
            self.headers_sent = True
            self.response_complete = True
            self.handler.send_headers(self.stream_id, [(b":status", b"500"),
                                                       (b"content-length", b"0"),
                                                       (b"date", http_date())],
                                      end_stream=True)
        else:
            self.handler.reset(self.stream_id, ErrorCode.INTERNAL_ERROR)
        self.disconnect()

    @property
    def remote_open(self) -> bool:
        stream = self.handler.h2.streams.get(self.stream_id)
        return stream is not None and stream.state in (StreamState.OPEN,
                                                       StreamState.HALF_CLOSED_LOCAL)
