"""Receiving header blocks: HEADERS, PUSH_PROMISE and CONTINUATION (RFC 9113 §6.2,
§6.6, §6.10), HPACK decoding (§4.3) and the message checks of §8.

:class:`HeaderReceiver` owns the HPACK decoder, the block being assembled and the
request-validation memo; it opens streams through the connection's
:class:`~.registry.StreamRegistry` and reads our settings from
:class:`~.settings.LocalSettings`.
"""
from __future__ import annotations

from hpack import HPACKError

from ..memo import remember
from . import events as ev
from .errors import (
    EmptyFieldName,
    ErrorCode,
    H2ConnectionError,
    MalformedHeaders,
    ProtocolError,
    StreamError,
)
from .frames import (
    END_HEADERS,
    END_STREAM,
    MAX_WINDOW,
    PADDED,
    PRIORITY_FLAG,
    parse_priority,
    parse_u32,
    strip_padding,
)
from .header_block import HeaderBlock, HeaderBlockAssembler
from .headers import validate_request, validate_response, validate_trailers
from .hpack_codec import HeaderDecoder
from .registry import StreamRegistry
from .settings import ENABLE_CONNECT_PROTOCOL, ENABLE_PUSH, LocalSettings, PeerSettings
from .stream import BY_RESET_SENT, CLOSED, Stream, StreamState

__all__ = ["MEMO_MAX_OCTETS", "HeaderReceiver"]

Headers = list[tuple[bytes, bytes]]

#: Field sections up to this many octets (names and values) are memoised per connection.
MEMO_MAX_OCTETS = 8192


