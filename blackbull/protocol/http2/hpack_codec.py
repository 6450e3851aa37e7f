"""HPACK (RFC 7541) for the core, through the ``hpack`` library, with memoisation.

Repeated requests on one connection mostly encode to blocks made only of indexed
field representations (RFC 7541 §6.1): such a block neither reads nor changes
anything but the tables, so while the dynamic table is unchanged the same block
always means the same header list, and vice versa. Both directions remember those
blocks and forget everything as soon as any other block (which may add entries,
§6.2.1, or resize the table, §6.3) passes through.

Blocks are decoded here, field by field, on ``hpack``'s table and Huffman code: the
library's own loop costs several microseconds per field, and it cannot stop early. A
literal with an empty name can never be part of a valid message (RFC 9113 §8.2.1), so
decoding stops there with :class:`EmptyFieldName` (CVE-2019-9516 sends hundreds per
block); the rest of the block is left undecoded, which breaks the shared HPACK context
(RFC 7541 §2.2), so the caller must end the connection.
"""
from __future__ import annotations

from hpack import Decoder, Encoder
from hpack.exceptions import (
    HPACKDecodingError,
    InvalidTableSizeError,
    OversizedHeaderListError,
)
from hpack.huffman import HuffmanEncoder
from hpack.huffman_table import decode_huffman
from hpack.table import HeaderTable

from ..memo import remember
from .errors import EmptyFieldName

__all__ = ["EmptyFieldName", "HeaderDecoder", "HeaderEncoder"]

Headers = list[tuple[bytes, bytes]]

#: One-octet indexed representations: 1xxxxxxx with a 7-bit index below 127 (0xff
#: would start a multi-octet integer, §5.1).
_ONE_OCTET_INDEXED = bytes(range(0x80, 0xFF))
_CACHE_LIMIT = 256
#: Indexed-only blocks decoding to more fields than this are not memoised: a block of
#: 16 000 one-octet references would keep a 16 000-entry list per cache slot (§10.5).
_MEMO_MAX_FIELDS = 64

#: Huffman code (§5.2) ↔ text of short strings, for every connection of the process:
#: ``hpack`` codes bit by bit in Python, and each new connection's first requests and
#: responses repeat the same literals (user-agent, authority, content-type, the date).
#: The code is a fixed function (Appendix B), so a memo cannot be wrong; bounded, and
#: only strings of at most ``_HUFFMAN_MEMO_OCTETS`` are kept (§10.5).
_HUFFMAN_DECODED: dict[bytes, bytes] = {}
_HUFFMAN_ENCODED: dict[bytes, bytes] = {}
_HUFFMAN_MEMO_MAX = 1024
_HUFFMAN_MEMO_OCTETS = 256

#: §5.1: integers longer than this many continuation octets are a decoding error
#: (the same bound as hpack's own decoder).
_MAX_CONTINUATION = 5


def _only_indexed(block: bytes) -> bool:
    return bool(block) and not block.translate(None, _ONE_OCTET_INDEXED)


def _integer(data: bytes, pos: int, number: int) -> tuple[int, int]:
    """§5.1: the continuation octets of an integer whose prefix was all ones
    (``number``); returns (value, position after it)."""
    shift = 0
    for _ in range(_MAX_CONTINUATION):
        byte = data[pos]
        pos += 1
        number += (byte & 0x7F) << shift
        if byte < 0x80:
            return number, pos
        shift += 7
    raise HPACKDecodingError("HPACK integer representation too long")


def _string(data: bytes, pos: int) -> tuple[bytes, int]:
    """§5.2: a string literal, Huffman-decoded if its H bit is set."""
    first = data[pos]
    length = first & 0x7F
    pos += 1
    if length == 0x7F:
        length, pos = _integer(data, pos, length)
    end = pos + length
    text = data[pos:end]
    if len(text) != length:
        raise HPACKDecodingError("Truncated header block")
    if first & 0x80:
        decoded = _HUFFMAN_DECODED.get(text)
        if decoded is None:
            decoded = decode_huffman(text)  # raises on an invalid code: not memoised
            if length <= _HUFFMAN_MEMO_OCTETS:
                remember(_HUFFMAN_DECODED, text, decoded, _HUFFMAN_MEMO_MAX)
        text = decoded
    return text, end


class _MemoHuffmanEncoder(HuffmanEncoder):
    """An ``hpack.Encoder``'s ``huffman_coder`` with the same table whose codes of short
    strings are computed once per process (see ``_HUFFMAN_ENCODED``)."""

    def encode(self, bytes_to_encode: bytes | None) -> bytes:
        if not bytes_to_encode:
            return b""
        code = _HUFFMAN_ENCODED.get(bytes_to_encode)
        if code is None:
            code = super().encode(bytes_to_encode)
            if len(bytes_to_encode) <= _HUFFMAN_MEMO_OCTETS:
                remember(_HUFFMAN_ENCODED, bytes_to_encode, code, _HUFFMAN_MEMO_MAX)
        return code


