"""HTTP/1.1 response framing (RFC 9112 §4, §6, §7): status line, fields, body framing.

:class:`ResponseWriter` turns the ASGI-level response (status, headers, body pieces) into
bytes, choosing the framing: the app's Content-Length, else a Content-Length computed when
the whole body comes in one piece, else chunked (HTTP/1.1) or close-delimited (HTTP/1.0).
"""
from __future__ import annotations

from http import HTTPStatus
from typing import Any, NamedTuple

from ..memo import remember

_REASONS = {s.value: s.phrase.encode("ascii") for s in HTTPStatus}
_STATUS_LINES: dict[tuple[int, str], bytes] = {}


class ResponseError(Exception):
    """The app asked for something HTTP/1.1 cannot express (RFC 9110 framing rules)."""


def status_line(status: int, version: str = "1.1") -> bytes:
    key = (status, version)
    line = _STATUS_LINES.get(key)
    if line is None:
        reason = _REASONS.get(status, b"")
        line = b"HTTP/%s %d %s\r\n" % (version.encode(), status, reason)
        _STATUS_LINES[key] = line
    return line


def simple_response(status: int, body: bytes = b"", close: bool = True,
                    extra: list[tuple[bytes, bytes]] | None = None,
                    date: bytes | None = None) -> bytes:
    """A complete server-generated response (errors, 100/101, …); ``date`` is the
    ``Date`` field value to send (RFC 9110 §6.6.1), if any."""
    out = [status_line(status)]
    for name, value in extra or ():
        out.append(b"%s: %s\r\n" % (name, value))
    if status >= 200:
        if date is not None:
            out.append(b"date: %s\r\n" % date)
        out.append(b"content-type: text/plain; charset=utf-8\r\n")
        out.append(b"content-length: %d\r\n" % len(body))
    if close:
        out.append(b"connection: close\r\n")
    out.append(b"\r\n")
    out.append(body)
    return b"".join(out)


def _bad_field(name: bytes, value: bytes) -> bool:
    # RFC 9110 §5.5: CR, LF (and NUL) are never valid in a field; names are tokens.
    return (not name or b":" in name or b" " in name or b"\r" in name or b"\n" in name
            or b"\r" in value or b"\n" in value or b"\x00" in value)


def _no_body_status(status: int) -> bool:
    # RFC 9110 §6.4.1: 1xx, 204 and 304 never have content.
    return status < 200 or status in (204, 304)


# What a response field means for framing (see ResponseWriter._head).
_PLAIN, _LENGTH, _CLOSE, _DATE, _FRAMING = "plain", "length", "close", "date", "framing"
#: (name, value) → (encoded line, kind, content length): apps tend to send the same
#: field objects with every response, so each is validated and encoded once. Bounded:
#: cleared when full (fields carrying per-response values only churn it).
_FIELD_CACHE: dict[tuple[bytes, bytes], tuple[bytes, str, int]] = {}
_FIELD_CACHE_MAX = 1024


def _field_entry(field: tuple[bytes, bytes] | list[bytes]) -> tuple[bytes, str, int]:
    name, value = field
    if _bad_field(name, value):
        raise ResponseError("invalid header field")
    low = name.lower()
    length = -1
    kind = _PLAIN
    if low == b"content-length":
        if not value.strip().isdigit():
            raise ResponseError(f"invalid content-length {value!r}")
        kind, length = _LENGTH, int(value)
    elif low == b"transfer-encoding":
        kind = _FRAMING
    elif low == b"connection":
        if b"close" in value.lower():
            kind = _CLOSE
    elif low == b"date":
        kind = _DATE
    entry = (b"%s: %s\r\n" % (name, value), kind, length)
    if type(field) is tuple and type(name) is bytes and type(value) is bytes:
        remember(_FIELD_CACHE, field, entry, _FIELD_CACHE_MAX)
    return entry


