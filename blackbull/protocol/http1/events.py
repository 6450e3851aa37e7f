"""Events of the HTTP/1.1 core (RFC 9112): what a received byte stream means.

Every event is immutable once emitted. :class:`Request`, :class:`Response` and
:class:`Data` are named tuples rather than frozen dataclasses because they are made once
per message or body piece on the busiest path: a frozen dataclass's ``__init__`` goes
through ``object.__setattr__`` per field and costs about five times as much (measured
with ``timeit`` on CPython 3.11: ~5 µs against ~1 µs for a 10-field request).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

Headers = list[tuple[bytes, bytes]]


def _first(headers: Headers, name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


class Request(NamedTuple):
    """A complete request head (RFC 9112 §3 request line + §5 fields).

    ``headers`` keep the order and the raw values, with names lowercased.
    """

    method: str
    raw_path: bytes                      # the path part of the target, still percent-encoded
    path: str                            # percent-decoded, as ASGI wants it
    query_string: bytes
    http_version: str                    # "1.1" or "1.0"
    headers: Headers
    keep_alive: bool = True
    expect_continue: bool = False
    #: The lowercased ``Upgrade`` token when the request asks for one (``websocket``,
    #: ``h2c``) that the parser stopped for (RFC 9110 §7.8).
    upgrade: bytes | None = None
    #: True when a body follows (Content-Length > 0 or chunked).
    has_body: bool = False

    def header(self, name: bytes) -> bytes | None:
        """The first value of field ``name`` (lowercase), or None."""
        return _first(self.headers, name)

    @property
    def target(self) -> bytes:
        """The request target as sent in origin-form: path and query (RFC 9112 §3.2.1)."""
        if self.query_string:
            return self.raw_path + b"?" + self.query_string
        return self.raw_path


class Response(NamedTuple):
    """A complete response head (RFC 9112 §4 status line + §5 fields), client role.

    ``headers`` keep the order and the raw values, with names lowercased. A 1xx is a
    response too (RFC 9110 §15.2): :attr:`informational` tells it apart.
    """

    status: int
    reason: str
    http_version: str
    headers: Headers
    keep_alive: bool = True
    #: True when a body follows the head (framed by Content-Length or chunked, or
    #: delimited by the close for a response with neither, RFC 9112 §6.3).
    has_body: bool = False

    def header(self, name: bytes) -> bytes | None:
        """The first value of field ``name`` (lowercase), or None."""
        return _first(self.headers, name)

    @property
    def informational(self) -> bool:
        return self.status < 200


class Data(NamedTuple):
    """A piece of a message body (after de-chunking)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class EndOfMessage:
    """The message body is complete."""


@dataclass(frozen=True, slots=True)
class RequestRejected:
    """The bytes are not an acceptable request: answer ``status`` and close (RFC 9112 §2.2).

    Named for what happened, not raised: the core reports it as a value, and the server
    sends the answer.
    """

    status: int
    reason: str
    #: False when the bytes are not HTTP at all: close without answering.
    respond: bool = True


@dataclass(frozen=True, slots=True)
class ResponseRejected:
    """The bytes are not an acceptable response (client role, RFC 9112 §2.2): the
    connection cannot be trusted any more and is closed."""

    reason: str
