"""RFC 9112 §3.2: a Host field value that is not ``uri-host [":" port]`` is answered 400.

``Host = uri-host [ ":" port ]`` with RFC 3986's ``host`` (IP-literal / IPv4address /
reg-name) and ``port = *DIGIT``. "A server MUST respond with a 400 (Bad Request) status
code to any HTTP/1.1 request message that lacks a Host header field and to any request
message that contains more than one Host header field line or a Host header field with
an invalid field value."
"""
from __future__ import annotations

import pytest

from blackbull.protocol.http1.events import Request, RequestRejected
from blackbull.protocol.http1.parser import RequestParser
from tests.apps.basic import hello
from tests.conftest import raw_exchange


def _parse_host(value: bytes, version: bytes = b"1.1") -> list:
    return RequestParser().feed(b"GET / HTTP/%s\r\nHost: %s\r\n\r\n" % (version, value))


@pytest.mark.parametrize("value", [
    b"exa mple.com",          # a space: not in reg-name
    b"example.com:8o",        # port = *DIGIT
    b"user@example.com/x",    # userinfo and a path are not part of Host
    b"example.com/x",
    b"user@example.com",
    b"example.com:80:80",
    b"[::1",                  # an unterminated IP-literal
    b"[::g]",                 # not an IPv6address
    b"[fe80::1%eth0]",        # a zone id has no place in RFC 3986's IP-literal
    b"ex%zzample.com",        # pct-encoded needs two hex digits
    b"\xc3\xa9.example",      # a raw UTF-8 name (an IDN goes as its A-label)
    b"exa\"mple.com",
], ids=repr)
def test_an_invalid_host_value_is_400(value: bytes) -> None:
    """RFC 9112 §3.2: an invalid Host field value → 400 (RFC 3986 §3.2.2–§3.2.3 syntax)."""
    events = _parse_host(value)
    assert events == [RequestRejected(400, "invalid Host header")]


@pytest.mark.parametrize("value", [
    b"example.com", b"example.com:8080", b"127.0.0.1:80", b"[::1]", b"[::1]:8443",
    b"[2001:db8::7]", b"[v7.fe:80]", b"ex%41mple.com", b"a-b_c~d.!$&'()*+,;=",
    b"example.com:",          # port = *DIGIT: empty is allowed
    b"",                      # an empty uri-host (reg-name may be empty)
    b"Example.COM",
], ids=repr)
def test_a_valid_host_value_is_served(value: bytes) -> None:
    """RFC 9112 §3.2: every ``uri-host [":" port]`` is accepted."""
    events = _parse_host(value)
    assert isinstance(events[0], Request) and events[0].header(b"host") == value


def test_the_host_value_is_judged_without_its_surrounding_whitespace() -> None:
    """RFC 9112 §5.1: leading and trailing OWS are not part of the field value."""
    events = _parse_host(b"example.com:80 \t")
    assert isinstance(events[0], Request)


def test_an_invalid_host_is_400_on_http10_too() -> None:
    """RFC 9112 §3.2: the invalid-value rule is for any request message, not only 1.1
    (an HTTP/1.0 request may lack Host, but one it sends must be valid)."""
    assert _parse_host(b"exa mple.com", b"1.0") == [RequestRejected(400, "invalid Host header")]
    assert isinstance(RequestParser().feed(b"GET / HTTP/1.0\r\n\r\n")[0], Request)


async def test_the_server_answers_400_and_closes(serve) -> None:
    """RFC 9112 §3.2: on the wire, the invalid Host is answered 400, then closed."""
    srv = await serve(hello)
    data = await raw_exchange(srv.bound_port, b"GET / HTTP/1.1\r\nHost: user@h/x\r\n\r\n"
                              b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 400 ") and data.count(b"HTTP/1.1") == 1
    assert b"connection: close" in data.lower()


def test_a_repeated_host_value_gets_the_same_judgement() -> None:
    """RFC 9112 §3.2: the valid values the parser remembers (so a client's repeated Host
    is not checked again) change no answer: a valid value is served every time, an
    invalid one refused every time, and the memory stays bounded (256 values, none over
    255 octets)."""
    from blackbull.protocol.http1 import parser as module

    for _ in range(2):
        assert isinstance(_parse_host(b"example.com:8080")[0], Request)
        assert _parse_host(b"exa mple.com") == [RequestRejected(400, "invalid Host header")]
    long_name = b"a" * 300
    assert isinstance(_parse_host(long_name)[0], Request)
    assert long_name not in module._VALID_HOSTS
    for i in range(600):
        _parse_host(b"h%d.example" % i)
    assert len(module._VALID_HOSTS) <= 256
    assert not any(b" " in value for value in module._VALID_HOSTS)
