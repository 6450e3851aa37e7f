"""permessage-deflate (RFC 7692): negotiation and the per-message codec.

Negotiation (§5, §7.1): the server walks the client's offers in order and accepts the
first one whose parameters are all known, unique and well-formed; an offer it cannot
read is declined, not fatal. The client checks the server's answer strictly (§7.1:
an answer it did not allow fails the handshake).

Codec (§7.2): a message is compressed as one DEFLATE stream flushed with Z_SYNC_FLUSH
whose trailing ``00 00 ff ff`` is dropped; the receiver appends it back. Inflation is
bounded while inflating (``max_length``), so a small compressed "bomb" can never make us
allocate more than the message limit.
"""
from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .errors import CloseCode, InvalidState, WebSocketProtocolError
from .errors import NegotiationError as NegotiationError  # re-exported: raised from here
from .extensions import ExtensionOffer, parse_extensions

EXTENSION_NAME = "permessage-deflate"
_TRAILER = b"\x00\x00\xff\xff"
_FLAGS = ("server_no_context_takeover", "client_no_context_takeover")
_BITS = ("server_max_window_bits", "client_max_window_bits")


@dataclass(frozen=True, slots=True)
class DeflateParams:
    """The agreed parameters (RFC 7692 §7.1.1, §7.1.2).

    ``client_max_window_bits`` of an *offer* may be present without a value (0 here):
    "the client can honour a limit"; in an agreement it is the limit itself.
    """

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int | None = None
    client_max_window_bits: int | None = None

    def render(self) -> str:
        """The extension element for a handshake header."""
        offer = ExtensionOffer(EXTENSION_NAME)
        for name in _FLAGS:
            if getattr(self, name):
                offer.params.append((name, None))
        for name in _BITS:
            value = getattr(self, name)
            if value is not None:
                offer.params.append((name, str(value) if value else None))
        return offer.render()


def _window_bits(name: str, value: str | None, *, optional_value: bool) -> int:
    if value is None:
        if optional_value:
            return 0
        raise NegotiationError(f"{name} needs a value")
    if not value.isdigit() or value != str(int(value)) or not 8 <= int(value) <= 15:
        raise NegotiationError(f"{name}={value!r} is not 8..15")  # RFC 7692 §7.1.2
    return int(value)


def params_from_element(offer: ExtensionOffer, *, is_offer: bool) -> DeflateParams:
    """Read one permessage-deflate element; raise :class:`NegotiationError` if invalid.

    RFC 7692 §7.1: unknown parameters, repeated parameters and invalid values make the
    element unacceptable. Only an offer's ``client_max_window_bits`` may lack a value.
    """
    seen: dict[str, str | None] = {}
    for key, value in offer.params:
        if key in seen:
            raise NegotiationError(f"{key} repeated")
        if key not in _FLAGS and key not in _BITS:
            raise NegotiationError(f"unknown parameter {key}")
        if key in _FLAGS and value is not None:
            raise NegotiationError(f"{key} takes no value")
        seen[key] = value
    bits: dict[str, int | None] = {}
    for key in _BITS:
        if key in seen:
            optional = is_offer and key == "client_max_window_bits"
            bits[key] = _window_bits(key, seen[key], optional_value=optional)
        else:
            bits[key] = None
    return DeflateParams(
        server_no_context_takeover="server_no_context_takeover" in seen,
        client_no_context_takeover="client_no_context_takeover" in seen,
        server_max_window_bits=bits["server_max_window_bits"],
        client_max_window_bits=bits["client_max_window_bits"],
    )


def negotiate_server(header_values: Iterable[bytes | str]) -> DeflateParams | None:
    """Server side (RFC 7692 §5, §7.1): the agreement for the first acceptable offer.

    We honour every parameter a client can ask for: its server_* requests bind our
    compressor; we echo client_no_context_takeover (the client told us it will not keep
    context anyway); we never restrict the client's window (our inflater uses 15 bits,
    which reads any smaller window), so client_max_window_bits is not answered.
    """
    for element in parse_extensions(header_values):
        if element.name != EXTENSION_NAME:
            continue
        try:
            offer = params_from_element(element, is_offer=True)
        except NegotiationError:
            continue  # decline this offer, look at the next
        return DeflateParams(
            server_no_context_takeover=offer.server_no_context_takeover,
            client_no_context_takeover=offer.client_no_context_takeover,
            server_max_window_bits=offer.server_max_window_bits,
            client_max_window_bits=None,
        )
    return None


