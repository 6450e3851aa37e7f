"""The client address and scheme a trusted proxy reports (``BB_PROXY_HEADERS``).

A reverse proxy connects on behalf of the client, so the socket shows the proxy. It says
who the client was in ``Forwarded`` (RFC 7239 §4–§5: ``for=`` and ``proto=``) or in the
de-facto ``X-Forwarded-For`` / ``X-Forwarded-Proto``. These fields are believed only from
a peer listed in ``BB_FORWARDED_ALLOW_IPS``: anyone else could claim any address. Of a
chain of proxies, the client is the nearest hop that is not itself trusted (each proxy
appends the address it received from, RFC 7239 §5.2), so a client cannot pose as another
by sending the field itself. When ``Forwarded`` is present it wins over the X- fields.

:func:`apply_proxy_headers` rewrites one ASGI scope; :class:`ProxyHeaders` is the ASGI
wrapper the server puts around the app when the setting is on.
"""
from __future__ import annotations

import ipaddress
from typing import Any

from ..protocol.fields import split_outside_quotes, unquote

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """``BB_FORWARDED_ALLOW_IPS``: ``*``, or addresses and networks, comma-separated."""

    def __init__(self, spec: str) -> None:
        items = [item.strip() for item in spec.split(",") if item.strip()]
        self.everyone = "*" in items
        self.networks: list[Network] = []
        for item in items:
            if item != "*":
                try:
                    self.networks.append(ipaddress.ip_network(item, strict=False))
                except ValueError:
                    raise ValueError(f"BB_FORWARDED_ALLOW_IPS: {item!r} is not an address "
                                     "or network") from None

    def __contains__(self, host: object) -> bool:
        if self.everyone:
            return True
        if not isinstance(host, str):
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in net for net in self.networks)


def parse_forwarded(values: list[str]) -> list[dict[str, str]]:
    """RFC 7239 §4: ``Forwarded`` field values → one dict per forwarded-element, in
    order (client side first); parameter names are case-insensitive."""
    elements = []
    for value in values:
        for element in split_outside_quotes(value, ","):
            pairs: dict[str, str] = {}
            for pair in split_outside_quotes(element, ";"):
                name, sep, val = pair.partition("=")
                if sep:
                    pairs[name.strip().lower()] = unquote(val)
            if pairs:
                elements.append(pairs)
    return elements


def _node(value: str) -> tuple[str, int] | None:
    """RFC 7239 §6: ``192.0.2.43``, ``"[2001:db8::1]:4711"``, ``unknown``, ``_hidden``;
    None for an unknown or obfuscated node (no address to report)."""
    value = value.strip()
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif value.count(":") == 1:
        host, _, port = value.partition(":")
    else:
        host, port = value, ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None
    return host, int(port) if port.isdigit() else 0


def _choose(hops: list[str], trusted: TrustedProxies) -> int:
    """Index of the client among ``hops`` (client first): the last hop that is not a
    trusted proxy, or the first hop when all are trusted."""
    for index in range(len(hops) - 1, -1, -1):
        node = _node(hops[index])
        if node is None or node[0] not in trusted:
            return index
    return 0


def _scheme(proto: str, scope_type: str) -> str | None:
    proto = proto.strip().lower()
    if proto not in ("http", "https", "ws", "wss"):
        return None
    secure = proto in ("https", "wss")
    if scope_type == "websocket":
        return "wss" if secure else "ws"
    return "https" if secure else "http"


def apply_proxy_headers(scope: dict[str, Any], trusted: TrustedProxies) -> None:
    """Replace ``scope["client"]`` and ``scope["scheme"]`` by what a trusted peer says."""
    peer = scope.get("client")
    if not trusted.everyone and (peer is None or peer[0] not in trusted):
        return
    forwarded: list[str] = []
    xff: list[str] = []
    xfp: list[str] = []
    for name, value in scope["headers"]:
        if name == b"forwarded":
            forwarded.append(value.decode("latin-1"))
        elif name == b"x-forwarded-for":
            xff.extend(v.strip() for v in value.decode("latin-1").split(","))
        elif name == b"x-forwarded-proto":
            xfp.extend(v.strip() for v in value.decode("latin-1").split(","))
    if forwarded:
        elements = parse_forwarded(forwarded)
        hops = [element.get("for", "unknown") for element in elements]
        if not hops:
            return
        index = _choose(hops, trusted)
        scope["client"] = _node(hops[index])
        proto = elements[index].get("proto")
        if proto:
            scheme = _scheme(proto, scope["type"])
            if scheme:
                scope["scheme"] = scheme
        return
    if xff and all(xff):
        index = _choose(xff, trusted)
        scope["client"] = _node(xff[index])
        if xfp:
            proto = xfp[index] if len(xfp) == len(xff) else xfp[0]
            scheme = _scheme(proto, scope["type"])
            if scheme:
                scope["scheme"] = scheme
    elif xfp:
        scheme = _scheme(xfp[0], scope["type"])
        if scheme:
            scope["scheme"] = scheme


class ProxyHeaders:
    """ASGI wrapper: :func:`apply_proxy_headers` on every ``http``/``websocket`` scope."""

    def __init__(self, app: Any, trusted: TrustedProxies) -> None:
        self.app = app
        self.trusted = trusted

    def __getattr__(self, name: str) -> Any:  # e.g. available_ws_protocols of the app
        return getattr(self.app, name)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            apply_proxy_headers(scope, self.trusted)
        await self.app(scope, receive, send)
