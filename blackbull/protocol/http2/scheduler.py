"""Outbound DATA scheduling for one HTTP/2 connection, for either role (RFC 9113 §5.2,
§6.9; RFC 9218 §10).

Every stream's outgoing octets wait in an :class:`Outbound` until both flow-control
windows admit them; :class:`OutboundScheduler` moves them into the core. When the
connection window is contended, streams are served by RFC 9218 urgency (lower value
first); within one urgency, non-incremental streams go one after another in stream-id
order and incremental ones share the window round-robin, one frame each. END_STREAM
rides on a stream's last DATA frame; a stream whose data is all out is told
(:meth:`Outbound.on_output_drained`), so what must follow the data (trailers, the
next write) comes after it. The core cuts DATA at the peer's SETTINGS_MAX_FRAME_SIZE.

The scheduler also keeps the total of octets waiting (``queued``, each change reported
to ``on_change``): the server's response budget reads it, and its slow-reader judge reads
``active``. Sans-I/O: it calls the core, which only buffers frames.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from .priority import DEFAULT_INCREMENTAL, DEFAULT_URGENCY

if TYPE_CHECKING:
    from .connection import H2Connection


class Outbound(Protocol):
    """One stream's octets waiting to go out, as the scheduler reads and drains them."""

    stream_id: int
    urgency: int
    incremental: bool
    out_chunks: deque[bytes | memoryview]
    out_size: int
    out_end: bool  # END_STREAM goes with the last queued octet

    def on_output_drained(self) -> None:
        """All queued octets went into the core, or the stream is gone (they are void)."""


class StreamOutput:
    """A plain :class:`Outbound`: a stream's write queue (RFC 9113 §6.9).

    ``write`` queues octets and ``finish`` asks for END_STREAM after them; both refuse
    anything once the stream ended (``done``). Subclasses hear of a drained queue through
    :meth:`on_output_drained`."""

    __slots__ = ("stream_id", "urgency", "incremental", "out_chunks", "out_size", "out_end",
                 "done")

    def __init__(self, stream_id: int, urgency: int = DEFAULT_URGENCY,
                 incremental: bool = DEFAULT_INCREMENTAL) -> None:
        self.stream_id = stream_id
        self.urgency = urgency
        self.incremental = incremental
        self.out_chunks: deque[bytes | memoryview] = deque()
        self.out_size = 0
        self.out_end = False
        #: END_STREAM is out, or the stream is gone: nothing more is queued.
        self.done = False

    def write(self, data: bytes) -> bool:
        """Queue ``data``; False (and nothing queued) once the stream ended or for b""."""
        if not data or self.out_end or self.done:
            return False
        self.out_chunks.append(data)
        self.out_size += len(data)
        return True

    def finish(self) -> bool:
        """END_STREAM after the queued octets; False if it was already asked for."""
        if self.out_end or self.done:
            return False
        self.out_end = True
        return True

    def void(self) -> None:
        """The stream is gone: drop what waits and refuse more."""
        self.out_chunks.clear()
        self.out_size = 0
        self.done = True

    def on_output_drained(self) -> None:
        if self.out_end or self.out_size:
            # END_STREAM went out, or the stream was gone with octets still queued.
            self.void()


