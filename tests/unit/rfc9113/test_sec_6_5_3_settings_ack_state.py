"""RFC 9113 §6.5.3: the core's public settings-acknowledgement state, which the
server's SETTINGS_TIMEOUT timer reads."""
from __future__ import annotations

from blackbull.protocol.http2 import SettingCode, SettingsAcknowledged
from tests.conftest_h2 import connected_pair, h2_client, server_core


def test_awaiting_ack_from_our_settings_until_the_peer_acks_them() -> None:
    """RFC 9113 §6.5.3: our SETTINGS apply once acknowledged; until the ACK the core
    reports it awaits one, and after it, not."""
    server = server_core(discard=False)
    assert server.awaiting_settings_ack
    client = h2_client()
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    events = server.receive_data(client.data_to_send())
    assert any(isinstance(e, SettingsAcknowledged) for e in events)
    assert not server.awaiting_settings_ack


def test_a_new_settings_frame_is_awaited_again() -> None:
    """RFC 9113 §6.5.3: each SETTINGS frame gets its own ACK."""
    server, client = connected_pair()
    assert not server.awaiting_settings_ack
    server.update_settings({SettingCode.MAX_CONCURRENT_STREAMS: 10})
    assert server.awaiting_settings_ack
    client.receive_data(server.data_to_send())
    server.receive_data(client.data_to_send())
    assert not server.awaiting_settings_ack
    assert server.local.max_concurrent_streams == 10