#: What our client offers: default parameters, and that it can honour a window limit.
CLIENT_OFFER = "permessage-deflate; client_max_window_bits"


def negotiate_client(header_values: Iterable[bytes | str]) -> DeflateParams | None:
    """Client side (RFC 7692 §7.1): read the server's answer to :data:`CLIENT_OFFER`.

    No permessage-deflate element → no compression. An element we did not allow, a
    second element, or another extension we never offered fails the handshake.
    """
    agreed: DeflateParams | None = None
    for element in parse_extensions(header_values):
        if element.name != EXTENSION_NAME:
            raise NegotiationError(f"server answered an extension we did not offer: "
                                   f"{element.name}")
        if agreed is not None:
            raise NegotiationError("permessage-deflate answered twice")
        agreed = params_from_element(element, is_offer=False)
    return agreed


#: zlib's memLevel for our compressor (zlib's default is 8). A deflate stream takes
#: 2 ** (windowBits + 2) + 2 ** (memLevel + 9) bytes: 256 KiB at 15/8, 144 KiB at 15/5,
#: for a compression ratio within 1 % on typical text (``websockets`` uses 5 too). The
#: peer cannot tell: it only bounds the compressor's hash table and pending buffer.
COMPRESSOR_MEM_LEVEL = 5


def _compressor(bits: int) -> zlib._Compress:
    if bits == 8:
        # zlib cannot deflate with a 256-byte window; Huffman-only output has no back
        # references at all, so it honours any window limit (RFC 7692 §7.1.2.1).
        return zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -9,
                                COMPRESSOR_MEM_LEVEL, zlib.Z_HUFFMAN_ONLY)
    return zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -bits,
                            COMPRESSOR_MEM_LEVEL)


