"""The sans-I/O client role of an HTTP/1.1 connection (RFC 9112 §9) and its response
parser, in memory; the server side is h11 (an independent implementation), so what we
send must parse there and what h11 sends must parse here."""
from __future__ import annotations

import h11
import pytest

from blackbull.protocol.http1.client import ClientConnection, ClientState, LocalProtocolError
from blackbull.protocol.http1.events import Data, EndOfMessage, Response, ResponseRejected
from blackbull.protocol.http1.head import parse_response_head
from blackbull.protocol.http1.response_parser import ResponseParser

HOST = [(b"Host", b"example.test")]


def _h11_server(data: bytes) -> tuple[h11.Connection, list[object]]:
    server = h11.Connection(h11.SERVER)
    server.receive_data(data)
    events = []
    while True:
        event = server.next_event()
        if event is h11.NEED_DATA or isinstance(event, h11.ConnectionClosed):
            break
        events.append(event)
        if isinstance(event, h11.EndOfMessage):
            break
    return server, events


def _answer(server: h11.Connection, status: int, body: bytes = b"",
            headers: list[tuple[bytes, bytes]] | None = None) -> bytes:
    fields = headers if headers is not None else [(b"content-length", b"%d" % len(body))]
    out = server.send(h11.Response(status_code=status, headers=fields)) or b""
    if body:
        out += server.send(h11.Data(data=body)) or b""
    return out + (server.send(h11.EndOfMessage()) or b"")


def _kinds(events: list[object]) -> list[str]:
    return [type(e).__name__ for e in events]


def test_request_parses_at_an_independent_server_and_the_response_comes_back():
    """RFC 9112 §3 (request line, fields) and §6.3 (Content-Length framing), both ways."""
    client = ClientConnection()
    wire = client.send_request("POST", "/echo?x=1", HOST, body=b"hello")
    server, events = _h11_server(wire)
    request = events[0]
    assert isinstance(request, h11.Request)
    assert (request.method, request.target) == (b"POST", b"/echo?x=1")
    assert isinstance(events[1], h11.Data) and events[1].data == b"hello"
    assert client.state is ClientState.WAITING
    got = client.receive_data(_answer(server, 200, b"world"))
    assert _kinds(got) == ["Response", "Data", "EndOfMessage"]
    assert got[0].status == 200 and got[1] == Data(b"world")  # type: ignore[union-attr]
    assert client.state is ClientState.IDLE


def test_chunked_response_is_decoded_across_any_split():
    """RFC 9112 §7.1: a chunked body, fed one byte at a time, gives the same data."""
    client = ClientConnection()
    server, _ = _h11_server(client.send_request("GET", "/", HOST))
    wire = _answer(server, 200, b"abcdefghij", headers=[(b"transfer-encoding", b"chunked")])
    events = []
    for i in range(len(wire)):
        events += client.receive_data(wire[i:i + 1])
    assert b"".join(e.data for e in events if isinstance(e, Data)) == b"abcdefghij"
    assert isinstance(events[-1], EndOfMessage) and client.state is ClientState.IDLE


