"""HTTP/2 field validation (RFC 9113 §8.2, §8.3; RFC 8441 §4 for ``:protocol``).

A malformed message is a stream error of type PROTOCOL_ERROR (§8.1.1); these
functions raise :class:`MalformedHeaders` and the connection maps it to that.
"""
from __future__ import annotations

import re

from .errors import MalformedHeaders

__all__ = ["CONNECTION_SPECIFIC", "MalformedHeaders", "validate_request", "validate_response",
           "validate_trailers"]

Headers = list[tuple[bytes, bytes]]

# §8.2.1: names must not contain 0x00-0x20, 0x41-0x5a (uppercase), 0x7f-0xff, nor a colon
# outside the leading one of a pseudo-header.
_BAD_NAME = re.compile(rb"[\x00-\x20:A-Z\x7f-\xff]")
# §8.2.1: values must not contain NUL, CR or LF, nor start or end with SP or HTAB.
_BAD_VALUE = re.compile(rb"[\x00\r\n]|\A[ \t]|[ \t]\Z")

#: §8.2.2: connection-specific fields make a message malformed.
CONNECTION_SPECIFIC = frozenset(
    (b"connection", b"proxy-connection", b"keep-alive", b"transfer-encoding", b"upgrade"))

REQUEST_PSEUDO = frozenset((b":method", b":scheme", b":authority", b":path"))
EXTENDED_CONNECT_PSEUDO = REQUEST_PSEUDO | {b":protocol"}


def _check_regular(name: bytes, value: bytes) -> None:
    if not name or _BAD_NAME.search(name):
        raise MalformedHeaders(f"invalid field name {name!r}")
    if value and _BAD_VALUE.search(value):
        raise MalformedHeaders(f"invalid value for field {name!r}")
    if name in CONNECTION_SPECIFIC:
        raise MalformedHeaders(f"connection-specific field {name!r}")
    if name == b"te" and value != b"trailers":
        raise MalformedHeaders("te other than 'trailers'")


def _content_length(current: int | None, value: bytes) -> int:
    # RFC 9110 §8.6: repeated values must agree; anything not all-digits is invalid.
    if not value.isdigit():
        raise MalformedHeaders("invalid content-length")
    n = int(value)
    if current is not None and current != n:
        raise MalformedHeaders("conflicting content-length values")
    return n


def validate_request(headers: Headers, allow_protocol: bool = False,
                     ) -> tuple[dict[bytes, bytes], int | None]:
    """§8.3.1: check a request header block; return (pseudo-headers, content-length).

    ``allow_protocol`` is true when we advertised SETTINGS_ENABLE_CONNECT_PROTOCOL
    (RFC 8441 §3), which makes ``:protocol`` a known pseudo-header.
    """
    allowed = EXTENDED_CONNECT_PSEUDO if allow_protocol else REQUEST_PSEUDO
    pseudo: dict[bytes, bytes] = {}
    content_length: int | None = None
    regular_seen = False
    hosts: list[bytes] = []
    for name, value in headers:
        if name[:1] == b":":
            if regular_seen:
                raise MalformedHeaders("pseudo-header after a regular field")  # §8.3
            if name not in allowed:
                raise MalformedHeaders(f"unknown pseudo-header {name!r}")
            if name in pseudo:
                raise MalformedHeaders(f"duplicate pseudo-header {name!r}")
            if value and _BAD_VALUE.search(value):
                raise MalformedHeaders(f"invalid value for {name!r}")
            pseudo[name] = value
            continue
        regular_seen = True
        _check_regular(name, value)
        if name == b"content-length":
            content_length = _content_length(content_length, value)
        elif name == b"host":
            hosts.append(value)
    _check_request_pseudo(pseudo)
    _check_authority(pseudo, hosts)
    return pseudo, content_length


_DEFAULT_PORT = {b"http": b"80", b"https": b"443"}


