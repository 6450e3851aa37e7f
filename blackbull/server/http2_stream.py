"""One HTTP/2 request stream (RFC 9113 §8.1): a carrier of the ASGI rules of
:class:`~blackbull.server.http_stream.HTTPStream`.

The ASGI rules are the base class's; this carrier returns the request body's flow-control
credit to the peer as the app consumes it (RFC 9113 §6.9, batched by the core), turns
the response into HEADERS, DATA and trailing HEADERS, the DATA queued in the
connection's outbound scheduler (whose ``Outbound`` it is), and follows RFC 9218
priority signals.
"""
from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..protocol.http2 import ErrorCode, Priority
from ..protocol.http2.headers import CONNECTION_SPECIFIC
from ..protocol.http2.priority import merge_priority
from ..protocol.memo import remember
from .clock import http_date
from .http_stream import Headers, HTTPStream, Message

if TYPE_CHECKING:
    from .http2 import HTTP2Handler

_STATUS = {n: str(n).encode() for n in range(100, 600)}


class StreamWindowView(Mapping[str, int]):
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
            return int(stream.outbound_window) if stream is not None else 0
        if key == "connection_send_window_remaining":
            return int(self._h2.outbound_window)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._KEYS)

    def __len__(self) -> int:
        return len(self._KEYS)


def response_fields(status: int, fields: Iterable[tuple[bytes, bytes]], *,
                    length: int | None = None) -> Headers:
    """The field section of an HTTP/2 response: ``:status`` first, names in lower case
    (RFC 9113 §8.2.1), the connection-specific fields dropped (§8.2.2), no
    Content-Length in a 204 (RFC 9110 §8.6) or, with ``length``, exactly that one, and a
    Date unless one was given (RFC 9110 §6.6.1)."""
    fixed, dated, _ = _response_head(status, fields, length)
    headers = list(fixed)
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    if not dated:
        headers.append((b"date", http_date()))
    return headers


Head = tuple[tuple[tuple[bytes, bytes], ...], bool, tuple[bytes, ...]]
#: (status, fields, length given) → :func:`_head_of` of them: apps send the same fields
#: with every response, so each distinct head is converted once. Bounded: cleared when
#: full (heads with per-response values only churn it).
_HEADS: dict[tuple[int, tuple[tuple[bytes, bytes], ...], bool], Head] = {}
_HEADS_MAX = 256
_HEAD_MAX_FIELDS = 32


def _response_head(status: int, fields: Iterable[tuple[bytes, bytes]],
                   length: int | None = None) -> Head:
    try:
        items = tuple(fields)
        key = (status, items, length is not None)
        head = _HEADS.get(key)
    except TypeError:  # a field given as a list: not hashable, not memoised
        return _head_of(status, fields, length is not None)
    if head is None:
        head = _head_of(status, items, length is not None)
        if len(items) <= _HEAD_MAX_FIELDS:
            remember(_HEADS, key, head, _HEADS_MAX)
    return head


def _head_of(status: int, fields: Iterable[tuple[bytes, bytes]], drop_length: bool) -> Head:
    """The converted fields (without the Date to add), whether the app gave a Date, and
    its RFC 9218 ``priority`` field values."""
    headers = [(b":status", _STATUS.get(status) or str(status).encode())]
    drop_length = drop_length or status == 204
    dated = False
    priority: list[bytes] = []
    for name, value in fields:
        name = bytes(name).lower()
        if name in CONNECTION_SPECIFIC:
            continue
        if name == b"content-length" and drop_length:
            continue
        if name == b"date":
            dated = True
        elif name == b"priority":
            priority.append(bytes(value))
        headers.append((name, bytes(value)))
    return tuple(headers), dated, tuple(priority)