class HeaderDecoder:
    """Decodes header blocks to raw ``(name, value)`` byte pairs; the state (dynamic
    table, limits) lives in an ``hpack.Decoder``."""

    __slots__ = ("decoder", "_cache")

    def __init__(self) -> None:
        self.decoder = Decoder()
        self._cache: dict[bytes, tuple[tuple[bytes, bytes], ...]] = {}

    def decode(self, block: bytes) -> Headers:
        cache = self._cache
        hit = cache.get(block)
        if hit is not None:
            return list(hit)
        headers = self._decode(block)
        if _only_indexed(block) and len(headers) <= _MEMO_MAX_FIELDS:
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            cache[block] = tuple(headers)
        elif cache:
            cache.clear()
        return headers

    def _decode(self, data: bytes) -> Headers:
        """RFC 7541 §3.2, §6: the representations of one block, in order."""
        decoder = self.decoder
        table = decoder.header_table
        lookup = table.get_by_index
        limit = decoder.max_header_list_size
        headers: Headers = []
        append = headers.append
        size = 0
        pos = 0
        end = len(data)
        try:
            while pos < end:
                first = data[pos]
                pos += 1
                if first & 0x80:  # §6.1 indexed field
                    index = first & 0x7F
                    if index == 0x7F:
                        index, pos = _integer(data, pos, index)
                    field = lookup(index)  # §2.3.3; index 0 is an error
                    append(field)
                    size += 32 + len(field[0]) + len(field[1])
                    if size > limit:
                        raise OversizedHeaderListError(
                            f"A header list larger than {limit} has been received")
                    continue
                if first & 0x40:  # §6.2.1 literal with incremental indexing
                    index = first & 0x3F
                    if index == 0x3F:
                        index, pos = _integer(data, pos, index)
                    indexing = True
                elif first & 0x20:  # §6.3 dynamic table size update
                    if headers:  # §4.2: only at the beginning of a block
                        raise HPACKDecodingError("Table size update not at the start of the block")
                    new_size = first & 0x1F
                    if new_size == 0x1F:
                        new_size, pos = _integer(data, pos, new_size)
                    if new_size > decoder.max_allowed_table_size:
                        raise InvalidTableSizeError("Encoder exceeded max allowable table size")
                    table.maxsize = new_size
                    continue
                else:  # §6.2.2 without indexing, §6.2.3 never indexed
                    index = first & 0x0F
                    if index == 0x0F:
                        index, pos = _integer(data, pos, index)
                    indexing = False
                if index:
                    name = lookup(index)[0]
                else:
                    name, pos = _string(data, pos)
                    if not name:
                        raise EmptyFieldName("empty field name")
                value, pos = _string(data, pos)
                if indexing:
                    table.add(name, value)
                append((name, value))
                size += 32 + len(name) + len(value)
                if size > limit:
                    raise OversizedHeaderListError(
                        f"A header list larger than {limit} has been received")
        except IndexError:
            raise HPACKDecodingError("Truncated header block") from None
        if table.maxsize > decoder.max_allowed_table_size:
            # §4.2: a smaller setting we sent must be followed by a size update.
            raise InvalidTableSizeError("Encoder did not shrink table size to within the max")
        return headers

    @property
    def max_allowed_table_size(self) -> int:
        return self.decoder.max_allowed_table_size

    @max_allowed_table_size.setter
    def max_allowed_table_size(self, value: int) -> None:
        self.decoder.max_allowed_table_size = value
        self._cache.clear()

    @property
    def max_header_list_size(self) -> int:
        return self.decoder.max_header_list_size

    @max_header_list_size.setter
    def max_header_list_size(self, value: int) -> None:
        self.decoder.max_header_list_size = value


class HeaderEncoder:
    """``hpack.Encoder`` whose table size follows the peer's setting (§4.2)."""

    __slots__ = ("encoder", "_cache")

    def __init__(self) -> None:
        self.encoder = Encoder()
        coder = self.encoder.huffman_coder
        self.encoder.huffman_coder = _MemoHuffmanEncoder(
            coder.huffman_code_list, coder.huffman_code_list_lengths)
        self._cache: dict[tuple[tuple[bytes, bytes], ...], bytes] = {}

    def encode(self, headers: Headers) -> bytes:
        cache = self._cache
        try:
            key = tuple(headers)
            hit = cache.get(key)
        except TypeError:  # unhashable items (lists): no memoisation
            key, hit = None, None
        if hit is not None:
            return hit
        block = self.encoder.encode(headers)
        if key is not None and _only_indexed(block):
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            cache[key] = block
        elif cache:
            cache.clear()
        return block

    @property
    def header_table_size(self) -> int:
        return self.encoder.header_table_size

    @header_table_size.setter
    def header_table_size(self, value: int) -> None:
        # hpack sends its queued size updates only while the table's ``resized`` flag
        # is up, and setting an unchanged size lowers it: an update still owed to the
        # peer (§4.2) would be lost.
        if value != self.encoder.header_table_size:
            self.encoder.header_table_size = value
            self._cache.clear()

    @property
    def header_table(self) -> HeaderTable:
        """hpack's table, for inspection."""
        return self.encoder.header_table
