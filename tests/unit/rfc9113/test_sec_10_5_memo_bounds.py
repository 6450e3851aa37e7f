"""RFC 9113 §10.5: what a connection remembers to go faster (validated request heads,
decoded indexed-only HPACK blocks) never keeps large field sections alive after their
requests ended."""
from __future__ import annotations

from hpack import Encoder

from blackbull.protocol.http2 import RequestReceived
from blackbull.protocol.http2.hpack_codec import HeaderDecoder
from tests.conftest_h2 import REQUEST, connected_pair


def test_large_request_heads_are_validated_but_not_remembered() -> None:
    """§8.3.1 checks are memoised per distinct head, but only small ones: 260 requests
    with a distinct 10 kB field leave nothing of theirs in the memo, while repeated
    small heads are still remembered."""
    server, client = connected_pair()
    for i in range(260):
        sid = client.get_next_available_stream_id()
        client.send_headers(sid, REQUEST + [("x-big", f"{i:05d}" + "v" * 10_000)],
                            end_stream=True)
        events = server.receive_data(client.data_to_send())
        assert any(isinstance(e, RequestReceived) for e in events)
        server.send_headers(sid, [(b":status", b"204")], end_stream=True)
        client.receive_data(server.data_to_send())
    retained = sum(len(n) + len(v) for key in server._headers.valid_requests for n, v in key)
    assert retained <= 8192 * len(server._headers.valid_requests)
    assert not any(b"x-big" in dict(key) for key in server._headers.valid_requests)
    sid = client.get_next_available_stream_id()
    client.send_headers(sid, REQUEST, end_stream=True)
    server.receive_data(client.data_to_send())
    assert server._headers.valid_requests  # the small head is remembered


def test_indexed_only_block_with_thousands_of_fields_is_not_memoised() -> None:
    """RFC 7541 §6.1: a block of one-octet references is decoded, but a block naming
    thousands of fields is not kept in the decoder's memo."""
    decoder = HeaderDecoder()
    encoder = Encoder()
    decoder.decode(encoder.encode([(b"x-a", b"1")]))  # entry 62
    headers = decoder.decode(b"\xbe" * 1000)
    assert headers == [(b"x-a", b"1")] * 1000
    assert not decoder._cache
    assert decoder.decode(b"\xbe\xbe") == [(b"x-a", b"1")] * 2
    assert decoder._cache  # small blocks still are
