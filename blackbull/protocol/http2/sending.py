"""The sending half of :class:`H2Connection` (RFC 9113 §3.4, §6, §8.4, §6.9).

Every method here queues complete frames on ``_out``; :meth:`data_to_send` drains
them as one bytes object so the I/O shell does one write per flush.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import ErrorCode, UsageError
from .frames import (
    END_HEADERS,
    END_STREAM,
    MAX_STREAM_ID,
    MAX_WINDOW,
    FrameType,
    frame,
    frame_header,
    goaway_frame,
    ping_frame,
    priority_update_frame,
    rst_stream_frame,
    settings_frame,
    window_update_frame,
)
from .priority import Priority
from .settings import SettingCode, decode_settings_header, validate_setting
from .stream import LOCAL_OPEN, StreamState

if TYPE_CHECKING:
    from .connection import H2Connection
    from .stream import Stream

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


class SendingMixin:
    """Frames we originate. Mixed into :class:`H2Connection`."""

    # --- connection setup --------------------------------------------------------------
    def initiate_connection(self: H2Connection) -> None:
        """§3.4: our connection preface (the client also sends the magic octets)."""
        if self.client_side:
            self._out.append(PREFACE)
        self._send_settings(self._local_wanted)

    def initiate_upgrade_connection(self: H2Connection, settings_header: bytes | None = None,
                                    ) -> None:
        """RFC 7540 §3.2 h2c Upgrade, server side: the ``HTTP2-Settings`` value counts
        as the client's first SETTINGS, and stream 1 carries the upgraded request in
        the half-closed (remote) state. The client preface must still follow."""
        if self.client_side:
            raise UsageError("only a server accepts an h2c upgrade")
        if settings_header:
            self._apply_remote_settings(decode_settings_header(settings_header), [])
        stream = self._new_stream(1, remote=True)
        stream.headers_received = True
        stream.state = StreamState.HALF_CLOSED_REMOTE
        stream.counted = True
        self.active_remote += 1
        self.highest_remote_id = 1
        self.initiate_connection()

    def _send_settings(self: H2Connection, values: dict[int, int]) -> None:
        for code, value in values.items():
            validate_setting(code, value)
        before = self._inbound_initial
        self._pending_local.append(dict(values))
        self._shift_inbound_windows(self._inbound_initial - before)
        frame_size = values.get(SettingCode.MAX_FRAME_SIZE)
        if frame_size and frame_size > self._reader.max_frame_size:
            # The peer may use a larger size as soon as it reads our SETTINGS.
            self._reader.max_frame_size = frame_size
        self._out.append(settings_frame(values))

    def _shift_inbound_windows(self: H2Connection, delta: int) -> None:
        """§6.9.2: receive windows follow the initial size the peer may be using — the
        largest of the acknowledged and the pending values — so a larger window counts
        from when we send it and a smaller one from its ACK."""
        if delta:
            for stream in self.streams.values():
                stream.inbound_window += delta

    def update_settings(self: H2Connection, values: dict[int, int]) -> None:
        """Send a new SETTINGS frame; values apply when the peer ACKs it (§6.5.3)."""
        self._send_settings(values)

    def increment_connection_window(self: H2Connection, target: int) -> None:
        """Grow the connection receive window to ``target`` octets (§6.9)."""
        delta = target - self.inbound_window
        if delta > 0:
            self.inbound_window += delta
            self.inbound_target = max(self.inbound_target, target)
            self._out.append(window_update_frame(0, delta))

    # --- streams -----------------------------------------------------------------------
    def get_next_available_stream_id(self: H2Connection) -> int:
        sid = self._next_local_id
        if sid > MAX_STREAM_ID:
            raise UsageError("stream ids exhausted")
        return sid

    def _local_stream(self: H2Connection, sid: int) -> Stream:
        stream = self.streams.get(sid)
        if stream is not None:
            return stream
        if not self.client_side or sid != self._next_local_id:
            raise UsageError(f"stream {sid} is not open")
        stream = self._new_stream(sid, remote=False)
        self._next_local_id += 2
        self.highest_local_id = sid
        stream.counted = True
        self.active_local += 1
        return stream

    def send_headers(self: H2Connection, stream_id: int, headers: list[tuple[bytes, bytes]],
                     end_stream: bool = False) -> None:
        """HEADERS (+ CONTINUATION when over the peer's MAX_FRAME_SIZE, §4.3)."""
        stream = self._local_stream(stream_id)
        stream.on_headers_sent(end_stream)  # first: a refused call must not touch HPACK
        block = self.encoder.encode(headers)
        self._emit_header_block(FrameType.HEADERS, END_STREAM if end_stream else 0,
                                stream_id, block)
        self._after_transition(stream)

    def _emit_header_block(self: H2Connection, ftype: int, flags: int, stream_id: int,
                           block: bytes) -> None:
        size = self.remote.max_frame_size
        out = self._out
        if len(block) <= size:
            out.append(frame(ftype, flags | END_HEADERS, stream_id, block))
            return
        out.append(frame(ftype, flags, stream_id, block[:size]))
        for pos in range(size, len(block), size):
            last = pos + size >= len(block)
            out.append(frame(FrameType.CONTINUATION, END_HEADERS if last else 0, stream_id,
                             block[pos:pos + size]))

    def send_data(self: H2Connection, stream_id: int, data: bytes,
                  end_stream: bool = False) -> None:
        """DATA (§6.1), cut at the peer's MAX_FRAME_SIZE; must fit both send windows."""
        stream = self.streams.get(stream_id)
        if stream is None or stream.state not in LOCAL_OPEN:
            raise UsageError(f"stream {stream_id} cannot send DATA")
        n = len(data)
        if n > stream.outbound_window or n > self.outbound_window:
            raise UsageError("DATA exceeds the flow-control window")
        stream.outbound_window -= n
        self.outbound_window -= n
        self.data_octets_sent += n
        stream.octets_sent += n
        out = self._out
        size = self.remote.max_frame_size
        if n <= size:
            out.append(frame_header(FrameType.DATA, END_STREAM if end_stream else 0,
                                    stream_id, n))
            out.append(data)
        else:
            view = memoryview(data)
            for pos in range(0, n, size):
                chunk = view[pos:pos + size]
                last = pos + size >= n
                out.append(frame_header(FrameType.DATA, END_STREAM if end_stream and last else 0,
                                        stream_id, len(chunk)))
                out.append(chunk)  # type: ignore[arg-type]
        if end_stream:
            stream.mark_locally_closed()
            self._after_transition(stream)

    def end_stream(self: H2Connection, stream_id: int) -> None:
        self.send_data(stream_id, b"", end_stream=True)

    def reset_stream(self: H2Connection, stream_id: int,
                     error_code: ErrorCode = ErrorCode.CANCEL) -> None:
        """RST_STREAM (§6.4); a no-op on a stream that is already closed."""
        stream = self.streams.get(stream_id)
        if stream is None:
            return
        self._out.append(rst_stream_frame(stream_id, error_code))
        stream.reset_locally()
        self._forget(stream)

    def push_stream(self: H2Connection, stream_id: int,
                    request_headers: list[tuple[bytes, bytes]]) -> int:
        """PUSH_PROMISE on ``stream_id`` reserving the next even stream (§8.4)."""
        if self.client_side:
            raise UsageError("clients cannot push")
        if not self.remote.enable_push:
            raise UsageError("the peer disabled server push")
        parent = self.streams.get(stream_id)
        if parent is None or parent.state not in LOCAL_OPEN or parent.is_push:
            raise UsageError(f"cannot push on stream {stream_id}")
        promised = self.get_next_available_stream_id()
        self._next_local_id += 2
        self.highest_local_id = promised
        pushed = self._new_stream(promised, remote=False)
        pushed.on_push_promise_sent()
        block = promised.to_bytes(4, "big") + self.encoder.encode(request_headers)
        self._emit_header_block(FrameType.PUSH_PROMISE, 0, stream_id, block)
        return promised

    def send_priority_update(self: H2Connection, stream_id: int, priority: Priority) -> None:
        """RFC 9218 §7.1, client role."""
        if not self.client_side:
            raise UsageError("servers do not send PRIORITY_UPDATE")
        self._out.append(priority_update_frame(stream_id, priority.serialize()))

    # --- connection --------------------------------------------------------------------
    def ping(self: H2Connection, opaque: bytes = b"\0" * 8) -> None:
        if len(opaque) != 8:
            raise UsageError("PING carries exactly 8 octets")
        self._out.append(ping_frame(opaque))

    def close_connection(self: H2Connection, error_code: ErrorCode = ErrorCode.NO_ERROR,
                         last_stream_id: int | None = None,
                         additional_data: bytes = b"") -> None:
        """GOAWAY (§6.8). With NO_ERROR the connection stays usable for streams up to
        ``last_stream_id`` (graceful shutdown); any other code ends it."""
        last = self.highest_remote_id if last_stream_id is None else last_stream_id
        self._out.append(goaway_frame(last, error_code, additional_data))
        self.goaway_sent = last
        if error_code != ErrorCode.NO_ERROR:
            self.terminated = True

    # --- flow control ------------------------------------------------------------------
    def local_flow_control_window(self: H2Connection, stream_id: int) -> int:
        """Octets of DATA we may send on ``stream_id`` now (both windows, §6.9)."""
        stream = self.streams.get(stream_id)
        if stream is None:
            return 0
        return max(0, min(stream.outbound_window, self.outbound_window))

    def remote_flow_control_window(self: H2Connection, stream_id: int) -> int:
        """Octets the peer may still send us on ``stream_id`` (0 = connection)."""
        if stream_id == 0:
            return self.inbound_window
        stream = self.streams.get(stream_id)
        return stream.inbound_window if stream is not None else 0

    @property
    def max_outbound_frame_size(self: H2Connection) -> int:
        return self.remote.max_frame_size

    @property
    def max_inbound_frame_size(self: H2Connection) -> int:
        return self.local.max_frame_size

    def acknowledge_received_data(self: H2Connection, acknowledged_size: int,
                                  stream_id: int) -> None:
        """The application consumed ``acknowledged_size`` flow-controlled octets.

        Credit goes back in batches (§6.9): a WINDOW_UPDATE is sent only once half a
        window is pending, so a busy stream costs one frame per half window, never one
        per DATA frame, and a window is never raised above 2^31-1.
        """
        if acknowledged_size <= 0:
            return
        self._inbound_unacked += acknowledged_size
        self._maybe_update_connection_window()
        stream = self.streams.get(stream_id)
        if stream is None or stream.state not in (StreamState.OPEN,
                                                  StreamState.HALF_CLOSED_LOCAL):
            return  # no more DATA will come on it: stream credit is moot
        stream.inbound_unacked += acknowledged_size
        if stream.inbound_unacked >= self._inbound_initial // 2:
            increment = min(stream.inbound_unacked, MAX_WINDOW - stream.inbound_window)
            stream.inbound_unacked = 0
            if increment > 0:
                stream.inbound_window += increment
                self._out.append(window_update_frame(stream_id, increment))

    def _maybe_update_connection_window(self: H2Connection) -> None:
        pending = self._inbound_unacked
        if pending >= self.inbound_target // 2:
            increment = min(pending, MAX_WINDOW - self.inbound_window)
            self._inbound_unacked = 0
            if increment > 0:
                self.inbound_window += increment
                self._out.append(window_update_frame(0, increment))

    # --- output ------------------------------------------------------------------------
    def data_to_send(self: H2Connection) -> bytes:
        out = self._out
        if not out:
            return b""
        data = b"".join(out)
        out.clear()
        return data

    @property
    def has_data_to_send(self: H2Connection) -> bool:
        return bool(self._out)

    @property
    def open_inbound_streams(self: H2Connection) -> int:
        return self.active_remote

    @property
    def open_outbound_streams(self: H2Connection) -> int:
        return self.active_local
