"""RFC 9113 §8.3.1: ``:authority`` and ``Host`` in HTTP/2 requests.

Each malformed request is a stream error of type PROTOCOL_ERROR (§8.1.1), raised by the
core's validation as :class:`MalformedHeaders`."""
from __future__ import annotations

import pytest

from blackbull.protocol.http2.headers import MalformedHeaders, validate_request


def _request(authority: bytes | None = b"example.com", *extra: tuple[bytes, bytes],
             scheme: bytes = b"https"):
    headers = [(b":method", b"GET"), (b":scheme", scheme), (b":path", b"/")]
    if authority is not None:
        headers.append((b":authority", authority))
    return headers + list(extra)


def test_authority_with_userinfo_is_malformed():
    """§8.3.1: :authority MUST NOT include the deprecated userinfo subcomponent."""
    with pytest.raises(MalformedHeaders):
        validate_request(_request(b"user:pass@example.com"))


def test_request_without_authority_or_host_is_malformed():
    """§8.3.1: http(s) requests carry :authority or Host (the authority is mandatory)."""
    with pytest.raises(MalformedHeaders):
        validate_request(_request(None))
    validate_request(_request(None, (b"host", b"example.com")))  # Host alone is enough


def test_host_naming_another_entity_than_authority_is_malformed():
    """§8.3.1: a server SHOULD treat a Host that differs from :authority as malformed."""
    with pytest.raises(MalformedHeaders):
        validate_request(_request(b"example.com", (b"host", b"other.example:1")))


@pytest.mark.parametrize("authority,host,scheme", [
    (b"example.com", b"EXAMPLE.com", b"https"),          # host names are case-insensitive
    (b"example.com", b"example.com:443", b"https"),      # the default port is the same entity
    (b"example.com:80", b"example.com", b"http"),
    (b"[::1]:8443", b"[::1]:8443", b"https"),
    (b"[::1]", b"[::1]:443", b"https"),
])
def test_host_naming_the_same_entity_is_accepted(authority, host, scheme):
    validate_request(_request(authority, (b"host", host), scheme=scheme))


def test_several_host_fields_are_malformed():
    """RFC 9110 §7.2 allows one Host; two make the authority ambiguous."""
    with pytest.raises(MalformedHeaders):
        validate_request(_request(b"example.com", (b"host", b"example.com"),
                                  (b"host", b"example.com")))


def test_connect_keeps_its_own_rules():
    """§8.5: a CONNECT request has :authority only; no Host check applies."""
    validate_request([(b":method", b"CONNECT"), (b":authority", b"example.com:443")])
