"""WebSocket over an HTTP/2 stream (RFC 8441): the carrier of :class:`WebSocketBridge`.

An extended CONNECT (``:method CONNECT``, ``:protocol websocket``, RFC 8441 §4) on a
connection where we sent SETTINGS_ENABLE_CONNECT_PROTOCOL=1 (§3) becomes one
WebSocket. The stream's DATA frames carry the WebSocket frames both ways (§5); the
handshake is answered with ``:status 200`` (or a refusal response), and END_STREAM
plays the part of the TCP FIN of RFC 6455 §7.1.1 (§5 of RFC 8441). Everything above
the bytes — ASGI ``websocket`` messages, close handshake, deflate — is the bridge's.
"""
from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Any

from ..protocol.http2 import ErrorCode, StreamState
from ..protocol.websocket import negotiate_server
from ..protocol.websocket.handshake import HandshakeRejection, validate_extended_connect
from .http2_stream import response_fields
from .ws_bridge import Headers, WebSocketBridge

if TYPE_CHECKING:
    from .http2 import HTTP2Handler

#: Octets of WebSocket output queued on the stream before the app's send() waits.
_WRITE_HIGH = 256 * 1024


class H2WebSocketStream:
    """One RFC 8441 WebSocket: a ``WebSocketCarrier`` and the sender's ``Outbound``."""

    __slots__ = (
        "handler", "stream_id", "bridge", "urgency", "incremental", "out_chunks", "out_size",
        "out_end", "_held", "_paused", "_ended", "_lost", "_timer", "_refused",
    )

    #: Read by the handler before it passes the client's END_STREAM on (as for a
    #: request stream): a WebSocket stream is never opened with its input complete.
    body_complete = False

    def __init__(self, handler: HTTP2Handler, stream_id: int) -> None:
        self.handler = handler
        self.stream_id = stream_id
        self.bridge: WebSocketBridge | None = None
        # RFC 9218 §4: WebSocket data is naturally incremental.
        self.urgency = 3
        self.incremental = True
        self.out_chunks: deque[bytes | memoryview] = deque()
        self.out_size = 0
        self.out_end = False
        self._held = 0          # flow-control credit withheld while reading is paused
        self._paused = False
        self._ended = False     # our END_STREAM is queued
        self._lost = False      # the bridge was told the stream is gone
        self._timer: asyncio.TimerHandle | None = None
        self._refused = False

    def start(self, headers: Headers, scope: dict[str, Any]) -> None:
        """RFC 8441 §4–§5: validate the extended CONNECT and run the app on it."""
        try:
            handshake = validate_extended_connect(headers)
        except HandshakeRejection as rejection:
            self.send_refusal(rejection.status, rejection.headers,
                              rejection.reason.encode("utf-8"))
            return
        state = self.handler.conn.state
        deflate = negotiate_server(handshake.extensions) \
            if state.settings.ws_permessage_deflate else None
        self.bridge = WebSocketBridge(state, self, handshake, deflate)
        self.bridge.start(scope)

    # --- fed by the HTTP/2 handler -------------------------------------------------------
    def feed(self, data: bytes, flow_length: int, end: bool) -> None:
        if self._paused and not self._lost:
            self._held += flow_length
        else:
            self.handler.ack(flow_length, self.stream_id)
        if data and self.bridge is not None and not self._lost:
            self.bridge.feed(data)
        if end:
            self.end_body()

    def end_body(self) -> None:
        """The client's END_STREAM: its side of the WebSocket is closed (RFC 8441 §5)."""
        self.end()
        self._on_lost()

    def disconnect(self) -> None:
        """RST_STREAM or the connection is gone."""
        self.out_chunks.clear()
        self.out_size = 0
        self._on_lost()

    def set_priority(self, urgency: int, incremental: bool) -> None:
        self.urgency = urgency
        self.incremental = incremental

    def on_output_drained(self) -> None:
        if self.bridge is not None and self.out_size < _WRITE_HIGH:
            self.bridge.resume_writing()
        if self._refused and self.out_size == 0:
            self._refused = False
            if self._remote_open():
                # §8.1 of RFC 9113: the answer is complete; stop the request side.
                self.handler.reset(self.stream_id, ErrorCode.NO_ERROR)
            self._on_lost()

    def shutdown(self) -> None:
        if self.bridge is not None and not self._lost:
            self.bridge.shutdown()
        else:
            self.end()

    # --- WebSocketCarrier ----------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._lost or self._ended or self.handler.conn.closed

    def send_accept(self, headers: Headers) -> None:
        """RFC 8441 §5: success is a 2xx (200) response, without Upgrade/Accept."""
        self.handler.send_headers(self.stream_id, [(b":status", b"200"), *headers],
                                  end_stream=False)

    def send_refusal(self, status: int, headers: Headers, body: bytes) -> None:
        """An HTTP response instead of the WebSocket (RFC 8441 §5: any status but 2xx),
        with the field rules of every HTTP/2 response; then the request side is reset."""
        if body and not any(k.lower() == b"content-type" for k, _ in headers):
            headers = [*headers, (b"content-type", b"text/plain; charset=utf-8")]
        fields = response_fields(status, headers, length=len(body))
        self._refused = True
        self.handler.send_headers(self.stream_id, fields, end_stream=not body)
        if body:
            self.write(body)
        self.end()

    def writelines(self, parts: list[bytes]) -> None:
        self.write(b"".join(parts))  # DATA frames are cut from it anyway

    def write(self, data: bytes) -> None:
        if self._ended or self._lost or not data:
            return
        self.out_chunks.append(data)
        self.out_size += len(data)
        self.handler.queue_output(self)
        if self.out_size >= _WRITE_HIGH and self.bridge is not None:
            self.bridge.pause_writing()

    def end(self) -> None:
        """Our END_STREAM after the queued data; reset if the peer never ends its side."""
        if self._ended or self._lost:
            return
        self._ended = True
        self.out_end = True
        self.handler.queue_output(self)
        timeout = self.handler.conn.state.settings.ws_close_timeout
        self._timer = self.handler.loop.call_later(timeout, self.abort)

    def end_after_failure(self, timeout: float) -> None:
        self.end()

    def abort(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.handler.reset(self.stream_id, ErrorCode.CANCEL)
        self.disconnect()

    def discard(self) -> None:
        self.abort()  # RST_STREAM(CANCEL) drops the stream's queued output

    def pause_reading(self) -> None:
        self._paused = True

    def resume_reading(self) -> None:
        self._paused = False
        if self._held:
            held, self._held = self._held, 0
            self.handler.ack(held, self.stream_id)

    # --- internals -----------------------------------------------------------------------
    def _remote_open(self) -> bool:
        stream = self.handler.h2.streams.get(self.stream_id)
        return stream is not None and stream.state in (StreamState.OPEN,
                                                       StreamState.HALF_CLOSED_LOCAL)

    def _on_lost(self) -> None:
        if self._lost:
            return
        self._lost = True
        if self._timer is not None and self.stream_id not in self.handler.h2.streams:
            self._timer.cancel()
            self._timer = None
        if self._held:
            self.handler.ack(self._held, self.stream_id)
            self._held = 0
        if self.bridge is not None:
            self.bridge.lost()
        self.handler.websocket_done(self)
