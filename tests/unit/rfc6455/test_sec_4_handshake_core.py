"""RFC 6455 §4 and RFC 8441 §4–§5: the opening handshake helpers."""
from __future__ import annotations

import pytest

from blackbull.protocol.websocket.handshake import (
    HandshakeFailed,
    HandshakeRejection,
    accept_key,
    generate_key,
    is_valid_key,
    server_response_headers,
    validate_extended_connect,
    validate_server_response,
    validate_upgrade_request,
)

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="


def good_headers(**over: bytes) -> list[tuple[bytes, bytes]]:
    base = {b"host": b"example.com", b"upgrade": b"websocket",
            b"connection": b"keep-alive, Upgrade", b"sec-websocket-key": KEY,
            b"sec-websocket-version": b"13"}
    for k, v in over.items():
        base[k.replace("_", "-").encode()] = v
    return [(k, v) for k, v in base.items() if v is not None]


def test_accept_value_of_the_rfc_example() -> None:
    """RFC 6455 §1.3: "dGhlIHNhbXBsZSBub25jZQ==" → "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="."""
    assert accept_key(KEY) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_generated_key_is_base64_of_16_random_bytes() -> None:
    """RFC 6455 §4.1 item 7: a randomly selected 16-byte value, base64-encoded."""
    keys = {generate_key() for _ in range(10)}
    assert len(keys) == 10 and all(is_valid_key(k.encode()) for k in keys)


def test_valid_request_with_token_lists_and_case_insensitive_values() -> None:
    """RFC 6455 §4.2.1: Upgrade/Connection tokens compare case-insensitively."""
    hs = validate_upgrade_request("GET", "1.1", good_headers(
        upgrade=b"WebSocket", connection=b"keep-alive, UPGRADE",
        sec_websocket_protocol=b"chat, superchat"))
    assert hs.key == KEY and hs.subprotocols == ["chat", "superchat"]


@pytest.mark.parametrize("change", [
    {"upgrade": None}, {"upgrade": b"h2c"}, {"connection": b"keep-alive"},
    {"sec_websocket_key": None}, {"sec_websocket_key": b"c2hvcnQ="},
    {"sec_websocket_key": b"not base64 at all!!!!!!="}, {"host": None},
])
def test_malformed_request_is_rejected_with_400(change: dict) -> None:
    """RFC 6455 §4.2.1: a handshake that does not match → 400 Bad Request."""
    with pytest.raises(HandshakeRejection) as info:
        validate_upgrade_request("GET", "1.1", good_headers(**change))
    assert info.value.status == 400


def test_post_is_rejected() -> None:
    """RFC 6455 §4.2.1 item 1: the handshake is an HTTP/1.1 GET."""
    with pytest.raises(HandshakeRejection):
        validate_upgrade_request("POST", "1.1", good_headers())


def test_http_1_0_is_rejected() -> None:
    """RFC 6455 §4.2.1 item 1: HTTP/1.1 or higher."""
    with pytest.raises(HandshakeRejection) as info:
        validate_upgrade_request("GET", "1.0", good_headers())
    assert info.value.status == 400


@pytest.mark.parametrize("version", [b"8", b"12", b"14", None])
def test_other_version_gets_426_naming_version_13(version: bytes | None) -> None:
    """RFC 6455 §4.2.2/§4.4: unsupported version → 426 with Sec-WebSocket-Version: 13."""
    with pytest.raises(HandshakeRejection) as info:
        validate_upgrade_request("GET", "1.1", good_headers(sec_websocket_version=version))
    assert info.value.status == 426
    assert (b"sec-websocket-version", b"13") in info.value.headers


def test_response_headers_carry_upgrade_and_accept() -> None:
    """RFC 6455 §4.2.2 item 5: Upgrade, Connection, Sec-WebSocket-Accept."""
    hs = validate_upgrade_request("GET", "1.1", good_headers())
    headers = dict(server_response_headers(hs, "chat", "permessage-deflate"))
    assert headers[b"upgrade"] == b"websocket"
    assert headers[b"sec-websocket-accept"] == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert headers[b"sec-websocket-protocol"] == b"chat"


def test_extended_connect_needs_no_key_and_answers_without_accept() -> None:
    """RFC 8441 §5: no Sec-WebSocket-Key/Accept; success is :status 200."""
    hs = validate_extended_connect([
        (b":method", b"CONNECT"), (b":protocol", b"websocket"), (b":scheme", b"https"),
        (b":path", b"/chat"), (b":authority", b"example.com"),
        (b"sec-websocket-version", b"13"), (b"sec-websocket-protocol", b"chat")])
    assert hs.key is None and hs.subprotocols == ["chat"]
    names = [k for k, _ in server_response_headers(hs, "chat")]
    assert b"sec-websocket-accept" not in names and b"upgrade" not in names


@pytest.mark.parametrize("drop", [b":protocol", b":path", b":authority", b":scheme"])
def test_extended_connect_without_required_pseudo_headers_is_refused(drop: bytes) -> None:
    """RFC 8441 §4: :protocol, :scheme, :path and :authority are required."""
    headers = [(b":method", b"CONNECT"), (b":protocol", b"websocket"),
               (b":scheme", b"https"), (b":path", b"/"), (b":authority", b"a"),
               (b"sec-websocket-version", b"13")]
    with pytest.raises(HandshakeRejection):
        validate_extended_connect([(k, v) for k, v in headers if k != drop])


def test_client_rejects_wrong_accept_and_unoffered_subprotocol() -> None:
    """RFC 6455 §4.1: the client fails the connection on a wrong accept or subprotocol."""
    key = generate_key()
    good = [(b"upgrade", b"websocket"), (b"connection", b"Upgrade"),
            (b"sec-websocket-accept", accept_key(key).encode())]
    assert validate_server_response(101, good, key, []) is None
    with pytest.raises(HandshakeFailed):
        validate_server_response(101, good[:2] + [(b"sec-websocket-accept", b"x")], key, [])
    with pytest.raises(HandshakeFailed):
        validate_server_response(101, good + [(b"sec-websocket-protocol", b"x")], key, ["y"])
    with pytest.raises(HandshakeFailed):
        validate_server_response(200, good, key, [])