class HeaderReceiver:
    """Header-block reception for one connection."""

    __slots__ = ("decoder", "blocks", "valid_requests", "_registry", "_local", "_remote",
                 "_client_side")

    def __init__(self, registry: StreamRegistry, local: LocalSettings, remote: PeerSettings,
                 max_continuation_frames: int) -> None:
        self.decoder = HeaderDecoder()
        self.blocks = HeaderBlockAssembler(max_continuation_frames)
        #: §8.3.1 results per distinct request header list (see :meth:`_validate_request`).
        self.valid_requests: dict[tuple[tuple[bytes, bytes], ...],
                                  tuple[int | None, int]] = {}
        self._registry = registry
        self._local = local
        self._remote = remote
        self._client_side = registry.client_side

    def max_header_list_size_acked(self, value: int) -> None:
        """Our SETTINGS_MAX_HEADER_LIST_SIZE took effect (§6.5.2)."""
        # A margin over the advertised size: it is advisory (§6.5.2) and a failure
        # inside hpack would cost the whole connection.
        self.decoder.max_header_list_size = 2 * value
        # Compressed blocks larger than twice the list size we accept serve no one.
        self.blocks.max_octets = 2 * (value or 65536) + 16384

    # --- frames ------------------------------------------------------------------------
    def on_headers(self, flags: int, sid: int, payload: bytes, events: list[ev.Event]) -> None:
        """§6.2 HEADERS: padding, the deprecated priority fields, then the block."""
        if sid == 0:
            raise ProtocolError("HEADERS on stream 0")
        block = strip_padding(payload, flags)[0] if flags & PADDED else payload
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
            self._complete(sid, flags, block, priority, error, 0, events)
        else:
            self.blocks.start(HeaderBlock(sid, flags, block, priority, error))

    def on_continuation(self, flags: int, sid: int, payload: bytes,
                        events: list[ev.Event]) -> None:
        """§6.10: CONTINUATION only directly after an unfinished block on the same stream."""
        block = self.blocks.continuation(flags, sid, payload)
        if block is not None:
            self._complete(block.stream_id, block.flags, block.data, block.priority,
                           block.error, block.promised_id, events)

    def on_push_promise(self, flags: int, sid: int, payload: bytes,
                        events: list[ev.Event]) -> None:
        """§6.6: only servers push; a client with push disabled rejects it (§8.4)."""
        if not self._client_side:
            raise ProtocolError("client sent PUSH_PROMISE")
        if not self._local.announced(ENABLE_PUSH):
            raise ProtocolError("PUSH_PROMISE with push disabled")
        block, _ = strip_padding(payload, flags)
        if len(block) < 4:
            raise ProtocolError("PUSH_PROMISE too short", ErrorCode.FRAME_SIZE_ERROR)
        promised = parse_u32(block) & MAX_WINDOW
        if promised == 0 or promised & 1 or promised <= self._registry.highest_remote_id:
            raise ProtocolError("invalid promised stream id")
        if flags & END_HEADERS:
            self._complete(sid, flags, block[4:], None, None, promised, events)
        else:
            self.blocks.start(HeaderBlock(sid, flags, block[4:], None, None, promised))

    # --- a complete block ----------------------------------------------------------------
    def _decode(self, block: bytes) -> Headers:
        """HPACK-decode (RFC 7541); any failure breaks the shared context: §4.3
        makes it a connection error COMPRESSION_ERROR.

        An empty field name makes the message malformed (§8.2.1, a stream error), but
        decoding stops there (CVE-2019-9516: blocks of hundreds of them), so the HPACK
        context is lost and the stream error becomes a connection error (§5.4.1)."""
        try:
            return self.decoder.decode(block)
        except EmptyFieldName:
            raise H2ConnectionError(ErrorCode.PROTOCOL_ERROR,
                                    "empty field name (malformed, RFC 9113 §8.2.1)") from None
        except HPACKError as exc:
            raise H2ConnectionError(ErrorCode.COMPRESSION_ERROR, str(exc)) from None
        except Exception as exc:  # malformed input can surface as IndexError etc.
            raise H2ConnectionError(ErrorCode.COMPRESSION_ERROR, repr(exc)) from None

    def _complete(self, sid: int, flags: int, block: bytes, priority: ev.PriorityInfo | None,
                  error: StreamError | None, promised_id: int, events: list[ev.Event]) -> None:
        headers = self._decode(block)
        if promised_id:
            self._push_promise_complete(sid, promised_id, headers, events)
            return
        if error is not None:
            raise error
        end = bool(flags & END_STREAM)
        registry = self._registry
        stream = registry.streams.get(sid)
        if stream is None:
            local = self._local
            stream = registry.open_remote(sid, self._remote.initial_window_size,
                                          local.inbound_initial_window,
                                          local.acked.max_concurrent_streams)
            if stream is None:
                return
        trailers = stream.on_headers_received(end)
        if stream.state is CLOSED and stream.close_reason is BY_RESET_SENT:
            return
        self._deliver(stream, headers, end, trailers, priority, events)

    def _deliver(self, stream: Stream, headers: Headers, end: bool, trailers: bool,
                 priority: ev.PriorityInfo | None, events: list[ev.Event]) -> None:
        sid = stream.stream_id
        event: ev.Event
        try:
            if trailers:
                validate_trailers(headers)
                event = ev.TrailersReceived(sid, headers, priority)
            elif self._client_side:
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
                hit = self.valid_requests.get(tuple(headers))  # the memo, inline
                stream.expected_length, size = hit or self._validate_request(headers)
                event = ev.RequestReceived(sid, headers, end, priority, stream.priority, size)
            if end and stream.expected_length:
                stream.check_remote_end()
        except MalformedHeaders as exc:
            raise StreamError(sid, ErrorCode.PROTOCOL_ERROR, str(exc)) from None
        events.append(event)
        if end:
            events.append(ev.StreamEnded(sid))
            if stream.state is CLOSED:
                self._registry.forget(stream)

    def _validate_request(self, headers: Headers) -> tuple[int | None, int]:
        """§8.3.1 checks, remembered per distinct header list: clients repeat the same
        request heads, and a list's validity depends on nothing else but the
        extended-CONNECT setting (which only ever goes from off to on). Returns the
        declared content-length and the list's size as §6.5.2 counts it (octets of
        names and values plus 32 per field)."""
        key = tuple(headers)
        known = self.valid_requests
        hit = known.get(key)
        if hit is not None:
            return hit
        # RFC 8441 §3: the peer may act on our SETTINGS before its ACK reaches us.
        extended = self._local.announced(ENABLE_CONNECT_PROTOCOL)
        _, length = validate_request(headers, extended)
        octets = sum(len(n) + len(v) for n, v in headers)
        result = (length, octets + 32 * len(headers))
        if octets <= MEMO_MAX_OCTETS:
            # Only small lists are remembered: the memo keeps its keys' field values
            # alive, and 256 lists near SETTINGS_MAX_HEADER_LIST_SIZE would hold ~16 MB
            # per connection after their requests ended (§10.5).
            remember(known, key, result, 256)
        return result

    def _push_promise_complete(self, parent: int, promised: int, headers: Headers,
                               events: list[ev.Event]) -> None:
        registry = self._registry
        stream = registry.streams.get(parent)
        if stream is None or stream.state not in (StreamState.OPEN,
                                                  StreamState.HALF_CLOSED_LOCAL):
            raise ProtocolError("PUSH_PROMISE on a stream that is not open")
        registry.highest_remote_id = promised
        pushed = registry.new(promised, self._remote.initial_window_size,
                              self._local.inbound_initial_window, remote=True)
        pushed.on_push_promise_received()
        try:
            validate_request(headers)
        except MalformedHeaders as exc:
            raise StreamError(promised, ErrorCode.PROTOCOL_ERROR, str(exc)) from None
        events.append(ev.PushedStreamReceived(promised, parent, headers))
