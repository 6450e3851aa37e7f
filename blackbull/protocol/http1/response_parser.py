"""HTTP/1.1 response parsing (RFC 9112), the client role: bytes from a server → events.

The head goes through ``httptools``' llhttp response parser, with the same limits as
requests (status-line length, field count, field bytes). The body framing (RFC 9112 §6.3)
depends on the request it answers (HEAD, CONNECT), which llhttp's response parser is not
told, so it is read here: no body (HEAD, 1xx, 204, 304), Content-Length, chunked
(§7.1), or delimited by the close. Responses arrive in request order (§9.3.2): each
:meth:`ResponseParser.expect` call queues the method of a request sent.
"""
from __future__ import annotations

from collections import deque

import httptools

from .events import Data, EndOfMessage, Headers, Response, ResponseRejected

ResponseEvent = Response | Data | EndOfMessage | ResponseRejected

_HEAD, _LENGTH, _CHUNK_SIZE, _CHUNK, _CHUNK_END, _TRAILER, _UNTIL_CLOSE, _STOPPED = range(8)
_MAX_CHUNK_LINE = 4096  # a chunk-size line with its extensions (§7.1.1)


class _Reject(Exception):
    pass


class _HeadCollector:
    """llhttp callbacks for one response head, with the limits of RFC 9112 §2.3."""

    __slots__ = ("reason", "headers", "header_bytes", "max_header_bytes", "max_headers",
                 "complete")

    def __init__(self, max_header_bytes: int, max_headers: int) -> None:
        self.reason = b""
        self.headers: Headers = []
        self.header_bytes = 0
        self.max_header_bytes = max_header_bytes
        self.max_headers = max_headers
        self.complete = False

    def on_status(self, status: bytes) -> None:
        self.reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_bytes += len(name) + len(value) + 4
        if self.header_bytes > self.max_header_bytes:
            raise _Reject("response header fields too large")
        if len(self.headers) >= self.max_headers:
            raise _Reject("too many response header fields")
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        self.complete = True


def parse_status_head(head: bytes, max_line: int = 8192, max_header_bytes: int = 65536,
                      max_headers: int = 100) -> Response | ResponseRejected:
    """One complete response head (status line, fields, the empty line) → a
    :class:`Response` (``has_body`` from its own fields only) or a rejection."""
    line_end = head.find(b"\r\n")
    if line_end < 0 or line_end > max_line:
        return ResponseRejected("status line too long or unterminated")
    collector = _HeadCollector(max_header_bytes, max_headers)
    parser = httptools.HttpResponseParser(collector)
    try:
        parser.feed_data(head)
    except httptools.HttpParserUpgrade:
        pass  # a 101 (or Upgrade) stops llhttp after the head: the head is all we read
    except httptools.HttpParserCallbackError as exc:
        cause = exc.__context__
        return ResponseRejected(str(cause) if isinstance(cause, _Reject) else "bad response")
    except httptools.HttpParserError as exc:
        # llhttp pauses after any 101 head, reported as a plain error unless the
        # response also said ``Connection: upgrade``: the head itself was complete.
        if not (collector.complete and parser.get_status_code() == 101):
            return ResponseRejected(str(exc) or "malformed response")
    if not collector.complete:
        return ResponseRejected("incomplete response head")
    version = parser.get_http_version()
    if not version.startswith("1."):
        return ResponseRejected(f"HTTP version {version} not supported")
    status = parser.get_status_code()
    headers = collector.headers
    has_body = status >= 200 and status not in (204, 304)
    return Response(status, collector.reason.decode("latin-1"), version, headers,
                    parser.should_keep_alive(), has_body)