class PerMessageDeflate:
    """The codec of one connection once permessage-deflate is agreed (RFC 7692 §7.2).

    ``is_server`` picks which half of the agreement binds our compressor.
    ``max_window_bits`` caps our compressor's LZ77 window below what the agreement
    allows (a smaller window is always readable by the peer, whose inflater takes any
    window up to the agreed one; RFC 7692 §7.1.2): less memory per connection and faster
    compression, for somewhat larger output.

    The zlib streams are native memory outside Python's allocator (a deflate stream
    with a 15-bit window is ~200 KiB, an inflate stream ~40 KiB), so each exists only
    while it is needed: it is created for the first message that uses it, dropped after
    every message when no context is taken over (§7.1.1), and :meth:`close` drops both
    when the connection ends.
    """

    __slots__ = ("params", "_local_bits", "_local_reset", "_remote_reset",
                 "_compress", "_decompress", "more")

    def __init__(self, params: DeflateParams, *, is_server: bool,
                 max_window_bits: int = 15) -> None:
        if not 8 <= max_window_bits <= 15:
            raise ValueError(f"max_window_bits={max_window_bits} is not 8..15")
        self.params = params
        if is_server:
            agreed = params.server_max_window_bits
            self._local_reset = params.server_no_context_takeover
            self._remote_reset = params.client_no_context_takeover
        else:
            agreed = params.client_max_window_bits or None
            self._local_reset = params.client_no_context_takeover
            self._remote_reset = params.server_no_context_takeover
        self._local_bits = min(agreed or 15, max_window_bits)
        self._compress: zlib._Compress | None = None
        self._decompress: zlib._Decompress | None = None
        #: True when the last inflate call stopped at its ``max_out`` slice: more output
        #: may follow from the input it kept (:meth:`inflate_more`).
        self.more = False

    @property
    def streams(self) -> int:
        """How many zlib streams this codec holds now (0, 1 or 2)."""
        return (self._compress is not None) + (self._decompress is not None)

    def compress(self, data: bytes) -> bytes:
        """One whole message → the payload of its (first) frame (§7.2.1)."""
        stream = self._compress
        if stream is None:
            stream = _compressor(self._local_bits)
        out = stream.compress(data) + stream.flush(zlib.Z_SYNC_FLUSH)
        # §7.1.1.1/§7.1.1.2: without context takeover the next message starts afresh
        self._compress = None if self._local_reset else stream
        if out.endswith(_TRAILER):
            out = out[:-4]
        return out or b"\x00"  # §7.2.3.6: an empty message still needs one empty block

    def compress_steps(self, data: bytes, step: int) -> Iterator[bytes]:
        """:meth:`compress` ``step`` input octets at a time, for a host that does other
        work between the steps: the compressed pieces in order, the trailer removed
        from the last (§7.2.1). The stream belongs to this message until the iterator
        is exhausted (nothing else may be compressed meanwhile)."""
        stream = self._compress
        if stream is None:
            stream = _compressor(self._local_bits)
        self._compress = None
        with memoryview(data) as view:
            for start in range(0, len(view), step):
                yield stream.compress(view[start:start + step])
        out = stream.flush(zlib.Z_SYNC_FLUSH)  # the trailer comes whole from the flush
        self._compress = None if self._local_reset else stream
        yield out[:-4] if out.endswith(_TRAILER) else out

    def start_message(self) -> None:
        """A compressed message begins (§7.2.2)."""
        if self._decompress is None or self._decompress.eof:
            self._decompress = zlib.decompressobj(-15)

    def inflate(self, data: bytes, limit: int, max_out: int | None = None) -> bytes:
        """Inflate a piece of a compressed message; at most ``limit`` bytes may come out.

        More output than ``limit`` means the message is over the size limit: 1009
        (RFC 6455 §7.4.1), decided before the excess is ever allocated.

        ``max_out`` caps this call's output (a slice, so that a host can spread a
        highly compressed message over several turns and bound what it holds): when
        the slice is filled, :attr:`more` is True and the rest of the input stays in
        the zlib stream for :meth:`inflate_more`.
        """
        if not data:
            self.more = False
            return b""
        return self._inflate(data, limit, max_out)

    def inflate_more(self, limit: int, max_out: int | None = None) -> bytes:
        """Go on inflating the input an earlier call left behind (:attr:`more`)."""
        assert self._decompress is not None
        return self._inflate(self._decompress.unconsumed_tail, limit, max_out)

    def _inflate(self, data: bytes, limit: int, max_out: int | None) -> bytes:
        stream = self._decompress
        if stream is None:
            raise InvalidState("inflate() outside a compressed message")
        sliced = max_out is not None and max_out <= limit
        cap = max(max_out, 1) if sliced and max_out is not None else limit + 1
        try:
            out = stream.decompress(data, cap)
        except zlib.error as exc:
            raise WebSocketProtocolError(CloseCode.INVALID_PAYLOAD,
                                         f"bad deflate data: {exc}") from None
        if len(out) > limit:
            raise WebSocketProtocolError(CloseCode.MESSAGE_TOO_BIG,
                                         "inflated message over the size limit")
        # A filled slice may hide more output even when all input was taken (zlib's
        # pending copy): only a short one proves the input is used up.
        self.more = sliced and len(out) == cap and not stream.eof
        return out

    def finish_message(self, limit: int) -> bytes:
        """The message's last frame ended: feed back the removed trailer (§7.2.2)."""
        out = self.inflate(_TRAILER, limit)
        self._end_message()
        return out

    def inflate_message(self, data: bytes, limit: int, max_out: int | None = None) -> bytes:
        """A whole compressed message in one piece: :meth:`start_message`, then its
        payload and the trailer inflated in one zlib call (one copy of the compressed
        bytes, cheaper than a second call), then :meth:`finish_message`'s checks.

        When ``max_out`` stops it early (:attr:`more`), the trailer is already in the
        stream: drain it with :meth:`inflate_more`, then call :meth:`end_message`."""
        self.start_message()
        out = self.inflate(data + _TRAILER, limit, max_out)
        if not self.more:
            self._end_message()
        return out

    def end_message(self) -> None:
        """The end of a message whose trailer went in with its payload
        (:meth:`inflate_message` stopped by its slice)."""
        self._end_message()

    def _end_message(self) -> None:
        assert self._decompress is not None
        if self._decompress.unused_data:
            raise WebSocketProtocolError(CloseCode.INVALID_PAYLOAD,
                                         "data after the end of the deflate stream")
        if self._remote_reset:
            self._decompress = None  # §7.1.1: the peer starts its next message afresh

    def close(self) -> None:
        """The connection is over: release both zlib streams now."""
        self._compress = None
        self._decompress = None


def offered_extension_values(headers: Iterable[tuple[bytes, bytes]]) -> list[bytes]:
    """Every ``Sec-WebSocket-Extensions`` value of a header list."""
    return [v for k, v in headers if k.lower() == b"sec-websocket-extensions"]