class OutboundScheduler:
    """Moves queued stream data into the core as the windows permit, in priority order,
    and counts the octets waiting (``queued``; each change goes to ``on_change``)."""

    __slots__ = ("h2", "active", "paused", "queued", "_counted", "on_change")

    def __init__(self, h2: H2Connection,
                 on_change: Callable[[int], None] | None = None) -> None:
        self.h2 = h2
        #: stream id → its Outbound, while it has octets (or END_STREAM) to send
        self.active: dict[int, Outbound] = {}
        #: The transport pushes back (its buffer is full): hold every DATA frame.
        self.paused = False
        self.queued = 0
        #: stream id → its octets counted in ``queued``
        self._counted: dict[int, int] = {}
        self.on_change = on_change

    def _recount(self, sid: int, size: int) -> None:
        delta = size - self._counted.get(sid, 0)
        if size:
            self._counted[sid] = size
        else:
            self._counted.pop(sid, None)
        if delta:
            self.queued += delta
            if self.on_change is not None:
                self.on_change(delta)

    def enqueue(self, stream: Outbound) -> None:
        """``stream`` has octets (or END_STREAM) to send; call again after it queued more."""
        self.active[stream.stream_id] = stream
        self._recount(stream.stream_id, stream.out_size)

    def discard(self, stream_id: int) -> None:
        """The stream's queue is void (it was reset, or it is drained)."""
        self.active.pop(stream_id, None)
        self._recount(stream_id, 0)

    def clear(self) -> None:
        """The connection is gone: nothing it queued is held any more."""
        self.active.clear()
        for sid in list(self._counted):
            self._recount(sid, 0)

    def send_final_now(self, stream_id: int, body: bytes) -> bool:
        """Send a stream's last DATA at once, bypassing the queue, when nothing else waits
        for window (so no RFC 9218 order is at stake) and both windows admit it; False
        when it must be queued instead. The caller guarantees the stream can send."""
        h2 = self.h2
        if self.active or self.paused or len(body) > h2.local_flow_control_window(stream_id):
            return False
        h2.send_data(stream_id, body, end_stream=True)
        return True

    def pump(self) -> None:
        """Send what the windows allow, in priority order (RFC 9218 §10)."""
        if self.paused or not self.active:
            return
        if len(self.active) == 1:
            # One stream waiting (a large download): no order is at stake, and for a
            # lone stream a round-robin turn is its whole window anyway. This runs once
            # per WINDOW_UPDATE round trip, so skipping the grouping shortens the gap
            # between the peer's credit and our next DATA.
            for stream in self.active.values():
                self._send_from(stream, stream.out_size)
                return
        groups: dict[int, list[Outbound]] = {}
        for stream in self.active.values():
            groups.setdefault(stream.urgency, []).append(stream)
        for urgency in sorted(groups):
            # Every group is visited even without connection window: a zero-length
            # END_STREAM needs none (§6.9.1 counts payload only) and must not wait.
            members = sorted(groups[urgency], key=_stream_id)
            for stream in members:
                if not stream.incremental:
                    self._send_from(stream, stream.out_size)
            self._round_robin([s for s in members if s.incremental])

    def _round_robin(self, streams: list[Outbound]) -> None:
        frame_size = self.h2.max_outbound_frame_size
        while streams:
            progressed = []
            for stream in streams:
                if self._send_from(stream, frame_size) and stream.out_size:
                    progressed.append(stream)
            streams = progressed

    def _send_from(self, stream: Outbound, budget: int) -> bool:
        """Send up to ``budget`` octets of ``stream``; True if anything went out."""
        h2 = self.h2
        sid = stream.stream_id
        if sid not in h2.streams:
            self.discard(sid)  # reset meanwhile: its data is void
            stream.on_output_drained()
            return False
        allowed = min(budget, stream.out_size, h2.local_flow_control_window(sid))
        sent = False
        chunks = stream.out_chunks
        while allowed > 0:
            chunk = chunks[0]
            n = len(chunk)
            if n > allowed:
                chunks[0] = memoryview(chunk)[allowed:]
                chunk = memoryview(chunk)[:allowed]
                n = allowed
            else:
                chunks.popleft()
            stream.out_size -= n
            allowed -= n
            last = stream.out_size == 0 and stream.out_end
            h2.send_data(sid, chunk, end_stream=last)  # type: ignore[arg-type]
            sent = True
        if sent:
            self._recount(sid, stream.out_size)
        if stream.out_size == 0:
            if stream.out_end and not sent:
                # Zero-length END_STREAM needs no window (§6.9.1 counts payload only).
                h2.send_data(sid, b"", end_stream=True)
                sent = True
            self.discard(sid)
            stream.on_output_drained()
        return sent


def _stream_id(stream: Outbound) -> int:
    return stream.stream_id