class ResponseWriter:
    """Frames one response. ``keep_alive`` ends False when the connection must close."""

    __slots__ = (
        "status", "headers", "head_request", "version", "keep_alive", "chunked",
        "content_length", "sent_body", "head_sent", "complete", "no_body", "date",
    )

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], *,
                 head_request: bool, version: str, keep_alive: bool,
                 date: bytes | None = None) -> None:
        """``date``: the ``Date`` value to add unless the app sent one (RFC 9110 §6.6.1)."""
        if not 100 <= status <= 999 or 100 <= status < 200:
            raise ResponseError(f"invalid response status {status}")
        self.status = status
        self.headers = headers
        self.head_request = head_request
        self.version = version
        self.keep_alive = keep_alive
        self.chunked = False
        self.content_length: int | None = None
        self.sent_body = 0
        self.head_sent = False
        self.complete = False
        self.no_body = head_request or _no_body_status(status)
        self.date = date

    def body(self, data: bytes, more: bool) -> bytes:
        """Bytes for the next body piece (the head goes out with the first one)."""
        if self.complete:
            raise ResponseError("response already complete")
        out = b""
        if not self.head_sent:
            out = self._head(data, more)
        if data and not self.no_body:
            self.sent_body += len(data)
            if self.content_length is not None and self.sent_body > self.content_length:
                raise ResponseError("body longer than Content-Length")
            if self.chunked:
                out += b"%x\r\n%s\r\n" % (len(data), data)
            else:
                out += data
        if not more:
            self.complete = True
            if self.chunked:
                out += b"0\r\n\r\n"
            elif (self.content_length is not None and not self.no_body
                  and self.sent_body < self.content_length):
                self.keep_alive = False  # the body fell short: only closing can tell
        return out

    def _head(self, data: bytes, more: bool) -> bytes:
        self.head_sent = True
        lines, self.content_length, has_connection_close = _head_lines(
            self.status, self.headers, self.date)
        if has_connection_close:
            self.keep_alive = False
        if self.content_length is None and not _no_body_status(self.status):
            if not more:
                length = len(data)
                self.content_length = length
                lines.append(b"content-length: %d\r\n" % length)
            elif self.version == "1.1":
                self.chunked = not self.head_request
                if self.chunked:
                    lines.append(b"transfer-encoding: chunked\r\n")
            else:
                self.keep_alive = False  # HTTP/1.0: close-delimited
        _connection_line(lines, self.keep_alive, has_connection_close, self.version)
        lines.append(b"\r\n")
        return b"".join(lines)


#: A whole response's head without its Date line: (status, head_request, version,
#: keep_alive, *fields) → :class:`_Head`. The usual app answers every request with the
#: same status and fields, so they are validated and encoded once, not per response.
#: Bounded like the field cache.
_HEAD_CACHE: dict[tuple[Any, ...], _Head] = {}
_HEAD_CACHE_MAX = 256
#: The Date line of the last date seen (the value changes once a second).
_date_value: bytes | None = None
_date_line = b""
#: The last whole response: (head, date, body, (bytes, keep_alive)). An app answering
#: the same body again within the second gets the same bytes again, without a join.
_last_response: tuple[_Head | None, bytes | None, bytes | None, tuple[bytes, bool]] = (
    None, None, None, (b"", False))


class _Head(NamedTuple):
    before_date: bytes           # status line and the app's fields
    dated: bool                  # the app sent no Date: ours goes in (RFC 9110 §6.6.1)
    add_length: bool             # no app Content-Length: the body's length goes in
    after: bytes                 # the Connection line (if any) and the empty line
    content_length: int | None   # the app's Content-Length
    keep_alive: bool             # before a body that falls short of content_length
    no_body: bool                # HEAD, 204, 304: no content is sent


