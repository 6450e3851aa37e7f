"""One head parser for both roles (RFC 9112 §2-§5): a complete request or response head
→ a :class:`Request` or :class:`Response` event, or the rejection it deserves.

For code that reads a head by itself (a proxy, a handshake): the WebSocket client reads
the server's answer with :func:`parse_response_head`, the RFC 8441 bridge the client's
upgrade request with :func:`parse_request_head`. Both go through the same llhttp parsers
and limits as the server's and the client's connections (``parser.RequestParser``,
``response_parser.ResponseParser``), so a head means the same thing everywhere.
"""
from __future__ import annotations

from .events import Request, RequestRejected, Response, ResponseRejected
from .parser import RequestParser
from .response_parser import parse_status_head


def parse_request_head(head: bytes, max_request_line: int = 8192,
                       max_header_bytes: int = 65536, max_headers: int = 100
                       ) -> Request | RequestRejected:
    """A request head (up to and including its empty line). The limits answer as the
    server does: 414 for the target, 431 for the fields, 400 for bad syntax."""
    parser = RequestParser(max_request_line, max_header_bytes, max_headers)
    for event in parser.feed(head):
        if isinstance(event, Request | RequestRejected):
            return event
    return RequestRejected(400, "incomplete request head")


def parse_response_head(head: bytes, max_status_line: int = 8192,
                        max_header_bytes: int = 65536, max_headers: int = 100
                        ) -> Response | ResponseRejected:
    """A response head (up to and including its empty line), as the client role reads
    it; ``has_body`` is judged from the head alone (not knowing the request's method)."""
    return parse_status_head(head, max_status_line, max_header_bytes, max_headers)
