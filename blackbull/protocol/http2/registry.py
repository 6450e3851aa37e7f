"""The streams of one connection: open ones, the closed ones remembered, the id
spaces and the concurrency counts (RFC 9113 §5.1, §5.1.1, §5.1.2, §6.8)."""
from __future__ import annotations

from collections import OrderedDict

from .errors import ErrorCode, ProtocolError, StreamError, UsageError
from .frames import MAX_STREAM_ID
from .priority import Priority
from .stream import CLOSED, CloseReason, Stream, StreamState, closed_stream_error

__all__ = ["StreamRegistry"]


class StreamRegistry:
    """Stream bookkeeping for one endpoint (``client_side`` says which)."""

    __slots__ = ("streams", "closed", "max_closed", "client_side", "highest_remote_id",
                 "highest_local_id", "next_local_id", "active_remote", "active_local",
                 "goaway_sent", "pending_priority")

    def __init__(self, client_side: bool, max_closed: int) -> None:
        self.streams: dict[int, Stream] = {}
        #: Recently closed streams and why (§5.1 answers late frames by reason).
        self.closed: OrderedDict[int, CloseReason] = OrderedDict()
        self.max_closed = max_closed
        self.client_side = client_side
        self.highest_remote_id = 0
        self.highest_local_id = 0
        self.next_local_id = 1 if client_side else 2
        self.active_remote = 0
        self.active_local = 0
        #: Last stream id of the GOAWAY we sent (§6.8); later streams are ignored.
        self.goaway_sent: int | None = None
        #: RFC 9218 §7.1: PRIORITY_UPDATEs for streams still idle.
        self.pending_priority: dict[int, Priority] = {}

    def is_remote_id(self, sid: int) -> bool:
        """Clients open odd streams, servers even ones (§5.1.1)."""
        return (sid & 1) == (0 if self.client_side else 1)

    def new(self, sid: int, send_window: int, recv_window: int, remote: bool) -> Stream:
        stream = Stream(sid, send_window, recv_window, remote)
        self.streams[sid] = stream
        return stream

    def forget(self, stream: Stream) -> None:
        """Move a closed stream to the bounded closed-stream memory (§5.1 "closed")."""
        if self.streams.pop(stream.stream_id, None) is None:
            return
        if stream.counted:
            if stream.remote_initiated:
                self.active_remote -= 1
            else:
                self.active_local -= 1
        closed = self.closed  # remember_closed, inline: once per stream
        closed[stream.stream_id] = stream.close_reason or CloseReason.RESET_SENT
        if len(closed) > self.max_closed:
            closed.popitem(last=False)

    def remember_closed(self, sid: int, reason: CloseReason) -> None:
        closed = self.closed
        closed[sid] = reason
        if len(closed) > self.max_closed:
            closed.popitem(last=False)

    def after_transition(self, stream: Stream) -> None:
        if stream.state is CLOSED:
            self.forget(stream)

    def lookup(self, sid: int, what: str) -> Stream | None:
        """A stream the frame may act on; None for a closed stream; idle → error (§5.1)."""
        stream = self.streams.get(sid)
        if stream is not None:
            return stream
        if sid in self.closed:
            return None
        highest = self.highest_remote_id if self.is_remote_id(sid) else self.highest_local_id
        if sid > highest:
            raise ProtocolError(f"{what} on idle stream {sid}")
        return None  # a closed stream we no longer remember

    def open_remote(self, sid: int, send_window: int, recv_window: int,
                    limit: int | None) -> Stream | None:
        """A HEADERS on a stream we do not hold: a new stream (None when it is one to
        ignore), or an error for an id the peer may not use (§5.1.1, §5.1.2, §6.8)."""
        if sid in self.closed:
            closed_stream_error(sid, self.closed[sid])
            return None
        if (sid & 1) != (not self.client_side):  # is_remote_id, inline: once per request
            raise ProtocolError(f"HEADERS on stream {sid} the peer may not open")
        if sid <= self.highest_remote_id:
            raise ProtocolError(f"stream id {sid} not greater than {self.highest_remote_id}")
        self.highest_remote_id = sid
        if self.goaway_sent is not None and sid > self.goaway_sent:
            self.remember_closed(sid, CloseReason.RESET_SENT)
            return None  # §6.8: streams above our GOAWAY's last id are ignored
        stream = self.streams[sid] = Stream(sid, send_window, recv_window, True)
        if self.pending_priority:
            stream.priority = self.pending_priority.pop(sid, None)
        if limit is not None and self.active_remote >= limit:
            stream.state = StreamState.OPEN
            raise StreamError(sid, ErrorCode.REFUSED_STREAM, "MAX_CONCURRENT_STREAMS")  # §5.1.2
        stream.counted = True
        self.active_remote += 1
        return stream

    def shift_recv_windows(self, delta: int) -> None:
        """§6.9.2: receive windows follow the initial size the peer may be using — the
        largest of the acknowledged and the pending values — so a larger window counts
        from when we send it and a smaller one from its ACK."""
        if delta:
            for stream in self.streams.values():
                stream.recv.size += delta

    def count_remote(self, stream: Stream) -> None:
        """An upgraded request's stream 1 (RFC 7540 §3.2) counts as opened by the peer."""
        stream.counted = True
        self.active_remote += 1
        self.highest_remote_id = max(self.highest_remote_id, stream.stream_id)

    def next_id(self) -> int:
        """The id our next stream (or promise) takes (§5.1.1)."""
        sid = self.next_local_id
        if sid > MAX_STREAM_ID:
            raise UsageError("stream ids exhausted")
        return sid

    def take_local_id(self) -> int:
        sid = self.next_id()
        self.next_local_id += 2
        self.highest_local_id = sid
        return sid