class ResponseParser:
    """Feed bytes, get events. One instance per connection; handles pipelining.

    After a ``101`` (or a 2xx to CONNECT) parsing stops: :attr:`trailing_data` holds the
    bytes that followed, for the protocol switched to (RFC 9110 §7.8, §9.3.6).
    """

    __slots__ = ("_buffer", "_methods", "_state", "_remaining", "_max_line",
                 "_max_header_bytes", "_max_headers", "_max_body", "_body_size",
                 "stopped", "trailing_data")

    def __init__(self, max_status_line: int = 8192, max_header_bytes: int = 65536,
                 max_headers: int = 100, max_body: int = 1 << 62) -> None:
        self._buffer = bytearray()
        self._methods: deque[str] = deque()
        self._state = _HEAD
        self._remaining = 0
        self._body_size = 0
        self._max_line = max_status_line
        self._max_header_bytes = max_header_bytes
        self._max_headers = max_headers
        self._max_body = max_body
        self.stopped = False
        self.trailing_data = b""

    def expect(self, method: str) -> None:
        """A request with ``method`` was sent: its response comes after the earlier ones."""
        self._methods.append(method)

    @property
    def in_message(self) -> bool:
        """True while a response has started but is not complete."""
        return self._state != _HEAD or bool(self._buffer)

    def feed(self, data: bytes) -> list[ResponseEvent]:
        """Parse ``data``; return the events it completes."""
        if self.stopped:
            return []
        self._buffer += data
        events: list[ResponseEvent] = []
        try:
            while self._buffer and not self.stopped:
                if not self._step(events):
                    break
        except _Reject as exc:
            self._stop()
            events.append(ResponseRejected(str(exc)))
        return events

    def feed_eof(self) -> list[ResponseEvent]:
        """The server closed: ends a close-delimited body (RFC 9112 §6.3 item 8); a
        response cut short is a rejection (§8: an incomplete message)."""
        if self.stopped:
            return []
        state = self._state
        self._stop()
        if state == _UNTIL_CLOSE:
            return [EndOfMessage()]
        if state == _HEAD and not self._buffer and not self._methods:
            return []
        return [ResponseRejected("connection closed before the response was complete")]

    def _stop(self) -> None:
        self.stopped = True
        self._state = _STOPPED

    def _step(self, events: list[ResponseEvent]) -> bool:
        """Consume what one state can; False when more bytes are needed."""
        state = self._state
        buffer = self._buffer
        if state == _HEAD:
            return self._head(events)
        if state == _LENGTH or state == _CHUNK:
            take = min(self._remaining, len(buffer))
            events.append(Data(bytes(buffer[:take])))
            del buffer[:take]
            self._remaining -= take
            if self._remaining == 0:
                if state == _LENGTH:
                    self._end(events)
                else:
                    self._state = _CHUNK_END
            return True
        if state == _UNTIL_CLOSE:
            self._count(len(buffer))
            events.append(Data(bytes(buffer)))
            buffer.clear()
            return False
        line = self._line()
        if line is None:
            return False
        if state == _CHUNK_SIZE:
            size_text = line.partition(b";")[0].strip(b" \t")
            try:
                size = int(size_text, 16)
            except ValueError:
                raise _Reject("invalid chunk size") from None
            if size_text[:1] in (b"-", b"+") or size_text[:2].lower() == b"0x":
                raise _Reject("invalid chunk size")
            if size == 0:
                self._state = _TRAILER
            else:
                self._count(size)
                self._remaining = size
                self._state = _CHUNK
        elif state == _CHUNK_END:
            if line:
                raise _Reject("chunk data longer than its size")
            self._state = _CHUNK_SIZE
        elif state == _TRAILER:
            if not line:
                self._end(events)
        return True

    def _line(self) -> bytes | None:
        buffer = self._buffer
        end = buffer.find(b"\r\n")
        if end < 0:
            if len(buffer) > _MAX_CHUNK_LINE:
                raise _Reject("chunk line too long")
            return None
        line = bytes(buffer[:end])
        del buffer[:end + 2]
        return line

    def _count(self, size: int) -> None:
        self._body_size += size
        if self._body_size > self._max_body:
            raise _Reject("response body too large")

    def _head(self, events: list[ResponseEvent]) -> bool:
        buffer = self._buffer
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            newline = buffer.find(b"\n")
            if (newline < 0 and len(buffer) > self._max_line + 2) or \
                    len(buffer) > self._max_line + self._max_header_bytes + 4:
                raise _Reject("response head too large")
            return False
        if not self._methods:
            raise _Reject("a response without a request")
        head = bytes(buffer[:end + 4])
        del buffer[:end + 4]
        response = parse_status_head(head, self._max_line, self._max_header_bytes,
                                     self._max_headers)
        if isinstance(response, ResponseRejected):
            self._stop()
            events.append(response)
            return False
        method = self._methods[0]
        status = response.status
        if status == 101 or (method == "CONNECT" and 200 <= status < 300):
            # RFC 9110 §7.8, §9.3.6: the connection now carries another protocol.
            events.append(response._replace(has_body=False))
            self._methods.popleft()
            self.stopped = True
            self._state = _STOPPED
            self.trailing_data = bytes(buffer)
            buffer.clear()
            return False
        if status < 200:  # RFC 9110 §15.2: interim; the final response still follows
            events.append(response)
            return True
        if method == "HEAD":
            response = response._replace(has_body=False)
        events.append(response)
        self._body_size = 0
        if not response.has_body:
            self._end(events)
            return True
        self._frame(response)
        if self._state == _LENGTH and self._remaining == 0:
            self._end(events)
        return True

    def _frame(self, response: Response) -> None:
        """RFC 9112 §6.3: chunked as the final coding, else Content-Length, else close."""
        coding = response.header(b"transfer-encoding")
        if coding is not None:
            if coding.rpartition(b",")[2].strip().lower() == b"chunked":
                self._state = _CHUNK_SIZE
            else:
                self._state = _UNTIL_CLOSE
            return
        length = response.header(b"content-length")
        if length is None:
            self._state = _UNTIL_CLOSE
            return
        self._remaining = int(length)  # llhttp validated the digits and duplicates
        self._count(self._remaining)
        self._state = _LENGTH

    def _end(self, events: list[ResponseEvent]) -> None:
        events.append(EndOfMessage())
        self._methods.popleft()
        self._state = _HEAD
