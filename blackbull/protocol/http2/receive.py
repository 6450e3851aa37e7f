"""Receiving the frames that are not header blocks: DATA, PRIORITY, RST_STREAM,
SETTINGS, PING, GOAWAY, WINDOW_UPDATE (RFC 9113 §6) and PRIORITY_UPDATE (RFC 9218
§7.1), with the §10.5 limits on frames that cost work and give the application
nothing.

:class:`InboundFrames` holds one handler per frame type; each checks the frame,
changes the state of the part it concerns (streams, windows, settings) and appends
events. Errors are raised as :class:`StreamError` / :class:`H2ConnectionError` for
the connection's dispatch loop to answer.
"""
from __future__ import annotations

from collections.abc import Callable

from ..ratelimit import TokenBucket
from . import events as ev
from .errors import ErrorCode, H2ConnectionError, ProtocolError, StreamError, error_code
from .flow import Window
from .frames import (
    ACK,
    END_STREAM,
    MAX_WINDOW,
    FrameReader,
    parse_priority,
    parse_settings,
    parse_u32,
    ping_frame,
    settings_frame,
    strip_padding,
    window_update_frame,
)
from .priority import parse_priority_field
from .receive_headers import HeaderReceiver
from .registry import StreamRegistry
from .sending import Outbox
from .settings import (
    ENABLE_CONNECT_PROTOCOL,
    ENABLE_PUSH,
    HEADER_TABLE_SIZE,
    INITIAL_WINDOW_SIZE,
    KNOWN_CODES,
    MAX_FRAME_SIZE,
    MAX_HEADER_LIST_SIZE,
    LocalSettings,
    PeerSettings,
    validate_setting,
)
from .stream import REMOTE_OPEN, CloseReason, closed_stream_error

__all__ = ["SMALL_WINDOW_UPDATE", "InboundFrames", "Limits"]

#: WINDOW_UPDATE increments below this many octets draw from the flood bucket (§10.5).
SMALL_WINDOW_UPDATE = 1024


class Limits:
    """The two hostile-peer budgets of a connection (§10.5), on the host's clock."""

    __slots__ = ("resets", "floods", "_clock")

    def __init__(self, clock: Callable[[], float] | None, reset_burst: int,
                 reset_rate: float, flood_burst: int, flood_rate: float) -> None:
        self._clock = clock
        now = clock() if clock is not None else None
        #: Rapid Reset (CVE-2023-44487) and MadeYouReset (CVE-2025-8671): one token
        #: per stream reset, sent by the peer or provoked by it.
        self.resets = TokenBucket(reset_burst, reset_rate, now)
        #: Frames that cost us work but carry nothing for the app (CVE-2019-9512/
        #: 9513/9515/9518): PING, SETTINGS, PRIORITY, PRIORITY_UPDATE, empty DATA
        #: without END_STREAM and WINDOW_UPDATEs under SMALL_WINDOW_UPDATE.
        #: (CONTINUATION has its own per-block frame and byte caps.)
        self.floods = TokenBucket(flood_burst, flood_rate, now)

    def reset(self) -> None:
        """One token per stream reset; an empty bucket is ENHANCE_YOUR_CALM."""
        clock = self._clock
        if not self.resets.take(clock() if clock is not None else None):
            raise H2ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, "too many stream resets")

    def flood(self, what: str) -> None:
        """One token per frame that gives the app nothing; empty → ENHANCE_YOUR_CALM."""
        clock = self._clock
        if not self.floods.take(clock() if clock is not None else None):
            raise H2ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, f"{what} flood")


