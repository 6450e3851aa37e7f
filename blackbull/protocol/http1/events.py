"""Events of the HTTP/1.1 core (RFC 9112): what a received byte stream means."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Request:
    """A complete request head (RFC 9112 §3 request line + §5 fields).

    ``headers`` keep the order and the raw values, with names lowercased.
    """

    method: str
    raw_path: bytes                      # the path part of the target, still percent-encoded
    path: str                            # percent-decoded, as ASGI wants it
    query_string: bytes
    http_version: str                    # "1.1" or "1.0"
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    keep_alive: bool = True
    expect_continue: bool = False
    #: The lowercased ``Upgrade`` token when the request asks for one (``websocket``, ``h2c``).
    upgrade: bytes | None = None
    #: True when a body follows (Content-Length > 0 or chunked).
    has_body: bool = False

    def header(self, name: bytes) -> bytes | None:
        """The first value of field ``name`` (lowercase), or None."""
        for key, value in self.headers:
            if key == name:
                return value
        return None


@dataclass(slots=True)
class Data:
    """A piece of the request body (after de-chunking)."""

    data: bytes


@dataclass(slots=True)
class EndOfMessage:
    """The request body is complete."""


@dataclass(slots=True)
class RequestError:
    """The bytes are not an acceptable request: answer ``status`` and close (RFC 9112 §2.2)."""

    status: int
    reason: str
    #: False when the bytes are not HTTP at all: close without answering.
    respond: bool = True
