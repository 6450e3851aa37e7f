"""Inbound message assembly, sans I/O (RFC 6455 §5.4, §8.1, §10.4; RFC 7692 §6.1, §7.2.2).

:class:`MessageAssembler` turns the data-frame pieces of one connection into whole
messages. It owns the message being assembled: the fragmentation rules (§5.4), the
fragment and empty-fragment counts (§10.4), the incremental UTF-8 check of text (§8.1,
failing as early as the bytes allow), inflation of compressed messages in slices the host
bounds (RFC 7692 §7.2.2) and the message size limit. A broken rule raises
:class:`~.errors.WebSocketProtocolError`; the connection turns it into a failure (§7.1.7).
Control frames never come here: they may arrive between fragments (§5.4) and are the
connection's.
"""
from __future__ import annotations

import codecs
import struct

from .deflate import PerMessageDeflate
from .errors import CloseCode, WebSocketProtocolError
from .events import BytesMessage, Event, TextMessage
from .frames import FrameChunk, FrameHeader, Opcode, unmask_payload

_Utf8Decoder = codecs.getincrementaldecoder("utf-8")
_U16 = struct.Struct("!H")
_U64 = struct.Struct("!Q")
#: Up to this payload size a whole frame is unmasked from slices of the read: copying a
#: small payload costs less than a memoryview and its context (~1 µs of a 64 B echo);
#: a larger one is unmasked from a view, not copied first.
_SLICE_UNMASK = 4096


