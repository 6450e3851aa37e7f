"""Receiving header blocks: HEADERS, PUSH_PROMISE and CONTINUATION (RFC 9113 §6.2,
§6.6, §6.10), HPACK decoding (§4.3) and the message checks of §8.

Mixed into :class:`~.connection.H2Connection`; nothing here is used on its own.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from hpack import HPACKError

from . import events as ev
from .errors import ConnectionError, ErrorCode, ProtocolError, StreamError
from .frames import (
    END_HEADERS,
    END_STREAM,
    MAX_WINDOW,
    PRIORITY_FLAG,
    parse_priority,
    parse_u32,
    strip_padding,
)
from .headers import MalformedHeaders, validate_request, validate_response, validate_trailers
from .hpack_codec import EmptyFieldName
from .settings import SettingCode
from .stream import CloseReason, Stream, StreamState, closed_stream_error

if TYPE_CHECKING:
    from .connection import H2Connection

#: Field sections up to this many octets (names and values) are memoised per connection.
MEMO_MAX_OCTETS = 8192


class HeaderBlock:
    """A HEADERS/PUSH_PROMISE whose block continues in CONTINUATION frames (§6.10)."""

    __slots__ = ("stream_id", "flags", "fragments", "size", "count", "priority",
                 "error", "promised_id")

    def __init__(self: H2Connection, stream_id: int, flags: int, fragment: bytes,
                 priority: ev.PriorityInfo | None, error: StreamError | None,
                 promised_id: int = 0) -> None:
        self.stream_id = stream_id
        self.flags = flags
        self.fragments = [fragment]
        self.size = len(fragment)
        self.count = 0
        self.priority = priority
        self.error = error
        self.promised_id = promised_id


class HeaderBlockMixin:
    """Header-block reception for :class:`H2Connection`."""

    def _on_headers(self: H2Connection, flags: int, sid: int, payload: bytes, events: list[ev.Event]) -> None:
        """§6.2 HEADERS: padding, the deprecated priority fields, then the block."""
        if sid == 0:
            raise ProtocolError("HEADERS on stream 0")
        block, _ = strip_padding(payload, flags)
        priority = None
        error = None
        if flags & PRIORITY_FLAG:
            if len(block) < 5:
                raise ProtocolError("HEADERS too short for priority", ErrorCode.FRAME_SIZE_ERROR)
            dep, exclusive, weight = parse_priority(block)
            block = block[5:]
            priority = ev.PriorityInfo(dep, weight, exclusive)
            if dep == sid:
                # §5.3.1: decided after the block is decoded, to keep HPACK in sync.
                error = StreamError(sid, ErrorCode.PROTOCOL_ERROR, "stream depends on itself")
        if flags & END_HEADERS:
            self._header_block_complete(sid, flags, block, priority, error, 0, events)
        else:
            self._block = HeaderBlock(sid, flags, block, priority, error)

    def _on_continuation(self: H2Connection, flags: int, sid: int, payload: bytes,
                         events: list[ev.Event]) -> None:
        """§6.10: CONTINUATION only directly after an unfinished block on the same stream."""
        block = self._block
        if block is None or sid != block.stream_id:
            raise ProtocolError("unexpected CONTINUATION")
        block.count += 1
        block.size += len(payload)
        if block.count > self.max_continuation_frames or block.size > self._max_block_size:
            raise ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, "header block too large")
        block.fragments.append(payload)
        if flags & END_HEADERS:
            self._block = None
            self._header_block_complete(block.stream_id, block.flags, b"".join(block.fragments),
                                        block.priority, block.error, block.promised_id, events)

    @property
    def _max_block_size(self) -> int:
        # Compressed blocks larger than twice the list size we accept serve no one.
        return 2 * (self.local.max_header_list_size or 65536) + 16384

    def _decode(self: H2Connection, block: bytes) -> list[tuple[bytes, bytes]]:
        """HPACK-decode (RFC 7541); any failure breaks the shared context: §4.3
        makes it a connection error COMPRESSION_ERROR.

        An empty field name makes the message malformed (§8.2.1, a stream error), but
        decoding stops there (CVE-2019-9516: blocks of hundreds of them), so the HPACK
        context is lost and the stream error becomes a connection error (§5.4.1)."""
        try:
            return self.decoder.decode(block)
        except EmptyFieldName:
            raise ConnectionError(ErrorCode.PROTOCOL_ERROR,
                                  "empty field name (malformed, RFC 9113 §8.2.1)") from None
        except HPACKError as exc:
            raise ConnectionError(ErrorCode.COMPRESSION_ERROR, str(exc)) from None
        except Exception as exc:  # malformed input can surface as IndexError etc.
            raise ConnectionError(ErrorCode.COMPRESSION_ERROR, repr(exc)) from None

    def _header_block_complete(self: H2Connection, sid: int, flags: int, block: bytes,
                               priority: ev.PriorityInfo | None, error: StreamError | None,
                               promised_id: int, events: list[ev.Event]) -> None:
        headers = self._decode(block)
        if promised_id:
            self._push_promise_complete(sid, promised_id, headers, events)
            return
        if error is not None:
            raise error
        end = bool(flags & END_STREAM)
        stream = self.streams.get(sid)
        if stream is None:
            stream = self._open_remote_stream(sid)
            if stream is None:
                return
        trailers = stream.on_headers_received(end)
        if stream.state is StreamState.CLOSED and stream.close_reason is CloseReason.RESET_SENT:
            return
        self._deliver_headers(stream, headers, end, trailers, priority, events)

    def _open_remote_stream(self: H2Connection, sid: int) -> Stream | None:
        """A HEADERS on a stream we do not hold: a new stream, or a closed one (§5.1.1)."""
        if sid in self._closed:
            closed_stream_error(sid, self._closed[sid])
            return None
        if not self._is_remote_id(sid):
            raise ProtocolError(f"HEADERS on stream {sid} the peer may not open")
        if sid <= self.highest_remote_id:
            raise ProtocolError(f"stream id {sid} not greater than {self.highest_remote_id}")
        self.highest_remote_id = sid
        if self.goaway_sent is not None and sid > self.goaway_sent:
            self._remember_closed(sid, CloseReason.RESET_SENT)
            return None  # §6.8: streams above our GOAWAY's last id are ignored
        limit = self.local.max_concurrent_streams
        stream = self._new_stream(sid, remote=True)
        stream.priority = self._pending_priority.pop(sid, None)  # type: ignore[assignment]
        if limit is not None and self.active_remote >= limit:
            stream.state = StreamState.OPEN
            raise StreamError(sid, ErrorCode.REFUSED_STREAM, "MAX_CONCURRENT_STREAMS")  # §5.1.2
        stream.counted = True
        self.active_remote += 1
        return stream

    def _deliver_headers(self: H2Connection, stream: Stream, headers: list[tuple[bytes, bytes]], end: bool,
                         trailers: bool, priority: ev.PriorityInfo | None,
                         events: list[ev.Event]) -> None:
        sid = stream.stream_id
        try:
            if trailers:
                validate_trailers(headers)
                event: ev.Event = ev.TrailersReceived(sid, headers, priority)
            elif self.client_side:
                status, length = validate_response(headers)
                stream.expected_length = length
                if status < 200:
                    if end:
                        raise MalformedHeaders("1xx response with END_STREAM")
                    stream.headers_received = False  # the final response is still due
                    event = ev.InformationalResponseReceived(sid, headers, end, priority)
                else:
                    event = ev.ResponseReceived(sid, headers, end, priority)
            else:
                stream.expected_length = self._validate_request(headers)
                event = ev.RequestReceived(sid, headers, end, priority, stream.priority)
            if end:
                stream.check_remote_end()
        except MalformedHeaders as exc:
            raise StreamError(sid, ErrorCode.PROTOCOL_ERROR, str(exc)) from None
        events.append(event)
        if end:
            events.append(ev.StreamEnded(sid))
            self._after_transition(stream)

    def _validate_request(self: H2Connection, headers: list[tuple[bytes, bytes]]) -> int | None:
        """§8.3.1 checks, remembered per distinct header list: clients repeat the same
        request heads, and a list's validity depends on nothing else but the
        extended-CONNECT setting (which only ever goes from off to on)."""
        key = tuple(headers)
        known = self._valid_requests
        if key in known:
            return known[key]
        # RFC 8441 §3: the peer may act on our SETTINGS before its ACK reaches us.
        extended = self.local.enable_connect_protocol or any(
            p.get(SettingCode.ENABLE_CONNECT_PROTOCOL) for p in self._pending_local)
        _, length = validate_request(headers, extended)
        if sum(len(n) + len(v) for n, v in headers) <= MEMO_MAX_OCTETS:
            # Only small lists are remembered: the memo keeps its keys' field values
            # alive, and 256 lists near SETTINGS_MAX_HEADER_LIST_SIZE would hold ~16 MB
            # per connection after their requests ended (§10.5).
            if len(known) >= 256:
                known.clear()
            known[key] = length
        return length

    def _on_push_promise(self: H2Connection, flags: int, sid: int, payload: bytes,
                         events: list[ev.Event]) -> None:
        """§6.6: only servers push; a client with push disabled rejects it (§8.4)."""
        if not self.client_side:
            raise ProtocolError("client sent PUSH_PROMISE")
        if not self.local.enable_push and not any(
                p.get(SettingCode.ENABLE_PUSH) for p in self._pending_local):
            raise ProtocolError("PUSH_PROMISE with push disabled")
        block, _ = strip_padding(payload, flags)
        if len(block) < 4:
            raise ProtocolError("PUSH_PROMISE too short", ErrorCode.FRAME_SIZE_ERROR)
        promised = parse_u32(block) & MAX_WINDOW
        if promised == 0 or promised & 1 or promised <= self.highest_remote_id:
            raise ProtocolError("invalid promised stream id")
        if flags & END_HEADERS:
            self._header_block_complete(sid, flags, block[4:], None, None, promised, events)
        else:
            self._block = HeaderBlock(sid, flags, block[4:], None, None, promised)

    def _push_promise_complete(self: H2Connection, parent: int, promised: int,
                               headers: list[tuple[bytes, bytes]], events: list[ev.Event]) -> None:
        stream = self.streams.get(parent)
        if stream is None or stream.state not in (StreamState.OPEN,
                                                  StreamState.HALF_CLOSED_LOCAL):
            raise ProtocolError("PUSH_PROMISE on a stream that is not open")
        self.highest_remote_id = promised
        pushed = self._new_stream(promised, remote=True)
        pushed.on_push_promise_received()
        try:
            validate_request(headers)
        except MalformedHeaders as exc:
            raise StreamError(promised, ErrorCode.PROTOCOL_ERROR, str(exc)) from None
        events.append(ev.PushedStreamReceived(promised, parent, headers))
