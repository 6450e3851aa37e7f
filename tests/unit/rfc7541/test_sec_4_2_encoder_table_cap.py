"""RFC 7541 §4.2 / RFC 9113 §6.5.2: the peer's SETTINGS_HEADER_TABLE_SIZE is a ceiling
for our encoder, not a size it must use. Ours stays within BB_H2_ENCODER_TABLE_SIZE, so
a peer allowing 2^32-1 octets cannot make each encode search an ever-growing table; every
change of our table size is signalled at the start of the next block (§4.2, §6.3), which
an independent decoder (python-hyper ``h2``) checks."""
from __future__ import annotations

import h2.events

from blackbull.protocol.http2 import SettingCode
from tests.conftest_h2 import REQUEST, h2_client, handshake, server_core

HUGE = 0xFFFFFFFF  # the largest SETTINGS_HEADER_TABLE_SIZE (§6.5.2)


def _pair(peer_table: int, **kw):
    server = server_core(discard=False, **kw)
    client = h2_client({SettingCode.HEADER_TABLE_SIZE: peer_table})
    handshake(server, client)
    client.receive_data(server.data_to_send())
    return server, client


def _respond(server, client, headers) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """One request/response; returns the response's header block and what ``h2``
    decoded from it."""
    sid = client.get_next_available_stream_id()
    client.send_headers(sid, REQUEST, end_stream=True)
    server.receive_data(client.data_to_send())
    server.send_headers(sid, headers, end_stream=True)
    wire = server.data_to_send()
    events = client.receive_data(wire)
    got = next(e for e in events if isinstance(e, h2.events.ResponseReceived))
    return wire[9:9 + int.from_bytes(wire[:3], "big")], list(got.headers)


def test_encoder_table_stays_capped_when_the_peer_allows_2_32_minus_1() -> None:
    """RFC 7541 §4.2: with a peer allowing 2^32-1 octets, 2000 responses each with a
    distinct field leave our encoder's table at 4096 octets (so ~50 entries to search,
    however old the connection), and the peer decodes every one of them."""
    server, client = _pair(HUGE)
    assert server.remote.header_table_size == HUGE
    for i in range(2000):
        headers = [(b":status", b"200"), (b"x-request-id", b"%032x" % i)]
        _, got = _respond(server, client, headers)
        assert got == headers
    table = server.encoder.header_table
    assert table.maxsize == 4096
    assert table._current_size <= 4096 and len(table.dynamic_entries) <= 4096 // 76


def test_no_size_update_when_the_capped_size_does_not_change() -> None:
    """RFC 7541 §6.3: a size update is only sent for a change; the cap equals the
    initial 4096, so a huge peer setting leaves the first block without one."""
    server, client = _pair(HUGE)
    block, _ = _respond(server, client, [(b":status", b"200")])
    assert block[0] & 0xE0 != 0x20


def test_cap_below_the_initial_size_is_signalled_in_the_first_block() -> None:
    """RFC 7541 §4.2: a table smaller than the initial 4096 octets is announced by a
    dynamic table size update at the start of the first block."""
    server, client = _pair(HUGE, encoder_table_size=256)
    block, got = _respond(server, client, [(b":status", b"200"), (b"x-a", b"1")])
    assert block[:3] == b"\x3f\xe1\x01"  # 001 prefix, 5-bit integer 256
    assert got == [(b":status", b"200"), (b"x-a", b"1")]
    assert server.encoder.header_table.maxsize == 256


def test_peer_shrinking_then_growing_the_table_is_followed_within_the_cap() -> None:
    """RFC 7541 §4.2: the peer lowers its limit to 0 and raises it to 2^32-1; our
    table follows down to 0 and back up only to the cap, each change signalled, and
    the peer's decoder stays in step throughout."""
    server, client = _pair(HUGE)
    _respond(server, client, [(b":status", b"200"), (b"x-a", b"1")])
    for peer_size, ours in ((0, 0), (HUGE, 4096), (1000, 1000)):
        client.update_settings({SettingCode.HEADER_TABLE_SIZE: peer_size})
        server.receive_data(client.data_to_send())
        client.receive_data(server.data_to_send())
        assert server.encoder.header_table.maxsize == ours
        block, got = _respond(server, client, [(b":status", b"200"), (b"x-a", b"1")])
        assert block[0] & 0xE0 == 0x20  # the update comes first
        assert got == [(b":status", b"200"), (b"x-a", b"1")]
