"""RFC 7541 §3–§6: our field-by-field HPACK decoder (hpack_codec.HeaderDecoder) against
the ``hpack`` library's own decoder, an independent implementation of the same RFC, and
its early stop at an empty field name (RFC 9113 §8.2.1, CVE-2019-9516)."""
from __future__ import annotations

import random

import pytest
from hpack import Decoder, Encoder
from hpack.exceptions import HPACKDecodingError

from blackbull.protocol.http2.hpack_codec import EmptyFieldName, HeaderDecoder

_NAMES = [b":method", b":path", b":authority", b"accept", b"cookie", b"user-agent",
          b"x-a", b"x-long-" + b"n" * 40, b"content-type", b"x-utf8"]
_VALUES = [b"", b"GET", b"/", b"/search?q=1", b"a" * 200, b"text/html", b"\xc3\xa9t\xc3\xa9",
           b"v" * 4100, b"0123456789"]


def _random_blocks(seed: int, count: int = 200):
    """A reproducible stream of blocks from hpack's encoder: Huffman or not, indexed,
    incremental indexing (§6.2.1), never indexed (§6.2.3), large entries that evict
    or clear the table (§4.4), and table size updates (§6.3)."""
    rng = random.Random(seed)
    encoder = Encoder()
    for _ in range(count):
        if rng.random() < 0.1:
            encoder.header_table_size = rng.choice([0, 64, 256, 4096])
        headers = [(rng.choice(_NAMES), rng.choice(_VALUES), rng.random() < 0.2)
                   for _ in range(rng.randint(1, 12))]
        yield encoder.encode(headers, huffman=rng.random() < 0.5)


@pytest.mark.parametrize("seed", range(4))
def test_decodes_like_an_independent_hpack_decoder(seed: int) -> None:
    """RFC 7541 §3.2/§6: every block yields the same header list as hpack.Decoder, and
    both dynamic tables (§2.3.2) hold the same entries afterwards."""
    ours, theirs = HeaderDecoder(), Decoder()
    for block in _random_blocks(seed):
        assert ours.decode(block) == [tuple(h) for h in theirs.decode(block, raw=True)]
        assert list(ours.decoder.header_table.dynamic_entries) == \
            list(theirs.header_table.dynamic_entries)
        assert ours.decoder.header_table.maxsize == theirs.header_table.maxsize


@pytest.mark.parametrize("block", [
    b"\x00\x03ab",          # literal name announces 3 octets, block ends after 2
    b"\x00\x01a\x05xy",     # value announces 5 octets
    b"\x00",                # literal without a name length
    b"\xff",                # index with a continuation octet missing
    # name length 127 spelt with 6 continuation octets (5 of them 0x80): over the limit
    b"\x00\x7f\x80\x80\x80\x80\x80\x00" + b"a" * 127 + b"\x00",
], ids=["short-name", "short-value", "no-name-length", "open-integer", "long-integer"])
def test_truncated_or_overlong_representations_are_decoding_errors(block: bytes) -> None:
    """RFC 7541 §5.1/§5.2: a block that ends inside a representation, or an integer
    longer than the implementation's limit, is a decoding error (as for hpack)."""
    with pytest.raises(HPACKDecodingError):
        HeaderDecoder().decode(block)
    with pytest.raises(HPACKDecodingError):
        Decoder().decode(block)


def test_header_list_size_limit_is_enforced_while_decoding() -> None:
    """RFC 7541 §4.1 sizes (32 + name + value) summed against max_header_list_size: the
    block of 100 fields of 40 octets each stops at a limit of 1000."""
    decoder = HeaderDecoder()
    decoder.max_header_list_size = 1000
    block = b"\x00\x04name\x04vvvv" * 100
    with pytest.raises(HPACKDecodingError):
        decoder.decode(block)


@pytest.mark.parametrize("empty", [b"\x00\x00", b"\x40\x00", b"\x10\x00", b"\x00\x80"],
                         ids=["without-indexing", "incremental-indexing", "never-indexed",
                              "huffman-empty"])
def test_empty_field_name_stops_decoding_at_once(empty: bytes) -> None:
    """RFC 9113 §8.2.1 (a field name is never empty) and RFC 7541 §6.2: decoding stops
    at the first literal with an empty name; nothing after it is read: neither an
    invalid index (§6.1, index 0) nor a literal that would enter the table (§6.2.1)."""
    decoder = HeaderDecoder()
    block = b"\x82" + empty + b"\x00" + b"\x40\x01a\x01b" + b"\x80"
    with pytest.raises(EmptyFieldName):
        decoder.decode(block)
    assert not decoder.decoder.header_table.dynamic_entries


def test_empty_value_with_a_name_is_decoded() -> None:
    """RFC 7541 §5.2: an empty string is valid; only an empty *name* is malformed
    (RFC 9113 §8.2.1), so ``x: `` decodes."""
    assert HeaderDecoder().decode(b"\x00\x01x\x00") == [(b"x", b"")]
