"""``--proxy-headers`` / ``--forwarded-allow-ips``: the client address and scheme from
``Forwarded`` (RFC 7239) or ``X-Forwarded-For``/``-Proto``, believed only from trusted
peers, nearest untrusted hop first (RFC 7239 §5.2, §7.4)."""
from __future__ import annotations

import httpx
import pytest

from blackbull.config import Settings
from blackbull.server.proxy_headers import TrustedProxies, apply_proxy_headers, parse_forwarded
from tests.apps.deploy import scope_info


def scope(headers: list[tuple[bytes, bytes]], client=("127.0.0.1", 5000),
          kind: str = "http") -> dict:
    return {"type": kind, "client": client, "scheme": "ws" if kind == "websocket" else "http",
            "headers": headers}


LOCAL = TrustedProxies("127.0.0.1")


def test_x_forwarded_for_and_proto_from_a_trusted_peer() -> None:
    s = scope([(b"x-forwarded-for", b"203.0.113.7"), (b"x-forwarded-proto", b"https")])
    apply_proxy_headers(s, LOCAL)
    assert s["client"] == ("203.0.113.7", 0) and s["scheme"] == "https"


def test_an_untrusted_peer_is_not_believed() -> None:
    s = scope([(b"x-forwarded-for", b"203.0.113.7"), (b"x-forwarded-proto", b"https")],
              client=("198.51.100.9", 5000))
    apply_proxy_headers(s, LOCAL)
    assert s["client"] == ("198.51.100.9", 5000) and s["scheme"] == "http"


def test_a_client_cannot_spoof_by_sending_the_field_itself() -> None:
    """The client wrote 1.2.3.4 and the proxy appended the real address: the nearest
    untrusted hop is the client."""
    s = scope([(b"x-forwarded-for", b"1.2.3.4, 203.0.113.7")])
    apply_proxy_headers(s, LOCAL)
    assert s["client"] == ("203.0.113.7", 0)


def test_a_chain_of_trusted_proxies_is_walked_through() -> None:
    trusted = TrustedProxies("127.0.0.1, 10.0.0.0/8")
    s = scope([(b"x-forwarded-for", b"203.0.113.7, 10.1.2.3")])
    apply_proxy_headers(s, trusted)
    assert s["client"] == ("203.0.113.7", 0)


def test_rfc7239_forwarded_with_ipv6_port_and_proto() -> None:
    """RFC 7239 §4 syntax, §6 node names: quoted IPv6 with a port."""
    s = scope([(b"forwarded", b'for="[2001:db8:cafe::17]:4711";proto=https;by=10.0.0.1')])
    apply_proxy_headers(s, LOCAL)
    assert s["client"] == ("2001:db8:cafe::17", 4711) and s["scheme"] == "https"


def test_forwarded_wins_over_x_forwarded_for() -> None:
    s = scope([(b"x-forwarded-for", b"198.51.100.1"), (b"forwarded", b"for=192.0.2.60")])
    apply_proxy_headers(s, LOCAL)
    assert s["client"] == ("192.0.2.60", 0)


def test_forwarded_unknown_or_obfuscated_node_gives_no_client() -> None:
    """RFC 7239 §6.2/§6.3: ``unknown`` and ``_hidden`` identify no address."""
    for value in (b"for=unknown", b"for=_hidden"):
        s = scope([(b"forwarded", value)])
        apply_proxy_headers(s, LOCAL)
        assert s["client"] is None


def test_parse_forwarded_elements_and_quoted_commas() -> None:
    """RFC 7239 §4: elements split on commas outside quoted-strings; names any case."""
    assert parse_forwarded(['For="[::1]:80";Proto=http, for=192.0.2.1', 'for="a,b"']) == [
        {"for": "[::1]:80", "proto": "http"}, {"for": "192.0.2.1"}, {"for": "a,b"}]


def test_websocket_scope_gets_wss() -> None:
    s = scope([(b"x-forwarded-proto", b"https")], kind="websocket")
    apply_proxy_headers(s, LOCAL)
    assert s["scheme"] == "wss"


def test_a_bad_trusted_list_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="BB_FORWARDED_ALLOW_IPS"):
        TrustedProxies("127.0.0.1, not-an-ip")


async def test_the_server_applies_them_only_when_switched_on(serve) -> None:
    headers = {"x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https"}
    on = await serve(scope_info, Settings(proxy_headers=True))
    off = await serve(scope_info, Settings())
    untrusted = await serve(scope_info, Settings(proxy_headers=True,
                                                 forwarded_allow_ips="10.0.0.0/8"))
    async with httpx.AsyncClient() as client:
        seen_on = (await client.get(f"http://127.0.0.1:{on.bound_port}/", headers=headers)).json()
        seen_off = (await client.get(f"http://127.0.0.1:{off.bound_port}/",
                                     headers=headers)).json()
        seen_untrusted = (await client.get(f"http://127.0.0.1:{untrusted.bound_port}/",
                                           headers=headers)).json()
    assert seen_on["client"] == ["203.0.113.7", 0] and seen_on["scheme"] == "https"
    assert seen_off["client"][0] == "127.0.0.1" and seen_off["scheme"] == "http"
    assert seen_untrusted["client"][0] == "127.0.0.1" and seen_untrusted["scheme"] == "http"
