"""HTTP/1.1 request parsing (RFC 9112) on top of ``httptools`` (llhttp), with limits.

``httptools`` is the same strict llhttp parser Node.js uses: it already refuses bare LF
line endings, obs-fold, whitespace before the colon, duplicate Content-Length and
Content-Length together with Transfer-Encoding (the request-smuggling shapes of RFC 9112
§6.3 and §11.2). This module adds what a server needs around it: size limits (414, 431,
413), the Host rules of RFC 9112 §3.2, transfer-coding checks (§6.1), 100-continue, the
Upgrade hand-off and the "this is not HTTP at all" case, and turns it all into events.
"""
from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import unquote_to_bytes

import httptools

from .events import Data, EndOfMessage, Headers, Request, RequestRejected

Event = Request | Data | EndOfMessage | RequestRejected

# RFC 9112 §3: request-line = method SP request-target SP HTTP-version. A first line that
# does not end in an HTTP-version is not HTTP at all (e.g. a client speaking another
# protocol, or h2spec's "INVALID CONNECTION PREFACE"): close without an HTTP answer.
# One that does is an HTTP request, even when its method is not a token ("G(T": 400).
_TCHARS = rb"!#$%&'*+\-.^_`|~0-9A-Za-z"
_HTTP_LINE = re.compile(rb"^(?:[^ ]+ .* HTTP/\d\.\d\r?$|[" + _TCHARS + rb"]+ /)")
_TOKEN = re.compile(rb"[" + _TCHARS + rb"]+")
_KNOWN_UPGRADES = (b"websocket", b"h2c")
# RFC 9112 §3.2: Host = uri-host [ ":" port ]; uri-host = IP-literal / IPv4address /
# reg-name and port = *DIGIT (RFC 3986 §3.2.2-§3.2.3). IPv4address is a reg-name too, so
# only IP-literals need a closer look (_valid_host). An empty value is valid.
_HOST = re.compile(rb"(?:\[([^\]]*)\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)"
                   rb"(?::[0-9]*)?")
_IPVFUTURE = re.compile(rb"v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+")
_END = EndOfMessage()
_new_tuple = tuple.__new__
_METHODS = {m.encode(): m for m in ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS",
                                      "PATCH", "CONNECT", "TRACE")}  # carries nothing: one instance serves every message