def test_pipelined_responses_come_back_in_request_order_and_head_has_no_body():
    """RFC 9112 §9.3.2: responses arrive in request order; RFC 9110 §9.3.2: a response
    to HEAD has no content even with Content-Length, so the next response follows it."""
    client = ClientConnection()
    wire = client.send_request("HEAD", "/a", HOST) + client.send_request("GET", "/b", HOST)
    assert client.outstanding == 2
    head = (b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")
    get = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
    events = client.receive_data(head + get)
    assert _kinds(events) == ["Response", "EndOfMessage", "Response", "Data",
                              "EndOfMessage"]
    assert events[0].has_body is False  # type: ignore[union-attr]
    assert client.state is ClientState.IDLE and client.outstanding == 0
    assert wire.count(b"HTTP/1.1\r\n") == 2


def test_unsafe_requests_are_not_pipelined():
    """RFC 9112 §9.3.2: a client SHOULD NOT pipeline non-idempotent methods."""
    client = ClientConnection()
    client.send_request("GET", "/", HOST)
    with pytest.raises(LocalProtocolError):
        client.send_request("POST", "/", HOST, body=b"x")


def test_connection_close_ends_persistence():
    """RFC 9112 §9.6: a response with ``Connection: close`` ends the connection; no
    further request may be sent on it."""
    client = ClientConnection()
    client.send_request("GET", "/", HOST)
    client.receive_data(b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n")
    assert client.state is ClientState.MUST_CLOSE
    with pytest.raises(LocalProtocolError):
        client.send_request("GET", "/", HOST)


def test_http10_response_without_length_is_delimited_by_the_close():
    """RFC 9112 §6.3 item 8: without Content-Length or chunked, the body runs to the
    close; the EOF ends the message."""
    client = ClientConnection()
    client.send_request("GET", "/", HOST)
    events = client.receive_data(b"HTTP/1.0 200 OK\r\n\r\npart")
    assert _kinds(events) == ["Response", "Data"]
    assert _kinds(client.receive_eof()) == ["EndOfMessage"]
    assert client.state is ClientState.MUST_CLOSE


def test_interim_100_precedes_the_final_response():
    """RFC 9110 §15.2 / §10.1.1: a 100 Continue is interim; the final response follows
    for the same request."""
    client = ClientConnection()
    client.send_request("PUT", "/", [*HOST, (b"Expect", b"100-continue")], body=b"x")
    events = client.receive_data(b"HTTP/1.1 100 Continue\r\n\r\n"
                                 b"HTTP/1.1 204 No Content\r\n\r\n")
    assert [e.status for e in events if isinstance(e, Response)] == [100, 204]
    assert events[0].informational  # type: ignore[union-attr]
    assert isinstance(events[-1], EndOfMessage) and client.state is ClientState.IDLE


def test_101_to_a_proposed_upgrade_switches_and_keeps_the_trailing_bytes():
    """RFC 9110 §7.8 / §15.2.2: after 101 the connection carries the protocol we
    proposed; bytes after the head belong to it."""
    client = ClientConnection()
    client.send_request("GET", "/ws", [*HOST, (b"Upgrade", b"websocket"),
                                       (b"Connection", b"Upgrade")])
    events = client.receive_data(b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n"
                                 b"connection: Upgrade\r\n\r\n\x81\x02hi")
    assert _kinds(events) == ["Response"] and events[0].status == 101  # type: ignore[union-attr]
    assert client.state is ClientState.SWITCHED and client.trailing_data == b"\x81\x02hi"


def test_101_to_an_upgrade_not_proposed_is_rejected():
    """RFC 9110 §15.2.2: a server MUST NOT switch to a protocol the client did not
    list in Upgrade; such a 101 makes the connection unusable."""
    client = ClientConnection()
    client.send_request("GET", "/", HOST)
    events = client.receive_data(b"HTTP/1.1 101 Switching Protocols\r\nupgrade: h2c\r\n\r\n")
    assert isinstance(events[-1], ResponseRejected) and client.state is ClientState.ERROR


@pytest.mark.parametrize("head, reason", [
    (b"HTTP/1.1 200 OK\r\n" + b"x-a: b\r\n" * 101 + b"\r\n", "too many"),
    (b"HTTP/1.1 200 OK\r\nx-big: " + b"v" * 70000 + b"\r\n\r\n", "too large"),
    (b"HTTP/1.1 2OO OK\r\n\r\n", ""),
    (b"HTTP/2.0 200 OK\r\n\r\n", ""),
])
def test_response_head_limits_and_syntax(head: bytes, reason: str):
    """RFC 9112 §2.3 / §4: the same limits as requests (field count, field bytes) and a
    valid status line; anything else is a rejection, never an exception."""
    parser = ResponseParser()
    parser.expect("GET")
    events = parser.feed(head)
    assert len(events) == 1 and isinstance(events[0], ResponseRejected)
    assert reason in events[0].reason
    assert isinstance(parse_response_head(head), ResponseRejected)


def test_a_response_without_a_request_is_rejected():
    """RFC 9112 §9.3.2: responses answer requests in order; one with no request
    outstanding cannot be matched to anything."""
    events = ResponseParser().feed(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
    assert isinstance(events[0], ResponseRejected)


def test_invalid_chunk_size_is_rejected():
    """RFC 9112 §7.1: chunk-size is 1*HEXDIG."""
    parser = ResponseParser()
    parser.expect("GET")
    events = parser.feed(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n")
    assert isinstance(events[-1], ResponseRejected)


def test_response_head_parse_matches_the_connection():
    """RFC 9112 §4: the one head parser gives the status, reason, version and fields
    (names lowercased, values raw) the client's handshake checks read."""
    response = parse_response_head(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket"
                                   b"\r\nSec-WebSocket-Accept: abc=\r\n\r\n")
    assert isinstance(response, Response)
    assert (response.status, response.reason, response.http_version) == (
        101, "Switching Protocols", "1.1")
    assert response.headers == [(b"upgrade", b"websocket"), (b"sec-websocket-accept", b"abc=")]
