"""RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing.

"A server or client that receives an HTTP/1.0 message containing a Transfer-Encoding
header field MUST treat the message as if the framing is faulty, even if a Content-Length
is present, and close the connection after processing that message." (An HTTP/1.0
intermediary may have forwarded the field without understanding it.)
"""
from __future__ import annotations

import asyncio

from blackbull.protocol.http1.events import Data, EndOfMessage, Request
from blackbull.protocol.http1.parser import RequestParser
from tests.apps.basic import echo

HTTP10_CHUNKED = (b"POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                  b"Connection: keep-alive\r\n\r\n5\r\nhello\r\n0\r\n\r\n")


def test_the_message_is_processed_and_marks_the_connection_for_closing() -> None:
    """RFC 9112 §6.1: the request is processed (its chunked body read), and it is the
    last one: ``keep_alive`` is False despite ``Connection: keep-alive``."""
    events = RequestParser().feed(HTTP10_CHUNKED)
    request = events[0]
    assert isinstance(request, Request) and request.keep_alive is False
    assert events[1:] == [Data(b"hello"), EndOfMessage()]


def test_http11_chunked_keeps_the_connection() -> None:
    """RFC 9112 §9.3: the rule is HTTP/1.0's only; a 1.1 chunked request stays persistent."""
    raw = HTTP10_CHUNKED.replace(b"HTTP/1.0", b"HTTP/1.1")
    request = RequestParser().feed(raw)[0]
    assert isinstance(request, Request) and request.keep_alive is True


async def test_the_server_answers_then_closes_and_ignores_what_follows(serve) -> None:
    """RFC 9112 §6.1: answered, then the connection closed; the request pipelined after it
    is never answered (its framing cannot be trusted)."""
    srv = await serve(echo)
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    try:
        writer.write(HTTP10_CHUNKED + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        data = await asyncio.wait_for(reader.read(), 5)  # until the server closes
    finally:
        writer.close()
    assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"hello")
    assert data.count(b" 200 ") == 1
    assert b"connection: close" in data.lower()
