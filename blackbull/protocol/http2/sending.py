"""The outbound side of a connection: HPACK encoding and frame serialisation
(RFC 9113 §4.1, §4.3, §6.1, §6.10; RFC 7541 §4.2).

:class:`Outbox` queues complete frames; the connection's ``data_to_send`` hands them
out as one bytes object, so the I/O shell does one write per flush. It makes no
protocol decisions: the connection checks states and windows before it asks for a
frame.
"""
from __future__ import annotations

from .frames import END_HEADERS, END_STREAM, FrameType, frame, frame_header
from .hpack_codec import HeaderEncoder
from .settings import PeerSettings

__all__ = ["Outbox"]

Headers = list[tuple[bytes, bytes]]
_DATA = FrameType.DATA  # a global: enum members cost a slow lookup (see stream.py)


class Outbox:
    """Frames waiting to be written, and the encoder whose blocks they carry."""

    __slots__ = ("frames", "views", "encoder", "encoder_table_limit", "_remote")

    def __init__(self, remote: PeerSettings, encoder_table_size: int = 4096) -> None:
        #: Serialised frames (and DATA payload views) in the order they go out.
        self.frames: list[bytes | memoryview] = []
        #: True once a DATA payload larger than one frame was queued as views of the
        #: app's buffer (cleared when the frames are taken).
        self.views = False
        self.encoder = HeaderEncoder()
        #: RFC 7541 §4.2: the encoder may use any table size up to the peer's
        #: SETTINGS_HEADER_TABLE_SIZE; ours stays at most this, since a table search
        #: costs time linear in its entries (a peer may allow 2^32-1 octets).
        self.encoder_table_limit = encoder_table_size
        if encoder_table_size < self.encoder.header_table_size:
            self.encoder.header_table_size = encoder_table_size  # signalled in block one
        self._remote = remote

    def peer_table_size(self, value: int) -> None:
        """The peer's SETTINGS_HEADER_TABLE_SIZE (RFC 9113 §6.5.2) is a ceiling; the
        next block starts with a dynamic table size update if ours changes."""
        self.encoder.header_table_size = min(value, self.encoder_table_limit)

    def header_block(self, ftype: int, flags: int, stream_id: int, headers: Headers,
                     prefix: bytes = b"") -> None:
        """HEADERS or PUSH_PROMISE (``prefix`` = promised id), split into CONTINUATION
        frames when over the peer's SETTINGS_MAX_FRAME_SIZE (§4.3, §6.10)."""
        block = self.encoder.encode(headers)
        if prefix:
            block = prefix + block
        size = self._remote.max_frame_size
        out = self.frames
        if len(block) <= size:
            out.append(frame(ftype, flags | END_HEADERS, stream_id, block))
            return
        out.append(frame(ftype, flags, stream_id, block[:size]))
        for pos in range(size, len(block), size):
            last = pos + size >= len(block)
            out.append(frame(FrameType.CONTINUATION, END_HEADERS if last else 0, stream_id,
                             block[pos:pos + size]))

    def data(self, stream_id: int, data: bytes, end_stream: bool) -> None:
        """DATA frames (§6.1), cut at the peer's SETTINGS_MAX_FRAME_SIZE; the payload
        is queued as is (or as views of it), never copied."""
        out = self.frames
        n = len(data)
        size = self._remote.max_frame_size
        if n <= size:
            out.append(frame_header(_DATA, END_STREAM if end_stream else 0,
                                    stream_id, n))
            out.append(data)
            return
        self.views = True
        view = memoryview(data)
        for pos in range(0, n, size):
            chunk = view[pos:pos + size]
            last = pos + size >= n
            out.append(frame_header(FrameType.DATA, END_STREAM if end_stream and last else 0,
                                    stream_id, len(chunk)))
            out.append(chunk)
