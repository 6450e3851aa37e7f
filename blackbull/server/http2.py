"""HTTP/2 on a connection: the asyncio shell around the sans-I/O core (RFC 9113).

Bytes go into :class:`~blackbull.protocol.http2.H2Connection`; its events start one
ASGI task per stream (:class:`H2Stream`) and feed their bodies; responses come back
through the core and its :class:`~blackbull.protocol.http2.scheduler.OutboundScheduler`.
All frames produced while handling one read, or during one loop iteration of app sends,
leave in a single transport write.
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

from ..protocol.http2 import (
    DEFAULT_PRIORITY,
    ConnectionTerminated,
    DataReceived,
    ErrorCode,
    H2Connection,
    PingAckReceived,
    PriorityUpdated,
    RemoteSettingsChanged,
    RequestReceived,
    SettingCode,
    SettingsAcknowledged,
    StreamEnded,
    StreamReset,
    StreamState,
    TrailersReceived,
    UsageError,
    WindowUpdated,
    parse_priority_field,
)
from ..protocol.http2.scheduler import Outbound, OutboundScheduler
from ..protocol.http2.settings import decode_settings_header
from .asgi import base_scope
from .clock import http_date
from .connection import ProtocolHandler
from .http2_guard import ResponseBudget, SlowReaderJudge, budget_of
from .http2_input import InputPacer
from .http2_stream import H2Stream, StreamWindowView
from .http2_websocket import H2WebSocketStream
from .overload import request_app

log = logging.getLogger("blackbull.server")

Headers = list[tuple[bytes, bytes]]
#: Seconds a finished connection keeps draining input before it closes; also the
#: longest wait for the PING ACK between the two GOAWAYs of a graceful shutdown.
_LINGER = 1.0
_DRAIN_PING = b"bb-drain"
MAX_STREAM_ID = 0x7FFFFFFF


def _ignore(data: bytes) -> None:
    pass


def _nothing() -> None:
    pass


def _closed() -> bool:
    return True


class HTTP2Handler(ProtocolHandler):
    """Serves one HTTP/2 connection (h2 over TLS, h2c prior knowledge or Upgrade)."""

    def __init__(self) -> None:
        self.h2: H2Connection = None  # type: ignore[assignment]  # made in start()
        self.sender: OutboundScheduler = None  # type: ignore[assignment]
        self.streams: dict[int, H2Stream | H2WebSocketStream] = {}
        self.loop: asyncio.AbstractEventLoop = None  # type: ignore[assignment]
        self._upgrade: tuple[bytes, Headers, str, bytes, bytes] | None = None
        self._flush_scheduled = False
        self._closing = False
        self._idle_timer: asyncio.TimerHandle | None = None
        self._last_active = 0.0
        self._linger: asyncio.TimerHandle | None = None
        self._stream_error_logged = False
        self._ws_cap_logged = False
        self._limit_logged = False
        self._drain_timer: asyncio.TimerHandle | None = None
        self._settings_timer: asyncio.TimerHandle | None = None
        #: Streams opened but whose app tasks have not started: after the read that
        #: opened them, at most BB_H2_STREAMS_PER_TURN per event-loop turn.
        self._unstarted: deque[H2Stream] = deque()
        self._spawn_budget = 0
        self._turn_scheduled = False
        #: Response data was queued, or a WINDOW_UPDATE or SETTINGS arrived: the sender
        #: pumps once at the next flush, not once per frame or per app send (each pump
        #: visits every stream with data waiting, RFC 9113 §10.5).
        self._pump_wanted = False
        self.pacer: InputPacer = None  # type: ignore[assignment]  # made in start()
        self._judge = SlowReaderJudge()
        self._budget: ResponseBudget = None  # type: ignore[assignment]  # made in start()
        self._dispatch: dict[type, Callable[[Any], None]] = {
            RequestReceived: self._on_request,
            DataReceived: self._on_data,
            StreamEnded: self._on_stream_ended,
            StreamReset: self._on_reset,
            TrailersReceived: self._on_trailers,
            WindowUpdated: self._on_window,
            RemoteSettingsChanged: self._on_window,
            PriorityUpdated: self._on_priority,
            ConnectionTerminated: self._on_terminated,
            PingAckReceived: self._on_ping_ack,
            SettingsAcknowledged: self._on_settings_ack,
        }

    @classmethod
    def for_upgrade(cls, http2_settings: bytes, request_headers: Headers, method: str | bytes,
                    path: bytes, body: bytes) -> HTTP2Handler:
        """RFC 7540 §3.2 h2c Upgrade: the HTTP/1.1 request becomes stream 1.

        Raises :class:`ProtocolError` for an invalid HTTP2-Settings
        value, before anything is sent, so the caller can stay on HTTP/1.1."""
        decode_settings_header(http2_settings)
        handler = cls()
        if isinstance(method, str):
            method = method.encode("ascii")
        handler._upgrade = (http2_settings.strip(), request_headers, method.decode("ascii"),
                            path, body)
        return handler

    # --- ProtocolHandler ---------------------------------------------------------------
    def start(self, initial_data: bytes) -> None:
        self.loop = asyncio.get_running_loop()
        settings = self.conn.state.settings
        local = {
            SettingCode.HEADER_TABLE_SIZE: settings.h2_header_table_size,
            SettingCode.MAX_CONCURRENT_STREAMS: settings.h2_max_concurrent_streams,
            SettingCode.INITIAL_WINDOW_SIZE: settings.h2_initial_window_size,
            SettingCode.MAX_FRAME_SIZE: settings.h2_max_frame_size,
            SettingCode.MAX_HEADER_LIST_SIZE: settings.h2_max_header_list_size,
        }
        if settings.h2_enable_websocket:
            local[SettingCode.ENABLE_CONNECT_PROTOCOL] = 1  # RFC 8441 §3
        self.h2 = h2 = H2Connection(
            "server", local, max_closed_streams=settings.h2_max_closed_streams,
            max_continuation_frames=settings.h2_max_continuation_frames,
            reset_burst=settings.h2_max_reset_burst, reset_rate=settings.h2_max_reset_rate,
            flood_burst=settings.h2_max_flood_burst, flood_rate=settings.h2_max_flood_rate,
            encoder_table_size=settings.h2_encoder_table_size, clock=self.loop.time)
        self._budget = budget = budget_of(self.conn.state, self.loop)
        self.sender = OutboundScheduler(h2, budget.change if budget.limit > 0 else None)
        conn = self.conn
        self.pacer = InputPacer(self.loop, self._process, pause=conn.pause_reading,
                                resume=self._resume_after_backlog,
                                closed=lambda: conn.closed)
        if self._upgrade is not None:
            h2.initiate_upgrade_connection(self._upgrade[0] or None)
        else:
            h2.initiate_connection()
        h2.increment_connection_window(settings.h2_connection_window_size)
        if self._upgrade is not None:
            self._start_upgraded_stream()
        self._arm_idle_timer()
        self._settings_timer = self.loop.call_later(
            self.conn.state.settings.h2_settings_timeout, self._on_settings_timeout)
        if initial_data:
            self.data_received(initial_data)
        else:
            self._flush()

    def data_received(self, data: bytes) -> None:
        self.pacer.feed(data)  # paced: see http2_input

    def _resume_after_backlog(self) -> None:
        if not self.sender.paused:
            self.conn.resume_reading()

    def _process(self, data: bytes) -> None:
        self._last_active = self.loop.time()
        try:
            events = self.h2.receive_data(data)
            dispatch = self._dispatch
            for event in events:
                handler = dispatch.get(type(event))
                if handler is not None:
                    handler(event)
            if self._unstarted:
                self._spawn_unstarted()
            self._flush()
        except Exception as exc:  # noqa: BLE001 - a bug here must not print a traceback
            log.error("HTTP/2 handler failure with %s: %r", self.conn.client, exc)
            log.debug("HTTP/2 handler traceback", exc_info=True)
            self.conn.abort()

    def eof_received(self) -> bool | None:
        return None

    def connection_lost(self, exc: BaseException | None) -> None:
        self._cancel_idle_timer()
        if self._budget is not None:
            self._budget.forget(self)
            self.sender.clear()
        for timer in (self._linger, self._drain_timer, self._settings_timer):
            if timer is not None:
                timer.cancel()
        for stream in list(self.streams.values()):
            stream.disconnect()
        self._release()

    def _release(self) -> None:
        """Break the handler's reference cycles (its tables of bound methods, the
        pacer's callbacks, the core's frame handlers): a closed connection is freed by
        reference counting at once, not at the cyclic GC's next full collection."""
        self._dispatch = {}
        self._unstarted.clear()
        if self.pacer is not None:
            self.pacer = InputPacer(self.loop, _ignore, pause=_nothing, resume=_nothing,
                                    closed=_closed)
        if self.h2 is not None:
            self.h2.release()
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
        self._flush()

    def shutdown(self) -> None:
        """§6.8 graceful shutdown, in two steps: GOAWAY with 2^31-1 and a PING, so
        requests already in flight are still taken; after the PING's ACK (one round
        trip, or _LINGER seconds) the final GOAWAY names the last stream we process.
        Those streams finish, then the connection closes."""
        h2 = self.h2
        if h2 is None:
            self.conn.close()
            return
        if h2.goaway_sent is None and not h2.terminated:
            h2.close_connection(ErrorCode.NO_ERROR, last_stream_id=MAX_STREAM_ID)
            h2.ping(_DRAIN_PING)
            self._drain_timer = self.loop.call_later(_LINGER, self._final_goaway)
        for stream in list(self.streams.values()):
            if isinstance(stream, H2WebSocketStream):
                stream.shutdown()  # RFC 6455 §7.4.1: 1001 Going Away
        self._flush()

    def _final_goaway(self) -> None:
        if self._drain_timer is not None:
            self._drain_timer.cancel()
            self._drain_timer = None
        if self._closing or self.h2.terminated:
            return
        self._closing = True
        self.h2.close_connection(ErrorCode.NO_ERROR)  # last = highest stream processed
        self._flush()

    def _on_settings_ack(self, event: SettingsAcknowledged) -> None:
        if self._settings_timer is not None and not self.h2.awaiting_settings_ack:
            self._settings_timer.cancel()
            self._settings_timer = None

    def _on_settings_timeout(self) -> None:
        """§6.5.3: our SETTINGS were never acknowledged: connection error SETTINGS_TIMEOUT."""
        self._settings_timer = None
        if self.h2.awaiting_settings_ack and not self.h2.terminated and not self.conn.closed:
            log.info("HTTP/2 peer %s never acknowledged our SETTINGS", self.conn.client)
            self.h2.close_connection(ErrorCode.SETTINGS_TIMEOUT)
            for stream in list(self.streams.values()):
                stream.disconnect()
            self._flush()

    def _on_ping_ack(self, event: PingAckReceived) -> None:
        if event.data == _DRAIN_PING and self.h2.goaway_sent is not None:
            self._final_goaway()

    @property
    def idle(self) -> bool:
        return not self.streams

    # --- events ------------------------------------------------------------------------
    def _on_request(self, event: RequestReceived) -> None:
        sid = event.stream_id
        limit = self.conn.state.settings.h2_max_header_list_size
        if event.field_section_size > limit:
            self._refuse_oversized(sid, event.end_stream, limit)
            return
        for name, _ in event.headers:
            if name[:1] != b":":
                break  # pseudo-headers come first (§8.3)
            if name == b":protocol":
                self._start_websocket(sid, event.headers)
                return
        priority = event.priority_update
        if priority is None:
            priority = DEFAULT_PRIORITY
            for name, value in event.headers:
                if name == b"priority":  # RFC 9218 §5: the header, unless a frame said so
                    priority = parse_priority_field(value)
                    break
        self._start_stream(sid, event.headers, priority, event.end_stream, defer=True)

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

    def _spawn_unstarted(self) -> None:
        """Start the app tasks of streams opened so far, at most BB_H2_STREAMS_PER_TURN
        per event-loop turn: a connection multiplexing 100 requests in one read must
        not have all of their first steps run in the next turn while every other
        connection waits (RFC 9113 §10.5, fairness); the rest start in later turns.
        A stream reset before its turn came (Rapid Reset, CVE-2023-44487: HEADERS +
        RST_STREAM back to back) never costs an app task."""
        if not self._turn_scheduled:
            self._turn_scheduled = True
            self._spawn_budget = self.conn.state.settings.h2_streams_per_turn
            self.loop.call_soon(self._next_turn)
        pending = self._unstarted
        state = self.conn.state
        while pending and self._spawn_budget > 0:
            stream = pending.popleft()
            if stream.disconnected:
                if self.streams.get(stream.stream_id) is stream:
                    del self.streams[stream.stream_id]
                continue
            self._spawn_budget -= 1
            stream.spawn(request_app(state), state.tasks)

    def _next_turn(self) -> None:
        self._turn_scheduled = False
        if self._unstarted and not self.conn.closed:
            self._spawn_unstarted()

    def _start_stream(self, sid: int, headers: Headers, priority: Any,
                      end_stream: bool, pushed: bool = False, defer: bool = False) -> H2Stream:
        scope = self._build_scope(sid, headers)
        stream = H2Stream(self, sid, scope, priority, end_stream)
        ext = scope["extensions"]
        ext["http.response.priority"] = stream.priority
        scope["http2_priority"] = stream.priority
        ext["http.response.http2_stream"] = StreamWindowView(self.h2, sid)
        ext["http.response.trailers"] = {}
        if (not pushed and self.h2.remote.enable_push
                and self.conn.state.settings.h2_enable_push):
            ext["http.response.push"] = {}
        self.streams[sid] = stream
        if defer:
            self._unstarted.append(stream)
        else:
            stream.spawn(request_app(self.conn.state), self.conn.state.tasks)
        return stream

    def _start_websocket(self, sid: int, headers: Headers) -> None:
        """RFC 8441 §4: an extended CONNECT. Only ``websocket`` is spoken here (the core
        accepted ``:protocol`` only because we advertised the setting, §3)."""
        carrier = H2WebSocketStream(self, sid)
        self.streams[sid] = carrier
        protocol = next(v for k, v in headers if k == b":protocol")
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
        carrier.start(headers, self._build_scope(sid, headers, "websocket"))

    def websocket_done(self, carrier: H2WebSocketStream) -> None:
        if self.streams.get(carrier.stream_id) is carrier:
            del self.streams[carrier.stream_id]
        self._schedule_flush()

    def _build_scope(self, sid: int, headers: Headers, kind: str = "http") -> dict[str, Any]:
        method = b"GET"
        target = b"/"
        authority = None
        regular: Headers = []
        cookies: list[bytes] = []
        has_host = False
        for name, value in headers:
            if name[:1] == b":":
                if name == b":method":
                    method = value
                elif name == b":path":
                    target = value
                elif name == b":authority":
                    authority = value
            elif name == b"cookie":
                cookies.append(value)  # §8.2.3: crumbs are joined for HTTP/1.1 semantics
            else:
                if name == b"host":
                    has_host = True
                regular.append((name, value))
        if cookies:
            regular.append((b"cookie", b"; ".join(cookies)))
        if authority is not None and not has_host:
            regular.insert(0, (b"host", authority))
        raw_path, _, query = target.partition(b"?")
        path = (unquote_to_bytes(raw_path) if b"%" in raw_path else raw_path).decode(
            "utf-8", "surrogateescape")
        return base_scope(self.conn, kind, "2", method.decode("ascii", "replace"), path,
                          raw_path, query, regular)

    def _on_data(self, event: DataReceived) -> None:
        stream = self.streams.get(event.stream_id)
        if stream is None:
            self.ack(event.flow_controlled_length, event.stream_id)
        else:
            stream.feed(event.data, event.flow_controlled_length, event.end_stream)

    def _on_stream_ended(self, event: StreamEnded) -> None:
        stream = self.streams.get(event.stream_id)
        if stream is not None:
            stream.end_body()

    def _on_trailers(self, event: TrailersReceived) -> None:
        # ASGI has no request trailers; they end the body.
        self._on_stream_ended(StreamEnded(event.stream_id))

    def _on_reset(self, event: StreamReset) -> None:
        if not event.remote and not self._stream_error_logged:
            # Our RST_STREAM after a stream error or a limit (e.g. REFUSED_STREAM over
            # MAX_CONCURRENT_STREAMS): logged once per connection.
            self._stream_error_logged = True
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
            for stream in list(self.streams.values()):
                stream.disconnect()
            return
        # The peer opens no more streams; the ones it named still finish. We do not
        # close first: the peer closes, or the idle timer does (it may still send
        # frames, and closing with unread input would reset the TCP connection).
        if event.error_code != ErrorCode.NO_ERROR:
            for stream in list(self.streams.values()):
                stream.disconnect()

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

    def queue_output(self, stream: Outbound) -> None:
        self.sender.enqueue(stream)
        self._budget.watch(self)
        self._pump_wanted = True
        self._schedule_flush()

    # --- used by the worker's ResponseBudget ---------------------------------------------
    def buffered_octets(self) -> int:
        return self.sender.queued

    def octets_sent(self) -> int:
        return self.h2.data_octets_sent

    def shed(self, reason: str) -> None:
        self._close_calm(reason.encode())

    def reset(self, sid: int, code: ErrorCode) -> None:
        self.sender.discard(sid)
        self.h2.reset_stream(sid, code)
        self._schedule_flush()

    def push(self, parent: H2Stream, message: dict[str, Any]) -> None:
        """``http.response.push`` → PUSH_PROMISE + a synthetic GET through the app (§8.4)."""
        h2 = self.h2
        limit = h2.remote.max_concurrent_streams
        if (not h2.remote.enable_push or not self.conn.state.settings.h2_enable_push
                or self._closing or (limit is not None and len(self.streams) >= limit)):
            return
        path = message["path"].encode() if isinstance(message["path"], str) else message["path"]
        scope = parent.scope
        authority = next((v for k, v in scope["headers"] if k == b"host"), b"")
        extra = [(bytes(k).lower(), bytes(v)) for k, v in message.get("headers", ())]
        request = [(b":method", b"GET"), (b":scheme", scope["scheme"].encode()),
                   (b":authority", authority), (b":path", path)] + extra
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
        stream.disconnect()
        self._schedule_flush()

    # --- output ------------------------------------------------------------------------
    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._pump_wanted:
            self._pump_wanted = False
            self.sender.pump()
        conn = self.conn
        data = self.h2.data_to_send()
        if data:
            conn.write(data)
        if self.h2.terminated or (self._closing and not self.streams):
            self._finish()

    def _finish(self) -> None:
        """Close after our last frame (GOAWAY): half-close where the transport can, keep
        reading (and discarding) briefly so unread input does not turn the close into
        a TCP reset that could destroy the GOAWAY in flight (RFC 9113 §5.4.1)."""
        if self._linger is not None or self.conn.closed:
            return
        transport = self.conn.transport
        if transport is not None and transport.can_write_eof():
            try:
                transport.write_eof()
            except OSError:  # the peer is already gone
                self.conn.close()
                return
        self._linger = self.loop.call_later(_LINGER, self.conn.close)

    # --- upgrade & idle ----------------------------------------------------------------
    def _start_upgraded_stream(self) -> None:
        _, headers, method, target, body = self._upgrade  # type: ignore[misc]
        authority = next((v for k, v in headers if k == b"host"), b"")
        scheme = b"https" if self.conn.scheme_secure else b"http"
        request = [(b":method", method.encode()), (b":scheme", scheme),
                   (b":authority", authority), (b":path", target or b"/")]
        request += [(k, v) for k, v in headers if k != b"host"]
        stream = self._start_stream(1, request, DEFAULT_PRIORITY, True)
        if body:
            stream.feed(body, 0, False)
        self._upgrade = None

    def _on_slow_reader(self, timeout: float, rate: int) -> None:
        """Responses wait for a peer that barely opens its flow-control windows or does
        not read its socket (zero-window / slow-reader attack, RFC 9113 §10.5): over a
        whole BB_H2_IDLE_TIMEOUT it took less than BB_H2_MIN_SEND_RATE."""
        log.info("HTTP/2 peer %s took response data slower than %d octets/s for %.0f s: "
                 "closing", self.conn.client, rate, timeout)
        self._close_calm(b"slow reader")

    def _close_calm(self, why: bytes) -> None:
        """GOAWAY ENHANCE_YOUR_CALM and drop the connection (a peer that does not read
        would keep a graceful close waiting forever)."""
        if self.conn.closed:
            return
        if not self.h2.terminated:
            self.h2.close_connection(ErrorCode.ENHANCE_YOUR_CALM, additional_data=why)
        for stream in list(self.streams.values()):
            stream.disconnect()
        self.sender.clear()  # what they queued is void
        self._flush()
        self.loop.call_later(_LINGER, self.conn.abort)

    def _reset_slow_streams(self, sids: list[int], rate: int) -> None:
        """Streams held back by their own window (the connection's would let them
        send) that took less than BB_H2_MIN_SEND_RATE: RST_STREAM ENHANCE_YOUR_CALM."""
        if not self._stream_error_logged:
            self._stream_error_logged = True
            log.info("HTTP/2 peer %s took data slower than %d octets/s on stream %d: reset "
                     "(further ones not logged)", self.conn.client, rate, sids[0])
        for sid in sids:
            self.reset(sid, ErrorCode.ENHANCE_YOUR_CALM)
            stream = self.streams.get(sid)
            if stream is not None:
                stream.disconnect()

    def _arm_idle_timer(self) -> None:
        timeout = self.conn.state.settings.h2_idle_timeout
        if timeout > 0 and self._idle_timer is None and not self.conn.closed:
            self._idle_timer = self.loop.call_later(timeout, self._on_idle_timer)

    def _cancel_idle_timer(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def _on_idle_timer(self) -> None:
        """§9.1: an idle connection may be closed, announced by GOAWAY. One timer per
        connection, re-armed while streams are open or bytes arrived recently, unless
        response data progressed too slowly over the period (see _on_slow_reader)."""
        self._idle_timer = None
        if self.conn.closed:
            return
        timeout = self.conn.state.settings.h2_idle_timeout
        if self.streams or self.loop.time() - self._last_active < timeout:
            rate = self.conn.state.settings.h2_min_send_rate
            slow, slow_streams = self._judge.judge(self.h2, self.sender.active, timeout, rate)
            if slow:
                self._on_slow_reader(timeout, rate)
                return
            if slow_streams:
                self._reset_slow_streams(slow_streams, rate)
            self._arm_idle_timer()
            return
        # Nothing in flight: one GOAWAY naming the last stream (§6.8); a request racing
        # it is above that id, so the client knows it can retry it elsewhere.
        if self.h2.goaway_sent is None and not self.h2.terminated:
            self._final_goaway()
        else:
            self._flush()
