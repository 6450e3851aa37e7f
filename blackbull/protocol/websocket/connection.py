"""The WebSocket protocol state machine, sans I/O (RFC 6455 §5, §6, §7; RFC 7692 §6).

:class:`WebSocketConnection` turns received bytes into events and API calls into bytes.
It knows nothing of how the connection was opened (an HTTP/1.1 Upgrade, §4, or an
HTTP/2 extended CONNECT, RFC 8441), so the same core serves the server, the client and
the HTTP/2 bridge. Outgoing bytes accumulate until :meth:`data_to_send` takes them.
"""
from __future__ import annotations

import codecs
import os
import struct
from collections.abc import Callable, Iterator
from enum import Enum

from ..ratelimit import TokenBucket
from .close import build_close_payload, parse_close_payload
from .deflate import PerMessageDeflate
from .errors import CloseCode, InvalidState, WebSocketProtocolError
from .events import (
    BytesMessage,
    CloseReceived,
    ConnectionFailed,
    Event,
    Ping,
    Pong,
    TextMessage,
)
from .frames import (
    FrameChunk,
    FrameHeader,
    FrameParser,
    Opcode,
    apply_mask,
    encode_frame,
    frame_head,
)

_Utf8Decoder = codecs.getincrementaldecoder("utf-8")
_U16 = struct.Struct("!H")
_U64 = struct.Struct("!Q")
#: Payloads larger than this are queued apart from their frame header (one copy less).
_JOIN_LATER = 4096


class Role(Enum):
    """Which end we are: servers expect masked frames, clients send them (§5.1)."""

    SERVER = "server"
    CLIENT = "client"


class State(Enum):
    """§4.1, §7: OPEN until a Close is sent or received; CLOSED when both are done
    (or the connection failed)."""

    OPEN = "open"
    CLOSING = "closing"       # we sent a Close and wait for the peer's
    CLOSED = "closed"


