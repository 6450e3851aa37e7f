"""RFC 7541 §5.2: the Huffman code of short strings is remembered across connections
(hpack_codec's process-wide memos), and the memo never changes what goes on the wire:
blocks are checked against the ``hpack`` library's own encoder and decoder, an
independent implementation of the same RFC."""
from __future__ import annotations

import pytest
from hpack import Decoder, Encoder
from hpack.exceptions import HPACKDecodingError

from blackbull.protocol.http2 import hpack_codec
from blackbull.protocol.http2.hpack_codec import HeaderDecoder, HeaderEncoder

#: What a load generator's first request carries as Huffman literals (RFC 7541 §6.2).
FIRST_REQUEST = [(b":method", b"GET"), (b":scheme", b"http"), (b":path", b"/"),
                 (b":authority", b"127.0.0.1:8443"), (b"user-agent", b"h2load nghttp2/1.52.0")]
RESPONSE = [(b":status", b"200"), (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", b"5"), (b"date", b"Wed, 02 Dec 2026 17:00:00 GMT")]


@pytest.fixture(autouse=True)
def empty_memos():
    hpack_codec._HUFFMAN_DECODED.clear()
    hpack_codec._HUFFMAN_ENCODED.clear()
    yield
    hpack_codec._HUFFMAN_DECODED.clear()
    hpack_codec._HUFFMAN_ENCODED.clear()


def test_two_connections_decode_the_same_huffman_literals_alike() -> None:
    """§5.2: the second connection's decoder reads the literals from the memo and gets
    what the first got, which is what ``hpack.Decoder`` reads."""
    block = Encoder().encode(FIRST_REQUEST, huffman=True)
    first = HeaderDecoder().decode(block)
    assert hpack_codec._HUFFMAN_DECODED  # remembered
    second = HeaderDecoder().decode(block)
    assert first == second == [tuple(h) for h in Decoder().decode(block, raw=True)]


def test_two_connections_encode_the_same_block_as_the_library() -> None:
    """§5.2: with the memo, each new connection's first response block is byte for byte
    the one ``hpack.Encoder`` makes, and decodes back to the fields."""
    expected = Encoder().encode(RESPONSE, huffman=True)
    first, second = HeaderEncoder().encode(RESPONSE), HeaderEncoder().encode(RESPONSE)
    assert first == second == expected
    assert hpack_codec._HUFFMAN_ENCODED
    assert [tuple(h) for h in Decoder().decode(second, raw=True)] == RESPONSE


def test_an_invalid_huffman_string_is_an_error_every_time_and_not_remembered() -> None:
    """§5.2: a code padded with more than 7 bits (here 8 one bits) is a decoding error;
    it is not remembered, so a second connection sending it fails the same way."""
    block = bytes([0x40 | 0, 0x81, 0xFF, 0x81, 0xFF])  # literal, new name, H bit set
    for _ in range(2):
        with pytest.raises(HPACKDecodingError):
            HeaderDecoder().decode(block)
    assert not hpack_codec._HUFFMAN_DECODED


def test_the_memos_stay_bounded_under_distinct_strings() -> None:
    """RFC 9113 §10.5: a peer sending only distinct literals cannot grow the memos past
    their bound, and strings over the size limit are not kept at all."""
    encoder = Encoder()
    decoder = HeaderDecoder()
    for i in range(3 * hpack_codec._HUFFMAN_MEMO_MAX):
        decoder.decode(encoder.encode([(b"x-n", b"value-%d" % i)], huffman=True))
    assert 0 < len(hpack_codec._HUFFMAN_DECODED) <= hpack_codec._HUFFMAN_MEMO_MAX
    hpack_codec._HUFFMAN_DECODED.clear()
    long_value = b"v" * (hpack_codec._HUFFMAN_MEMO_OCTETS * 2)
    HeaderDecoder().decode(Encoder().encode([(b"x-long", long_value)], huffman=True))
    assert all(len(k) <= hpack_codec._HUFFMAN_MEMO_OCTETS
               for k in hpack_codec._HUFFMAN_DECODED)