class MessageAssembler:
    """The inbound half of one connection's data frames: pieces in, messages out."""

    __slots__ = ("deflate", "max_frame_size", "max_message_size", "max_fragments",
                 "max_empty_fragments", "opcode", "compressed", "size", "room",
                 "inflate_ends", "_parts", "_text", "_frames", "_empty", "_utf8",
                 "_trailer_fed")

    def __init__(self, deflate: PerMessageDeflate | None, *, max_frame_size: int,
                 max_message_size: int, max_fragments: int, max_empty_fragments: int) -> None:
        self.deflate = deflate
        self.max_frame_size = max_frame_size
        self.max_message_size = max_message_size
        self.max_fragments = max_fragments
        self.max_empty_fragments = max_empty_fragments
        #: The message being assembled: its opcode (None between messages), whether it
        #: is compressed (RSV1 on its first frame, RFC 7692 §6.1) and its bytes so far
        #: (inflated bytes for a compressed one).
        self.opcode: Opcode | None = None
        self.compressed = False
        self.size = 0
        #: Message bytes the host lets the current call produce (``receive_data``'s
        #: ``max_bytes``), spent as they are produced; None: no cap.
        self.room: int | None = None
        #: Inflation stopped by :attr:`room`: None when none is pending, else whether
        #: the piece being inflated ends the message (go on with :meth:`resume_inflate`).
        self.inflate_ends: bool | None = None
        self._parts: list[bytes] = []   # a binary message's pieces
        self._text: list[str] = []      # a text message's decoded pieces
        self._frames = 0
        self._empty = 0
        self._utf8 = _Utf8Decoder("strict")
        self._trailer_fed = False  # the pending piece carried the §7.2.2 trailer already

    def discard(self) -> None:
        """Drop what was assembled (the connection failed: nothing more is delivered)."""
        self._parts = []
        self._text = []
        self.size = 0

    # --- one frame, one message ---------------------------------------------------------
    def whole_frame(self, data: bytes) -> Event | None:
        """The common case in one step: ``data`` is exactly one masked, unfragmented text
        or binary frame (§5.2 first octet 0x81/0x82, or 0xC1/0xC2 compressed when
        permessage-deflate was agreed; §5.3 masked) of 1 byte or more, between messages
        and with nothing else buffered (the caller checks): it is unmasked straight from
        the read, with no buffering. A compressed one is inflated by
        :meth:`_whole_compressed`; an uncompressed one is finished by
        :meth:`whole_payload` (its size and fragment limits, §8.1 UTF-8), which saves
        ~1.2 µs per message over the general path (~10 % of a 64 B echo). It passes
        every check the general path makes (RSV bits clear, FIN set, length within every
        limit; tests/unit/rfc6455/test_sec_5_2_whole_frame_fast_path.py compares both);
        anything else returns None and goes the general way."""
        size = len(data)
        if size < 6:
            return None
        b0 = data[0]
        if b0 == 0x82 or b0 == 0x81:
            payload = self.whole_payload(data)
            if payload is None:
                return None
            if isinstance(payload, bytes):
                return BytesMessage(payload)
            return TextMessage(payload)
        # RFC 7692 §6.1: RSV1 on the one frame: a compressed message. The frame is read
        # as whole_payload reads an uncompressed one.
        if (b0 != 0xC1 and b0 != 0xC2) or self.deflate is None:
            return None
        payload = self._single_frame(data, size)
        if payload is None:
            return None
        return self._whole_compressed(payload, b0 == 0xC1)

    def whole_payload(self, data: bytes) -> bytes | str | None:
        """:meth:`whole_frame` for an uncompressed message, without building its event:
        the payload of ``data`` when it is exactly one masked, unfragmented binary
        (bytes) or text (str, strict UTF-8, §8.1) frame of 1 byte or more within every
        limit, else None. It only reads: whatever it returns or raises (a
        :class:`~.errors.WebSocketProtocolError`, 1007, for text that is not UTF-8),
        nothing has changed."""
        size = len(data)
        if size < 6:
            return None
        b0 = data[0]
        if b0 != 0x82 and b0 != 0x81:
            return None
        payload = self._single_frame(data, size)
        if payload is None:
            return None
        if b0 == 0x82:
            return payload
        try:
            return payload.decode("utf-8")  # strict: surrogates fail (§8.1)
        except UnicodeDecodeError:
            raise WebSocketProtocolError(CloseCode.INVALID_PAYLOAD,
                                         "text message is not UTF-8 (§8.1)") from None

    def _single_frame(self, data: bytes, size: int) -> bytes | None:
        """The unmasked payload of ``data`` (``size`` octets, at least 6) when it is
        exactly one masked frame (§5.3) of 1 byte or more within the frame, message and
        fragment limits; else None. Its first octet is the caller's to check."""
        b1 = data[1]
        if b1 < 0x80:
            return None
        n = b1 & 0x7F
        if n < 126:
            start = 6
        elif n == 126:
            start = 8
            if size < start:
                return None
            n = _U16.unpack_from(data, 2)[0]
        else:
            start = 14
            if size < start:
                return None
            n = _U64.unpack_from(data, 2)[0]  # ≥ 2^63 never equals a read's size
        if n == 0 or size != start + n or n > self.max_frame_size \
                or n > self.max_message_size or self.max_fragments < 1:
            return None
        if n <= _SLICE_UNMASK:
            payload = unmask_payload(data[start:], data[start - 4:start])
        else:
            with memoryview(data) as view:
                payload = unmask_payload(view[start:], view[start - 4:start].tobytes())
        return payload

    def _whole_compressed(self, payload: bytes, text: bool) -> Event | None:
        """RFC 7692 §7.2.2 for a message in one frame. A binary one has nothing to check
        as it inflates: payload and trailer go through zlib in one call (~1.3 µs of a
        1 KiB compressed echo). A text one takes the general path as any frame would,
        so its UTF-8 is checked (RFC 6455 §8.1) in the same order. None only when
        :attr:`room` stopped its inflation."""
        if text:
            header = FrameHeader(True, True, Opcode.TEXT, len(payload), None)
            return self.add(FrameChunk(header, payload, True, True))
        deflate = self.deflate
        assert deflate is not None
        data = deflate.inflate_message(payload, self.max_message_size, self.room)
        if not deflate.more:
            return BytesMessage(data)
        # The byte budget stopped it: the message goes on as a fragmented one would,
        # its trailer already inside the zlib stream.
        self.opcode = Opcode.BINARY
        self.compressed = True
        self._parts = [data]
        self.size = len(data)
        self._frames = 1
        self._empty = 0
        self.inflate_ends = True
        self._trailer_fed = True
        self._take_room(len(data))
        return None

    # --- the general path ---------------------------------------------------------------
    def add(self, chunk: FrameChunk) -> Event | None:
        """A piece of a data frame (§5.4); the message when this piece completes it."""
        if chunk.first:
            self._start_frame(chunk.header)
            self._count_fragment(chunk.header.length)
        self._add_payload(chunk.data)
        ends = chunk.last and chunk.header.fin
        if self.compressed and self.deflate is not None and self.deflate.more:
            self.inflate_ends = ends  # the byte budget stopped it: resumed next call
            return None
        if ends:
            return self._finish_message()
        return None

    def resume_inflate(self) -> Event | None:
        """Go on with a compressed piece that the byte budget interrupted (§7.2.2); the
        message ends when that piece ended it."""
        deflate = self.deflate
        assert deflate is not None
        data = deflate.inflate_more(self.max_message_size - self.size, self.room)
        self._take_room(len(data))
        self._append(data, final=False)
        if deflate.more:
            return None
        ends, self.inflate_ends = self.inflate_ends, None
        if not ends:
            return None
        if self._trailer_fed:
            self._trailer_fed = False
            deflate.end_message()
            self._append(b"", final=True)
            return self._complete_message()
        return self._finish_message()

    def _take_room(self, n: int) -> None:
        if self.room is not None:
            self.room -= n

    def _count_fragment(self, length: int) -> None:
        """§5.4, §10.4: bound the frames of one message, and its empty frames apart."""
        self._frames += 1
        if self._frames > self.max_fragments:
            raise WebSocketProtocolError(CloseCode.MESSAGE_TOO_BIG,
                                         f"message in over {self.max_fragments} fragments")
        if length == 0:
            self._empty += 1
            if self._empty > self.max_empty_fragments:
                raise WebSocketProtocolError(
                    CloseCode.POLICY_VIOLATION,
                    f"message with over {self.max_empty_fragments} empty fragments")

    def _start_frame(self, header: FrameHeader) -> None:
        """§5.4 fragmentation rules; RFC 7692 §6.1 RSV1 placement."""
        if header.opcode is Opcode.CONTINUATION:
            if self.opcode is None:
                raise WebSocketProtocolError(CloseCode.PROTOCOL_ERROR,
                                             "continuation frame without a message (§5.4)")
            if header.rsv1:
                raise WebSocketProtocolError(CloseCode.PROTOCOL_ERROR,
                                             "RSV1 on a continuation frame (RFC 7692 §6.1)")
            return
        if self.opcode is not None:
            raise WebSocketProtocolError(CloseCode.PROTOCOL_ERROR,
                                         "new data frame inside a fragmented message (§5.4)")
        self.opcode = header.opcode
        self.compressed = header.rsv1
        self._parts = []
        self._text = []
        self.size = 0
        self._frames = 0
        self._empty = 0
        if header.opcode is Opcode.TEXT:
            self._utf8 = _Utf8Decoder("strict")
        if header.rsv1:
            assert self.deflate is not None  # the parser rejects RSV1 otherwise
            self.deflate.start_message()

    def _add_payload(self, data: bytes) -> None:
        if self.compressed:
            assert self.deflate is not None  # a compressed message needs the extension
            data = self.deflate.inflate(data, self.max_message_size - self.size, self.room)
        self._take_room(len(data))
        self._append(data, final=False)

    def _append(self, data: bytes, *, final: bool) -> None:
        self.size += len(data)
        if self.size > self.max_message_size:
            raise WebSocketProtocolError(CloseCode.MESSAGE_TOO_BIG,
                                         f"message over {self.max_message_size} bytes")
        if self.opcode is Opcode.TEXT:
            text = self._decode(data, final)
            if text:
                self._text.append(text)
        elif data:
            self._parts.append(data)

    def _decode(self, data: bytes, final: bool) -> str:
        """Incremental UTF-8 check (§8.1): fail as soon as the bytes cannot be UTF-8."""
        try:
            text = self._utf8.decode(data, final)
        except UnicodeDecodeError:
            raise WebSocketProtocolError(CloseCode.INVALID_PAYLOAD,
                                         "text message is not UTF-8 (§8.1)") from None
        pending = self._utf8.getstate()[0]
        # CPython waits for the third byte of ED A0..BF (a UTF-16 surrogate); no valid
        # sequence starts that way, so fail now rather than one fragment later.
        if len(pending) >= 2 and pending[0] == 0xED and pending[1] >= 0xA0:
            raise WebSocketProtocolError(CloseCode.INVALID_PAYLOAD,
                                         "UTF-16 surrogate in text message (§8.1)")
        return text

    def _finish_message(self) -> Event:
        if self.compressed:
            assert self.deflate is not None  # a compressed message needs the extension
            tail = self.deflate.finish_message(self.max_message_size - self.size)
        else:
            tail = b""
        self._append(tail, final=True)
        return self._complete_message()

    def _complete_message(self) -> Event:
        opcode = self.opcode
        self.size = 0
        self.opcode = None
        if opcode is Opcode.TEXT:
            text = self._text
            self._text = []
            return TextMessage("".join(text))
        parts = self._parts
        self._parts = []
        return BytesMessage(b"".join(parts))
