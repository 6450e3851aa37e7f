"""One HTTP/2 stream and its state machine (RFC 9113 §5.1).

Every transition of the seven states is a method here; a frame that a state does
not allow raises the error §5.1 prescribes, with its scope: :class:`StreamError`
(RST_STREAM) or :class:`ConnectionError` (GOAWAY).
"""
from __future__ import annotations

from enum import Enum

from .errors import ErrorCode, H2ConnectionError, ProtocolError, StreamError, UsageError
from .flow import Window
from .priority import Priority


class StreamState(Enum):
    IDLE = "idle"
    RESERVED_LOCAL = "reserved (local)"
    RESERVED_REMOTE = "reserved (remote)"
    OPEN = "open"
    HALF_CLOSED_LOCAL = "half-closed (local)"
    HALF_CLOSED_REMOTE = "half-closed (remote)"
    CLOSED = "closed"


class CloseReason(Enum):
    """Why a stream is closed: §5.1 answers late frames differently for each."""

    END_STREAM = "end_stream"        # both sides sent END_STREAM
    RESET_RECEIVED = "reset_received"
    RESET_SENT = "reset_sent"


#: The states and close reasons as module constants, for the per-request paths here and
#: in the core: ``StreamState.OPEN`` is an attribute of a class whose metaclass defines
#: ``__getattr__`` (``EnumType``), which CPython 3.11 looks up on its slow path (timeit:
#: ~80 ns, against ~7 ns for a global).
IDLE = StreamState.IDLE
OPEN = StreamState.OPEN
HALF_CLOSED_LOCAL = StreamState.HALF_CLOSED_LOCAL
HALF_CLOSED_REMOTE = StreamState.HALF_CLOSED_REMOTE
RESERVED_LOCAL = StreamState.RESERVED_LOCAL
RESERVED_REMOTE = StreamState.RESERVED_REMOTE
CLOSED = StreamState.CLOSED
BY_END_STREAM = CloseReason.END_STREAM
BY_RESET_SENT = CloseReason.RESET_SENT
BY_RESET_RECEIVED = CloseReason.RESET_RECEIVED
# Tuples, not sets: ``in`` on a tuple compares enum members by identity, a set
# would call Enum.__hash__ (Python code) on every frame.
#: States in which the peer may still send DATA/HEADERS (§5.1).
REMOTE_OPEN = (OPEN, HALF_CLOSED_LOCAL)
#: States in which we may still send DATA/HEADERS.
LOCAL_OPEN = (OPEN, HALF_CLOSED_REMOTE)


def closed_stream_error(stream_id: int, reason: CloseReason | None) -> None:
    """§5.1 "closed": what a DATA/HEADERS/CONTINUATION on a closed stream means.

    After we sent RST_STREAM, frames already in flight are ignored (returns None).
    After the peer's RST_STREAM it is a stream error STREAM_CLOSED; after the peer's
    END_STREAM a connection error STREAM_CLOSED.
    """
    if reason is BY_RESET_SENT:
        return
    if reason is BY_RESET_RECEIVED:
        raise StreamError(stream_id, ErrorCode.STREAM_CLOSED, "frame after RST_STREAM")
    raise H2ConnectionError(ErrorCode.STREAM_CLOSED, f"frame on closed stream {stream_id}")