def return_credit(window: Window, out: list[bytes | memoryview], n: int) -> None:
    """Connection-level receive credit for ``n`` consumed octets goes back once half
    the window is owed (§6.9): one WINDOW_UPDATE per half window."""
    increment = window.credit(n, window.target // 2) if n else 0
    if increment:
        out.append(window_update_frame(0, increment))


class InboundFrames:
    """Handlers for the frames outside header blocks, for one connection."""

    __slots__ = ("registry", "settings", "remote", "headers", "out", "outbox", "send_window",
                 "recv_window", "reader", "limits", "client_side", "goaway_received")

    def __init__(self, registry: StreamRegistry, settings: LocalSettings, remote: PeerSettings,
                 headers: HeaderReceiver, outbox: Outbox, send_window: Window,
                 recv_window: Window, reader: FrameReader, limits: Limits) -> None:
        self.registry = registry
        self.settings = settings
        self.remote = remote
        self.headers = headers
        self.outbox = outbox
        self.out = outbox.frames
        self.send_window = send_window
        self.recv_window = recv_window
        self.reader = reader
        self.limits = limits
        self.client_side = registry.client_side
        #: Last stream id of the peer's GOAWAY (§6.8), None before any.
        self.goaway_received: int | None = None

    def on_data(self, flags: int, sid: int, payload: bytes, events: list[ev.Event]) -> None:
        """§6.1 DATA; flow control §6.9 counts the whole payload including padding."""
        if sid == 0:
            raise ProtocolError("DATA on stream 0")
        length = len(payload)
        if not length and not flags & END_STREAM:
            self.limits.flood("empty DATA")  # CVE-2019-9518
        conn_window = self.recv_window
        # Window.size is read and spent inline here and below: DATA is the hot path.
        if length > conn_window.size:
            raise H2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "connection window exceeded")
        conn_window.size -= length
        data, _ = strip_padding(payload, flags)
        end = bool(flags & END_STREAM)
        registry = self.registry
        stream = registry.lookup(sid, "DATA")
        if stream is None or stream.state not in REMOTE_OPEN:
            # Not delivered: give the connection credit back at once (§6.9).
            return_credit(conn_window, self.out, length)
            if stream is None:
                # A stream too old to remember: treat it as reset by us (ignore, §5.1).
                closed_stream_error(sid, registry.closed.get(sid, CloseReason.RESET_SENT))
                return
            stream.on_data_received(len(data), end)
            return
        window = stream.recv
        if length > window.size:
            return_credit(conn_window, self.out, length)
            raise StreamError(sid, ErrorCode.FLOW_CONTROL_ERROR, "stream window exceeded")
        window.size -= length
        try:
            stream.on_data_received(len(data), end)
        except StreamError:
            return_credit(conn_window, self.out, length)
            raise
        events.append(ev.DataReceived(sid, data, length, end))
        if end:
            events.append(ev.StreamEnded(sid))
            registry.after_transition(stream)

    def on_priority(self, flags: int, sid: int, payload: bytes, events: list[ev.Event]) -> None:
        """§6.3 PRIORITY: allowed in every state; the signal itself is deprecated (§5.3.2)."""
        if sid == 0:
            raise ProtocolError("PRIORITY on stream 0")
        if len(payload) != 5:
            raise StreamError(sid, ErrorCode.FRAME_SIZE_ERROR, "PRIORITY length must be 5")
        self.limits.flood("PRIORITY")  # CVE-2019-9513
        dep, _, _ = parse_priority(payload)
        if dep == sid:
            raise StreamError(sid, ErrorCode.PROTOCOL_ERROR, "stream depends on itself")

    def on_rst_stream(self, flags: int, sid: int, payload: bytes,
                       events: list[ev.Event]) -> None:
        """§6.4 RST_STREAM, with a token bucket against Rapid Reset (CVE-2023-44487)."""
        if len(payload) != 4:
            raise ProtocolError("RST_STREAM length must be 4", ErrorCode.FRAME_SIZE_ERROR)
        if sid == 0:
            raise ProtocolError("RST_STREAM on stream 0")
        registry = self.registry
        stream = registry.lookup(sid, "RST_STREAM")
        if stream is None:
            return
        self.limits.reset()
        stream.on_rst_received()
        registry.forget(stream)
        registry.pending_priority.pop(sid, None)
        events.append(ev.StreamReset(sid, error_code(parse_u32(payload))))

    def on_settings(self, flags: int, sid: int, payload: bytes, events: list[ev.Event]) -> None:
        """§6.5: apply the peer's settings and ACK them, or take our settings' ACK."""
        if sid != 0:
            raise ProtocolError("SETTINGS on a stream")
        if flags & ACK:
            if payload:
                raise ProtocolError("SETTINGS ACK with payload", ErrorCode.FRAME_SIZE_ERROR)
            self._local_settings_acked(events)
            return
        self.limits.flood("SETTINGS")  # CVE-2019-9515
        changed: dict[int, int] = {}
        for code, value in parse_settings(payload):
            validate_setting(code, value)
            if code == ENABLE_PUSH and value and self.client_side:
                raise ProtocolError("server sent SETTINGS_ENABLE_PUSH=1")
            if (code == ENABLE_CONNECT_PROTOCOL and not value
                    and self.remote.enable_connect_protocol):
                raise ProtocolError("SETTINGS_ENABLE_CONNECT_PROTOCOL withdrawn")  # RFC 8441 §3
            if code in KNOWN_CODES:
                changed[code] = value
        self.apply_remote_settings(changed)
        self.out.append(settings_frame(ack=True))
        events.append(ev.RemoteSettingsChanged(changed))

    def apply_remote_settings(self, changed: dict[int, int]) -> None:
        for code, value in changed.items():
            if code == INITIAL_WINDOW_SIZE:
                delta = value - self.remote.initial_window_size
                # §6.9.2: the change applies to every stream's send window.
                for stream in self.registry.streams.values():
                    if not stream.send.grow(delta):
                        raise H2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR,
                                                "INITIAL_WINDOW_SIZE overflows a stream window")
            elif code == HEADER_TABLE_SIZE:
                self.outbox.peer_table_size(value)  # RFC 7541 §4.2
            self.remote.update({code: value})

    def _local_settings_acked(self, events: list[ev.Event]) -> None:
        settings = self.settings
        before = settings.inbound_initial_window
        applied = settings.acknowledged()
        for code, value in applied.items():
            if code == HEADER_TABLE_SIZE:
                self.headers.decoder.max_allowed_table_size = value
            elif code == MAX_FRAME_SIZE:
                self.reader.max_frame_size = value
            elif code == MAX_HEADER_LIST_SIZE:
                self.headers.max_header_list_size_acked(value)
        self.registry.shift_recv_windows(settings.inbound_initial_window - before)
        events.append(ev.SettingsAcknowledged(applied))

    def on_ping(self, flags: int, sid: int, payload: bytes, events: list[ev.Event]) -> None:
        """§6.7: answer with an ACK carrying the same 8 octets."""
        if sid != 0:
            raise ProtocolError("PING on a stream")
        if len(payload) != 8:
            raise ProtocolError("PING length must be 8", ErrorCode.FRAME_SIZE_ERROR)
        if flags & ACK:
            events.append(ev.PingAckReceived(payload))
            return
        self.limits.flood("PING")  # CVE-2019-9512
        self.out.append(ping_frame(payload, ack=True))
        events.append(ev.PingReceived(payload))

    def on_goaway(self, flags: int, sid: int, payload: bytes, events: list[ev.Event]) -> None:
        """§6.8 GOAWAY: the peer will not process streams above ``last_stream_id``."""
        if sid != 0:
            raise ProtocolError("GOAWAY on a stream")
        if len(payload) < 8:
            raise ProtocolError("GOAWAY too short", ErrorCode.FRAME_SIZE_ERROR)
        last = parse_u32(payload) & MAX_WINDOW
        code = parse_u32(payload, 4)
        self.goaway_received = last
        events.append(ev.ConnectionTerminated(error_code(code), last, payload[8:], remote=True))

    def on_window_update(self, flags: int, sid: int, payload: bytes,
                          events: list[ev.Event]) -> None:
        """§6.9: zero increments are errors; overflow past 2^31-1 is FLOW_CONTROL_ERROR."""
        if len(payload) != 4:
            raise ProtocolError("WINDOW_UPDATE length must be 4", ErrorCode.FRAME_SIZE_ERROR)
        increment = parse_u32(payload) & MAX_WINDOW
        if increment < SMALL_WINDOW_UPDATE:
            # A trickle of tiny increments costs us a frame and a pump each while
            # letting almost nothing out; honest peers return credit in batches.
            self.limits.flood("small WINDOW_UPDATE")
        if sid == 0:
            if increment == 0:
                raise ProtocolError("WINDOW_UPDATE with zero increment")
            if not self.send_window.grow(increment):
                raise H2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR,
                                        "connection window overflow")
            events.append(ev.WindowUpdated(0, increment))
            return
        stream = self.registry.lookup(sid, "WINDOW_UPDATE")
        if stream is None:
            return
        if increment == 0:
            raise StreamError(sid, ErrorCode.PROTOCOL_ERROR, "WINDOW_UPDATE with zero increment")
        if not stream.send.grow(increment):
            raise StreamError(sid, ErrorCode.FLOW_CONTROL_ERROR, "stream window overflow")
        events.append(ev.WindowUpdated(sid, increment))

    def on_priority_update(self, flags: int, sid: int, payload: bytes,
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
        self.limits.flood("PRIORITY_UPDATE")
        registry = self.registry
        stream = registry.streams.get(target)
        if stream is None:
            remote = registry.is_remote_id(target)
            if not remote or target <= registry.highest_remote_id:
                if not remote and target > registry.highest_local_id:
                    raise ProtocolError("PRIORITY_UPDATE for a push stream not promised")
                return  # closed: nothing left to prioritise
            limit = self.settings.acked.max_concurrent_streams or 100
            if len(registry.pending_priority) + registry.active_remote >= limit:
                raise ProtocolError("too many PRIORITY_UPDATEs for idle streams")
            registry.pending_priority[target] = parse_priority_field(value)
            return
        priority = stream.priority = parse_priority_field(value)
        events.append(ev.PriorityUpdated(target, priority.urgency, priority.incremental, value))
