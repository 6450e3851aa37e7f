"""HPACK (RFC 7541) for the core, through the ``hpack`` library, with memoisation.

Repeated requests on one connection mostly encode to blocks made only of indexed
field representations (RFC 7541 §6.1): such a block neither reads nor changes
anything but the tables, so while the dynamic table is unchanged the same block
always means the same header list, and vice versa. Both directions remember those
blocks and forget everything as soon as any other block (which may add entries,
§6.2.1, or resize the table, §6.3) passes through.
"""
from __future__ import annotations

from hpack import Decoder, Encoder

Headers = list[tuple[bytes, bytes]]

#: One-octet indexed representations: 1xxxxxxx with a 7-bit index below 127 (0xff
#: would start a multi-octet integer, §5.1).
_ONE_OCTET_INDEXED = bytes(range(0x80, 0xFF))
_CACHE_LIMIT = 256


def _only_indexed(block: bytes) -> bool:
    return bool(block) and not block.translate(None, _ONE_OCTET_INDEXED)


class HeaderDecoder:
    """``hpack.Decoder`` returning raw ``(name, value)`` byte pairs."""

    __slots__ = ("decoder", "_cache")

    def __init__(self) -> None:
        self.decoder = Decoder()
        self._cache: dict[bytes, tuple[tuple[bytes, bytes], ...]] = {}

    def decode(self, block: bytes) -> Headers:
        cache = self._cache
        hit = cache.get(block)
        if hit is not None:
            return list(hit)
        headers = self.decoder.decode(block, raw=True)
        if _only_indexed(block):
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            cache[block] = tuple(headers)  # type: ignore[arg-type]
        elif cache:
            cache.clear()
        return headers  # type: ignore[return-value]

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
        self._cache: dict[tuple, bytes] = {}

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
        self.encoder.header_table_size = value
        self._cache.clear()

    @property
    def header_table(self):  # noqa: ANN201 - hpack's table, for inspection
        return self.encoder.header_table
