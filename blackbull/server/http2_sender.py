"""Response DATA scheduling for one HTTP/2 connection (RFC 9113 §5.2, RFC 9218 §10).

Response bodies wait here until both flow-control windows allow them. When the
connection window is contended, streams are served by RFC 9218 urgency (lower value
first); within one urgency, non-incremental responses go one after another in
stream-id order and incremental ones share the window round-robin, one frame each.
DATA is cut at the peer's SETTINGS_MAX_FRAME_SIZE by the core.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..protocol.http2 import H2Connection


class Outbound(Protocol):
    """What the sender needs from a stream with response data queued."""

    stream_id: int
    urgency: int
    incremental: bool
    out_chunks: deque[bytes | memoryview]
    out_size: int
    out_end: bool  # END_STREAM goes after the queued data (or the trailers do)

    def on_output_drained(self) -> None: ...


class HTTP2Sender:
    """Moves queued response data into the core as windows permit, and counts the
    octets waiting (``queued``; each change is reported to ``on_change``, the worker's
    buffer budget)."""

    __slots__ = ("h2", "active", "paused", "queued", "_counted", "on_change")

    def __init__(self, h2: H2Connection,
                 on_change: Callable[[int], None] | None = None) -> None:
        self.h2 = h2
        self.active: dict[int, Outbound] = {}
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
        self.active[stream.stream_id] = stream
        self._recount(stream.stream_id, stream.out_size)

    def discard(self, stream_id: int) -> None:
        self.active.pop(stream_id, None)
        self._recount(stream_id, 0)

    def clear(self) -> None:
        """The connection is gone: nothing it queued is held any more."""
        self.active.clear()
        for sid in list(self._counted):
            self._recount(sid, 0)

    def pump(self) -> None:
        """Send what the windows allow, in priority order."""
        if self.paused or not self.active:
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
