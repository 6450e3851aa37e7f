"""Assembling a header block from HEADERS or PUSH_PROMISE and its CONTINUATION
frames (RFC 9113 §4.3, §6.10), with caps on frames and octets per block (§10.5).

A block split over several frames must arrive as one contiguous sequence on one
stream: any other frame in between, or a CONTINUATION that continues nothing, is a
connection error PROTOCOL_ERROR (§6.10). A block of more than ``max_frames``
CONTINUATIONs or ``max_octets`` octets is ENHANCE_YOUR_CALM: HPACK cannot decode a
block before its end, so unbounded blocks are unbounded memory (CVE-2024-27316).
"""
from __future__ import annotations

from .errors import ErrorCode, H2ConnectionError, ProtocolError, StreamError
from .events import PriorityInfo
from .frames import END_HEADERS

__all__ = ["HeaderBlock", "HeaderBlockAssembler"]


class HeaderBlock:
    """A header block and what its first frame said about it."""

    __slots__ = ("stream_id", "flags", "fragments", "size", "count", "priority",
                 "error", "promised_id")

    def __init__(self, stream_id: int, flags: int, fragment: bytes,
                 priority: PriorityInfo | None, error: StreamError | None,
                 promised_id: int = 0) -> None:
        self.stream_id = stream_id
        #: The first frame's flags (END_STREAM of a HEADERS).
        self.flags = flags
        self.fragments = [fragment]
        self.size = len(fragment)
        #: CONTINUATION frames so far.
        self.count = 0
        self.priority = priority
        #: A stream error to raise once the block is decoded (HPACK stays in sync).
        self.error = error
        #: The promised stream of a PUSH_PROMISE; 0 for HEADERS.
        self.promised_id = promised_id

    @property
    def data(self) -> bytes:
        fragments = self.fragments
        return fragments[0] if len(fragments) == 1 else b"".join(fragments)


class HeaderBlockAssembler:
    """At most one unfinished header block per connection (§6.10); while ``pending``
    is set, the connection refuses every frame but CONTINUATION."""

    __slots__ = ("max_frames", "max_octets", "pending")

    def __init__(self, max_frames: int = 64, max_octets: int = 2 * 65536 + 16384) -> None:
        self.max_frames = max_frames
        self.max_octets = max_octets
        self.pending: HeaderBlock | None = None

    def start(self, block: HeaderBlock) -> None:
        """A HEADERS or PUSH_PROMISE without END_HEADERS opened ``block``."""
        self.pending = block

    def continuation(self, flags: int, sid: int, payload: bytes) -> HeaderBlock | None:
        """A CONTINUATION frame; returns the finished block at END_HEADERS, else None."""
        block = self.pending
        if block is None or sid != block.stream_id:
            raise ProtocolError("unexpected CONTINUATION")
        block.count += 1
        block.size += len(payload)
        if block.count > self.max_frames or block.size > self.max_octets:
            raise H2ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, "header block too large")
        block.fragments.append(payload)
        if flags & END_HEADERS:
            self.pending = None
            return block
        return None
