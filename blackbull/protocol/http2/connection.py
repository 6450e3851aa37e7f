"""The HTTP/2 connection state machine, sans I/O (RFC 9113 §3-§6, RFC 9218 §7).

``H2Connection`` is fed bytes (:meth:`receive_data`) and returns events; its send
methods queue frames that :meth:`data_to_send` hands out. It never touches a socket,
a clock (the hostile-peer limits take an injected ``clock``) or asyncio, and serves
both roles: ``"server"``, and ``"client"`` for the RFC 8441 WebSocket client.

It is a small composition of parts that own their state:

- :class:`~.registry.StreamRegistry`: streams, closed-stream memory, id spaces;
- :class:`~.receive_headers.HeaderReceiver`: HEADERS/PUSH_PROMISE/CONTINUATION,
  HPACK decoding and §8 message checks;
- :class:`~.settings.LocalSettings` and :class:`~.settings.PeerSettings`: the
  SETTINGS exchange (§6.5);
- :class:`~.flow.Window`: the connection's (and each stream's) flow-control windows;
- :class:`~.sending.Outbox`: HPACK encoding and frame serialisation;
- :class:`~.receive.InboundFrames`: the frames outside header blocks, with the two
  :class:`~blackbull.protocol.ratelimit.TokenBucket` limits of §10.5.

Here: the dispatch loop, the answers to stream and connection errors (§5.4), and the
public send API. The parts hold references to each other, never to the connection.
"""
from __future__ import annotations

from collections.abc import Callable

from . import events as ev
from .errors import ErrorCode, H2ConnectionError, ProtocolError, StreamError, UsageError
from .flow import Window
from .frames import (
    ACK,
    END_STREAM,
    PREFACE,
    FrameReader,
    FrameType,
    goaway_frame,
    ping_frame,
    priority_update_frame,
    rst_stream_frame,
    settings_frame,
    starts_with_preface,
    window_update_frame,
)
from .hpack_codec import HeaderDecoder, HeaderEncoder
from .priority import Priority
from .receive import InboundFrames, Limits
from .receive_headers import HeaderReceiver
from .registry import StreamRegistry
from .sending import Outbox
from .settings import (
    MAX_FRAME_SIZE,
    LocalSettings,
    PeerSettings,
    SettingsMap,
    decode_settings_header,
)
from .stream import (
    BY_END_STREAM,
    CLOSED,
    HALF_CLOSED_REMOTE,
    LOCAL_OPEN,
    REMOTE_OPEN,
    CloseReason,
    Stream,
    StreamState,
)

__all__ = ["PREFACE", "H2Connection"]

Handler = Callable[[int, int, bytes, list[ev.Event]], None]
Headers = list[tuple[bytes, bytes]]
_HEADERS = FrameType.HEADERS  # a global: enum members cost a slow lookup (see stream.py)
#: The frame types with a handler, in the order ``H2Connection`` lists the handlers.
_HANDLED_TYPES = tuple(int(t) for t in (
    FrameType.DATA, FrameType.HEADERS, FrameType.PRIORITY, FrameType.RST_STREAM,
    FrameType.SETTINGS, FrameType.PUSH_PROMISE, FrameType.PING, FrameType.GOAWAY,
    FrameType.WINDOW_UPDATE, FrameType.CONTINUATION, FrameType.PRIORITY_UPDATE))
_CONTINUATION = int(FrameType.CONTINUATION)
_SETTINGS = int(FrameType.SETTINGS)


