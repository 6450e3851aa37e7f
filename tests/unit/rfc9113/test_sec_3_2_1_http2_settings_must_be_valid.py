"""RFC 7540 §3.2.1 (h2c Upgrade, kept by RFC 9113 §3.1 for existing clients): the
``HTTP2-Settings`` value is a SETTINGS payload in base64url (RFC 4648 §5), and a server
MUST NOT upgrade on a value that is not one.

What is done instead: the request is answered over HTTP/1.1, as for a missing or
repeated HTTP2-Settings field (RFC 9110 §7.8 lets a server ignore ``Upgrade``; nginx
ignores every h2c Upgrade this way). A 400 would refuse a request that is valid
HTTP/1.1; hypercorn answers 101 first and decodes leniently (``!!!`` becomes an empty
SETTINGS), which is what these tests rule out.
"""
from __future__ import annotations

import asyncio
import base64
import struct

import h2.connection
import h2.events
import pytest

from blackbull.protocol.http2 import ProtocolError, SettingCode
from blackbull.protocol.http2.settings import decode_settings_header
from tests.apps.basic import echo
from tests.conftest import raw_exchange

#: base64url of MAX_CONCURRENT_STREAMS=100, INITIAL_WINDOW_SIZE=1073741824 (curl's value).
VALID = b"AAMAAABkAARAAAAA"
#: A payload whose standard base64 has "+" and "/" (not in the base64url alphabet).
_PLUS_SLASH = struct.pack(">HI", SettingCode.INITIAL_WINDOW_SIZE, 0x00FBFFFF)
INVALID = {
    "not-base64-at-all": b"!!!",
    "valid-then-junk": VALID + b"!!!!",
    "embedded-space": VALID[:8] + b" " + VALID[8:],
    "standard-base64-alphabet": base64.b64encode(_PLUS_SLASH).rstrip(b"="),
    "one-char-too-many": VALID + b"A",
}


def test_the_example_value_decodes() -> None:
    """§3.2.1: base64url of the SETTINGS payload; the control case for the ones below."""
    assert decode_settings_header(VALID) == {SettingCode.MAX_CONCURRENT_STREAMS: 100,
                                             SettingCode.INITIAL_WINDOW_SIZE: 1 << 30}
    assert b"+" in INVALID["standard-base64-alphabet"] or b"/" in INVALID[
        "standard-base64-alphabet"]


@pytest.mark.parametrize("value", INVALID.values(), ids=INVALID.keys())
def test_a_value_outside_base64url_is_refused_by_the_decoder(value: bytes) -> None:
    """§3.2.1 / RFC 4648 §5: a byte outside ``A-Z a-z 0-9 - _`` is not skipped (a
    lenient decoder reads ``!!!`` as an empty payload), a length no base64 has is
    not padded into one: each is a ProtocolError."""
    with pytest.raises(ProtocolError):
        decode_settings_header(value)


def _upgrade(value: bytes, path: bytes = b"/up") -> bytes:
    return (b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\n"
            b"Connection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: " + value + b"\r\n\r\n")


@pytest.mark.parametrize("value", INVALID.values(), ids=INVALID.keys())
async def test_invalid_http2_settings_is_answered_over_http11(serve, value: bytes) -> None:
    """§3.2.1: MUST NOT upgrade. No 101: the request is served over HTTP/1.1 and the
    connection goes on in HTTP/1.1 (a second request is answered too)."""
    srv = await serve(echo)
    data = await raw_exchange(
        srv.bound_port,
        _upgrade(value) + b"GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert b" 101 " not in data and b"upgrade: h2c" not in data.lower()
    first, second = data.split(b"HTTP/1.1 200 OK")[1:]
    assert b"x-path: /up" in first and b"x-path: /next" in second


async def test_valid_http2_settings_switches_and_stream_1_answers(serve) -> None:
    """§3.2: with a valid value the server answers 101 and then speaks HTTP/2; the
    upgraded request is stream 1 and its response arrives on it (python-hyper h2 as
    the client)."""
    srv = await serve(echo)
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    value = client.initiate_upgrade_connection()
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    try:
        writer.write(_upgrade(value))
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 101 ") and b"upgrade: h2c" in head.lower()
        writer.write(client.data_to_send())
        status = path = None
        ended = False
        while not ended:
            chunk = await asyncio.wait_for(reader.read(65536), 5)
            assert chunk, "closed before stream 1 ended"
            for event in client.receive_data(chunk):
                if isinstance(event, h2.events.ResponseReceived) and event.stream_id == 1:
                    fields = dict(event.headers)
                    status, path = fields[b":status"], fields[b"x-path"]
                ended |= isinstance(event, h2.events.StreamEnded) and event.stream_id == 1
            writer.write(client.data_to_send())
        assert (status, path) == (b"200", b"/up")
    finally:
        writer.close()