class _Limit(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class RequestParser:
    """Feed bytes, get events. One instance per connection; handles pipelining.

    After a :class:`Request` whose ``upgrade`` is set (``websocket`` or ``h2c``) and its
    :class:`EndOfMessage`, parsing stops; :attr:`trailing_data` holds the bytes that
    followed, for the protocol being switched to.
    """

    __slots__ = (
        "_parser", "_events", "_url", "_headers", "_header_bytes",
        "_body_size", "_max_line", "_max_header_bytes", "_max_headers", "_max_body",
        "in_message", "_line_seen", "_chunked", "_head_buffer", "stopped", "trailing_data",
        "_current", "_body_only", "_memo_head", "_memo_request",
    )

    def __init__(self, max_request_line: int = 8192, max_header_bytes: int = 65536,
                 max_headers: int = 100, max_body: int = 16 * 1024 * 1024) -> None:
        self._max_line = max_request_line
        self._max_header_bytes = max_header_bytes
        self._max_headers = max_headers
        self._max_body = max_body
        self._events: list[Event] = []
        self.stopped = False
        self.trailing_data = b""
        self._head_buffer = b""
        self._body_only = False
        #: The last read that was exactly one whole bodiless keep-alive request, and
        #: its event (see :meth:`_repeat`).
        self._memo_head: bytes | None = None
        self._memo_request: tuple[Any, ...] = ()
        self._current: Request | None = None
        self.on_message_begin()
        self.in_message = False
        self._parser = self._new_parser()

    def _new_parser(self) -> httptools.HttpRequestParser:
        parser = httptools.HttpRequestParser(self)
        # RFC 9110 §2.5: a higher minor version (HTTP/1.2) is processed as HTTP/1.1, and
        # another major gets 505 (on_headers_complete); llhttp would refuse both as
        # invalid. Only the version's digits are relaxed: its syntax stays checked.
        parser.set_dangerous_leniencies(lenient_version=True)
        return parser

    # --- input -----------------------------------------------------------------------
    def feed(self, data: bytes) -> list[Event]:
        """Parse ``data``; return the events it completes (possibly several requests)."""
        if self.stopped:
            return []
        idle = not self.in_message
        if idle and data == self._memo_head:
            return self._repeat()
        events = self._events = []
        if not self._line_seen:
            self._head_buffer += data[: self._max_line + 2]
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            self._on_upgrade(data, exc.args[0] if exc.args else len(data))
        except httptools.HttpParserCallbackError as exc:
            limit = exc.__context__
            if isinstance(limit, _Limit):
                self._fail(limit.status, limit.reason)
            else:  # a bug of ours: still answer like a protocol error
                self._fail(400, f"bad request ({limit!r})")
        except httptools.HttpParserInvalidMethodError:
            if self._looks_like_http():
                method = self._head_buffer.partition(b" ")[0]
                if _TOKEN.fullmatch(method):
                    self._fail(501, "method not implemented")
                else:  # RFC 9112 §3: an invalid request-line (RFC 9110 §9.1: a token)
                    self._fail(400, "the method is not a token")
            else:
                self._fail(400, "not an HTTP request", respond=False)
        except httptools.HttpParserError as exc:
            if not self._line_seen and not self._looks_like_http():
                self._fail(400, "not an HTTP request", respond=False)
            else:
                self._fail(400, str(exc) or "malformed request")
        if idle and len(events) == 2 and events[1] is _END and not self.in_message \
                and len(data) <= _MEMO_MAX_OCTETS:
            self._memorize(data, events[0])  # type: ignore[arg-type]
        return events

    def _memorize(self, data: bytes, request: Request) -> None:
        """``data`` was one whole request from its first byte to its last: remembered
        when it can simply repeat (keep-alive, no body, no upgrade)."""
        if type(request) is Request and request.keep_alive and not request.has_body \
                and request.upgrade is None and not self.stopped:
            self._memo_head = data
            # Its own copy of the fields: the app may change the request's list.
            self._memo_request = (*request[:5], tuple(request[5]), *request[6:])

    def _repeat(self) -> list[Event]:
        """Keep-alive clients (load generators, pollers, API clients) often send the
        same head again and again: a read equal to the last whole bodiless request,
        arriving between two messages, is that request again. llhttp would go through
        the same states back to where it is now (the start of a message) and produce
        the same event, with the same checks passed; only the field list is made anew,
        as the app may change its scope's."""
        r = self._memo_request
        request: Request = _new_tuple(Request, (
            r[0], r[1], r[2], r[3], r[4], list(r[5]), r[6], r[7], r[8], r[9]))
        self._current = request
        events: list[Event] = [request, _END]
        self._events = events
        return events

    def _looks_like_http(self) -> bool:
        line, sep, _ = self._head_buffer.partition(b"\n")
        if not sep and len(line) < 16:  # too little to judge: assume HTTP
            return True
        return bool(_HTTP_LINE.match(line))

    def _fail(self, status: int, reason: str, respond: bool = True) -> None:
        self.stopped = True
        self._events.append(RequestRejected(status, reason, respond))

    # --- llhttp callbacks ------------------------------------------------------------
    def on_message_begin(self) -> None:
        """A new request starts: its per-message state is fresh."""
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._header_bytes = 0
        self._body_size = 0
        #: True while a request has started but is not complete (for timeouts); a plain
        #: attribute, read after every read of the connection.
        self.in_message = True
        self._line_seen = False
        self._chunked = False
        self._current = None

    def on_url(self, url: bytes) -> None:
        self._url += url
        if len(self._url) > self._max_line:
            raise _Limit(414, "request target too long")

    def on_header(self, name: bytes, value: bytes) -> None:
        # httptools delivers whole fields here; lengths include ": " and CRLF.
        self._line_seen = True
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > self._max_header_bytes:
            raise _Limit(431, "request header fields too large")
        if len(self._headers) >= self._max_headers:
            raise _Limit(431, "too many request header fields")
        self._headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        self._line_seen = True
        self._head_buffer = b""
        if self._body_only:
            # The framing-only head behind the body of an ignored Upgrade (_on_upgrade):
            # its request was already reported; only its Data and EndOfMessage follow.
            self._body_only = False
            return
        parser = self._parser
        headers = self._headers
        raw_method = parser.get_method()
        method = _METHODS.get(raw_method) or raw_method.decode("ascii")
        version = parser.get_http_version()
        if version not in ("1.1", "1.0"):
            if not version.startswith("1."):
                raise _Limit(505, "HTTP version not supported")
            version = "1.1"  # RFC 9110 §2.5: the highest minor of major 1 we conform to
        url = self._url
        if url[:1] == b"/":  # origin-form, the usual one: _split_target inline
            raw_path, _, query = url.partition(b"?")
        else:
            raw_path, query = _split_target(url, method)
        keep_alive, expect_continue, upgrade, has_body = self._check_fields(
            headers, version, parser.should_keep_alive())
        if not keep_alive:
            self._memo_head = None  # llhttp refuses what follows: no repeat either
        # tuple.__new__ is what Request(...) ends in, without its Python-level __new__:
        # one call less per request on the busiest path.
        request: Request = _new_tuple(Request, (
            method,
            raw_path,
            (unquote_to_bytes(raw_path) if _PERCENT in raw_path else raw_path
             ).decode("utf-8", "surrogateescape"),
            query,
            version,
            headers,
            keep_alive,
            expect_continue,
            upgrade,
            has_body,
        ))
        self._current = request
        self._events.append(request)

    def _check_fields(self, headers: Headers, version: str, keep_alive: bool
                      ) -> tuple[bool, bool, bytes | None, bool]:
        """The request's keep-alive, 100-continue, Upgrade token and has-body, from its
        fields; a field that makes it unacceptable raises :class:`_Limit`."""
        hosts = 0
        expect_continue = False
        upgrade: bytes | None = None
        has_body = False
        for name, value in headers:
            if name == b"host":
                hosts += 1
                if value not in _VALID_HOSTS and not _valid_host(value):
                    raise _Limit(400, "invalid Host header")
            elif name == b"content-length":
                content_length = int(value)  # llhttp validated the digits
                if content_length > self._max_body:
                    raise _Limit(413, "request body too large")
                has_body = content_length > 0
            elif name == b"transfer-encoding":
                codings = [c.strip().lower() for c in value.split(b",")]
                # RFC 9112 §6.1/§6.3: we implement only chunked; any other coding → 501.
                if any(c != b"chunked" for c in codings):
                    raise _Limit(501, "transfer coding not implemented")
                self._chunked = True
                has_body = True
                if version == "1.0":
                    # RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing
                    # (an intermediary may not have understood it): process the message,
                    # then close; whatever follows on the connection is not trusted.
                    keep_alive = False
            elif name == b"expect":
                if value.lower() == b"100-continue":
                    expect_continue = version == "1.1"
                else:  # RFC 9110 §10.1.1: an unknown expectation → 417
                    raise _Limit(417, "expectation failed")
            elif name == b"upgrade" and upgrade is None:
                upgrade = _pick_upgrade(value)
        # RFC 9112 §3.2: a 1.1 request without Host, or with several, is a 400.
        if hosts > 1 or (hosts == 0 and version == "1.1"):
            raise _Limit(400, "missing or duplicate Host header")
        return keep_alive, expect_continue, upgrade, has_body

    def on_body(self, body: bytes) -> None:
        self._body_size += len(body)
        if self._body_size > self._max_body:
            raise _Limit(413, "request body too large")
        self._events.append(Data(body))

    def on_message_complete(self) -> None:
        self.in_message = False
        self._events.append(_END)

    # --- upgrade ---------------------------------------------------------------------
    def _on_upgrade(self, data: bytes, offset: int) -> None:
        """llhttp stops after the head of a request with ``Connection: upgrade``."""
        request = self._current
        rest = data[offset:]
        if request is None:  # cannot happen with llhttp; be safe
            self._fail(400, "malformed upgrade")
            return
        if request.upgrade in _KNOWN_UPGRADES and not request.has_body:
            self.stopped = True
            self.trailing_data = rest
            return
        # An upgrade we will not do (RFC 9110 §7.8: the server may ignore Upgrade; RFC
        # 9113 §3.2: a client sending a body expects exactly that): serve the request as
        # plain HTTP/1.1 with its whole body. httptools told llhttp to skip the body of an
        # Upgrade request and ended the message at its head, so the body — in this read
        # or in later ones, Content-Length or chunked — goes through a fresh llhttp
        # parser, behind a head that only states the framing (see on_headers_complete).
        # Ending the message here would answer it with an empty body, and its real body
        # would then be parsed as a second request: one request, two answers.
        events = self._events
        if events and type(events[-1]) is EndOfMessage:
            events.pop()
        # The Request event is still in this feed's list (llhttp reports the upgrade in
        # the feed that completes the head): it goes out without the upgrade.
        plain = self._current = request._replace(upgrade=None)
        for i in range(len(events) - 1, -1, -1):
            if events[i] is request:
                events[i] = plain
                break
        if self._chunked:
            framing = b"transfer-encoding: chunked"
        else:
            framing = b"content-length: %d" % int(request.header(b"content-length") or b"0")
        self._parser = self._new_parser()
        self._body_only = True
        events.extend(self.feed(b"POST / HTTP/1.1\r\n%s\r\n\r\n%s" % (framing, rest)))
        self._events = events


#: The largest read remembered by :meth:`RequestParser._memorize` (held by an idle
#: keep-alive connection until its next request).
_MEMO_MAX_OCTETS = 2048

#: ``%`` as an int: ``bytes.__contains__`` looks an int up directly, where a bytes needle
#: first fails (and clears) an integer conversion, several times the cost per request.
_PERCENT = ord("%")


def _pick_upgrade(value: bytes) -> bytes | None:
    """RFC 9110 §7.8: Upgrade lists protocols in the client's order of preference; the
    server switches to one of them it supports (``Upgrade: x/1, websocket`` is WebSocket).
    A token is ``protocol-name ["/" protocol-version]``; ``websocket`` takes no version."""
    for item in value.split(b","):
        token = item.strip().lower()
        if token == b"websocket" or token == b"h2c":
            return token
    return None


#: Host field values found valid (clients repeat theirs on every request): each is
#: checked once. Bounded in count (cleared when full) and in what one entry keeps.
_VALID_HOSTS: set[bytes] = set()
_VALID_HOSTS_MAX = 256
_VALID_HOST_OCTETS = 255


def _valid_host(field_value: bytes) -> bool:
    """RFC 9112 §3.2: a Host field value that is not ``uri-host [":" port]`` is invalid
    (a space, a userinfo ``@``, a path ``/``, a port that is not digits, a bad IP-literal).
    OWS around the value is not part of it (RFC 9110 §5.5)."""
    if not _host_syntax(field_value.strip(b" \t")):
        return False
    if len(field_value) <= _VALID_HOST_OCTETS:
        if len(_VALID_HOSTS) >= _VALID_HOSTS_MAX:
            _VALID_HOSTS.clear()
        _VALID_HOSTS.add(field_value)
    return True


def _host_syntax(value: bytes) -> bool:
    match = _HOST.fullmatch(value)
    if match is None:
        return False
    literal = match.group(1)
    if literal is None:
        return True
    if _IPVFUTURE.fullmatch(literal):
        return True
    if b"%" in literal:  # a zone id: RFC 3986's IP-literal has no place for one
        return False
    try:
        ipaddress.IPv6Address(literal.decode("ascii"))
    except ValueError:
        return False
    return True


def _split_target(url: bytes, method: str) -> tuple[bytes, bytes]:
    """RFC 9112 §3.2: origin-form, absolute-form (proxies; we take its path), asterisk."""
    if url.startswith(b"/"):
        path, _, query = url.partition(b"?")
        return path, query
    if url == b"*" and method == "OPTIONS":
        return b"*", b""
    if method == "CONNECT":
        return url, b""
    parsed = httptools.parse_url(url)
    if parsed.schema is None:
        raise _Limit(400, "invalid request target")
    return parsed.path or b"/", parsed.query or b""