class WebSocketConnection:
    """One WebSocket connection after its opening handshake."""

    def __init__(
        self,
        role: Role,
        *,
        deflate: PerMessageDeflate | None = None,
        max_frame_size: int = 16 * 1024 * 1024,
        max_message_size: int = 16 * 1024 * 1024,
        max_fragments: int = 131072,
        max_empty_fragments: int = 1024,
        ping_burst: int = 100,
        ping_rate: float = 10.0,
        clock: Callable[[], float] | None = None,
        auto_close: bool = True,
    ) -> None:
        """``auto_close=False`` lets the host answer a received Close (or send the Close
        of a failure) later with :meth:`answer_close`, e.g. after the application has
        answered the messages that arrived before it (§5.5.1 allows finishing the
        current message first).

        Limits against hostile peers (RFC 6455 §10.4):

        - ``max_fragments``: frames in one message (§5.4); more → 1009. Each frame costs
          work however small it is, so this bounds a message made of tiny fragments.
        - ``max_empty_fragments``: frames without payload in one message; more → 1008.
          They add nothing, so the byte limits can never end such a message.
        - ``ping_burst``/``ping_rate``: a token bucket for the control frames that give
          the application nothing and (for PING) cost us an answer: PINGs and unsolicited
          PONGs; an empty bucket → 1008. The core has no clock of its own: the bucket
          works only when the host passes ``clock`` (seconds, e.g. ``loop.time``).
        """
        self.role = role
        self.auto_close = auto_close
        self.failure: ConnectionFailed | None = None
        self.deflate = deflate
        self.max_message_size = max_message_size
        self.max_fragments = max_fragments
        self.max_empty_fragments = max_empty_fragments
        self.state = State.OPEN
        self.close_sent = False
        self.close_received: CloseReceived | None = None
        self._parser = FrameParser(expect_masked=role is Role.SERVER,
                                   allow_rsv1=deflate is not None,
                                   max_frame_size=max_frame_size,
                                   whole_binary_limit=min(max_frame_size, max_message_size))
        self._out: list[bytes] = []
        #: True after a receive_data call whose budget ran out (more may be buffered).
        self.input_backlog = False
        # the message being assembled (§5.4)
        self._msg_opcode: Opcode | None = None
        self._msg_compressed = False
        self._msg_parts: list[bytes] = []   # a binary message's pieces
        self._msg_text: list[str] = []      # a text message's decoded pieces
        self._msg_size = 0
        self._msg_frames = 0
        self._msg_empty = 0
        self._utf8 = _Utf8Decoder("strict")
        # inflation stopped by a byte budget (receive_data's ``max_bytes``): None when
        # none is pending, else whether the piece being inflated ends the message
        self._inflate_ends: bool | None = None
        self._trailer_fed = False  # that piece carried the §7.2.2 trailer already
        self._room: int | None = None
        # control-frame budget (§5.5.2, §10.4)
        self._clock = clock
        self._pings = TokenBucket(ping_burst, ping_rate, clock() if clock is not None else None)
        self._pings_unanswered = 0

    # --- sending ----------------------------------------------------------------------
    def _frame(self, opcode: Opcode, payload: bytes, *, fin: bool = True,
               rsv1: bool = False) -> None:
        if self.role is Role.CLIENT:
            self._out.append(encode_frame(opcode, payload, fin=fin, rsv1=rsv1,
                                          mask=os.urandom(4)))
        else:
            head = frame_head(opcode, len(payload), fin=fin, rsv1=rsv1)
            if len(payload) > _JOIN_LATER:
                # A large payload is not copied behind its header: the host writes the
                # pieces with one vectored write (output_parts).
                self._out.append(head)
                self._out.append(payload)
            else:
                self._out.append(head + payload)

    def _message(self, opcode: Opcode, payload: bytes) -> None:
        if self.close_sent:
            raise InvalidState("a Close was sent: no more data frames (RFC 6455 §5.5.1)")
        if self.deflate is not None:
            self._frame(opcode, self.deflate.compress(payload), rsv1=True)
        else:
            self._frame(opcode, payload)

    def send_text(self, text: str) -> None:
        """Queue a text message (§5.6)."""
        self._message(Opcode.TEXT, text.encode("utf-8"))

    def send_bytes(self, data: bytes) -> None:
        """Queue a binary message (§5.6)."""
        self._message(Opcode.BINARY, bytes(data))

    def send_message_in_steps(self, data: bytes, *, text: bool, step: int) -> Iterator[None]:
        """Queue a message as :meth:`send_bytes` / :meth:`send_text` (``data`` already
        UTF-8 for text) would, compressing ``step`` input octets per iteration (RFC 7692
        §7.2.1): the host iterates and does other work between steps; the frame is
        queued after the last. Uncompressed, or at most one step long, it is queued at
        once."""
        opcode = Opcode.TEXT if text else Opcode.BINARY
        if self.deflate is None or len(data) <= step:
            self._message(opcode, data)
            return
        if self.close_sent:
            raise InvalidState("a Close was sent: no more data frames (RFC 6455 §5.5.1)")
        pieces: list[bytes] = []
        for piece in self.deflate.compress_steps(data, step):
            pieces.append(piece)
            yield
        self._message_frame(opcode, b"".join(pieces))

    def _message_frame(self, opcode: Opcode, compressed: bytes) -> None:
        if self.close_sent:
            raise InvalidState("a Close was sent: no more data frames (RFC 6455 §5.5.1)")
        self._frame(opcode, compressed or b"\x00", rsv1=True)

    def send_ping(self, payload: bytes = b"") -> None:
        """Queue a Ping (§5.5.2); at most 125 bytes."""
        if len(payload) > 125:
            raise ValueError("control frame payload over 125 bytes (RFC 6455 §5.5)")
        if not self.close_sent:
            self._frame(Opcode.PING, bytes(payload))
            self._pings_unanswered += 1

    def send_pong(self, payload: bytes = b"") -> None:
        """Queue an unsolicited Pong (§5.5.3)."""
        if len(payload) > 125:
            raise ValueError("control frame payload over 125 bytes (RFC 6455 §5.5)")
        if not self.close_sent:
            self._frame(Opcode.PONG, bytes(payload))

    def send_close(self, code: int | None = CloseCode.NORMAL, reason: str = "") -> None:
        """Start (or complete) the closing handshake (§5.5.1, §7.1.2). Idempotent."""
        if self.close_sent:
            return
        self._frame(Opcode.CLOSE, build_close_payload(code, reason))
        self.close_sent = True
        self.state = State.CLOSED if self.close_received is not None else State.CLOSING

    def data_to_send(self) -> bytes:
        """All queued bytes, in order; empty when there is nothing to write."""
        return b"".join(self.output_parts())

    def output_parts(self) -> list[bytes]:
        """The queued bytes as the pieces they were queued in (a large payload apart
        from its frame header), for a vectored write that copies nothing; then empty."""
        out = self._out
        self._out = []
        return out

    # --- receiving --------------------------------------------------------------------
    @property
    def inbound_bytes(self) -> int:
        """Received bytes this connection holds: frame bytes buffered in the parser plus
        the (inflated) bytes of the message being assembled (§5.4)."""
        return self._parser.buffered + self._msg_size

    def receive_data(self, data: bytes, budget: int | None = None,
                     max_bytes: int | None = None) -> list[Event]:
        """Feed received bytes; return what they mean.

        ``budget`` caps the frame pieces handled in this call (RFC 6455 §10.4: a host
        spreads a read full of small frames over several turns). ``max_bytes`` caps the
        message bytes it produces — inflated bytes for a compressed message (RFC 7692
        §7.2.2: inflation goes in slices of at most that size, so a small compressed
        "bomb" costs us at most a slice per call, and a host that has no room left for
        its application passes 0 and only buffers ``data``); uncompressed pieces are
        counted as they come (the last one may go past it). When either runs out,
        :attr:`input_backlog` is True and the rest stays buffered: call again (with
        ``b""``) to go on.

        After a :class:`ConnectionFailed` or once the connection is CLOSED, further
        bytes are ignored (§7.1.7: do not process data after failing; §5.5.1: nothing
        follows a Close).
        """
        self.input_backlog = False
        if self.failure is not None or self.close_received is not None \
                or self.state is State.CLOSED:
            return []
        if max_bytes is not None and max_bytes <= 0:
            if data:
                self._parser.feed(data)
            self.input_backlog = True
            return []
        self._room = max_bytes
        if self._msg_opcode is None and self.role is Role.SERVER and self._parser.idle:
            whole = self._whole_message(data)
            if whole is not None:
                return [whole]
            if self._inflate_ends is not None:  # taken whole, then stopped by max_bytes
                self.input_backlog = True
                return []
        events: list[Event] = []
        if data:
            self._parser.feed(data)
        try:
            if self._inflate_ends is not None:
                event = self._resume_inflate()
                if event is not None:
                    events.append(event)
                if self._inflate_ends is not None:
                    self.input_backlog = True
                    return events
            if self._room is not None and self._room <= 0:
                self.input_backlog = True
                return events
            for chunk in self._parser.chunks():
                event = self._on_chunk(chunk)
                if event is not None:
                    events.append(event)
                    if isinstance(event, CloseReceived):
                        break
                if self._inflate_ends is not None or (
                        self._room is not None and self._room <= 0):
                    self.input_backlog = True
                    break
                if budget is not None:
                    budget -= 1
                    if budget <= 0:
                        self.input_backlog = True
                        break
        except WebSocketProtocolError as exc:
            events.append(self._fail(exc.code, exc.reason))
        return events

    def _resume_inflate(self) -> Event | None:
        """Go on with a compressed piece that a byte budget interrupted (§7.2.2); the
        message ends when that piece ended it."""
        assert self.deflate is not None
        data = self.deflate.inflate_more(self.max_message_size - self._msg_size, self._room)
        self._take_room(len(data))
        self._append(data, final=False)
        if self.deflate.more:
            return None
        ends, self._inflate_ends = self._inflate_ends, None
        if not ends:
            return None
        if self._trailer_fed:
            self._trailer_fed = False
            self.deflate.end_message()
            self._append(b"", final=True)
            return self._complete_message()
        return self._finish_message()

    def _take_room(self, n: int) -> None:
        if self._room is not None:
            self._room -= n

    def _whole_message(self, data: bytes) -> Event | None:
        """The common case in one step: ``data`` is exactly one masked, unfragmented text
        or binary frame (§5.2 first octet 0x81/0x82, or 0xC1/0xC2 compressed when
        permessage-deflate was agreed; §5.3 masked) of 1 byte or more while nothing else
        is buffered: it is unmasked straight from the read, with no buffering. A
        compressed one is inflated by :meth:`_whole_compressed`; an uncompressed one is
        finished here (its size and fragment limits, §8.1 UTF-8),
        which saves ~1.2 µs per message over the message layer (~10 % of a 64 B echo).
        It passes every check the general path makes (RSV bits clear, FIN set, length
        within every limit; tests/unit/rfc6455/test_sec_5_2_whole_frame_fast_path.py
        compares both); anything else returns None and goes the general way."""
        size = len(data)
        if size < 6:
            return None
        b0 = data[0]
        b1 = data[1]
        compressed = b0 == 0xC1 or b0 == 0xC2
        if (b0 != 0x82 and b0 != 0x81 and not compressed) or b1 < 0x80 \
                or (compressed and self.deflate is None):
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
        if n == 0 or size != start + n or n > self._parser.max_frame_size \
                or n > self.max_message_size or self.max_fragments < 1:
            return None
        with memoryview(data) as view:
            payload = apply_mask(view[start:], view[start - 4:start].tobytes())
        if compressed:  # RFC 7692 §6.1: RSV1 on the one frame: a compressed message
            return self._whole_compressed(payload, b0 == 0xC1)
        if b0 == 0x82:
            return BytesMessage(payload)
        try:
            return TextMessage(payload.decode("utf-8"))  # strict: surrogates fail (§8.1)
        except UnicodeDecodeError:
            return self._fail(CloseCode.INVALID_PAYLOAD, "text message is not UTF-8 (§8.1)")

    def _whole_compressed(self, payload: bytes, text: bool) -> Event | None:
        """RFC 7692 §7.2.2 for a message in one frame. A binary one has nothing to check
        as it inflates: payload and trailer go through zlib in one call (~1.3 µs of a
        1 KiB compressed echo). A text one takes the message layer as any frame would,
        so its UTF-8 is checked (RFC 6455 §8.1) in the same order as on the general path."""
        if text:
            header = FrameHeader(True, True, Opcode.TEXT, len(payload), None)
            try:
                event = self._on_chunk(FrameChunk(header, payload, True, True))
            except WebSocketProtocolError as exc:
                return self._fail(exc.code, exc.reason)
            return event  # None only when max_bytes stopped its inflation
        deflate = self.deflate
        assert deflate is not None
        try:
            data = deflate.inflate_message(payload, self.max_message_size, self._room)
        except WebSocketProtocolError as exc:
            return self._fail(exc.code, exc.reason)
        if not deflate.more:
            return BytesMessage(data)
        # The byte budget stopped it: the message goes on as a fragmented one would,
        # its trailer already inside the zlib stream.
        self._msg_opcode = Opcode.BINARY
        self._msg_compressed = True
        self._msg_parts = [data]
        self._msg_size = len(data)
        self._msg_frames = 1
        self._msg_empty = 0
        self._inflate_ends = True
        self._trailer_fed = True
        self._take_room(len(data))
        return None

    def fail(self, code: int, reason: str = "") -> ConnectionFailed:
        """Fail the connection from outside the core (e.g. a limit of the host)."""
        return self._fail(code, reason)

    def _fail(self, code: int, reason: str) -> ConnectionFailed:
        self.failure = ConnectionFailed(code, reason)
        self._msg_parts = []
        self._msg_text = []
        self._msg_size = 0
        if self.auto_close:
            self.answer_close()
        return self.failure

    def answer_close(self) -> None:
        """Send the Close that a failure or a received Close calls for (§5.5.1, §7.1.7).

        Called by the core itself unless ``auto_close`` is False. Idempotent.
        """
        if self.failure is not None:
            if not self.close_sent:
                self.send_close(self.failure.code, self.failure.reason)
            self.state = State.CLOSED
        elif self.close_received is not None and not self.close_sent:
            code = self.close_received.code
            # §5.5.1: echo the status code; 1005 is never sent (§7.4.1): empty body
            self.send_close(None if code == CloseCode.NO_STATUS else code)

    def _on_chunk(self, chunk: FrameChunk) -> Event | None:
        opcode = chunk.header.opcode
        if opcode.is_control:
            return self._on_control(chunk)
        if chunk.first:
            self._start_frame(chunk)
            self._count_fragment(chunk.header.length)
        self._add_payload(chunk.data)
        ends = chunk.last and chunk.header.fin
        if self._msg_compressed and self.deflate is not None and self.deflate.more:
            self._inflate_ends = ends  # a byte budget stopped it: resumed next call
            return None
        if ends:
            return self._finish_message()
        return None

    def _on_control(self, chunk: FrameChunk) -> Event | None:
        header = chunk.header
        if header.rsv1:
            # RFC 7692 §6.1: permessage-deflate never sets RSV1 on control frames
            raise WebSocketProtocolError(CloseCode.PROTOCOL_ERROR, "RSV1 on a control frame")
        if header.opcode is Opcode.PING:
            self._take_ping_token("PING")
            if not self.close_sent:
                self._frame(Opcode.PONG, chunk.data)  # §5.5.2: answer as soon as practical
            return Ping(chunk.data)
        if header.opcode is Opcode.PONG:
            if self._pings_unanswered:
                self._pings_unanswered -= 1  # the answer to one of our PINGs: free
            else:
                self._take_ping_token("unsolicited PONG")  # §5.5.3 allows them; budgeted
            return Pong(chunk.data)
        code, reason = parse_close_payload(chunk.data)
        event = CloseReceived(code, reason)
        self.close_received = event
        if self.close_sent:
            self.state = State.CLOSED
        elif self.auto_close:
            self.answer_close()
        return event

    def _take_ping_token(self, what: str) -> None:
        """§10.4: one token per PING or unsolicited PONG; an empty bucket → 1008."""
        clock = self._clock
        if clock is None:
            return
        pings = self._pings
        if not pings.take(clock()):
            raise WebSocketProtocolError(
                CloseCode.POLICY_VIOLATION,
                f"{what} flood: over {pings.burst} at {pings.rate:g}/s")

    def _count_fragment(self, length: int) -> None:
        """§5.4, §10.4: bound the frames of one message, and its empty frames apart."""
        self._msg_frames += 1
        if self._msg_frames > self.max_fragments:
            raise WebSocketProtocolError(CloseCode.MESSAGE_TOO_BIG,
                                         f"message in over {self.max_fragments} fragments")
        if length == 0:
            self._msg_empty += 1
            if self._msg_empty > self.max_empty_fragments:
                raise WebSocketProtocolError(
                    CloseCode.POLICY_VIOLATION,
                    f"message with over {self.max_empty_fragments} empty fragments")

    def _start_frame(self, chunk: FrameChunk) -> None:
        """§5.4 fragmentation rules; RFC 7692 §6.1 RSV1 placement."""
        header = chunk.header
        if header.opcode is Opcode.CONTINUATION:
            if self._msg_opcode is None:
                raise WebSocketProtocolError(CloseCode.PROTOCOL_ERROR,
                                             "continuation frame without a message (§5.4)")
            if header.rsv1:
                raise WebSocketProtocolError(CloseCode.PROTOCOL_ERROR,
                                             "RSV1 on a continuation frame (RFC 7692 §6.1)")
            return
        if self._msg_opcode is not None:
            raise WebSocketProtocolError(CloseCode.PROTOCOL_ERROR,
                                         "new data frame inside a fragmented message (§5.4)")
        self._msg_opcode = header.opcode
        self._msg_compressed = header.rsv1
        self._msg_parts = []
        self._msg_text = []
        self._msg_size = 0
        self._msg_frames = 0
        self._msg_empty = 0
        if header.opcode is Opcode.TEXT:
            self._utf8 = _Utf8Decoder("strict")
        if header.rsv1:
            assert self.deflate is not None  # the parser rejects RSV1 otherwise
            self.deflate.start_message()

    def _add_payload(self, data: bytes) -> None:
        if self._msg_compressed:
            assert self.deflate is not None  # a compressed message needs the extension
            data = self.deflate.inflate(data, self.max_message_size - self._msg_size,
                                        self._room)
        self._take_room(len(data))
        self._append(data, final=False)

    def _append(self, data: bytes, *, final: bool) -> None:
        self._msg_size += len(data)
        if self._msg_size > self.max_message_size:
            raise WebSocketProtocolError(CloseCode.MESSAGE_TOO_BIG,
                                         f"message over {self.max_message_size} bytes")
        if self._msg_opcode is Opcode.TEXT:
            text = self._decode(data, final)
            if text:
                self._msg_text.append(text)
        elif data:
            self._msg_parts.append(data)

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
        if self._msg_compressed:
            assert self.deflate is not None  # a compressed message needs the extension
            tail = self.deflate.finish_message(self.max_message_size - self._msg_size)
        else:
            tail = b""
        self._append(tail, final=True)
        return self._complete_message()

    def _complete_message(self) -> Event:
        opcode = self._msg_opcode
        self._msg_size = 0
        self._msg_opcode = None
        if opcode is Opcode.TEXT:
            text = self._msg_text
            self._msg_text = []
            return TextMessage("".join(text))
        parts = self._msg_parts
        self._msg_parts = []
        return BytesMessage(b"".join(parts))
