"""RFC 7541 (HPACK) as used by our HTTP/2 core: decoding errors are connection errors
COMPRESSION_ERROR (RFC 9113 §4.3), and the encoder follows the peer's table size."""
from __future__ import annotations

import pytest
from hpack import Encoder

from blackbull.protocol.http2 import ErrorCode, RequestReceived, SettingCode
from tests.conftest_h2 import REQUEST, Raw, connected_pair, goaway_of, h2_client, server_core

# A literal without indexing, new name "a", value "b", in front of which each case puts
# its own bad representation.
_LITERAL = b"\x00\x01a\x01b"


def feed_block(block: bytes) -> bytes:
    server = server_core()
    server.receive_data(Raw.preface())
    server.data_to_send()
    server.receive_data(Raw.frame(0x1, 0x5, 1, block))
    return server.data_to_send()


@pytest.mark.parametrize("block", [
    b"\xbe",                # indexed field 62: the dynamic table is empty
    b"\xff\x80\x01",        # a far larger index
], ids=["index-62-empty-table", "index-190"])
def test_index_out_of_range_is_compression_error(block: bytes) -> None:
    """RFC 7541 §2.3.3: an index beyond both tables MUST be a decoding error."""
    assert goaway_of(feed_block(block)).error_code == ErrorCode.COMPRESSION_ERROR


def test_index_zero_is_compression_error() -> None:
    """RFC 7541 §6.1: the index value 0 is not used; it MUST be treated as an error."""
    assert goaway_of(feed_block(b"\x80")).error_code == ErrorCode.COMPRESSION_ERROR


def test_table_size_update_above_our_setting_is_compression_error() -> None:
    """RFC 7541 §4.2/§6.3: a dynamic table size update above SETTINGS_HEADER_TABLE_SIZE
    (4096 by default) is a decoding error."""
    update_8192 = b"\x3f\xe1\x3f"  # 001 prefix, 5-bit integer 8192
    assert goaway_of(feed_block(update_8192 + _LITERAL)).error_code == ErrorCode.COMPRESSION_ERROR


def test_table_size_update_after_a_field_is_compression_error() -> None:
    """RFC 7541 §4.2: a size update MUST occur at the beginning of the block."""
    assert goaway_of(feed_block(b"\x82" + b"\x20")).error_code == ErrorCode.COMPRESSION_ERROR


@pytest.mark.parametrize("string", [
    b"\x85\xff\xff\xff\xff\xff",  # Huffman, 5 octets of 1-bits: padding longer than 7 bits
    b"\x81\x00",                  # Huffman '0' (00000) then padding of 0-bits, not EOS
    b"\x84\xff\xff\xff\xfc",      # contains the 30-bit EOS symbol
], ids=["padding>7bits", "padding-not-eos", "eos-in-string"])
def test_invalid_huffman_is_compression_error(string: bytes) -> None:
    """RFC 7541 §5.2: bad Huffman padding or an EOS symbol is a decoding error."""
    block = b"\x00\x01a" + string  # literal, new name "a", Huffman value
    assert goaway_of(feed_block(block)).error_code == ErrorCode.COMPRESSION_ERROR


def test_dynamic_table_is_shared_across_header_blocks() -> None:
    """RFC 7541 §2.3.2: entries added by one block are referenced by later ones; many
    requests with the same custom field decode identically."""
    server, client = connected_pair()
    seen = []
    for _ in range(5):
        sid = client.get_next_available_stream_id()
        client.send_headers(sid, REQUEST + [("x-token", "s3cr3t-value")], end_stream=True)
        events = server.receive_data(client.data_to_send())
        seen += [dict(e.headers)[b"x-token"] for e in events if isinstance(e, RequestReceived)]
    assert seen == [b"s3cr3t-value"] * 5


def test_encoder_honours_a_small_peer_table_and_the_peer_decodes() -> None:
    """RFC 7541 §4.2: our encoder keeps its table within the peer's
    SETTINGS_HEADER_TABLE_SIZE; an independent decoder (h2) agrees on every block."""
    server = server_core(discard=False)
    client = h2_client({SettingCode.HEADER_TABLE_SIZE: 64})
    from tests.conftest_h2 import handshake
    handshake(server, client)
    assert server.remote.header_table_size == 64
    for i in range(5):
        sid = client.get_next_available_stream_id()
        client.send_headers(sid, REQUEST, end_stream=True)
        server.receive_data(client.data_to_send())
        server.send_headers(sid, [(b":status", b"200"), (b"x-n", b"%d" % i),
                                  (b"x-long-header-name", b"v" * 40)], end_stream=True)
        events = client.receive_data(server.data_to_send())
        got = next(e for e in events if type(e).__name__ == "ResponseReceived")
        assert dict(got.headers)[b"x-n"] == b"%d" % i
    assert server.encoder.header_table.maxsize <= 64


def test_oversized_header_list_does_not_break_the_connection_state() -> None:
    """RFC 9113 §6.5.2: SETTINGS_MAX_HEADER_LIST_SIZE is advisory; a larger list within
    the decoder's hard cap is still decoded (HPACK state intact)."""
    server, client = connected_pair({SettingCode.MAX_HEADER_LIST_SIZE: 1000})
    sid = client.get_next_available_stream_id()
    client.send_headers(sid, REQUEST + [("x-big", "b" * 1500)], end_stream=True)
    events = server.receive_data(client.data_to_send())
    assert isinstance(events[0], RequestReceived) and not server.terminated


def test_memoised_indexed_blocks_follow_dynamic_table_changes() -> None:
    """RFC 7541 §2.3.3/§4.1: index 62 is always the newest dynamic entry, so the same
    indexed-only block must decode differently after an insertion."""
    from blackbull.protocol.http2.hpack_codec import HeaderDecoder
    decoder = HeaderDecoder()
    encoder = Encoder()
    first = encoder.encode([(b"x-a", b"1")])          # literal with incremental indexing
    assert decoder.decode(first) == [(b"x-a", b"1")]
    assert decoder.decode(b"\xbe") == [(b"x-a", b"1")]
    assert decoder.decode(b"\xbe") == [(b"x-a", b"1")]  # served from memory
    decoder.decode(encoder.encode([(b"x-b", b"2")]))
    assert decoder.decode(b"\xbe") == [(b"x-b", b"2")]


def test_memoised_encoding_stays_decodable_by_an_independent_decoder() -> None:
    """RFC 7541 §4: whatever the encoder remembers, a fresh hpack.Decoder fed the same
    sequence of blocks recovers every header list."""
    from hpack import Decoder

    from blackbull.protocol.http2.hpack_codec import HeaderEncoder
    encoder = HeaderEncoder()
    peer = Decoder()
    lists = [[(b":status", b"200"), (b"x-k", b"v")], [(b":status", b"200"), (b"x-k", b"v")],
             [(b":status", b"404"), (b"x-j", b"w")], [(b":status", b"200"), (b"x-k", b"v")]] * 3
    for headers in lists:
        assert peer.decode(encoder.encode(headers), raw=True) == headers
