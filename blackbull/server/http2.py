"""HTTP/2 on a connection: the asyncio shell around the sans-I/O core (RFC 9113).

Bytes go into :class:`~blackbull.protocol.http2.H2Connection`; its events start one
ASGI task per stream (:class:`H2Stream`) and feed their bodies; responses come back
through the core and its :class:`~blackbull.protocol.http2.scheduler.OutboundScheduler`.
All frames produced while handling one read, or during one loop iteration of app sends,
leave in a single transport write.

The handler owns a component for each of its other concerns, each with its own state:
:class:`ConnectionTimers` (SETTINGS ACK, idleness, slow readers), :class:`ConnectionCloser`
(GOAWAY and the close after it) and :class:`StreamSpawner` (app tasks per loop turn);
:mod:`.http2_setup` (the core from Settings, h2c Upgrade) and :mod:`.http2_scope`
(ASGI scopes, push requests) are plain functions.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from ..protocol.http2 import (
    DEFAULT_PRIORITY,
    ConnectionTerminated,
    DataReceived,
    ErrorCode,
    H2Connection,
    PingAckReceived,
    Priority,
    PriorityUpdated,
    RemoteSettingsChanged,
    RequestReceived,
    SettingsAcknowledged,
    StreamEnded,
    StreamReset,
    StreamState,
    TrailersReceived,
    UsageError,
    WindowUpdated,
)
from ..protocol.http2.scheduler import Outbound, OutboundScheduler
from .clock import http_date
from .connection import ProtocolHandler
from .http2_close import ConnectionCloser
from .http2_guard import ResponseBudget, budget_of
from .http2_input import InputPacer
from .http2_scope import RequestHead, build_scope, push_request, request_head, scope_template
from .http2_setup import H2cUpgrade, open_core
from .http2_spawn import StreamSpawner
from .http2_stream import H2Stream, StreamWindowView
from .http2_timers import ConnectionTimers
from .http2_websocket import H2WebSocketStream
from .overload import request_app

log = logging.getLogger("blackbull.server")

Headers = list[tuple[bytes, bytes]]
_NO_ERROR = ErrorCode.NO_ERROR  # a global: enum members cost a slow lookup (stream.py)


class HTTP2Handler(ProtocolHandler):
    """Serves one HTTP/2 connection (h2 over TLS, h2c prior knowledge or Upgrade)."""

    def __init__(self) -> None:
        self.h2: H2Connection = None  # type: ignore[assignment]  # made in start()
        self.sender: OutboundScheduler = None  # type: ignore[assignment]
        self.streams: dict[int, H2Stream | H2WebSocketStream] = {}
        #: The connection's keys of every request scope (see http2_scope.scope_template).
        self._scope_template: dict[str, Any] | None = None
        self.loop: asyncio.AbstractEventLoop = None  # type: ignore[assignment]
        self._upgrade: H2cUpgrade | None = None
        self._flush_scheduled = False
        #: A limit hit is logged once per connection: our stream resets (shared with
        #: the timers' slow-stream resets), the RFC 8441 cap, the header list size.
        self.stream_error_logged = False
        self._ws_cap_logged = False
        self._limit_logged = False
        self.timers = ConnectionTimers(self)
        self.closer = ConnectionCloser(self)
        self.spawner: StreamSpawner = None  # type: ignore[assignment]  # made in start()
        #: Response data was queued, or a WINDOW_UPDATE or SETTINGS arrived: the sender
        #: pumps once at the next flush, not once per frame or per app send (each pump
        #: visits every stream with data waiting, RFC 9113 §10.5).
        self._pump_wanted = False
        self.pacer: InputPacer = None  # type: ignore[assignment]  # made in start()
        self._budget: ResponseBudget = None  # type: ignore[assignment]  # made in start()
        self._dispatch: dict[type, Callable[[Any], None]] = {
            RequestReceived: self._on_request,
            DataReceived: self._on_data,
            StreamEnded: self._on_stream_ended,
            StreamReset: self._on_reset,
            TrailersReceived: self._on_stream_ended,  # ASGI has no request trailers
            WindowUpdated: self._on_window,
            RemoteSettingsChanged: self._on_window,
            PriorityUpdated: self._on_priority,
            ConnectionTerminated: self._on_terminated,
            PingAckReceived: self.closer.ping_acked,
            SettingsAcknowledged: self.timers.settings_acknowledged,
        }

    @classmethod
    def for_upgrade(cls, http2_settings: bytes, request_headers: Headers, method: str | bytes,
                    path: bytes, body: bytes) -> HTTP2Handler:
        """RFC 7540 §3.2 h2c Upgrade: the HTTP/1.1 request becomes stream 1. Raises
        :class:`ProtocolError` for an invalid HTTP2-Settings value (see H2cUpgrade)."""
        handler = cls()
        handler._upgrade = H2cUpgrade.of(http2_settings, request_headers, method, path, body)
        return handler

    # --- ProtocolHandler ---------------------------------------------------------------
    def start(self, initial_data: bytes) -> None:
        self.loop = asyncio.get_running_loop()
        conn = self.conn
        self.h2 = h2 = open_core(conn.state.settings, self.loop.time, self._upgrade)
        self._budget = budget = budget_of(conn.state, self.loop)
        self.sender = OutboundScheduler(h2, budget.change if budget.limit > 0 else None)
        self.spawner = StreamSpawner(self.loop, conn, self.streams, self._turn_end)
        self.pacer = InputPacer(self.loop, self._process, pause=conn.pause_reading,
                                resume=self._resume_after_backlog,
                                closed=lambda: conn.closed)
        if self._upgrade is not None:
            self._start_upgraded_stream(self._upgrade)
        self.timers.start()
        if initial_data:
            self.data_received(initial_data)
        else:
            self.flush()

    def data_received(self, data: bytes) -> None:
        self.pacer.feed(data)  # paced: see http2_input

    def _resume_after_backlog(self) -> None:
        if not self.sender.paused:
            self.conn.resume_reading()

    def _process(self, data: bytes) -> None:
        self.timers.last_active = self.loop.time()
        try:
            events = self.h2.receive_data(data)
            dispatch = self._dispatch
            for event in events:
                handler = dispatch.get(type(event))
                if handler is not None:
                    handler(event)
            if self.spawner.waiting:
                self.spawner.spawn()
            self.flush()
        except Exception as exc:  # noqa: BLE001 - a bug here must not print a traceback
            log.error("HTTP/2 handler failure with %s: %r", self.conn.client, exc)
            log.debug("HTTP/2 handler traceback", exc_info=True)
            self.conn.abort()

    def connection_lost(self, exc: BaseException | None) -> None:
        self.timers.cancel()
        self.closer.cancel()
        if self._budget is not None:
            self._budget.forget(self)
            self.sender.clear()
        self.disconnect_streams()
        self._release()

    def _release(self) -> None:
        """Break the handler's reference cycles (its tables of bound methods, the
        pacer's callbacks, the core's frame handlers): a closed connection is freed by
        reference counting at once, not at the cyclic GC's next full collection."""
        self._dispatch = {}
        if self.spawner is not None:
            self.spawner.release()
        if self.pacer is not None:  # an inert one: no callback into this handler
            self.pacer = InputPacer(self.loop, lambda data: None, pause=lambda: None,
                                    resume=lambda: None, closed=lambda: True)
        if self.h2 is not None:
            self.h2.release()
        if self.sender is not None:
            self.sender.paused = True  # the connection is gone: nothing more is sent

    def pause_writing(self) -> None:
        """The peer does not read: hold response data, and stop reading too, so control
        frames that demand answers (PING, SETTINGS) cannot grow our buffer without
        bound (RFC 9113 §10.5)."""
        if self.sender is not None:
            self.sender.paused = True
        self.conn.pause_reading()

    def resume_writing(self) -> None:
        if not self.pacer.pending:
            self.conn.resume_reading()
        self.sender.paused = False
        self.sender.pump()
        self.flush()

    def shutdown(self) -> None:
        """§6.8 graceful shutdown (see :meth:`ConnectionCloser.shutdown`); WebSocket
        streams are closed with 1001 Going Away (RFC 6455 §7.4.1)."""
        if self.h2 is None:
            self.conn.close()
            return
        self.closer.shutdown()
        for stream in list(self.streams.values()):
            if isinstance(stream, H2WebSocketStream):
                stream.shutdown()
        self.flush()

    @property
    def idle(self) -> bool:
        return not self.streams

    # --- events ------------------------------------------------------------------------
    def _on_request(self, event: RequestReceived) -> None:
        sid = event.stream_id
        limit = self.conn.state.settings.h2_max_header_list_size
        if event.field_section_size > limit:  # §6.5.2
            self._refuse_oversized(sid, event.end_stream, limit)
            return
        head = request_head(event.headers, event.field_section_size)
        if head.protocol is not None:
            self._start_websocket(sid, event.headers, head)
            return
        priority = event.priority_update  # RFC 9218 §5: a frame's signal, else the header
        if priority is None:
            priority = head.priority or DEFAULT_PRIORITY
        self._start_stream(sid, event.headers, priority, event.end_stream, defer=True,
                           head=head)

    def _refuse_oversized(self, sid: int, end_stream: bool, limit: int) -> None:
        """RFC 9113 §10.5.1: a field section over our SETTINGS_MAX_HEADER_LIST_SIZE
        (counted as §6.5.2 does) is answered 431 without running the app; the HPACK
        context stayed in sync because the block was decoded. A request still sending
        its body is then cut short with RST_STREAM NO_ERROR (§8.1)."""
        if not self._limit_logged:
            self._limit_logged = True
            log.info("HTTP/2 request headers over BB_H2_MAX_HEADER_LIST_SIZE=%d from %s: "
                     "431 (further ones not logged)", limit, self.conn.client)
        self.send_headers(sid, [(b":status", b"431"), (b"content-length", b"0"),
                                (b"date", http_date())], True)
        if not end_stream:
            self.h2.reset_stream(sid, ErrorCode.NO_ERROR)

    def _start_stream(self, sid: int, headers: Headers, priority: Priority,
                      end_stream: bool, pushed: bool = False, defer: bool = False,
                      head: RequestHead | None = None) -> H2Stream:
        """A request stream and its app task: now, or in a later turn when ``defer``
        (see :class:`StreamSpawner`)."""
        template = self._scope_template
        if template is None:
            template = self._scope_template = scope_template(self.conn)
        scope = build_scope(self.conn, headers, head=head, template=template)
        stream = H2Stream(self, sid, scope, priority, end_stream)
        scope["http2_priority"] = stream.priority
        ext = scope["extensions"] = {
            "http.response.priority": stream.priority,
            "http.response.http2_stream": StreamWindowView(self.h2, sid),
            "http.response.trailers": {},
        }
        if (not pushed and self.h2.remote.enable_push
                and self.conn.state.settings.h2_enable_push):
            ext["http.response.push"] = {}
        self.streams[sid] = stream
        if defer:
            self.spawner.waiting.append(stream)
        else:
            stream.spawn(request_app(self.conn.state), self.conn.state.tasks)
        return stream

    def _start_upgraded_stream(self, upgrade: H2cUpgrade) -> None:
        fields = upgrade.request_fields(self.conn.scheme_secure)
        stream = self._start_stream(1, fields, DEFAULT_PRIORITY, True)
        if upgrade.body:
            stream.feed(upgrade.body, 0, False)
        self._upgrade = None

    def _start_websocket(self, sid: int, headers: Headers, head: RequestHead) -> None:
        """RFC 8441 §4: an extended CONNECT. Only ``websocket`` is spoken here (the core
        accepted ``:protocol`` only because we advertised the setting, §3)."""
        carrier = H2WebSocketStream(self, sid)
        self.streams[sid] = carrier
        protocol = head.protocol or b""
        settings = self.conn.state.settings
        if protocol.lower() != b"websocket":
            carrier.send_refusal(501, [], b"unsupported :protocol")
            return
        ws_count = sum(isinstance(s, H2WebSocketStream) for s in self.streams.values())
        if ws_count > settings.h2_max_websocket_streams:
            if not self._ws_cap_logged:  # a limit hit is logged once per connection
                self._ws_cap_logged = True
                log.info("HTTP/2 %s: over h2_max_websocket_streams=%d, WebSocket stream %d "
                         "refused (further ones not logged)", self.conn.client,
                         settings.h2_max_websocket_streams, sid)
            self.streams.pop(sid, None)
            self.reset(sid, ErrorCode.REFUSED_STREAM)
            return
        carrier.start(headers, build_scope(self.conn, headers, "websocket", head))

    def websocket_done(self, carrier: H2WebSocketStream) -> None:
        if self.streams.get(carrier.stream_id) is carrier:
            del self.streams[carrier.stream_id]
        self._schedule_flush()

    def _on_data(self, event: DataReceived) -> None:
        stream = self.streams.get(event.stream_id)
        if stream is None:
            self.ack(event.flow_controlled_length, event.stream_id)
        else:
            stream.feed(event.data, event.flow_controlled_length, event.end_stream)

    def _on_stream_ended(self, event: StreamEnded | TrailersReceived) -> None:
        stream = self.streams.get(event.stream_id)
        if stream is not None and not stream.body_complete:
            # (a request without body was opened complete: nothing to wake)
            stream.end_body()

    def _on_reset(self, event: StreamReset) -> None:
        if not event.remote and not self.stream_error_logged:
            # Our RST_STREAM after a stream error or a limit (e.g. REFUSED_STREAM over
            # MAX_CONCURRENT_STREAMS): logged once per connection.
            self.stream_error_logged = True
            log.info("HTTP/2 stream %d of %s reset: %s (further ones not logged)",
                     event.stream_id, self.conn.client,
                     getattr(event.error_code, "name", event.error_code))
        self.sender.discard(event.stream_id)
        stream = self.streams.get(event.stream_id)
        if stream is not None:
            stream.disconnect()

    def _on_window(self, event: Any) -> None:
        self._pump_wanted = True

    def _on_priority(self, event: PriorityUpdated) -> None:
        stream = self.streams.get(event.stream_id)
        if stream is not None:
            stream.set_priority(event.urgency, event.incremental)

    def _on_terminated(self, event: ConnectionTerminated) -> None:
        if not event.remote:
            log.info("HTTP/2 connection error with %s: %s %s", self.conn.client,
                     getattr(event.error_code, "name", event.error_code),
                     event.additional_data.decode("utf-8", "replace"))
            self.disconnect_streams()
            return
        # The peer opens no more streams; the ones it named still finish. We do not
        # close first: the peer closes, or the idle timer does (it may still send
        # frames, and closing with unread input would reset the TCP connection).
        if event.error_code != _NO_ERROR:
            self.disconnect_streams()

    # --- used by the streams -----------------------------------------------------------
    def ack(self, n: int, stream_id: int) -> None:
        if n and not self.h2.terminated:
            self.h2.acknowledge_received_data(n, stream_id)
            self._schedule_flush()

    def send_headers(self, sid: int, headers: Headers, end_stream: bool) -> None:
        try:
            self.h2.send_headers(sid, headers, end_stream=end_stream)
        except UsageError:
            return  # the stream was reset meanwhile
        self._schedule_flush()

    def send_trailers(self, sid: int, headers: Headers) -> None:
        self.send_headers(sid, headers, end_stream=True)

    def send_final_now(self, sid: int, body: bytes) -> bool:
        """Send a stream's last DATA at once when no other response waits for window
        (so no RFC 9218 ordering is at stake) and both windows admit it."""
        try:
            if not self.sender.send_final_now(sid, body):
                return False
        except UsageError:
            return True  # reset meanwhile: the data is void
        self._schedule_flush()
        return True

    def send_response(self, sid: int, headers: Headers, body: bytes) -> bool:
        """A whole response: HEADERS and, when no other response waits for window (so
        no RFC 9218 ordering is at stake) and both windows admit it, its last DATA in
        the same call. False when ``body`` must be queued."""
        sender = self.sender
        try:
            if sender.active or sender.paused:
                self.h2.send_headers(sid, headers, end_stream=False)
                done = False
            else:
                done = self.h2.send_headers_and_data(sid, headers, body)
        except UsageError:
            return True  # the stream was reset meanwhile: the response is void
        self._schedule_flush()
        return done

    def queue_output(self, stream: Outbound) -> None:
        self.sender.enqueue(stream)
        self._budget.watch(self)
        self._pump_wanted = True
        self._schedule_flush()

    def reset(self, sid: int, code: ErrorCode) -> None:
        self.sender.discard(sid)
        self.h2.reset_stream(sid, code)
        self._schedule_flush()

    def push(self, parent: H2Stream, message: dict[str, Any]) -> None:
        """``http.response.push`` → PUSH_PROMISE + a synthetic GET through the app (§8.4)."""
        h2 = self.h2
        limit = h2.remote.max_concurrent_streams
        if (not h2.remote.enable_push or not self.conn.state.settings.h2_enable_push
                or self.closer.closing
                or (limit is not None and len(self.streams) >= limit)):
            return
        request = push_request(parent.scope, message)
        try:
            promised = h2.push_stream(parent.stream_id, request)
        except UsageError:
            return
        self._start_stream(promised, request, DEFAULT_PRIORITY, True, pushed=True)
        self._schedule_flush()

    def stream_done(self, stream: H2Stream) -> None:
        """The app task ended: release the stream. If our side is still open the app
        never finished its response (e.g. promised trailers it did not send): RST_STREAM
        INTERNAL_ERROR. If only the request is still being sent, it is cut short with
        RST_STREAM NO_ERROR (§8.1), the response being complete."""
        sid = stream.stream_id
        self.streams.pop(sid, None)
        core = self.h2.streams.get(sid)
        if core is not None and not stream.disconnected and sid not in self.sender.active:
            if core.state in (StreamState.OPEN, StreamState.HALF_CLOSED_REMOTE):
                log.error("ASGI app ended without finishing the response on stream %d", sid)
                self.reset(sid, ErrorCode.INTERNAL_ERROR)
            elif core.state is StreamState.HALF_CLOSED_LOCAL:
                self.h2.reset_stream(sid, ErrorCode.NO_ERROR)
        if (core is None and not stream.out_size and stream.trailers_out is None
                and not stream.buffered):
            stream.disconnected = True  # the common end: nothing queued, nothing to wake
        else:
            stream.disconnect()
        self._schedule_flush()

    # --- used by the worker's ResponseBudget and by the components ---------------------
    def buffered_octets(self) -> int:
        return self.sender.queued

    def octets_sent(self) -> int:
        return self.h2.data_octets_sent

    def shed(self, reason: str) -> None:
        self.closer.calm(reason.encode())

    def disconnect_streams(self) -> None:
        """Every stream is gone for its app (connection error, close, shed)."""
        for stream in list(self.streams.values()):
            stream.disconnect()

    # --- output ------------------------------------------------------------------------
    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            if not self.spawner.turn_pending:
                self.loop.call_soon(self.flush)
            # else the spawner's turn end, queued after the new app tasks, flushes

    def _turn_end(self) -> None:
        if self._flush_scheduled:
            self.flush()

    def flush(self) -> None:
        """Pump the sender if asked, write what the core produced in one write, and
        close once our last frame is out."""
        self._flush_scheduled = False
        if self._pump_wanted:
            self._pump_wanted = False
            self.sender.pump()
        h2 = self.h2
        if h2.large_data_queued and not self.conn.scheme_secure:
            # big DATA payloads: one writev of the views, no join copy (TLS keeps the
            # join: each buffer would become a TLS record of its own)
            self.conn.writelines(h2.buffers_to_send())
        else:
            data = h2.data_to_send()
            if data:
                self.conn.write(data)
        if self.h2.terminated or (self.closer.closing and not self.streams):
            self.closer.finish()