class H2Connection:
    """One HTTP/2 connection, either role."""

    def __init__(
        self,
        role: str = "server",
        local_settings: SettingsMap | None = None,
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
        self._settings = LocalSettings(local_settings)
        #: Our settings in force (acknowledged, §6.5.3), and the peer's.
        self.local = self._settings.acked
        self.remote = PeerSettings()
        self._registry = registry = StreamRegistry(self.client_side, max_closed_streams)
        self.streams: dict[int, Stream] = registry.streams
        self._headers = HeaderReceiver(registry, self._settings, self.remote,
                                       max_continuation_frames)
        self.decoder: HeaderDecoder = self._headers.decoder
        self._outbox = Outbox(self.remote, encoder_table_size)
        self.encoder: HeaderEncoder = self._outbox.encoder
        self._out = self._outbox.frames
        # Flow control, connection level (§6.9): send credit and receive credit.
        self._send_window = Window(65535)
        self._recv_window = Window(65535, target=65535)
        #: DATA octets sent so far: lets the I/O shell see whether output progresses.
        self.data_octets_sent = 0
        self._reader = FrameReader()
        self._preface: bytes | None = None if self.client_side else b""
        self._awaiting_settings = True
        self.terminated = False
        self._limits = Limits(clock, reset_burst, reset_rate, flood_burst, flood_rate)
        self._inbound = inbound = InboundFrames(
            registry, self._settings, self.remote, self._headers, self._outbox,
            self._send_window, self._recv_window, self._reader, self._limits)
        headers = self._headers
        # Keyed by plain ints, as the reader parses the types: a lookup then matches by
        # identity, with no int-to-IntEnum comparison per frame.
        self._handlers: dict[int, Handler] = dict(zip(_HANDLED_TYPES, (
            inbound.on_data, headers.on_headers, inbound.on_priority,
            inbound.on_rst_stream, inbound.on_settings, headers.on_push_promise,
            inbound.on_ping, inbound.on_goaway, inbound.on_window_update,
            headers.on_continuation, inbound.on_priority_update), strict=True))

    def release(self) -> None:
        """The connection is gone: drop the frame-handler table; further input is
        ignored."""
        self.terminated = True
        self._handlers = {}

    # --- state for the I/O shell -------------------------------------------------------
    @property
    def awaiting_settings_ack(self) -> bool:
        """True while a SETTINGS frame we sent is unacknowledged (§6.5.3): the shell
        runs its SETTINGS_TIMEOUT timer on it."""
        return bool(self._settings.pending)

    @property
    def highest_remote_id(self) -> int:
        return self._registry.highest_remote_id

    @property
    def highest_local_id(self) -> int:
        return self._registry.highest_local_id

    @property
    def goaway_received(self) -> int | None:
        """Last stream id of the peer's GOAWAY (§6.8), None before any."""
        return self._inbound.goaway_received

    @property
    def goaway_sent(self) -> int | None:
        """Last stream id of the GOAWAY we sent (§6.8), None before any."""
        return self._registry.goaway_sent

    @property
    def outbound_window(self) -> int:
        """Connection-level send credit (§6.9.1)."""
        return self._send_window.size

    @outbound_window.setter
    def outbound_window(self, value: int) -> None:
        self._send_window.size = value

    @property
    def inbound_window(self) -> int:
        """Connection-level credit the peer still has (§6.9)."""
        return self._recv_window.size

    @property
    def open_inbound_streams(self) -> int:
        return self._registry.active_remote

    @property
    def open_outbound_streams(self) -> int:
        return self._registry.active_local

    @property
    def max_outbound_frame_size(self) -> int:
        return self.remote.max_frame_size

    @property
    def max_inbound_frame_size(self) -> int:
        return self.local.max_frame_size

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
                data = self._consume_preface(self._preface, data)
                if not data:
                    return events
            reader = self._reader
            reader.feed(data)
            frames, error = reader.frames()
            handlers = self._handlers
            blocks = self._headers.blocks
            for ftype, flags, sid, payload in frames:
                if blocks.pending is not None and ftype != _CONTINUATION:
                    raise ProtocolError("header block interrupted by another frame")  # §6.10
                if self._awaiting_settings:
                    if ftype != _SETTINGS or flags & ACK:
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
        except H2ConnectionError as exc:
            self._connection_error(exc, events)
        return events

    def _consume_preface(self, seen: bytes, data: bytes) -> bytes:
        """§3.4: the server first expects the 24-octet client connection preface."""
        have = seen + data
        found = starts_with_preface(have)
        if found is False:
            raise ProtocolError("invalid connection preface")
        if found is None:
            self._preface = have
            return b""
        self._preface = None
        return have[len(PREFACE):]

    def _stream_error(self, exc: StreamError, events: list[ev.Event]) -> None:
        """§5.4.2: answer a stream error with RST_STREAM and forget the stream.

        Resets the peer provokes draw from the same bucket as the peer's own
        RST_STREAMs (MadeYouReset, CVE-2025-8671: invalid frames are a way to make
        the server reset streams as cheaply as Rapid Reset does)."""
        self._limits.reset()
        sid = exc.stream_id
        self._out.append(rst_stream_frame(sid, exc.code))
        registry = self._registry
        stream = registry.streams.get(sid)
        if stream is not None:
            stream.reset_locally()
            registry.forget(stream)
            events.append(ev.StreamReset(sid, exc.code, remote=False))
        elif (sid not in registry.closed and registry.is_remote_id(sid)
              and sid > registry.highest_remote_id):
            registry.remember_closed(sid, CloseReason.RESET_SENT)

    def _connection_error(self, exc: H2ConnectionError, events: list[ev.Event]) -> None:
        """§5.4.1: send GOAWAY with the last stream we processed, then stop."""
        last = self._registry.highest_remote_id
        self._out.append(goaway_frame(last, exc.code, exc.message.encode("utf-8", "replace")))
        self._registry.goaway_sent = last
        self.terminated = True
        events.append(ev.ConnectionTerminated(exc.code, last, exc.message.encode(), remote=False))

    def _new_stream(self, sid: int, remote: bool) -> Stream:
        return self._registry.new(sid, self.remote.initial_window_size,
                                  self._settings.inbound_initial_window, remote)

    # --- connection setup --------------------------------------------------------------
    def initiate_connection(self) -> None:
        """§3.4: our connection preface (the client also sends the magic octets)."""
        if self.client_side:
            self._out.append(PREFACE)
        self._send_settings(self._settings.wanted)

    def initiate_upgrade_connection(self, settings_header: bytes | None = None) -> None:
        """RFC 7540 §3.2 h2c Upgrade, server side: the ``HTTP2-Settings`` value counts
        as the client's first SETTINGS, and stream 1 carries the upgraded request in
        the half-closed (remote) state. The client preface must still follow."""
        if self.client_side:
            raise UsageError("only a server accepts an h2c upgrade")
        if settings_header:
            self._inbound.apply_remote_settings(decode_settings_header(settings_header))
        stream = self._new_stream(1, remote=True)
        stream.headers_received = True
        stream.state = StreamState.HALF_CLOSED_REMOTE
        self._registry.count_remote(stream)
        self.initiate_connection()

    def _send_settings(self, values: SettingsMap) -> None:
        settings = self._settings
        before = settings.inbound_initial_window
        recorded = settings.sent(values)
        self._registry.shift_recv_windows(settings.inbound_initial_window - before)
        frame_size = recorded.get(MAX_FRAME_SIZE)
        if frame_size and frame_size > self._reader.max_frame_size:
            # The peer may use a larger size as soon as it reads our SETTINGS.
            self._reader.max_frame_size = frame_size
        self._out.append(settings_frame(recorded))

    def update_settings(self, values: SettingsMap) -> None:
        """Send a new SETTINGS frame; values apply when the peer ACKs it (§6.5.3)."""
        self._send_settings(values)

    def increment_connection_window(self, target: int) -> None:
        """Grow the connection receive window to ``target`` octets (§6.9)."""
        delta = self._recv_window.raise_to(target)
        if delta:
            self._out.append(window_update_frame(0, delta))

    # --- streams -----------------------------------------------------------------------
    def get_next_available_stream_id(self) -> int:
        return self._registry.next_id()

    def _local_stream(self, sid: int) -> Stream:
        stream = self.streams.get(sid)
        if stream is not None:
            return stream
        registry = self._registry
        if not self.client_side or sid != registry.next_local_id:
            raise UsageError(f"stream {sid} is not open")
        registry.take_local_id()
        stream = self._new_stream(sid, remote=False)
        stream.counted = True
        registry.active_local += 1
        return stream

    def send_headers(self, stream_id: int, headers: Headers, end_stream: bool = False) -> None:
        """HEADERS (+ CONTINUATION when over the peer's MAX_FRAME_SIZE, §4.3)."""
        stream = self._local_stream(stream_id)
        stream.on_headers_sent(end_stream)  # first: a refused call must not touch HPACK
        self._outbox.header_block(_HEADERS, END_STREAM if end_stream else 0, stream_id, headers)
        self._registry.after_transition(stream)

    def send_headers_and_data(self, stream_id: int, headers: Headers, data: bytes) -> bool:
        """A whole message at once: HEADERS, then ``data`` as its last DATA (END_STREAM)
        when both send windows admit it (§6.9) — the common response, in one call.
        Returns False when only the HEADERS went out: ``data`` is the caller's to
        queue until the windows allow it."""
        stream = self.streams.get(stream_id) or self._local_stream(stream_id)
        if stream.state is HALF_CLOSED_REMOTE:  # a request read whole
            stream.headers_sent = True
        else:
            stream.on_headers_sent(False)  # first: a refused call must not touch HPACK
        outbox = self._outbox
        outbox.header_block(_HEADERS, 0, stream_id, headers)
        n = len(data)
        conn_window = self._send_window
        send = stream.send
        if n > send.size or n > conn_window.size:
            return False
        send.size -= n
        conn_window.size -= n
        self.data_octets_sent += n
        stream.octets_sent += n
        outbox.data(stream_id, data, True)
        if stream.state is HALF_CLOSED_REMOTE:
            stream.state = CLOSED  # mark_locally_closed, inline
            stream.close_reason = BY_END_STREAM
            self._registry.forget(stream)
        else:
            stream.mark_locally_closed()
        return True

    def send_data(self, stream_id: int, data: bytes, end_stream: bool = False) -> None:
        """DATA (§6.1), cut at the peer's MAX_FRAME_SIZE; must fit both send windows."""
        stream = self.streams.get(stream_id)
        if stream is None or stream.state not in LOCAL_OPEN:
            raise UsageError(f"stream {stream_id} cannot send DATA")
        n = len(data)
        conn_window = self._send_window
        if n > stream.send.size or n > conn_window.size:
            raise UsageError("DATA exceeds the flow-control window")
        stream.send.size -= n
        conn_window.size -= n
        self.data_octets_sent += n
        stream.octets_sent += n
        self._outbox.data(stream_id, data, end_stream)
        if end_stream:
            stream.mark_locally_closed()
            self._registry.after_transition(stream)

    def end_stream(self, stream_id: int) -> None:
        self.send_data(stream_id, b"", end_stream=True)

    def reset_stream(self, stream_id: int, error_code: ErrorCode = ErrorCode.CANCEL) -> None:
        """RST_STREAM (§6.4); a no-op on a stream that is already closed."""
        stream = self.streams.get(stream_id)
        if stream is None:
            return
        self._out.append(rst_stream_frame(stream_id, error_code))
        stream.reset_locally()
        self._registry.forget(stream)

    def push_stream(self, stream_id: int, request_headers: Headers) -> int:
        """PUSH_PROMISE on ``stream_id`` reserving the next even stream (§8.4)."""
        if self.client_side:
            raise UsageError("clients cannot push")
        if not self.remote.enable_push:
            raise UsageError("the peer disabled server push")
        parent = self.streams.get(stream_id)
        if parent is None or parent.state not in LOCAL_OPEN or parent.is_push:
            raise UsageError(f"cannot push on stream {stream_id}")
        promised = self._registry.take_local_id()
        pushed = self._new_stream(promised, remote=False)
        pushed.on_push_promise_sent()
        self._outbox.header_block(FrameType.PUSH_PROMISE, 0, stream_id, request_headers,
                                  promised.to_bytes(4, "big"))
        return promised

    def send_priority_update(self, stream_id: int, priority: Priority) -> None:
        """RFC 9218 §7.1, client role."""
        if not self.client_side:
            raise UsageError("servers do not send PRIORITY_UPDATE")
        self._out.append(priority_update_frame(stream_id, priority.serialize()))

    # --- connection --------------------------------------------------------------------
    def ping(self, opaque: bytes = b"\0" * 8) -> None:
        if len(opaque) != 8:
            raise UsageError("PING carries exactly 8 octets")
        self._out.append(ping_frame(opaque))

    def close_connection(self, error_code: ErrorCode = ErrorCode.NO_ERROR,
                         last_stream_id: int | None = None,
                         additional_data: bytes = b"") -> None:
        """GOAWAY (§6.8). With NO_ERROR the connection stays usable for streams up to
        ``last_stream_id`` (graceful shutdown); any other code ends it."""
        registry = self._registry
        last = registry.highest_remote_id if last_stream_id is None else last_stream_id
        self._out.append(goaway_frame(last, error_code, additional_data))
        registry.goaway_sent = last
        if error_code != ErrorCode.NO_ERROR:
            self.terminated = True

    # --- flow control ------------------------------------------------------------------
    def local_flow_control_window(self, stream_id: int) -> int:
        """Octets of DATA we may send on ``stream_id`` now (both windows, §6.9)."""
        stream = self.streams.get(stream_id)
        if stream is None:
            return 0
        return max(0, min(stream.send.size, self._send_window.size))

    def remote_flow_control_window(self, stream_id: int) -> int:
        """Octets the peer may still send us on ``stream_id`` (0 = connection)."""
        if stream_id == 0:
            return self._recv_window.size
        stream = self.streams.get(stream_id)
        return stream.recv.size if stream is not None else 0

    def acknowledge_received_data(self, acknowledged_size: int, stream_id: int) -> None:
        """The application consumed ``acknowledged_size`` flow-controlled octets.

        Credit goes back in batches (§6.9): a WINDOW_UPDATE is sent only once half a
        window is pending, so a busy stream costs one frame per half window, never one
        per DATA frame, and a window is never raised above 2^31-1.
        """
        if acknowledged_size <= 0:
            return
        window = self._recv_window
        increment = window.credit(acknowledged_size, window.target // 2)
        if increment:
            self._out.append(window_update_frame(0, increment))
        stream = self.streams.get(stream_id)
        if stream is None or stream.state not in REMOTE_OPEN:
            return  # no more DATA will come on it: stream credit is moot
        increment = stream.recv.credit(acknowledged_size,
                                       self._settings.inbound_initial_window // 2)
        if increment:
            self._out.append(window_update_frame(stream_id, increment))

    # --- output ------------------------------------------------------------------------
    def data_to_send(self) -> bytes:
        """Every queued frame, as one write; empty when nothing is queued."""
        out = self._out
        if not out:
            return b""
        data = b"".join(out)
        out.clear()
        self._outbox.views = False
        return data

    @property
    def large_data_queued(self) -> bool:
        """True when DATA payloads larger than one frame wait as views of the app's
        buffers: :meth:`buffers_to_send` hands them to a vectored write without the
        copy that :meth:`data_to_send`'s join makes."""
        return self._outbox.views

    def buffers_to_send(self) -> list[bytes | memoryview]:
        """Every queued frame as its buffers, in order (frame headers and payload views),
        for one vectored write; the queue is empty afterwards."""
        out = self._out
        parts = out.copy()
        out.clear()
        self._outbox.views = False
        return parts

    @property
    def has_data_to_send(self) -> bool:
        return bool(self._out)
