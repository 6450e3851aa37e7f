"""The HTTP/2 connection state machine, sans I/O (RFC 9113 §3-§6, RFC 9218 §7).

``H2Connection`` is fed bytes (:meth:`receive_data`) and returns events; its send
methods queue frames that :meth:`data_to_send` hands out. It never touches a socket,
a clock (the Rapid-Reset guard takes an injected ``clock``) or asyncio, and serves
both roles: ``"server"`` now, ``"client"`` for the RFC 8441 WebSocket client.

Frames received are checked here (connection-level rules and the dispatch); header
blocks (HEADERS, PUSH_PROMISE, CONTINUATION) in :mod:`.receive_headers`, the
per-stream state rules in :mod:`.stream`, field rules in :mod:`.headers`, and the
sending half in :mod:`.sending`.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from . import events as ev
from .errors import ConnectionError, ErrorCode, ProtocolError, StreamError, error_code
from .frames import (
    ACK,
    END_STREAM,
    MAX_WINDOW,
    FrameReader,
    FrameType,
    goaway_frame,
    parse_priority,
    parse_settings,
    parse_u32,
    ping_frame,
    rst_stream_frame,
    settings_frame,
    strip_padding,
)
from .hpack_codec import HeaderDecoder, HeaderEncoder
from .priority import parse_priority_field
from .receive_headers import HeaderBlock, HeaderBlockMixin
from .sending import SendingMixin
from .settings import PeerSettings, SettingCode, validate_setting
from .stream import CloseReason, Stream, StreamState, closed_stream_error

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#: WINDOW_UPDATE increments below this many octets draw from the flood bucket (§10.5).
SMALL_WINDOW_UPDATE = 1024


class H2Connection(HeaderBlockMixin, SendingMixin):
    """One HTTP/2 connection, either role."""

    def __init__(
        self,
        role: str = "server",
        local_settings: dict[int, int] | None = None,
        *,
        max_closed_streams: int = 1000,
        max_continuation_frames: int = 64,
        reset_burst: int = 1000,
        reset_rate: float = 33.0,
        flood_burst: int = 1000,
        flood_rate: float = 100.0,
        encoder_table_size: int = 4096,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if role not in ("server", "client"):
            raise ValueError("role must be 'server' or 'client'")
        self.client_side = role == "client"
        self.role = role
        #: Settings we declared; ``local`` holds acknowledged values (§6.5.3).
        self.local = PeerSettings()
        self._local_wanted = dict(local_settings or {})
        self._pending_local: list[dict[int, int]] = []
        self.remote = PeerSettings()
        self.streams: dict[int, Stream] = {}
        self._closed: OrderedDict[int, CloseReason] = OrderedDict()
        self.max_closed_streams = max_closed_streams
        self.max_continuation_frames = max_continuation_frames
        self.highest_remote_id = 0
        self.highest_local_id = 0
        self._next_local_id = 1 if self.client_side else 2
        self.active_remote = 0
        self.active_local = 0
        # Flow control, connection level (§6.9): send credit and receive credit.
        self.outbound_window = 65535
        self.inbound_window = 65535
        self.inbound_target = 65535
        self._inbound_unacked = 0
        self._out: list[bytes] = []
        #: DATA octets sent so far: lets the I/O shell see whether output progresses.
        self.data_octets_sent = 0
        self._reader = FrameReader()
        self._preface: bytes | None = None if self.client_side else b""
        self._awaiting_settings = True
        self._block: HeaderBlock | None = None
        self._pending_priority: dict[int, object] = {}
        self._valid_requests: dict[tuple, int | None] = {}
        self.encoder = HeaderEncoder()
        #: RFC 7541 §4.2: the encoder may use any table size up to the peer's
        #: SETTINGS_HEADER_TABLE_SIZE; ours stays at most this, since a table search
        #: costs time linear in its entries (a peer may allow 2^32-1 octets).
        self.encoder_table_limit = encoder_table_size
        if encoder_table_size < self.encoder.header_table_size:
            self.encoder.header_table_size = encoder_table_size  # signalled in block one
        self.decoder = HeaderDecoder()
        self.goaway_sent: int | None = None
        self.goaway_received: int | None = None
        self.terminated = False
        self._clock = clock
        self._reset_tokens = float(reset_burst)
        self._reset_burst = reset_burst
        self._reset_rate = reset_rate
        self._reset_stamp = clock() if clock else 0.0
        # Frames that cost us work but carry nothing for the app (§10.5,
        # CVE-2019-9512/9513/9515/9518): PING, SETTINGS, PRIORITY, PRIORITY_UPDATE,
        # empty DATA without END_STREAM and WINDOW_UPDATEs under SMALL_WINDOW_UPDATE. A second token bucket. (CONTINUATION has its
        # own per-block frame and byte caps.)
        self._flood_tokens = float(flood_burst)
        self._flood_burst = flood_burst
        self._flood_rate = flood_rate
        self._flood_stamp = self._reset_stamp
        self._handlers = {
            FrameType.DATA: self._on_data,
            FrameType.HEADERS: self._on_headers,
            FrameType.PRIORITY: self._on_priority,
            FrameType.RST_STREAM: self._on_rst_stream,
            FrameType.SETTINGS: self._on_settings,
            FrameType.PUSH_PROMISE: self._on_push_promise,
            FrameType.PING: self._on_ping,
            FrameType.GOAWAY: self._on_goaway,
            FrameType.WINDOW_UPDATE: self._on_window_update,
            FrameType.CONTINUATION: self._on_continuation,
            FrameType.PRIORITY_UPDATE: self._on_priority_update,
        }

    def release(self) -> None:
        """The connection is gone: drop the frame-handler table (bound methods of
        this object, a reference cycle); further input is ignored."""
        self.terminated = True
        self._handlers = {}

    # --- receiving ---------------------------------------------------------------------
    def receive_data(self, data: bytes) -> list[ev.Event]:
        """Process bytes from the peer; return the events they caused, in order.

        A connection error queues GOAWAY, ends the list with a local
        :class:`ConnectionTerminated` and makes the connection ignore further input.
        """
        events: list[ev.Event] = []
        if self.terminated:
            return events
        try:
            if self._preface is not None:
                data = self._consume_preface(data)
                if not data:
                    return events
            reader = self._reader
            reader.feed(data)
            frames, error = reader.frames()
            handlers = self._handlers
            for ftype, flags, sid, payload in frames:
                if self._block is not None and ftype != FrameType.CONTINUATION:
                    raise ProtocolError("header block interrupted by another frame")  # §6.10
                if self._awaiting_settings:
                    if ftype != FrameType.SETTINGS or flags & ACK:
                        raise ProtocolError("connection preface must begin with SETTINGS")  # §3.4
                    self._awaiting_settings = False
                handler = handlers.get(ftype)
                if handler is None:
                    continue  # §5.5: unknown frame types are ignored
                try:
                    handler(flags, sid, payload, events)
                except StreamError as exc:
                    self._stream_error(exc, events)
            if error is not None:
                raise error
        except ConnectionError as exc:
            self._connection_error(exc, events)
        return events

    def _consume_preface(self, data: bytes) -> bytes:
        """§3.4: the server first expects the 24-octet client connection preface."""
        have = self._preface + data  # type: ignore[operator]
        n = min(len(have), len(PREFACE))
        if have[:n] != PREFACE[:n]:
            raise ProtocolError("invalid connection preface")
        if n < len(PREFACE):
            self._preface = have
            return b""
        self._preface = None
        return have[len(PREFACE):]

    def _stream_error(self, exc: StreamError, events: list[ev.Event]) -> None:
        """§5.4.2: answer a stream error with RST_STREAM and forget the stream.

        Resets the peer provokes draw from the same bucket as the peer's own
        RST_STREAMs (MadeYouReset, CVE-2025-8671: invalid frames are a way to make
        the server reset streams as cheaply as Rapid Reset does)."""
        self._take_reset_token()
        sid = exc.stream_id
        self._out.append(rst_stream_frame(sid, exc.code))
        stream = self.streams.get(sid)
        if stream is not None:
            stream.reset_locally()
            self._forget(stream)
            events.append(ev.StreamReset(sid, exc.code, remote=False))
        elif sid not in self._closed and self._is_remote_id(sid) and sid > self.highest_remote_id:
            self._remember_closed(sid, CloseReason.RESET_SENT)

    def _connection_error(self, exc: ConnectionError, events: list[ev.Event]) -> None:
        """§5.4.1: send GOAWAY with the last stream we processed, then stop."""
        last = self.highest_remote_id
        self._out.append(goaway_frame(last, exc.code, exc.message.encode("utf-8", "replace")))
        self.goaway_sent = last
        self.terminated = True
        events.append(ev.ConnectionTerminated(exc.code, last, exc.message.encode(), remote=False))

    # --- stream bookkeeping ------------------------------------------------------------
    def _is_remote_id(self, sid: int) -> bool:
        # Clients open odd streams, servers even ones (§5.1.1).
        return (sid & 1) == (0 if self.client_side else 1)

    def _new_stream(self, sid: int, remote: bool) -> Stream:
        stream = Stream(sid, self.remote.initial_window_size, self._inbound_initial, remote)
        self.streams[sid] = stream
        return stream

    @property
    def _inbound_initial(self) -> int:
        """Receive window of new streams: our acknowledged INITIAL_WINDOW_SIZE, or the
        larger pending one, since the peer may act on it before our SETTINGS is ACKed."""
        value = self.local.initial_window_size
        for pending in self._pending_local:
            value = max(value, pending.get(SettingCode.INITIAL_WINDOW_SIZE, value))
        return value

    def _forget(self, stream: Stream) -> None:
        """Move a closed stream to the bounded closed-stream memory (§5.1 "closed")."""
        if self.streams.pop(stream.stream_id, None) is None:
            return
        if stream.counted:
            if stream.remote_initiated:
                self.active_remote -= 1
            else:
                self.active_local -= 1
        self._remember_closed(stream.stream_id, stream.close_reason or CloseReason.RESET_SENT)

    def _remember_closed(self, sid: int, reason: CloseReason) -> None:
        closed = self._closed
        closed[sid] = reason
        if len(closed) > self.max_closed_streams:
            closed.popitem(last=False)

    def _after_transition(self, stream: Stream) -> None:
        if stream.state is StreamState.CLOSED:
            self._forget(stream)

    def _lookup(self, sid: int, what: str) -> Stream | None:
        """A stream the frame may act on; None for a closed stream; idle → error (§5.1)."""
        stream = self.streams.get(sid)
        if stream is not None:
            return stream
        if sid in self._closed:
            return None
        highest = self.highest_remote_id if self._is_remote_id(sid) else self.highest_local_id
        if sid > highest:
            raise ProtocolError(f"{what} on idle stream {sid}")
        return None  # a closed stream we no longer remember

    # --- frame handlers ----------------------------------------------------------------
    def _on_data(self, flags: int, sid: int, payload: bytes, events: list[ev.Event]) -> None:
        """§6.1 DATA; flow control §6.9 counts the whole payload including padding."""
        if sid == 0:
            raise ProtocolError("DATA on stream 0")
        length = len(payload)
        if not length and not flags & END_STREAM:
            self._take_flood_token("empty DATA")  # CVE-2019-9518
        if length > self.inbound_window:
            raise ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "connection window exceeded")
        self.inbound_window -= length
        data, _ = strip_padding(payload, flags)
        end = bool(flags & END_STREAM)
        stream = self._lookup(sid, "DATA")
        if stream is None or stream.state not in (StreamState.OPEN,
                                                  StreamState.HALF_CLOSED_LOCAL):
            # Not delivered: give the connection credit back at once (§6.9).
            self._return_connection_credit(length)
            if stream is None:
                # A stream too old to remember: treat it as reset by us (ignore, §5.1).
                closed_stream_error(sid, self._closed.get(sid, CloseReason.RESET_SENT))
                return
            stream.on_data_received(len(data), end)
            return
        if length > stream.inbound_window:
            self._return_connection_credit(length)
            raise StreamError(sid, ErrorCode.FLOW_CONTROL_ERROR, "stream window exceeded")
        stream.inbound_window -= length
        try:
            stream.on_data_received(len(data), end)
        except StreamError:
            self._return_connection_credit(length)
            raise
        events.append(ev.DataReceived(sid, data, length, end))
        if end:
            events.append(ev.StreamEnded(sid))
            self._after_transition(stream)

    def _on_priority(self, flags: int, sid: int, payload: bytes, events: list[ev.Event]) -> None:
        """§6.3 PRIORITY: allowed in every state; the signal itself is deprecated (§5.3.2)."""
        if sid == 0:
            raise ProtocolError("PRIORITY on stream 0")
        if len(payload) != 5:
            raise StreamError(sid, ErrorCode.FRAME_SIZE_ERROR, "PRIORITY length must be 5")
        self._take_flood_token("PRIORITY")  # CVE-2019-9513
        dep, _, _ = parse_priority(payload)
        if dep == sid:
            raise StreamError(sid, ErrorCode.PROTOCOL_ERROR, "stream depends on itself")

    def _on_rst_stream(self, flags: int, sid: int, payload: bytes,
                       events: list[ev.Event]) -> None:
        """§6.4 RST_STREAM, with a token bucket against Rapid Reset (CVE-2023-44487)."""
        if len(payload) != 4:
            raise ProtocolError("RST_STREAM length must be 4", ErrorCode.FRAME_SIZE_ERROR)
        if sid == 0:
            raise ProtocolError("RST_STREAM on stream 0")
        stream = self._lookup(sid, "RST_STREAM")
        if stream is None:
            return
        self._take_reset_token()
        stream.on_rst_received()
        self._forget(stream)
        self._pending_priority.pop(sid, None)
        events.append(ev.StreamReset(sid, error_code(parse_u32(payload))))

    def _take_reset_token(self) -> None:
        """One token per stream reset; an empty bucket is ENHANCE_YOUR_CALM (§10.5)."""
        if self._clock is not None:
            now = self._clock()
            self._reset_tokens = min(self._reset_burst, self._reset_tokens
                                     + (now - self._reset_stamp) * self._reset_rate)
            self._reset_stamp = now
        self._reset_tokens -= 1
        if self._reset_tokens < 0:
            raise ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, "too many stream resets")

    def _take_flood_token(self, what: str) -> None:
        """One token per frame that gives the app nothing; empty → ENHANCE_YOUR_CALM."""
        if self._clock is not None:
            now = self._clock()
            self._flood_tokens = min(self._flood_burst, self._flood_tokens
                                     + (now - self._flood_stamp) * self._flood_rate)
            self._flood_stamp = now
        self._flood_tokens -= 1
        if self._flood_tokens < 0:
            raise ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, f"{what} flood")

    def _on_settings(self, flags: int, sid: int, payload: bytes, events: list[ev.Event]) -> None:
        """§6.5: apply the peer's settings and ACK them, or take our settings' ACK."""
        if sid != 0:
            raise ProtocolError("SETTINGS on a stream")
        if flags & ACK:
            if payload:
                raise ProtocolError("SETTINGS ACK with payload", ErrorCode.FRAME_SIZE_ERROR)
            self._local_settings_acked(events)
            return
        self._take_flood_token("SETTINGS")  # CVE-2019-9515
        changed: dict[int, int] = {}
        for code, value in parse_settings(payload):
            validate_setting(code, value)
            if code == SettingCode.ENABLE_PUSH and value and self.client_side:
                raise ProtocolError("server sent SETTINGS_ENABLE_PUSH=1")
            if (code == SettingCode.ENABLE_CONNECT_PROTOCOL and not value
                    and self.remote.enable_connect_protocol):
                raise ProtocolError("SETTINGS_ENABLE_CONNECT_PROTOCOL withdrawn")  # RFC 8441 §3
            if code in SettingCode._value2member_map_:
                changed[code] = value
        self._apply_remote_settings(changed, events)
        self._out.append(settings_frame(ack=True))
        events.append(ev.RemoteSettingsChanged(changed))

    def _apply_remote_settings(self, changed: dict[int, int], events: list[ev.Event]) -> None:
        for code, value in changed.items():
            if code == SettingCode.INITIAL_WINDOW_SIZE:
                delta = value - self.remote.initial_window_size
                # §6.9.2: the change applies to every stream's send window.
                for stream in self.streams.values():
                    stream.outbound_window += delta
                    if stream.outbound_window > MAX_WINDOW:
                        raise ConnectionError(ErrorCode.FLOW_CONTROL_ERROR,
                                              "INITIAL_WINDOW_SIZE overflows a stream window")
            elif code == SettingCode.HEADER_TABLE_SIZE:
                # RFC 7541 §4.2, RFC 9113 §6.5.2: the peer's value is a ceiling; the
                # next block starts with a dynamic table size update if ours changes.
                self.encoder.header_table_size = min(value, self.encoder_table_limit)
            self.remote.values[code] = value

    def _local_settings_acked(self, events: list[ev.Event]) -> None:
        if not self._pending_local:
            raise ProtocolError("SETTINGS ACK without outstanding SETTINGS")
        before = self._inbound_initial
        applied = self._pending_local.pop(0)
        for code, value in applied.items():
            if code == SettingCode.HEADER_TABLE_SIZE:
                self.decoder.max_allowed_table_size = value
            elif code == SettingCode.MAX_FRAME_SIZE:
                self._reader.max_frame_size = value
            elif code == SettingCode.MAX_HEADER_LIST_SIZE:
                # A margin over the advertised size: it is advisory (§6.5.2) and a
                # failure inside hpack would cost the whole connection.
                self.decoder.max_header_list_size = 2 * value
            self.local.values[code] = value
        self._shift_inbound_windows(self._inbound_initial - before)
        events.append(ev.SettingsAcknowledged(applied))

    def _on_ping(self, flags: int, sid: int, payload: bytes, events: list[ev.Event]) -> None:
        """§6.7: answer with an ACK carrying the same 8 octets."""
        if sid != 0:
            raise ProtocolError("PING on a stream")
        if len(payload) != 8:
            raise ProtocolError("PING length must be 8", ErrorCode.FRAME_SIZE_ERROR)
        if flags & ACK:
            events.append(ev.PingAckReceived(payload))
            return
        self._take_flood_token("PING")  # CVE-2019-9512
        self._out.append(ping_frame(payload, ack=True))
        events.append(ev.PingReceived(payload))

    def _on_goaway(self, flags: int, sid: int, payload: bytes, events: list[ev.Event]) -> None:
        """§6.8 GOAWAY: the peer will not process streams above ``last_stream_id``."""
        if sid != 0:
            raise ProtocolError("GOAWAY on a stream")
        if len(payload) < 8:
            raise ProtocolError("GOAWAY too short", ErrorCode.FRAME_SIZE_ERROR)
        last = parse_u32(payload) & MAX_WINDOW
        code = parse_u32(payload, 4)
        self.goaway_received = last
        events.append(ev.ConnectionTerminated(error_code(code), last, payload[8:], remote=True))

    def _on_window_update(self, flags: int, sid: int, payload: bytes,
                          events: list[ev.Event]) -> None:
        """§6.9: zero increments are errors; overflow past 2^31-1 is FLOW_CONTROL_ERROR."""
        if len(payload) != 4:
            raise ProtocolError("WINDOW_UPDATE length must be 4", ErrorCode.FRAME_SIZE_ERROR)
        increment = parse_u32(payload) & MAX_WINDOW
        if increment < SMALL_WINDOW_UPDATE:
            # A trickle of tiny increments costs us a frame and a pump each while
            # letting almost nothing out; honest peers return credit in batches.
            self._take_flood_token("small WINDOW_UPDATE")
        if sid == 0:
            if increment == 0:
                raise ProtocolError("WINDOW_UPDATE with zero increment")
            self.outbound_window += increment
            if self.outbound_window > MAX_WINDOW:
                raise ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "connection window overflow")
            events.append(ev.WindowUpdated(0, increment))
            return
        stream = self._lookup(sid, "WINDOW_UPDATE")
        if stream is None:
            return
        if increment == 0:
            raise StreamError(sid, ErrorCode.PROTOCOL_ERROR, "WINDOW_UPDATE with zero increment")
        stream.outbound_window += increment
        if stream.outbound_window > MAX_WINDOW:
            raise StreamError(sid, ErrorCode.FLOW_CONTROL_ERROR, "stream window overflow")
        events.append(ev.WindowUpdated(sid, increment))

    def _on_priority_update(self, flags: int, sid: int, payload: bytes,
                            events: list[ev.Event]) -> None:
        """RFC 9218 §7.1 PRIORITY_UPDATE (frame type 0x10)."""
        if self.client_side:
            raise ProtocolError("server sent PRIORITY_UPDATE")
        if sid != 0:
            raise ProtocolError("PRIORITY_UPDATE on a stream")
        if len(payload) < 4:
            raise ProtocolError("PRIORITY_UPDATE too short", ErrorCode.FRAME_SIZE_ERROR)
        target = parse_u32(payload) & MAX_WINDOW
        if target == 0:
            raise ProtocolError("PRIORITY_UPDATE for stream 0")
        value = payload[4:]
        self._take_flood_token("PRIORITY_UPDATE")
        stream = self.streams.get(target)
        if stream is None:
            if not self._is_remote_id(target) or target <= self.highest_remote_id:
                if not self._is_remote_id(target) and target > self.highest_local_id:
                    raise ProtocolError("PRIORITY_UPDATE for a push stream not promised")
                return  # closed: nothing left to prioritise
            limit = self.local.max_concurrent_streams or 100
            if len(self._pending_priority) + self.active_remote >= limit:
                raise ProtocolError("too many PRIORITY_UPDATEs for idle streams")
            self._pending_priority[target] = parse_priority_field(value)
            return
        stream.priority = parse_priority_field(value)
        events.append(ev.PriorityUpdated(target, stream.priority.urgency,
                                         stream.priority.incremental, value))

    # --- connection-level receive credit -------------------------------------------------
    def _return_connection_credit(self, n: int) -> None:
        if n:
            self._inbound_unacked += n
            self._maybe_update_connection_window()
