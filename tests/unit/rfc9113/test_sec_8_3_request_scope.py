"""RFC 9113 §8.2.3, §8.3.1, §8.4.1, RFC 7540 §3.2, RFC 8441 §3: how the server turns
an HTTP/2 field section into an ASGI scope, and the field sections it makes up itself
(server/http2_scope.py, server/http2_setup.py)."""
from __future__ import annotations

import pytest

from blackbull.config import Settings
from blackbull.protocol.http2 import H2Connection, ProtocolError, SettingCode
from blackbull.protocol.http2.priority import Priority
from blackbull.server.connection import Connection
from blackbull.server.http2_scope import build_scope, push_request, request_head
from blackbull.server.http2_setup import H2cUpgrade, local_settings, open_core
from blackbull.server.state import ServerState


async def _app(scope: object, receive: object, send: object) -> None:
    pass


def _conn(secure: bool = False) -> Connection:
    conn = Connection(ServerState(_app, Settings()), None)  # type: ignore[arg-type]
    conn.scheme_secure = secure
    return conn


REQUEST = [(b":method", b"GET"), (b":scheme", b"http"), (b":authority", b"example.org"),
           (b":path", b"/a%20b?x=1")]


def test_cookie_crumbs_are_joined_into_one_field() -> None:
    """RFC 9113 §8.2.3: split ``cookie`` fields are concatenated with "; " before an
    HTTP/1.1-shaped consumer (the ASGI app) sees them."""
    scope = build_scope(_conn(), REQUEST + [(b"cookie", b"a=1"), (b"accept", b"*/*"),
                                            (b"cookie", b"b=2")])
    assert [v for k, v in scope["headers"] if k == b"cookie"] == [b"a=1; b=2"]
    assert (b"accept", b"*/*") in scope["headers"]


def test_authority_becomes_the_host_field_when_the_request_has_none() -> None:
    """RFC 9113 §8.3.1: ``:authority`` replaces Host; the app still finds ``host``,
    first; a Host the client sent itself is kept as it is."""
    assert build_scope(_conn(), REQUEST)["headers"][0] == (b"host", b"example.org")
    scope = build_scope(_conn(), REQUEST + [(b"host", b"example.org")])
    assert [h for h in scope["headers"] if h[0] == b"host"] == [(b"host", b"example.org")]


def test_pseudo_headers_become_method_path_and_query() -> None:
    """RFC 9113 §8.3.1 and ASGI HTTP scope: ``:path`` is split at "?", the path
    percent-decoded with ``raw_path`` as sent; no pseudo-header reaches the app."""
    scope = build_scope(_conn(secure=True), REQUEST)
    assert (scope["method"], scope["path"], scope["raw_path"], scope["query_string"]) == (
        "GET", "/a b", b"/a%20b", b"x=1")
    assert scope["http_version"] == "2" and scope["scheme"] == "https"
    assert not any(k.startswith(b":") for k, _ in scope["headers"])


def test_websocket_scope_of_an_extended_connect() -> None:
    """RFC 8441 §5 and ASGI WebSocket scope: ``ws``/``wss`` scheme, no method."""
    connect = [(b":method", b"CONNECT"), (b":protocol", b"websocket"), (b":scheme", b"http"),
               (b":authority", b"example.org"), (b":path", b"/chat")]
    scope = build_scope(_conn(), connect, "websocket")
    assert scope["type"] == "websocket" and scope["scheme"] == "ws"
    assert "method" not in scope and scope["path"] == "/chat"


def test_push_request_is_a_get_on_the_parent_origin() -> None:
    """RFC 9113 §8.4.1: a promised request is safe (GET) with the parent request's
    scheme and authority; field names are lower case (§8.2.1)."""
    parent = build_scope(_conn(secure=True), REQUEST)
    fields = push_request(parent, {"path": "/style.css", "headers": [(b"Accept", b"text/css")]})
    assert fields == [(b":method", b"GET"), (b":scheme", b"https"),
                      (b":authority", b"example.org"), (b":path", b"/style.css"),
                      (b"accept", b"text/css")]


def test_h2c_upgrade_request_becomes_stream_1_fields() -> None:
    """RFC 7540 §3.2: the HTTP/1.1 request that upgraded is answered on stream 1; its
    Host becomes ``:authority`` and an empty target is ``/``."""
    upgrade = H2cUpgrade.of(b" ", [(b"host", b"h"), (b"accept", b"*/*")], b"POST", b"", b"x")
    assert upgrade.http2_settings == b"" and upgrade.method == "POST"
    assert upgrade.request_fields(secure=False) == [
        (b":method", b"POST"), (b":scheme", b"http"), (b":authority", b"h"), (b":path", b"/"),
        (b"accept", b"*/*")]
    with pytest.raises(ProtocolError):  # §3.2.1: ENABLE_PUSH=7 is invalid
        H2cUpgrade.of(b"AAIAAAAH", [], "GET", b"/", b"")


@pytest.mark.parametrize("websocket", [False, True])
def test_connect_protocol_is_advertised_only_when_websocket_is_served(websocket: bool) -> None:
    """RFC 8441 §3: SETTINGS_ENABLE_CONNECT_PROTOCOL only where it really works; the
    other local settings come from the BB_H2_* fields (RFC 9113 §6.5.2)."""
    settings = Settings(h2_enable_websocket=websocket, h2_max_concurrent_streams=7)
    local = local_settings(settings)
    assert local[SettingCode.MAX_CONCURRENT_STREAMS] == 7
    assert (SettingCode.ENABLE_CONNECT_PROTOCOL in local) is websocket
    core = open_core(settings, lambda: 0.0)
    assert isinstance(core, H2Connection) and core.data_to_send()[:9][3] == 0x4  # SETTINGS


def test_request_head_is_memoised_per_distinct_field_section() -> None:
    """RFC 9113 §8.3.1, RFC 9218 §5, RFC 8441 §4: a repeated field section gives the
    same head (priority header parsed, ``:protocol`` found), while each scope still
    gets its own fields list; a different section gets its own head."""
    fields = REQUEST + [(b"priority", b"u=1, i")]
    head = request_head(fields)
    assert request_head(list(fields)) is head
    assert head.priority == Priority(1, True) and head.protocol is None
    first, second = build_scope(_conn(), fields), build_scope(_conn(), fields)
    assert first["headers"] == second["headers"] and first["headers"] is not second["headers"]
    first["headers"].append((b"x", b"y"))
    assert (b"x", b"y") not in build_scope(_conn(), fields)["headers"]
    connect = [(b":method", b"CONNECT"), (b":protocol", b"websocket"), (b":scheme", b"http"),
               (b":authority", b"example.org"), (b":path", b"/chat")]
    assert request_head(connect).protocol == b"websocket"
    assert request_head(REQUEST).priority is None


def test_large_field_sections_are_not_memoised() -> None:
    """RFC 9113 §10.5: the head memo keeps no section over 4096 octets alive."""
    from blackbull.server import http2_scope
    big = REQUEST + [(b"x-big", b"v" * 5000)]
    http2_scope.request_head(big)
    assert tuple(big) not in http2_scope._HEADS
