"""One exception tree for the WebSocket code, and immutable events.

RFC 6455 §7.1.7 (a peer's protocol error fails the connection with a close code),
§4.1 / §4.2.1 (a failed opening handshake, client and server side), RFC 7692 §5
(extension negotiation) and RFC 8441 §5 (the extended CONNECT answer): every error the
core, its handshakes and the clients raise derives from ``WebSocketError``.
"""
from __future__ import annotations

import dataclasses

import pytest

from blackbull.client import HandshakeError, HandshakeFailed, WebSocketClosed
from blackbull.protocol.websocket import (
    BytesMessage,
    CloseReceived,
    ConnectionFailed,
    Event,
    InvalidState,
    NegotiationError,
    OpeningHandshakeError,
    Ping,
    Pong,
    TextMessage,
    WebSocketError,
    WebSocketProtocolError,
    negotiate_client,
)
from blackbull.protocol.websocket.deflate import params_from_element
from blackbull.protocol.websocket.extensions import parse_extensions
from blackbull.protocol.websocket.frames import FrameParser
from blackbull.protocol.websocket.handshake import (
    HandshakeRejection,
    accept_key,
    generate_key,
    validate_extended_connect,
    validate_server_response,
)

from .wsutil import server_core


def test_peer_protocol_error_is_a_websocket_error_with_its_close_code() -> None:
    """RFC 6455 §7.1.7: the parser's error carries the close code to fail with (1002)."""
    parser = FrameParser(expect_masked=True)
    parser.feed(b"\x81\x05hello")  # a client's frame must be masked (§5.1)
    with pytest.raises(WebSocketError) as info:
        list(parser.chunks())
    assert isinstance(info.value, WebSocketProtocolError) and info.value.code == 1002


def test_data_frame_after_our_close_is_invalid_state_and_still_a_runtime_error() -> None:
    """RFC 6455 §5.5.1: no data frame after our Close; the caller's bug is InvalidState,
    which stays a RuntimeError for code that caught that before."""
    core = server_core()
    core.send_close(1000)
    with pytest.raises(InvalidState) as info:
        core.send_text("late")
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, WebSocketError)


def test_server_side_refusal_is_an_opening_handshake_error_with_a_status() -> None:
    """RFC 8441 §5 / RFC 6455 §4.2.1: a refused request carries the HTTP status."""
    with pytest.raises(OpeningHandshakeError) as info:
        validate_extended_connect([(b":method", b"GET")])
    assert isinstance(info.value, HandshakeRejection) and info.value.status == 400


def test_client_side_failure_keeps_the_status_and_fields_of_the_answer() -> None:
    """RFC 6455 §4.1: a non-101 answer fails the handshake; the HTTP/1.1 client's
    HandshakeFailed carries the answer's status and fields, as RFC 8441's does."""
    answer = [(b"www-authenticate", b"Basic")]
    with pytest.raises(HandshakeFailed) as info:
        validate_server_response(401, answer, generate_key(), [])
    assert isinstance(info.value, OpeningHandshakeError)
    assert info.value.status == 401 and info.value.headers == answer


def test_client_side_failure_after_101_reports_the_101() -> None:
    """RFC 6455 §4.1 item 4: a wrong Sec-WebSocket-Accept fails a 101 answer."""
    key = generate_key()
    answer = [(b"upgrade", b"websocket"), (b"connection", b"Upgrade"),
              (b"sec-websocket-accept", accept_key(generate_key()).encode())]
    with pytest.raises(HandshakeFailed, match="Sec-WebSocket-Accept") as info:
        validate_server_response(101, answer, key, [])
    assert info.value.status == 101


def test_rfc8441_client_error_is_the_same_handshake_failure() -> None:
    """RFC 8441 §5: the HTTP/2 client's HandshakeError is a HandshakeFailed, so one
    ``except`` serves both carriers."""
    error = HandshakeError("the server answered 403", 403, [(b":status", b"403")])
    assert isinstance(error, HandshakeFailed) and isinstance(error, WebSocketError)
    assert error.status == 403 and error.headers == [(b":status", b"403")]


def test_negotiation_error_is_a_handshake_error_and_a_value_error() -> None:
    """RFC 7692 §5, §7.1: an invalid permessage-deflate answer fails the client's
    handshake; the error stays a ValueError for existing callers."""
    with pytest.raises(NegotiationError) as info:
        negotiate_client(["permessage-deflate; server_max_window_bits=7"])
    assert isinstance(info.value, OpeningHandshakeError) and isinstance(info.value, ValueError)
    offer = parse_extensions(["permessage-deflate; bogus"])[0]
    with pytest.raises(WebSocketError):
        params_from_element(offer, is_offer=True)


def test_closed_client_session_error_is_a_websocket_error_and_a_connection_error() -> None:
    """RFC 6455 §7.1.4: once closed, nothing more is sent; the client says so with
    WebSocketClosed, under both WebSocketError and ConnectionError."""
    assert issubclass(WebSocketClosed, WebSocketError)
    assert issubclass(WebSocketClosed, ConnectionError)


@pytest.mark.parametrize("event", [
    TextMessage("a"), BytesMessage(b"a"), Ping(b"p"), Pong(b"p"),
    CloseReceived(1000, ""), ConnectionFailed(1002, "bad"),
])
def test_events_are_immutable_once_reported(event: Event) -> None:
    """RFC 6455 §6.2: an event reports what was received; nobody may change it after."""
    name = dataclasses.fields(event)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(event, name, None)
