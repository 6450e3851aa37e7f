"""RFC 6455 §4.2.1–§4.4 refusals as HTTP answers (RFC 9110 §6.6.1, §7.8, §15.5.22), and the
Upgrade token list of RFC 9110 §7.8.

A refused opening handshake is an ordinary HTTP/1.1 response: it carries Date like every
2xx–4xx answer of a server with a clock (RFC 9110 §6.6.1), and a 426 names the protocol
to upgrade to — "The server MUST send an Upgrade header field in a 426 response to
indicate the required protocol(s)" (RFC 9110 §15.5.22) — with the ``Upgrade`` connection
option every sender of Upgrade adds (RFC 9110 §7.8).
"""
from __future__ import annotations

from typing import Any

import pytest

from blackbull.protocol.http1.parser import RequestParser
from blackbull.protocol.websocket.handshake import (
    HandshakeRejection,
    parse_response_head,
    render_http1_refusal,
    validate_upgrade_request,
)
from tests.conftest import raw_exchange

from .wsutil import echo_app

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
DATE = b"Tue, 01 Dec 2026 12:00:00 GMT"


def _handshake(version: bytes = b"13", upgrade: bytes = b"websocket",
               key: bytes | None = KEY, path: bytes = b"/") -> bytes:
    lines = [b"GET %s HTTP/1.1" % path, b"Host: 127.0.0.1", b"Upgrade: " + upgrade,
             b"Connection: Upgrade", b"Sec-WebSocket-Version: " + version]
    if key is not None:
        lines.append(b"Sec-WebSocket-Key: " + key)
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _head(answer: bytes) -> tuple[int, dict[bytes, list[bytes]]]:
    status, _, headers = parse_response_head(answer.partition(b"\r\n\r\n")[0])
    fields: dict[bytes, list[bytes]] = {}
    for name, value in headers:
        fields.setdefault(name.lower(), []).append(value)
    return status, fields


def test_the_426_rejection_names_websocket_in_upgrade() -> None:
    """RFC 9110 §15.5.22: the 426 for a version we do not speak carries Upgrade:
    websocket, beside RFC 6455 §4.4's Sec-WebSocket-Version: 13."""
    headers = [(b"host", b"a"), (b"upgrade", b"websocket"), (b"connection", b"Upgrade"),
               (b"sec-websocket-key", KEY), (b"sec-websocket-version", b"99")]
    with pytest.raises(HandshakeRejection) as info:
        validate_upgrade_request("GET", "1.1", headers)
    assert info.value.status == 426
    assert (b"upgrade", b"websocket") in info.value.headers
    assert (b"sec-websocket-version", b"13") in info.value.headers


def test_a_refusal_with_upgrade_lists_the_upgrade_connection_option() -> None:
    """RFC 9110 §7.8: a sender of Upgrade also sends the "Upgrade" connection option; the
    refusal still closes (Connection: Upgrade, close) and carries Date (§6.6.1)."""
    status, fields = _head(render_http1_refusal(
        426, "Upgrade Required", [(b"upgrade", b"websocket")], b"no", date=DATE))
    assert status == 426
    assert fields[b"upgrade"] == [b"websocket"]
    assert fields[b"connection"] == [b"Upgrade, close"]
    assert fields[b"date"] == [DATE] and fields[b"content-length"] == [b"2"]


def test_a_refusal_keeps_the_apps_date_and_owns_the_framing() -> None:
    """RFC 9110 §6.6.1: one Date (an app's own wins); RFC 9112 §6: the renderer frames
    the body itself, so an app's Content-Length / Connection never doubles ours."""
    app = [(b"date", b"Mon, 30 Nov 2026 00:00:00 GMT"), (b"content-length", b"99"),
           (b"connection", b"keep-alive"), (b"x-why", b"denied")]
    _, fields = _head(render_http1_refusal(403, "Forbidden", app, b"denied", date=DATE))
    assert fields[b"date"] == [b"Mon, 30 Nov 2026 00:00:00 GMT"]
    assert fields[b"content-length"] == [b"6"] and fields[b"connection"] == [b"close"]
    assert fields[b"x-why"] == [b"denied"]


async def test_the_426_on_the_wire_has_upgrade_connection_and_date(serve) -> None:
    """RFC 9110 §15.5.22, §7.8 and §6.6.1 on the answer to Sec-WebSocket-Version: 99."""
    srv = await serve(echo_app)
    answer = await raw_exchange(srv.bound_port, _handshake(version=b"99"))
    status, fields = _head(answer)
    assert status == 426
    assert fields[b"upgrade"] == [b"websocket"]
    assert b"upgrade" in [t.strip().lower() for t in fields[b"connection"][0].split(b",")]
    assert len(fields[b"date"]) == 1 and fields[b"date"][0].endswith(b" GMT")


async def test_the_400_for_a_missing_key_has_date(serve) -> None:
    """RFC 9110 §6.6.1: Date on the 400 for a handshake without Sec-WebSocket-Key (RFC 6455
    §4.2.1 item 5); a 400 carries no Upgrade."""
    srv = await serve(echo_app)
    status, fields = _head(await raw_exchange(srv.bound_port, _handshake(key=None)))
    assert status == 400 and len(fields[b"date"]) == 1
    assert b"upgrade" not in fields and fields[b"connection"] == [b"close"]


async def _denying_app(scope: dict, receive: Any, send: Any) -> None:
    await receive()  # websocket.connect
    await send({"type": "websocket.http.response.start", "status": 403,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "websocket.http.response.body", "body": b"nope"})


async def test_an_asgi_denial_response_has_date(serve) -> None:
    """RFC 9110 §6.6.1 for the ASGI WebSocket Denial Response extension: the app's 403 is
    sent with a Date the server adds."""
    srv = await serve(_denying_app)
    answer = await raw_exchange(srv.bound_port, _handshake())
    status, fields = _head(answer)
    assert status == 403 and len(fields[b"date"]) == 1 and answer.endswith(b"nope")


@pytest.mark.parametrize("value, chosen", [
    (b"x/1, websocket", b"websocket"),
    (b"WebSocket", b"websocket"),
    (b"foo, h2c", b"h2c"),
    (b"foo/2", None),
    (b"websocket/13", None),   # websocket takes no protocol-version
])
def test_the_first_supported_upgrade_token_is_chosen(value: bytes, chosen: bytes | None
                                                      ) -> None:
    """RFC 9110 §7.8: Upgrade lists protocols by the client's preference and the server
    picks one it supports, not only the first listed."""
    events = RequestParser().feed(b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: " + value +
                                  b"\r\nConnection: Upgrade\r\n\r\n")
    assert events[0].upgrade == chosen


async def test_a_websocket_listed_after_another_protocol_is_upgraded(serve) -> None:
    """RFC 9110 §7.8 / RFC 6455 §4.2.1 item 3: ``Upgrade: x/1, websocket`` includes
    websocket, so the handshake completes (101)."""
    srv = await serve(echo_app)
    answer = await raw_exchange(srv.bound_port, _handshake(upgrade=b"x/1, websocket"),
                                read_until_close=False)
    assert answer.startswith(b"HTTP/1.1 101 ")
    assert b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in answer
