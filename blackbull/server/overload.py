"""Answers of a server over capacity: a clear refusal instead of a reset.

Over ``BB_MAX_CONNECTIONS`` a new connection gets, where that is cheap, the answer its
protocol understands — HTTP/1.1 ``503 Service Unavailable`` with ``Retry-After`` and
``Connection: close`` (RFC 9110 §15.6.4, §10.2.3), or for HTTP/2 (ALPN ``h2``, or a
cleartext connection that starts with the preface) our SETTINGS followed by
``GOAWAY(last_stream_id=0, REFUSED_STREAM)``, which tells the client that nothing was
processed and it may retry elsewhere (RFC 9113 §3.4, §6.8). At most
``BB_MAX_REFUSALS`` such answers are under way at once; beyond, the connection is
reset as before (an answer must never cost more than the refusal saves).

Over ``BB_LIMIT_CONCURRENCY`` (uvicorn's ``--limit-concurrency``) connections are still
accepted, but a new request is answered 503 by :func:`service_unavailable` instead of
reaching the app.
"""
from __future__ import annotations

import asyncio
import functools
import logging
from typing import TYPE_CHECKING, Any

from ..protocol.http1.response import simple_response
from ..protocol.http2.errors import ErrorCode
from ..protocol.http2.frames import goaway_frame, settings_frame, starts_with_preface
from .clock import http_date
from .connection import ProtocolHandler
from .ratelog import log_limited

if TYPE_CHECKING:
    from .state import ServerState

log = logging.getLogger("blackbull.server")

_LINGER = 1.0           # seconds a refused connection is read (and dropped) for its answer
#: Our (empty) SETTINGS — the server preface must be the first frame (RFC 9113 §3.4) —
#: then GOAWAY (§6.8): last stream 0, REFUSED_STREAM, a reason as debug data; both
#: encoded by the HTTP/2 core.
_H2_REFUSAL = settings_frame() + goaway_frame(0, ErrorCode.REFUSED_STREAM, b"connection limit reached")


def _busy_body(why: str) -> bytes:
    return f"503 Service Unavailable: {why}\n".encode()


class Refusal(ProtocolHandler):
    """A connection over BB_MAX_CONNECTIONS: one answer, then close.

    Over TLS the protocol is known from ALPN and the answer goes at once; on cleartext
    the first bytes tell HTTP/2's preface from an HTTP/1.1 request. A cleartext client
    that has sent nothing (or too little to tell) within a second still gets an answer:
    the HTTP/1.1 one, or HTTP/2's if its bytes so far are a prefix of the preface —
    closing silently would look like a crash to a client whose request was merely late
    on a busy machine. After the answer, input is read and dropped for up to a second so
    that closing does not reset the answer away (RFC 9112 §9.6), then the connection
    closes.
    """

    __slots__ = ("_answered", "_timer", "_buffer")

    def __init__(self) -> None:
        self._answered = False
        self._timer: asyncio.TimerHandle | None = None
        self._buffer = b""

    def start(self, initial_data: bytes) -> None:
        self._timer = asyncio.get_running_loop().call_later(_LINGER, self._expire)
        conn = self.conn
        if conn.alpn == "h2":
            self._answer(h2=True)
        elif conn.scheme_secure:
            self._answer(h2=False)
        elif initial_data:
            self.data_received(initial_data)

    def data_received(self, data: bytes) -> None:
        if self._answered:
            return
        buffer = self._buffer + data
        h2 = starts_with_preface(buffer)
        if h2 is None:
            self._buffer = buffer
        else:
            self._answer(h2=h2)

    def _answer(self, *, h2: bool) -> None:
        self._answered = True
        self._buffer = b""
        conn = self.conn
        if h2:
            conn.write(_H2_REFUSAL)
        else:
            retry = b"%d" % conn.state.settings.retry_after
            conn.write(simple_response(503, _busy_body("connection limit reached"),
                                       extra=[(b"retry-after", retry)], date=http_date()))
        transport = conn.transport
        if transport is not None and transport.can_write_eof():
            try:
                transport.write_eof()
            except OSError:
                self._close()

    def eof_received(self) -> bool | None:
        self._close()
        return None

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.conn.state.refusing.discard(self.conn)

    def _expire(self) -> None:
        """The linger is over: close, or, if nothing told the protocol yet, answer first."""
        if self._answered or self.conn.closed:
            self._close()
            return
        self._timer = asyncio.get_running_loop().call_later(_LINGER, self._close)
        self._answer(h2=bool(self._buffer))

    def _close(self) -> None:
        self._timer = None
        self.conn.close()


def refuse_connection(conn: Any) -> None:
    """``conn`` is over BB_MAX_CONNECTIONS: answer it (bounded), else reset it."""
    state: ServerState = conn.state
    s = state.settings
    if len(state.refusing) >= s.max_refusals:
        log_limited(log, logging.WARNING, "connection-limit", s.log_repeat_interval,
                    "connection limit BB_MAX_CONNECTIONS=%d reached: resetting new "
                    "connections (BB_MAX_REFUSALS=%d answers under way)",
                    s.max_connections, s.max_refusals)
        conn.abort()
        return
    log_limited(log, logging.WARNING, "connection-limit", s.log_repeat_interval,
                "connection limit BB_MAX_CONNECTIONS=%d reached: refusing new connections "
                "(503 or GOAWAY)", s.max_connections)
    state.refusing.add(conn)
    conn.switch(Refusal())


def request_app(state: ServerState) -> Any:
    """The ASGI app for a new request: the server's own 503 over BB_LIMIT_CONCURRENCY
    (more open connections than the limit, or as many app tasks running), else the
    application."""
    s = state.settings
    limit = s.limit_concurrency
    if not limit or (len(state.connections) <= limit and len(state.tasks) < limit):
        return state.app
    log_limited(log, logging.WARNING, "concurrency-limit", s.log_repeat_interval,
                "concurrency limit BB_LIMIT_CONCURRENCY=%d reached: answering 503", limit)
    return _service_unavailable(s.retry_after)


@functools.lru_cache(maxsize=4)
def _service_unavailable(retry_after: int) -> Any:
    body = _busy_body("concurrency limit reached")
    start = {"type": "http.response.start", "status": 503, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", b"%d" % len(body)), (b"retry-after", b"%d" % retry_after),
        (b"connection", b"close")]}

    async def service_unavailable(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send(start)
        await send({"type": "http.response.body", "body": body})

    return service_unavailable
