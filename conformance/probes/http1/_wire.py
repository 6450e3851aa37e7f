"""Raw HTTP/1.1 on a probe's connection: request bytes sent exactly as given, responses
read and parsed incrementally.

No HTTP client library is involved: a library would refuse (or repair) the violations the
probes send.  The parser is deliberately lenient about what it *reads* (a bare LF line end
is accepted and recorded) so that a probe judges a server's framing, not its cosmetics;
what it noticed is kept in :attr:`Response.problems` for the probes that check syntax.

A read ends in one of three ways a probe must tell apart (RFC 9112 §2.2, §9.6):
a :class:`Response`, :data:`CLOSED` (the server closed the connection without answering)
or :data:`SILENT` (nothing complete arrived in time).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from conformance.probes.target import ProbeContext, Wire

CRLF = b"\r\n"


class _End(str):
    """A read that produced no response: ``CLOSED`` or ``SILENT``."""


CLOSED = _End("closed without an answer")
SILENT = _End("silent (no complete answer in time)")

_STATUS_LINE = re.compile(rb"^HTTP/(\d)\.(\d) (\d{3}) ?(.*)$")


@dataclass
class Response:
    """One parsed HTTP/1.x response."""

    version: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    trailers: list[tuple[str, str]] = field(default_factory=list)
    #: how the body's end was found: "none", "length", "chunked" or "close"
    framing: str = "none"
    head: bytes = b""
    problems: list[str] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        """The first value of field *name* (case-insensitive), or ``None``."""
        name = name.lower()
        return next((v for n, v in self.headers if n == name), None)

    def get_all(self, name: str) -> list[str]:
        name = name.lower()
        return [v for n, v in self.headers if n == name]

    def tokens(self, name: str) -> list[str]:
        """The comma-separated list elements of every *name* field, lower-cased."""
        return [t.strip().lower() for v in self.get_all(name) for t in v.split(",") if t.strip()]

    @property
    def informational(self) -> bool:
        return 100 <= self.status < 200

    def summary(self) -> str:
        return f"HTTP/{self.version} {self.status} {self.reason}".rstrip()


class ResponseReader:
    """Responses from one :class:`Wire`, parsed as bytes arrive.

    ``read(...)`` returns the next response (1xx responses included: a probe that wants
    only the final one calls :meth:`final`).  ``head_only`` says the request was HEAD (or
    the response can carry no body for another reason the reader cannot see).
    """

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.buf = b""
        self.eof = False

    def _fill(self, deadline: float) -> bool:
        """Read once more; ``False`` at EOF or when the deadline passed."""
        if self.eof:
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        data = self.wire.recv(remaining)
        if data is None:
            return False
        if data == b"":
            self.eof = True
            return False
        self.buf += data
        return True

    def read(self, timeout: float, *, head_only: bool = False) -> Response | _End:
        deadline = time.monotonic() + timeout
        while True:
            parsed = self._parse(head_only, final=self.eof)
            if parsed is None and not self._fill(deadline):
                parsed = self._parse(head_only, final=self.eof)
                if parsed is None:
                    end = CLOSED if self.eof else SILENT
                    self.wire.transcript.append(f"<< ({end})")
                    return end
            if parsed is not None:
                fields = "; ".join(f"{n}: {v[:40]}" for n, v in parsed.headers[:12])
                self.wire.transcript.append(
                    f"<< {parsed.summary()} [{fields}] body {len(parsed.body)} bytes"
                    + (f" problems: {parsed.problems}" if parsed.problems else ""))
                return parsed

    def final(self, timeout: float, *, head_only: bool = False) -> tuple[Response | _End, list[Response]]:
        """The next non-1xx response, and the 1xx responses read before it."""
        interim: list[Response] = []
        deadline = time.monotonic() + timeout
        while True:
            got = self.read(max(deadline - time.monotonic(), 0.0), head_only=head_only)
            if isinstance(got, Response) and got.informational and got.status != 101:
                interim.append(got)
                continue
            return got, interim

    def closed_after(self, timeout: float) -> bool | None:
        """After the last response: ``True`` when the server closes the connection within
        *timeout*, ``False`` when more bytes arrive instead, ``None`` when it stays open."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            if self.buf:
                return False
            if not self._fill(deadline):
                if self.eof:
                    break
                return None
        return not self.buf

    # -- parsing ---------------------------------------------------------------------------

    def _parse(self, head_only: bool, final: bool) -> Response | None:
        buf = self.buf
        end, sep = _head_end(buf)
        if end < 0:
            return None
        head = buf[:end]
        rest = buf[end + sep:]
        problems: list[str] = []
        lines = buf[:end + sep].split(b"\n")[:-2]
        if any(not line.endswith(b"\r") for line in lines):
            problems.append("a line of the response head does not end in CRLF")
        lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
        match = _STATUS_LINE.match(lines[0])
        if match is None:
            # not HTTP: keep it whole, so the probe can show it
            self.buf = b""
            return Response("?", 0, lines[0].decode("latin-1"), [], head=head,
                            problems=["not an HTTP/1.x status line"])
        if not lines[0][12:13] == b" ":
            problems.append("no SP after the status code (RFC 9112 §4)")
        headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon:
                problems.append(f"field line without a colon: {line[:60]!r}")
                continue
            if name != name.strip() or not name:
                problems.append(f"whitespace in or around a field name: {name!r}")
            if re.search(rb"[\x00\r\n]", value):
                problems.append(f"CR, LF or NUL in a field value: {value[:60]!r}")
            headers.append((name.strip().decode("latin-1").lower(),
                            value.strip(b" \t").decode("latin-1")))
        resp = Response(version=f"{match[1].decode()}.{match[2].decode()}",
                        status=int(match[3]), reason=match[4].decode("latin-1"),
                        headers=headers, head=head, problems=problems)
        consumed = _body(resp, rest, head_only, final)
        if consumed is None:
            return None
        self.buf = rest[consumed:]
        return resp


