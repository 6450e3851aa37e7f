"""The WebSocket protocol state machine, sans I/O (RFC 6455 §5, §6, §7; RFC 7692 §6).

:class:`WebSocketConnection` turns received bytes into events and API calls into bytes.
It knows nothing of how the connection was opened (an HTTP/1.1 Upgrade, §4, or an
HTTP/2 extended CONNECT, RFC 8441), so the same core serves the server, the client and
the HTTP/2 bridge. Outgoing bytes accumulate until :meth:`data_to_send` takes them.
Received data frames are assembled into messages by :class:`~.assembly.MessageAssembler`;
control frames (§5.5), the closing handshake and failures are handled here.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from enum import Enum

from ..ratelimit import TokenBucket
from .assembly import MessageAssembler
from .close import build_close_payload, parse_close_payload
from .deflate import PerMessageDeflate
from .errors import CloseCode, InvalidState, WebSocketProtocolError
from .events import CloseReceived, ConnectionFailed, Event, Ping, Pong
from .frames import FrameChunk, FrameParser, Opcode, encode_frame, frame_head

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


#: Members bound to module names for the per-message path: on Python 3.11 ``EnumType``
#: defines ``__getattr__``, so each ``Role.SERVER`` read on the class costs several
#: hundred instructions (the seven of a 64 B echo were ~8 % of its cost).
_SERVER, _CLIENT = Role.SERVER, Role.CLIENT
_CLOSED = State.CLOSED
_TEXT, _BINARY = Opcode.TEXT, Opcode.BINARY
#: The server's heads of an unfragmented, uncompressed text / binary message shorter
#: than 126 bytes (RFC 6455 §5.2: FIN, opcode, the 7-bit length, no mask), by length:
#: what :func:`frame_head` would build, built once for the common small message.
_TEXT_HEADS = [bytes((0x80 | _TEXT, n)) for n in range(126)]
_BINARY_HEADS = [bytes((0x80 | _BINARY, n)) for n in range(126)]


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
        #: Received bytes this connection holds: frame bytes buffered in the parser plus
        #: the (inflated) bytes of the message being assembled (§5.4). Kept up to date
        #: by every call that changes them, so a host reads it for free once per read.
        self.inbound_bytes = 0
        # the message being assembled (§5.4)
        self._assembler = MessageAssembler(deflate, max_frame_size=max_frame_size,
                                           max_message_size=max_message_size,
                                           max_fragments=max_fragments,
                                           max_empty_fragments=max_empty_fragments)
        # control-frame budget (§5.5.2, §10.4)
        self._clock = clock
        self._pings = TokenBucket(ping_burst, ping_rate, clock() if clock is not None else None)
        self._pings_unanswered = 0

    @property
    def max_message_size(self) -> int:
        """Bytes one received message may have (inflated, RFC 7692 §7.2.2); more → 1009."""
        return self._assembler.max_message_size

    @property
    def max_fragments(self) -> int:
        """Frames one received message may have (§5.4, §10.4); more → 1009."""
        return self._assembler.max_fragments

    @property
    def max_empty_fragments(self) -> int:
        """Frames without payload one received message may have (§10.4); more → 1008."""
        return self._assembler.max_empty_fragments

    # --- sending ----------------------------------------------------------------------
    def _frame(self, opcode: Opcode, payload: bytes, *, fin: bool = True,
               rsv1: bool = False) -> None:
        if self.role is _CLIENT:
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
        elif len(payload) < 126 and self.role is _SERVER:
            heads = _TEXT_HEADS if opcode is _TEXT else _BINARY_HEADS
            self._out.append(heads[len(payload)] + payload)
        else:
            self._frame(opcode, payload)

    def send_text(self, text: str) -> None:
        """Queue a text message (§5.6)."""
        self._message(_TEXT, text.encode("utf-8"))

    def send_bytes(self, data: bytes) -> None:
        """Queue a binary message (§5.6)."""
        self._message(_BINARY, data if type(data) is bytes else bytes(data))

    def send_bytes_and_take(self, data: bytes) -> list[bytes]:
        """:meth:`send_bytes`, then :meth:`output_parts`, in one call: a host that writes
        every message at once (the server's echo) spends no second call on it."""
        if type(data) is bytes and (n := len(data)) < 126 and self.deflate is None \
                and self.role is _SERVER and not self.close_sent and not self._out:
            return [_BINARY_HEADS[n] + data]  # _message's small-message case
        self.send_bytes(data)
        return self.output_parts()

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
    def _count_inbound(self) -> None:
        """:attr:`inbound_bytes` after a call that may have changed it."""
        self.inbound_bytes = len(self._parser.buffer) + self._assembler.size

    def receive_message(self, data: bytes) -> bytes | str | None:
        """:meth:`receive_data`'s common case for a server, without its event list:
        when ``data`` is exactly one whole uncompressed message frame
        (:meth:`~.assembly.MessageAssembler.whole_payload`) and nothing is buffered or
        being assembled, the message: bytes for binary, str for text. Else None, and
        nothing was taken: give the same bytes to :meth:`receive_data`, which also
        turns a broken rule (text that is not UTF-8, §8.1) into its failure.
        tests/unit/rfc6455/test_sec_5_2_whole_frame_fast_path.py compares the two."""
        parser = self._parser
        assembler = self._assembler
        if self.failure is not None or self.close_received is not None \
                or self.state is _CLOSED or self.role is not _SERVER \
                or assembler.opcode is not None or parser.header is not None \
                or parser.buffer:
            return None
        try:
            payload = assembler.whole_payload(data)
        except WebSocketProtocolError:
            return None  # receive_data fails the connection for it
        if payload is not None:
            self.input_backlog = False
        return payload

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
                or self.state is _CLOSED:
            return []
        if max_bytes is not None and max_bytes <= 0:
            if data:
                self._parser.feed(data)
                self._count_inbound()
            self.input_backlog = True
            return []
        assembler = self._assembler
        assembler.room = max_bytes
        parser = self._parser
        if assembler.opcode is None and self.role is _SERVER and parser.header is None \
                and not parser.buffer:  # parser.idle, without the property's call
            # One whole frame in one read, the common case, is taken in one step; the
            # call stays inline here: this is the 64 B echo's hot path.
            try:
                whole = assembler.whole_frame(data)
            except WebSocketProtocolError as exc:
                return [self._fail(exc.code, exc.reason)]
            if whole is not None:
                return [whole]  # nothing was held before it, nothing is now
            if assembler.inflate_ends is not None:  # taken whole, stopped by max_bytes
                self.input_backlog = True
                self._count_inbound()
                return []
        events = self._receive_pieces(data, budget)
        self._count_inbound()
        return events

    def _receive_pieces(self, data: bytes, budget: int | None) -> list[Event]:
        """:meth:`receive_data` in general: ``data`` buffered, then frame pieces parsed
        until the budgets run out."""
        assembler = self._assembler
        events: list[Event] = []
        if data:
            self._parser.feed(data)
        try:
            if assembler.inflate_ends is not None:
                event = assembler.resume_inflate()
                if event is not None:
                    events.append(event)
                if assembler.inflate_ends is not None:
                    self.input_backlog = True
                    return events
            if assembler.room is not None and assembler.room <= 0:
                self.input_backlog = True
                return events
            for chunk in self._parser.chunks():
                if chunk.header.opcode.is_control:
                    event = self._on_control(chunk)
                else:
                    event = assembler.add(chunk)
                if event is not None:
                    events.append(event)
                    if isinstance(event, CloseReceived):
                        break
                if assembler.inflate_ends is not None or (
                        assembler.room is not None and assembler.room <= 0):
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

    def fail(self, code: int, reason: str = "") -> ConnectionFailed:
        """Fail the connection from outside the core (e.g. a limit of the host)."""
        return self._fail(code, reason)

    def _fail(self, code: int, reason: str) -> ConnectionFailed:
        self.failure = ConnectionFailed(code, reason)
        self._assembler.discard()
        self._count_inbound()
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

    def _on_control(self, chunk: FrameChunk) -> Event | None:
        """§5.5: a PING is answered, a PONG counted, a Close recorded (and echoed)."""
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
