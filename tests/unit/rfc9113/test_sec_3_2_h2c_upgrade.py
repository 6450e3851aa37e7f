"""RFC 7540 §3.2 (kept by RFC 9113 §3.1 for existing deployments): the h2c Upgrade,
server side, on the core and in HTTP2Handler.for_upgrade."""
from __future__ import annotations

import base64

import pytest

from blackbull.protocol.http2 import H2Connection, ProtocolError, SettingCode, StreamState
from blackbull.protocol.http2.settings import decode_settings_header
from blackbull.server.http2 import HTTP2Handler
from tests.conftest_h2 import PREFACE, Raw, parse_frames


def header_for(settings: dict[int, int]) -> bytes:
    payload = b"".join(k.to_bytes(2, "big") + v.to_bytes(4, "big") for k, v in settings.items())
    return base64.urlsafe_b64encode(payload).rstrip(b"=")


def test_http2_settings_header_is_decoded_as_a_settings_payload() -> None:
    """RFC 7540 §3.2.1: base64url (no padding) of a SETTINGS frame payload."""
    value = header_for({SettingCode.INITIAL_WINDOW_SIZE: 1000, 0x99: 5})
    assert decode_settings_header(value) == {SettingCode.INITIAL_WINDOW_SIZE: 1000}
    assert decode_settings_header(b"") == {}


@pytest.mark.parametrize("value", [b"!!!not-base64!!!", header_for({2: 7}),
                                   base64.urlsafe_b64encode(b"\0\x04\0")],
                         ids=["not-base64", "enable-push=7", "not-multiple-of-6"])
def test_invalid_http2_settings_is_refused_before_switching(value: bytes) -> None:
    """RFC 7540 §3.2.1: a server MUST NOT upgrade when HTTP2-Settings is invalid; the
    handler factory raises so the HTTP/1.1 side answers instead."""
    with pytest.raises(ProtocolError):
        HTTP2Handler.for_upgrade(value, [(b"host", b"a")], "GET", b"/", b"")


def test_upgraded_request_is_stream_1_half_closed_remote() -> None:
    """RFC 7540 §3.2: the upgrading request is stream 1, half-closed (remote); the
    client's settings from the header apply; the client preface still follows."""
    server = H2Connection("server", {SettingCode.MAX_CONCURRENT_STREAMS: 10})
    server.initiate_upgrade_connection(header_for({SettingCode.INITIAL_WINDOW_SIZE: 1000}))
    stream = server.streams[1]
    assert stream.state is StreamState.HALF_CLOSED_REMOTE
    assert server.remote.initial_window_size == 1000 and stream.outbound_window == 1000
    (settings,) = parse_frames(server.data_to_send())
    assert type(settings).__name__ == "SettingsFrame"
    server.receive_data(PREFACE + Raw.frame(0x4, 0, 0, b""))
    server.send_headers(1, [(b":status", b"200")])
    server.send_data(1, b"upgraded", end_stream=True)
    assert 1 not in server.streams and not server.terminated
    assert server.highest_remote_id == 1