def complete_response(status: int, headers: list[tuple[bytes, bytes]], data: bytes, *,
                      head_request: bool, version: str, keep_alive: bool,
                      date: bytes | None = None) -> tuple[bytes, bool]:
    """A whole response whose body is ``data`` (the app's last body piece came with its
    start): the bytes ``ResponseWriter(...).body(data, False)`` returns and the writer's
    final ``keep_alive``, without building the writer (the usual response's path)."""
    global _date_value, _date_line, _last_response
    key: tuple[Any, ...] | None
    try:
        key = (status, head_request, version, keep_alive, *headers)
        head = _HEAD_CACHE.get(key)
    except TypeError:  # an ASGI header given as a list: not hashable
        key = head = None
    if head is None:
        head = _complete_head(status, headers, head_request, version, keep_alive)
        if key is not None:
            remember(_HEAD_CACHE, key, head, _HEAD_CACHE_MAX)
    last = _last_response
    if head is last[0] and date is last[1] and data is last[2]:
        return last[3]
    before, dated, add_length, after, content_length, keep_alive, no_body = head
    date_line = length_line = b""
    if dated and date is not None:
        if date is not _date_value:
            _date_line = b"date: %s\r\n" % date
            _date_value = date
        date_line = _date_line
    if add_length:
        length_line = b"content-length: %d\r\n" % len(data)
    elif content_length is not None and not no_body:
        if len(data) > content_length:
            raise ResponseError("body longer than Content-Length")
        if len(data) < content_length:
            keep_alive = False  # the body fell short: only closing can tell
    if data and not no_body:
        result = b"".join((before, date_line, length_line, after, data)), keep_alive
    else:
        result = b"".join((before, date_line, length_line, after)), keep_alive
    if type(data) is bytes:  # immutable: the same object is the same body
        _last_response = (head, date, data, result)
    return result


def _complete_head(status: int, headers: list[tuple[bytes, bytes]], head_request: bool,
                   version: str, keep_alive: bool) -> _Head:
    if not 100 <= status <= 999 or 100 <= status < 200:
        raise ResponseError(f"invalid response status {status}")
    lines, content_length, has_connection_close, app_date = _field_lines(status, headers)
    if has_connection_close:
        keep_alive = False
    tail: list[bytes] = []
    _connection_line(tail, keep_alive, has_connection_close, version)
    tail.append(b"\r\n")
    return _Head(b"".join(lines), not app_date,
                 content_length is None and status != 204 and status != 304,
                 b"".join(tail), content_length, keep_alive,
                 head_request or status == 204 or status == 304)


def _head_lines(status: int, headers: list[tuple[bytes, bytes]], date: bytes | None
                ) -> tuple[list[bytes], int | None, bool]:
    """The status line and the app's fields, encoded (RFC 9112 §4, RFC 9110 §6.6.1
    ``Date`` unless the app sent one): the lines, the app's Content-Length (None if it
    gave none) and whether it asked for ``Connection: close``."""
    lines, content_length, has_connection_close, app_date = _field_lines(status, headers)
    if date is not None and not app_date:
        lines.append(b"date: %s\r\n" % date)
    return lines, content_length, has_connection_close


def _field_lines(status: int, headers: list[tuple[bytes, bytes]]
                 ) -> tuple[list[bytes], int | None, bool, bool]:
    """The status line and the app's fields, encoded: the lines, the app's
    Content-Length (None if it gave none), whether it asked for ``Connection: close``
    and whether it sent its own ``Date``."""
    # RFC 9110 §6.2: the response says the highest version we conform to (1.1) even
    # to an HTTP/1.0 request; the request's version still decides the framing.
    lines = [status_line(status)]
    content_length: int | None = None
    has_connection_close = False
    app_date = False
    cache = _FIELD_CACHE
    for field in headers:
        try:
            entry = cache.get(field)
        except TypeError:  # an ASGI header given as a list: not hashable
            entry = None
        if entry is None:
            entry = _field_entry(field)
        line, kind, length = entry
        if kind is _PLAIN:
            lines.append(line)
        elif kind is _LENGTH:
            # RFC 9110 §8.6: never in a 1xx or 204 response (a 304 may carry the
            # length the 200 would have had, §15.4.5).
            if status != 204:
                content_length = length
                lines.append(line)
        elif kind is _CLOSE:
            has_connection_close = True
            lines.append(line)
        elif kind is _DATE:
            app_date = True  # the app's own Date wins
            lines.append(line)
        # _FRAMING (transfer-encoding): we frame the body ourselves; an app-set
        # chunked would double-chunk, so the app's field is dropped.
    return lines, content_length, has_connection_close, app_date


def _connection_line(lines: list[bytes], keep_alive: bool, has_connection_close: bool,
                     version: str) -> None:
    """RFC 9112 §9.3, §9.6: ``Connection: close`` on the last response of a connection
    (unless the app said so itself), ``keep-alive`` where HTTP/1.0 stays open."""
    if not keep_alive and not has_connection_close:
        lines.append(b"connection: close\r\n")
    elif keep_alive and version == "1.0":
        lines.append(b"connection: keep-alive\r\n")
