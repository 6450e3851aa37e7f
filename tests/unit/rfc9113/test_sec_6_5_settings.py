"""RFC 9113 §6.5: SETTINGS in both directions, on the core."""
from __future__ import annotations

import pytest

from blackbull.protocol.http2 import (
    ErrorCode,
    H2Connection,
    RemoteSettingsChanged,
    SettingCode,
    SettingsAcknowledged,
    UsageError,
)
from tests.conftest_h2 import REQUEST, Raw, connected_pair, goaway_of, parse_frames, server_core


def ready(settings: dict[int, int] | None = None) -> H2Connection:
    server = server_core(settings)
    server.receive_data(Raw.preface())
    server.data_to_send()
    return server


def settings_payload(**values: int) -> bytes:
    codes = {"table": 1, "push": 2, "streams": 3, "window": 4, "frame": 5, "list": 6,
             "connect": 8, "no_rfc7540": 9, "unknown": 0x99}
    return b"".join(codes[k].to_bytes(2, "big") + v.to_bytes(4, "big")
                    for k, v in values.items())


@pytest.mark.parametrize("payload,code", [
    (settings_payload(push=2), ErrorCode.PROTOCOL_ERROR),
    (settings_payload(window=2**31), ErrorCode.FLOW_CONTROL_ERROR),
    (settings_payload(frame=16383), ErrorCode.PROTOCOL_ERROR),
    (settings_payload(frame=2**24), ErrorCode.PROTOCOL_ERROR),
    (settings_payload(connect=2), ErrorCode.PROTOCOL_ERROR),
    (settings_payload(no_rfc7540=2), ErrorCode.PROTOCOL_ERROR),
    (b"\0\x01\0\0", ErrorCode.FRAME_SIZE_ERROR),
], ids=["push=2", "window>2^31-1", "frame<16384", "frame>2^24-1", "connect=2",
        "no-rfc7540-priorities=2", "len%6"])
def test_invalid_settings_values(payload: bytes, code: ErrorCode) -> None:
    """RFC 9113 §6.5/§6.5.2 (RFC 8441 §3, RFC 9218 §2.1 for the boolean extension settings):
    out-of-range values are connection errors of the stated type."""
    server = ready()
    server.receive_data(Raw.frame(0x4, 0, 0, payload))
    assert goaway_of(server.data_to_send()).error_code == code


def test_settings_ack_with_payload_is_frame_size_error() -> None:
    """RFC 9113 §6.5: an ACK with a non-empty payload → FRAME_SIZE_ERROR."""
    server = ready()
    server.receive_data(Raw.frame(0x4, 0x1, 0, settings_payload(push=0)))
    assert goaway_of(server.data_to_send()).error_code == ErrorCode.FRAME_SIZE_ERROR


def test_settings_on_a_stream_is_protocol_error() -> None:
    """RFC 9113 §6.5: SETTINGS with a stream id other than 0 → PROTOCOL_ERROR."""
    server = ready()
    server.receive_data(Raw.frame(0x4, 0, 1, b""))
    assert goaway_of(server.data_to_send()).error_code == ErrorCode.PROTOCOL_ERROR


def test_unknown_settings_are_ignored_and_acked() -> None:
    """RFC 9113 §6.5.2: unsupported parameters MUST be ignored."""
    server = ready()
    events = server.receive_data(Raw.frame(0x4, 0, 0, settings_payload(unknown=7)))
    assert events == [RemoteSettingsChanged({})]
    (ack,) = parse_frames(server.data_to_send())
    assert "ACK" in ack.flags


def test_local_settings_apply_only_when_acknowledged() -> None:
    """RFC 9113 §6.5.3: our values take effect when the peer ACKs them."""
    server = server_core({SettingCode.MAX_CONCURRENT_STREAMS: 7})
    assert server.local.max_concurrent_streams is None
    events = server.receive_data(Raw.preface() + Raw.frame(0x4, 0x1, 0, b""))
    assert events[-1] == SettingsAcknowledged({SettingCode.MAX_CONCURRENT_STREAMS: 7})
    assert server.local.max_concurrent_streams == 7


