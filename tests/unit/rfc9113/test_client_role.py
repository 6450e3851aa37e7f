"""The core in the client role (RFC 9113 §8.3.2, §8.4; RFC 8441 §3–§4), against our
own server core and against python-hyper h2 as an independent server."""
from __future__ import annotations

import h2.config
import h2.connection
import h2.events
import pytest

from blackbull.protocol.http2 import (
    DataReceived,
    ErrorCode,
    H2Connection,
    InformationalResponseReceived,
    PushedStreamReceived,
    RequestReceived,
    ResponseReceived,
    SettingCode,
    StreamEnded,
    UsageError,
)
from tests.conftest_h2 import Raw, goaway_of, server_core

GET = [(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"/"), (b":authority", b"a")]


def pump(a: H2Connection, b: H2Connection) -> tuple[list, list]:
    """Exchange bytes until both sides are quiet; return (events of a, events of b)."""
    ea, eb = [], []
    while True:
        out_a, out_b = a.data_to_send(), b.data_to_send()
        if not out_a and not out_b:
            return ea, eb
        eb += b.receive_data(out_a) if out_a else []
        ea += a.receive_data(out_b) if out_b else []


def pair(server_settings: dict[int, int] | None = None) -> tuple[H2Connection, H2Connection]:
    client = H2Connection("client")
    client.initiate_connection()
    server = server_core(server_settings, discard=False)
    pump(client, server)
    return client, server


def test_client_request_and_response_between_our_two_roles() -> None:
    """RFC 9113 §8.3: a client request on stream 1 and the server's response."""
    client, server = pair()
    sid = client.get_next_available_stream_id()
    assert sid == 1
    client.send_headers(sid, GET, end_stream=True)
    _, sev = pump(client, server)
    assert isinstance(sev[0], RequestReceived)
    server.send_headers(sid, [(b":status", b"103")])
    server.send_headers(sid, [(b":status", b"200")])
    server.send_data(sid, b"body", end_stream=True)
    cev, _ = pump(client, server)
    assert [type(e) for e in cev] == [InformationalResponseReceived, ResponseReceived,
                                      DataReceived, StreamEnded]
    assert client.get_next_available_stream_id() == 3 and not client.streams


def test_client_against_h2_server() -> None:
    """RFC 9113 §3.4/§8.3: our client core talks to an independent server (h2)."""
    client = H2Connection("client")
    client.initiate_connection()
    server = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False,
                                                                  header_encoding=None))
    server.initiate_connection()
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    server.receive_data(client.data_to_send())
    client.send_headers(1, GET + [(b"x-q", b"1")], end_stream=True)
    events = server.receive_data(client.data_to_send())
    request = next(e for e in events if isinstance(e, h2.events.RequestReceived))
    assert (b"x-q", b"1") in request.headers
    server.send_headers(1, [(b":status", b"200"), (b"content-length", b"2")])
    server.send_data(1, b"ok", end_stream=True)
    events = client.receive_data(server.data_to_send())
    assert [type(e) for e in events][-3:] == [ResponseReceived, DataReceived, StreamEnded]


def test_response_without_status_is_malformed() -> None:
    """RFC 9113 §8.3.2: a response MUST carry :status."""
    client, server = pair()
    client.send_headers(1, GET, end_stream=True)
    pump(client, server)
    client.receive_data(Raw.frame(0x1, 0x5, 1, server.encoder.encode([(b"x", b"y")])))
    out = client.data_to_send()
    from tests.conftest_h2 import rst_of
    assert rst_of(out, 1).error_code == ErrorCode.PROTOCOL_ERROR


def test_client_receives_push_and_server_settings_enable_push_1_is_error() -> None:
    """RFC 9113 §8.4: PUSH_PROMISE reserves an even stream (reserved remote); §6.5.2: a
    client MUST treat SETTINGS_ENABLE_PUSH=1 from a server as PROTOCOL_ERROR."""
    client, server = pair()
    client.send_headers(1, GET, end_stream=True)
    pump(client, server)
    promised = server.push_stream(1, GET[:2] + [(b":path", b"/p"), GET[3]])
    cev, _ = pump(client, server)
    assert PushedStreamReceived(promised, 1, GET[:2] + [(b":path", b"/p"), GET[3]]) in cev
    bad = H2Connection("client")
    bad.initiate_connection()
    bad.data_to_send()
    bad.receive_data(Raw.frame(0x4, 0, 0, b"\0\x02\0\0\0\x01"))
    assert goaway_of(bad.data_to_send()).error_code == ErrorCode.PROTOCOL_ERROR


def test_extended_connect_between_client_and_server() -> None:
    """RFC 8441 §3/§4: once the server sent SETTINGS_ENABLE_CONNECT_PROTOCOL=1 the client
    may send CONNECT with :protocol; the server accepts it."""
    client, server = pair({SettingCode.ENABLE_CONNECT_PROTOCOL: 1})
    assert client.remote.enable_connect_protocol
    client.send_headers(1, [(b":method", b"CONNECT"), (b":protocol", b"websocket"),
                            (b":scheme", b"https"), (b":path", b"/chat"), (b":authority", b"a"),
                            (b"sec-websocket-version", b"13")])
    _, sev = pump(client, server)
    assert isinstance(sev[0], RequestReceived) and (b":protocol", b"websocket") in sev[0].headers
    server.send_headers(1, [(b":status", b"200")])
    client.send_data(1, b"\x81\x80abcd")
    cev, sev = pump(client, server)
    assert isinstance(cev[0], ResponseReceived) and isinstance(sev[0], DataReceived)


def test_client_cannot_use_an_old_stream_id() -> None:
    """RFC 9113 §5.1.1: stream ids are used in increasing order, never reused."""
    client, server = pair()
    client.send_headers(1, GET, end_stream=True)
    with pytest.raises(UsageError):
        client.send_headers(1, GET, end_stream=True)