def _head_end(buf: bytes) -> tuple[int, int]:
    """Offset where the head ends and the length of its terminator (-1 when incomplete)."""
    candidates = [(buf.find(b"\r\n\r\n"), 4), (buf.find(b"\n\n"), 2), (buf.find(b"\n\r\n"), 3)]
    found = [(i, n) for i, n in candidates if i >= 0]
    return min(found) if found else (-1, 0)


def _body(resp: Response, rest: bytes, head_only: bool, final: bool) -> int | None:
    """Fill in the body; the number of bytes of *rest* it used, or None for 'need more'.

    RFC 9112 §6.3: no body for HEAD, 1xx, 204 and 304; chunked when Transfer-Encoding ends
    in chunked; Content-Length; otherwise the body runs to the end of the connection.
    """
    if head_only or resp.informational or resp.status in (204, 304):
        return 0
    te = resp.tokens("transfer-encoding")
    if te:
        if te[-1] == "chunked":
            resp.framing = "chunked"
            return _chunked(resp, rest)
        resp.framing = "close"
        return _to_close(resp, rest, final)
    lengths = resp.get_all("content-length")
    if lengths:
        values = {v.strip() for raw in lengths for v in raw.split(",")}
        if len(values) != 1 or not next(iter(values)).isdigit():
            resp.problems.append(f"invalid Content-Length {lengths!r}")
            resp.framing = "close"
            return _to_close(resp, rest, final)
        n = int(next(iter(values)))
        resp.framing = "length"
        if len(rest) < n:
            if final:
                resp.problems.append(f"connection closed after {len(rest)} of {n} body bytes")
                resp.body = rest
                return len(rest)
            return None
        resp.body = rest[:n]
        return n
    resp.framing = "close"
    return _to_close(resp, rest, final)


def _to_close(resp: Response, rest: bytes, final: bool) -> int | None:
    if not final:
        return None
    resp.body = rest
    return len(rest)


def _chunked(resp: Response, rest: bytes) -> int | None:
    pos, body = 0, []
    while True:
        eol = rest.find(b"\n", pos)
        if eol < 0:
            return None
        size_text = rest[pos:eol].rstrip(b"\r").split(b";")[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            resp.problems.append(f"bad chunk size {size_text[:20]!r}")
            resp.body = b"".join(body)
            return len(rest)
        pos = eol + 1
        if size == 0:
            while True:
                eol = rest.find(b"\n", pos)
                if eol < 0:
                    return None
                line = rest[pos:eol].rstrip(b"\r")
                pos = eol + 1
                if not line:
                    resp.body = b"".join(body)
                    return pos
                name, _, value = line.partition(b":")
                resp.trailers.append((name.strip().decode("latin-1").lower(),
                                      value.strip().decode("latin-1")))
        if len(rest) < pos + size + 2:
            return None
        body.append(rest[pos:pos + size])
        pos += size
        if rest[pos:pos + 2] == CRLF:
            pos += 2
        elif rest[pos:pos + 1] == b"\n":
            pos += 1


# -- building requests ---------------------------------------------------------------------

def request(method: str = "GET", target: str | None = None, *, host: str | None = "",
            headers: list[tuple[str, str]] | tuple[tuple[str, str], ...] = (),
            body: bytes = b"", version: str = "HTTP/1.1", content_length: bool | None = None,
            ctx: ProbeContext | None = None) -> bytes:
    """The bytes of a request, exactly as listed (no field is added, fixed or reordered
    except ``Host``, sent first unless *host* is ``None``, and ``Content-Length`` when a
    *body* is given and *content_length* is not False)."""
    if ctx is not None:
        target = target if target is not None else ctx.target.path
        if host == "":
            host = ctx.target.authority
    lines = [f"{method} {target or '/'} {version}".encode("latin-1")]
    if host is not None:
        lines.append(b"Host: " + host.encode("latin-1"))
    for name, value in headers:
        lines.append(name.encode("latin-1") + b": " + value.encode("latin-1"))
    if body and content_length is not False:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return CRLF.join(lines) + CRLF + CRLF + body


@dataclass
class Exchange:
    """One connection with its reader, as most probes need it."""

    ctx: ProbeContext
    wire: Wire
    reader: ResponseReader

    def send(self, data: bytes, note: str = "") -> bool:
        return self.wire.send(data, note)

    def final(self, *, head_only: bool = False, timeout: float | None = None):
        return self.reader.final(self.ctx.timeout if timeout is None else timeout,
                                 head_only=head_only)

    def read(self, *, head_only: bool = False, timeout: float | None = None):
        return self.reader.read(self.ctx.timeout if timeout is None else timeout,
                                head_only=head_only)

    def closed_after(self, timeout: float | None = None) -> bool | None:
        return self.reader.closed_after(self.ctx.timeout if timeout is None else timeout)


def open_exchange(ctx: ProbeContext) -> Exchange:
    wire = ctx.connect()
    return Exchange(ctx, wire, ResponseReader(wire))


def send_one(ctx: ProbeContext, data: bytes, *, head_only: bool = False,
             timeout: float | None = None) -> tuple[Exchange, Response | _End]:
    """Open a connection, send *data*, read the final response (1xx skipped)."""
    ex = open_exchange(ctx)
    ex.send(data)
    got, _ = ex.final(head_only=head_only, timeout=timeout)
    return ex, got


def describe(got: Response | _End) -> str:
    return got.summary() if isinstance(got, Response) else str(got)