def test_initial_window_size_change_applies_to_open_streams() -> None:
    """RFC 9113 §6.9.2: a new SETTINGS_INITIAL_WINDOW_SIZE adjusts every open stream's
    send window by the difference, possibly below zero."""
    server, client = connected_pair()
    sid = client.get_next_available_stream_id()
    client.send_headers(sid, REQUEST)
    server.receive_data(client.data_to_send())
    server.send_headers(sid, [(b":status", b"200")])
    server.send_data(sid, b"x" * 1000)
    server.receive_data(Raw.frame(0x4, 0, 0, settings_payload(window=100)))
    assert server.streams[sid].outbound_window == 100 - 1000
    assert server.local_flow_control_window(sid) == 0
    with pytest.raises(UsageError):
        server.send_data(sid, b"x")


def test_initial_window_size_overflowing_a_stream_is_flow_control_error() -> None:
    """RFC 9113 §6.9.2: a change that makes a window exceed 2^31-1 → connection error
    FLOW_CONTROL_ERROR."""
    server = ready()
    raw = Raw()
    server.receive_data(raw.headers(1, flags=("END_HEADERS",))
                        + Raw.frame(0x8, 0, 1, (2**31 - 1 - 65535).to_bytes(4, "big"))
                        + Raw.frame(0x4, 0, 0, settings_payload(window=65536)))
    assert goaway_of(server.data_to_send()).error_code == ErrorCode.FLOW_CONTROL_ERROR


def test_header_table_size_from_peer_drives_our_encoder() -> None:
    """RFC 9113 §6.5.2 / RFC 7541 §4.2: the encoder uses the peer's
    SETTINGS_HEADER_TABLE_SIZE and signals the change with a size update."""
    server = ready()
    server.receive_data(Raw.frame(0x4, 0, 0, settings_payload(table=0)))
    raw = Raw()
    server.receive_data(raw.headers(1))
    server.data_to_send()
    server.send_headers(1, [(b":status", b"200"), (b"x-custom", b"value")], end_stream=True)
    headers = [f for f in parse_frames(server.data_to_send()) if type(f).__name__ == "HeadersFrame"]
    assert headers[0].data[0] == 0x20  # dynamic table size update to 0 comes first
    assert server.encoder.header_table_size == 0


def test_enable_push_zero_forbids_push() -> None:
    """RFC 9113 §6.5.2/§8.4: with SETTINGS_ENABLE_PUSH=0 the server MUST NOT push."""
    server = ready()
    raw = Raw()
    server.receive_data(Raw.frame(0x4, 0, 0, settings_payload(push=0))
                        + raw.headers(1, flags=("END_HEADERS",)))
    with pytest.raises(UsageError):
        server.push_stream(1, [(b":method", b"GET"), (b":path", b"/x"),
                               (b":scheme", b"https"), (b":authority", b"a")])


def test_enable_connect_protocol_is_advertised_only_when_asked() -> None:
    """RFC 8441 §3: SETTINGS_ENABLE_CONNECT_PROTOCOL is ours to send, only when enabled;
    with it :protocol becomes a valid pseudo-header."""
    plain = server_core(discard=False)
    (settings,) = parse_frames(plain.data_to_send())
    assert 8 not in settings.settings
    ws = server_core({SettingCode.ENABLE_CONNECT_PROTOCOL: 1}, discard=False)
    (settings,) = parse_frames(ws.data_to_send())
    assert settings.settings[8] == 1


def test_max_frame_size_of_peer_is_honoured() -> None:
    """RFC 9113 §6.5.2: we may send frames up to the peer's SETTINGS_MAX_FRAME_SIZE."""
    server = ready()
    server.receive_data(Raw.frame(0x4, 0, 0, settings_payload(frame=32768)))
    assert server.max_outbound_frame_size == 32768