def _entity(authority: bytes, scheme: bytes) -> bytes:
    """host[:port] lowercased, with the scheme's default port made explicit (RFC 9110 §4.2.3)."""
    value = authority.lower()
    host, sep, port = value.rpartition(b":")
    if not sep or b"]" in port:  # no port (an IPv6 literal's colons are inside brackets)
        return value + b":" + _DEFAULT_PORT.get(scheme, b"")
    return host + b":" + (port or _DEFAULT_PORT.get(scheme, b""))


def _check_authority(pseudo: dict[bytes, bytes], hosts: list[bytes]) -> None:
    """§8.3.1 for http and https requests (CONNECT has its own rules, §8.5).

    - ``:authority`` MUST NOT include userinfo: a request that does is treated as malformed;
    - the request MUST carry ``:authority`` or ``Host`` (the scheme has a mandatory
      authority component, RFC 9110 §4.2.1): without either it is malformed;
    - a ``Host`` naming another entity than ``:authority`` SHOULD make it malformed,
      and so do several ``Host`` fields (RFC 9110 §7.2 allows one)."""
    scheme = pseudo.get(b":scheme")
    if scheme not in _DEFAULT_PORT or pseudo.get(b":method") == b"CONNECT":
        return
    authority = pseudo.get(b":authority")
    if authority is not None and b"@" in authority:
        raise MalformedHeaders(":authority with userinfo")
    if len(hosts) > 1:
        raise MalformedHeaders("several host fields")
    if not authority and not (hosts and hosts[0]):
        raise MalformedHeaders("neither :authority nor host")
    if authority and hosts and _entity(hosts[0], scheme) != _entity(authority, scheme):
        raise MalformedHeaders("host differs from :authority")


def _check_request_pseudo(pseudo: dict[bytes, bytes]) -> None:
    method = pseudo.get(b":method")
    if not method:
        raise MalformedHeaders("missing :method")
    if b":protocol" in pseudo:
        # RFC 8441 §4: extended CONNECT carries :scheme, :path and :authority.
        if method != b"CONNECT":
            raise MalformedHeaders(":protocol on a method other than CONNECT")
        if not (pseudo.get(b":scheme") and pseudo.get(b":path") and b":authority" in pseudo):
            raise MalformedHeaders("extended CONNECT without :scheme, :path or :authority")
        return
    if method == b"CONNECT":
        # §8.5: CONNECT has :authority only.
        if b":scheme" in pseudo or b":path" in pseudo or not pseudo.get(b":authority"):
            raise MalformedHeaders("malformed CONNECT request")
        return
    if not pseudo.get(b":scheme"):
        raise MalformedHeaders("missing :scheme")
    path = pseudo.get(b":path")
    if not path:
        raise MalformedHeaders("missing or empty :path")  # §8.3.1
    # §8.3.1: an http(s) :path is an absolute path (or "*" for OPTIONS); anything else is
    # an invalid pseudo-header field, which §8.3 makes malformed.
    if pseudo[b":scheme"] in (b"http", b"https") and path[:1] != b"/" and not (
            path == b"*" and method == b"OPTIONS"):
        raise MalformedHeaders(":path is not an absolute path")


def validate_response(headers: Headers) -> tuple[int, int | None]:
    """§8.3.2: exactly one ``:status`` of three digits; return (status, content-length)."""
    status: int | None = None
    content_length: int | None = None
    regular_seen = False
    for name, value in headers:
        if name[:1] == b":":
            if regular_seen or name != b":status" or status is not None:
                raise MalformedHeaders(f"unexpected pseudo-header {name!r}")
            if len(value) != 3 or not value.isdigit():
                raise MalformedHeaders("invalid :status")
            status = int(value)
            continue
        regular_seen = True
        _check_regular(name, value)
        if name == b"content-length":
            content_length = _content_length(content_length, value)
    if status is None:
        raise MalformedHeaders("missing :status")
    return status, content_length


def validate_trailers(headers: Headers) -> None:
    """§8.1: trailers carry no pseudo-headers."""
    for name, value in headers:
        if name[:1] == b":":
            raise MalformedHeaders("pseudo-header in trailers")
        _check_regular(name, value)