class Stream:
    """State, flow-control windows and body accounting of one stream."""

    __slots__ = (
        "stream_id", "state", "close_reason", "send", "recv", "headers_received",
        "headers_sent", "expected_length", "received_length", "priority",
        "remote_initiated", "is_push", "counted", "octets_sent",
    )

    def __init__(self, stream_id: int, outbound_window: int, inbound_window: int,
                 remote_initiated: bool) -> None:
        self.stream_id = stream_id
        self.state = IDLE
        self.close_reason: CloseReason | None = None
        #: Send credit the peer gave this stream, receive credit we gave it (§6.9).
        self.send = Window(outbound_window)
        self.recv = Window(inbound_window)
        self.headers_received = False
        self.headers_sent = False
        self.expected_length: int | None = None
        self.received_length = 0
        self.priority: Priority | None = None  # from PRIORITY_UPDATE (RFC 9218 §7)
        self.remote_initiated = remote_initiated
        self.is_push = False
        #: Whether the stream counts against MAX_CONCURRENT_STREAMS (§5.1.2).
        self.counted = False
        #: DATA octets we sent on it (the I/O shell judges slow readers by it).
        self.octets_sent = 0

    def __repr__(self) -> str:
        return f"<Stream {self.stream_id} {self.state.value}>"

    @property
    def closed(self) -> bool:
        return self.state is CLOSED

    @property
    def outbound_window(self) -> int:
        """Octets of DATA the peer's stream window still lets us send (§6.9.1)."""
        return self.send.size

    @outbound_window.setter
    def outbound_window(self, value: int) -> None:
        self.send.size = value

    @property
    def inbound_window(self) -> int:
        """Octets of DATA the peer may still send on this stream (§6.9)."""
        return self.recv.size

    # --- frames received ---------------------------------------------------------------
    def on_headers_received(self, end_stream: bool) -> bool:
        """A HEADERS block arrived; returns True when it is a trailer block (§8.1)."""
        state = self.state
        sid = self.stream_id
        if state is IDLE:
            self.state = HALF_CLOSED_REMOTE if end_stream else OPEN
            self.headers_received = True
            return False
        if state is RESERVED_REMOTE:
            # §5.1: the pushed response's HEADERS move us to half-closed (local).
            self.state = CLOSED if end_stream else HALF_CLOSED_LOCAL
            if end_stream:
                self.close_reason = BY_END_STREAM
            self.headers_received = True
            return False
        if state in REMOTE_OPEN:
            trailers = self.headers_received
            if trailers and not end_stream:
                # §8.1: a second HEADERS without END_STREAM is malformed.
                raise StreamError(sid, ErrorCode.PROTOCOL_ERROR, "trailers without END_STREAM")
            self.headers_received = True
            if end_stream:
                self.mark_remotely_closed()
            return trailers
        if state is HALF_CLOSED_REMOTE:
            raise StreamError(sid, ErrorCode.STREAM_CLOSED, "HEADERS on half-closed stream")
        if state is CLOSED:
            closed_stream_error(sid, self.close_reason)
            return False
        raise ProtocolError(f"HEADERS on stream {sid} in state {state.value}")

    def on_data_received(self, length: int, end_stream: bool) -> None:
        """DATA arrived (§6.1); checks state and the declared content-length (§8.1.1)."""
        state = self.state
        sid = self.stream_id
        if state not in REMOTE_OPEN:
            if state is HALF_CLOSED_REMOTE:
                raise StreamError(sid, ErrorCode.STREAM_CLOSED, "DATA on half-closed stream")
            if state is CLOSED:
                closed_stream_error(sid, self.close_reason)
                return
            raise ProtocolError(f"DATA on stream {sid} in state {state.value}")
        if not self.headers_received:
            raise StreamError(sid, ErrorCode.PROTOCOL_ERROR, "DATA before HEADERS")
        self.received_length += length
        expected = self.expected_length
        if expected is not None and (self.received_length > expected
                                     or (end_stream and self.received_length != expected)):
            raise StreamError(sid, ErrorCode.PROTOCOL_ERROR, "content-length mismatch")
        if end_stream:
            self.mark_remotely_closed()

    def on_rst_received(self) -> None:
        """RST_STREAM (§6.4) closes the stream from any state but idle."""
        if self.state is IDLE:
            raise ProtocolError(f"RST_STREAM on idle stream {self.stream_id}")
        self._close(BY_RESET_RECEIVED)

    def check_remote_end(self) -> None:
        """END_STREAM on a HEADERS without DATA: a declared non-zero length is unmet."""
        if self.expected_length not in (None, self.received_length):
            raise StreamError(self.stream_id, ErrorCode.PROTOCOL_ERROR, "content-length mismatch")

    # --- frames sent -------------------------------------------------------------------
    def on_headers_sent(self, end_stream: bool) -> None:
        state = self.state
        if state is IDLE:
            self.state = OPEN
        elif state is RESERVED_LOCAL:
            self.state = HALF_CLOSED_REMOTE
        elif state not in LOCAL_OPEN:
            raise UsageError(f"cannot send HEADERS in state {state.value}")
        self.headers_sent = True
        if end_stream:
            self.mark_locally_closed()

    def on_push_promise_sent(self) -> None:
        """§8.4: PUSH_PROMISE reserves an idle stream for the server."""
        self.state = RESERVED_LOCAL
        self.is_push = True

    def on_push_promise_received(self) -> None:
        self.state = RESERVED_REMOTE
        self.is_push = True

    def mark_locally_closed(self) -> None:
        """We sent END_STREAM: open → half-closed (local), half-closed (remote) → closed."""
        if self.state is OPEN:
            self.state = HALF_CLOSED_LOCAL
        elif self.state is HALF_CLOSED_REMOTE:
            self._close(BY_END_STREAM)

    def mark_remotely_closed(self) -> None:
        """The peer sent END_STREAM: open → half-closed (remote), half-closed (local) → closed."""
        if self.state is OPEN:
            self.state = HALF_CLOSED_REMOTE
        elif self.state is HALF_CLOSED_LOCAL:
            self._close(BY_END_STREAM)

    def reset_locally(self) -> None:
        """We sent RST_STREAM (§6.4)."""
        self._close(BY_RESET_SENT)

    def _close(self, reason: CloseReason) -> None:
        self.state = CLOSED
        self.close_reason = reason