class H2Stream(HTTPStream):
    """One request stream: the carrier of its ASGI cycle and the sender's ``Outbound``."""

    __slots__ = (
        "handler", "stream_id", "priority", "urgency", "incremental", "out_chunks",
        "out_size", "out_end", "drain_waiter", "trailers_out", "head",
    )

    disconnect_log_key = "h2-app-after-disconnect"

    def __init__(self, handler: HTTP2Handler, stream_id: int, scope: dict[str, Any],
                 priority: Priority, body_complete: bool) -> None:
        self.handler = handler
        self.stream_id = stream_id
        self.urgency = urgency = priority.urgency
        self.incremental = incremental = priority.incremental
        self.priority = {"urgency": urgency, "incremental": incremental}
        self.out_chunks: deque[bytes | memoryview] = deque()
        self.out_size = 0
        self.out_end = False
        self.drain_waiter: asyncio.Future[None] | None = None
        self.trailers_out: Headers | None = None  # sent once the queued data has gone
        #: The converted response head (:func:`_response_head`), from on_start.
        self.head: Head | None = None
        HTTPStream.__init__(
            self, scope, handler.loop, body_complete,
            not body_complete and (b"expect", b"100-continue") in scope["headers"])

    # --- fed by the handler ------------------------------------------------------------
    def feed(self, data: bytes, flow_length: int, end: bool) -> None:
        if not self.add_body(data, flow_length):
            # Nobody will read it, or there is nothing to read (padding only): credit back
            # now. Empty DATA frames cost no window, so queueing them would be unbounded.
            self.handler.ack(flow_length, self.stream_id)
        if end:
            self.end_body()

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
        self._wake()
        self.out_chunks.clear()
        self.out_size = 0
        if self.buffered:
            self.handler.ack(self.drop_body(), self.stream_id)
        self.on_output_drained()

    # --- Outbound ----------------------------------------------------------------------
    def on_output_drained(self) -> None:
        """Called by the sender when the queued data went into the core (or was void)."""
        if self.out_size == 0 and self.trailers_out is not None and not self.disconnected:
            trailers, self.trailers_out = self.trailers_out, None
            self.handler.send_trailers(self.stream_id, trailers)
        waiter = self.drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- carrier hooks -------------------------------------------------------------------
    def where(self) -> str:
        return f"HTTP/2 stream {self.stream_id}"

    def log_interval(self) -> float:
        return self.handler.conn.state.settings.log_repeat_interval

    def consumed(self, credit: int) -> None:
        self.handler.ack(credit, self.stream_id)

    def send_continue(self) -> None:
        self.handler.send_headers(self.stream_id, [(b":status", b"100")], False)

    def on_start(self, start: Message) -> bool:
        # The status is checked by send_head, where a bad one still means a 500.
        status = start.get("status", 0)
        head = _response_head(status, start.get("headers", ()))
        if type(status) is int:
            self.head = head  # send_head's, unless the status needs converting there
        for value in head[2]:
            # RFC 9218 §8: the server's own signal refines the client's.
            merged = merge_priority(Priority(self.urgency, self.incremental), value)
            self.set_priority(merged.urgency, merged.incremental)
        return bool(start.get("trailers", False))

    def send_head(self, start: Message, body: bytes, end: bool) -> bool:
        head = self.head
        if head is None:
            head = _response_head(int(start["status"]), start.get("headers", ()))
        fixed, dated, _ = head
        headers = list(fixed)
        if not dated:
            headers.append((b"date", http_date()))
        if self.no_content:
            body = b""  # RFC 9110 §9.3.2, §6.4.1: HEAD, 204 and 304 carry no content
        handler = self.handler
        sid = self.stream_id
        if end:
            if not body:
                handler.send_headers(sid, headers, end_stream=True)
                return False
            self.out_end = True
            if handler.send_response(sid, headers, body):
                return False  # nothing queued anywhere and the windows allow it all
        else:
            handler.send_headers(sid, headers, end_stream=False)
        if body:
            self.out_chunks.append(body)
            self.out_size += len(body)
            handler.queue_output(self)
        elif end:
            handler.queue_output(self)
        return self.out_size > 0

    def send_body(self, body: bytes, end: bool) -> bool:
        handler = self.handler
        if end:
            self.out_end = True
            if not self.out_size and handler.send_final_now(self.stream_id, body):
                return False  # nothing queued anywhere and the windows allow it all
        if body:
            self.out_chunks.append(body)
            self.out_size += len(body)
        if body or end:
            handler.queue_output(self)
        return self.out_size > 0

    def send_trailers(self, trailers: Headers) -> bool:
        self.trailers_out = trailers
        if self.out_size == 0:
            self.on_output_drained()
            return False
        return True

    async def drain(self) -> None:
        """Back-pressure: return when the data is in the core (flow control allowed it)."""
        while self.out_size and not self.disconnected:
            self.drain_waiter = self.handler.loop.create_future()
            try:
                await self.drain_waiter
            finally:
                self.drain_waiter = None

    def push(self, message: Message) -> None:
        self.handler.push(self, message)

    def send_error(self) -> None:
        """ASGI spec: 500 when the app failed before its response started."""
        self.handler.send_headers(self.stream_id, [(b":status", b"500"),
                                                   (b"content-length", b"0"),
                                                   (b"date", http_date())],
                                  end_stream=True)
        self.disconnect()

    def abort(self) -> None:
        """RST_STREAM INTERNAL_ERROR: the response started but cannot complete."""
        if not self.disconnected:
            self.handler.reset(self.stream_id, ErrorCode.INTERNAL_ERROR)
            self.disconnect()

    def finished(self) -> None:
        self.handler.stream_done(self)
