"""HTTP/1.1 on a connection: the asyncio side of the sans-I/O server core.

:class:`~blackbull.protocol.http1.server.ServerConnection` decides the protocol (which
request is answered, keep-alive, rejections, when an Upgrade may switch); this handler
does the I/O around it: reading in bounded pieces with back-pressure (later pipelined
requests wait with their bodies buffered, RFC 9112 §9.3.2), the four timers (head, body,
keep-alive, write), the linger after an error answer, and the hand-over to the WebSocket
or HTTP/2 handler, which the connection's negotiator (``negotiate.py``)
builds. Each request's ASGI side is a
:class:`~blackbull.server.http1_cycle.RequestCycle`.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..protocol.http1.events import Data, EndOfMessage, Request, RequestRejected
from ..protocol.http1.parser import RequestParser
from ..protocol.http1.response import simple_response
from ..protocol.http1.server import (
    ANSWER_INSTEAD,
    CLOSE,
    HOLD,
    NOTHING,
    REJECT,
    START,
    SWITCH,
    ServerConnection,
)
from .asgi import base_scope
from .clock import http_date
from .connection import ProtocolHandler
from .gate import Gate
from .http1_cycle import RequestCycle
from .overload import request_app
from .ratelog import log_limited

log = logging.getLogger("blackbull.server")

_BODY_BUFFER_HIGH = 256 * 1024   # buffered request body bytes before we stop reading
_FEED_PIECE = 8192               # bytes parsed between two pipeline-limit checks
_LINGER = 1.0                    # seconds input is still read (and dropped) after an error


class HTTP1Handler(ProtocolHandler):
    """HTTP/1.1 (and 1.0) server side of one connection."""

    __slots__ = (
        "core", "loop", "writable", "settings", "_timer", "_timer_kind", "_unparsed",
        "_discarding", "_idle_timer", "_idle_since", "_write_timer", "scope_template",
    )

    core: ServerConnection[RequestCycle]

    def __init__(self) -> None:
        self.writable = Gate()  # shut while the transport pushes back
        self._timer: asyncio.TimerHandle | None = None
        self._timer_kind = ""
        self._idle_timer: asyncio.TimerHandle | None = None
        self._idle_since = -1.0
        self._write_timer: asyncio.TimerHandle | None = None
        self._unparsed = bytearray()
        self._discarding = False

    def start(self, initial_data: bytes) -> None:
        self.loop = asyncio.get_running_loop()
        s = self.settings = self.conn.state.settings
        self.core = ServerConnection(self._new_parser())
        # The scope keys that are the connection's (scheme, client, server, root_path):
        # each request copies this and sets its own (RequestCycle).
        self.scope_template = base_scope(self.conn, "http", "1.1", "GET", "/", b"/", b"",
                                         [])
        self.conn.transport.set_write_buffer_limits(high=s.h1_write_buffer)  # type: ignore[union-attr]
        if initial_data:
            self.data_received(initial_data)
        else:
            self._update_timer()

    def _new_parser(self) -> RequestParser:
        s = self.settings
        return RequestParser(s.h1_max_request_line, s.h1_max_header_bytes, s.h1_max_headers,
                             s.h1_max_body)

    # --- input -----------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        """Parse in pieces of _FEED_PIECE bytes and stop between two once more than
        BB_H1_MAX_PIPELINE requests wait (RFC 9112 §9.3.2): one 256 KiB read of tiny
        pipelined requests must not become thousands of request cycles at once. The
        rest stays unparsed, with reading paused, until the queue drains."""
        if self._discarding:
            return  # answered and closing (see _close_after_answer)
        if self._unparsed:
            self._unparsed += data
            return
        if len(data) <= _FEED_PIECE:
            self._handle(data)
            return
        view = memoryview(data)
        end = len(data)
        pos = 0
        while pos < end:
            piece = bytes(view[pos:pos + _FEED_PIECE])
            pos += len(piece)
            self._handle(piece)
            if pos < end and not self._keep_feeding(bytes(view[pos:])):
                return

    def _keep_feeding(self, rest: bytes) -> bool:
        """After one piece: False when the rest of the read must not be parsed now."""
        core = self.core
        if self.conn.closed or core.rejection is not None or self._discarding:
            return False
        if self.conn.handler is not self:  # switched protocols: the rest is theirs
            self.conn.handler.data_received(rest)  # type: ignore[union-attr]
            return False
        if core.upgrade is not None:  # switching after earlier requests: keep it for then
            core.keep_for_upgrade(rest)
            return False
        if len(core.queue) > self.settings.h1_max_pipeline:
            self._unparsed = bytearray(rest)
            self.conn.pause_reading()
            return False
        return True

    def _feed_unparsed(self) -> None:
        if self._unparsed and not self.conn.closed and self.conn.handler is self:
            data = bytes(self._unparsed)
            self._unparsed = bytearray()
            self.data_received(data)
            if self.core.input_ended and not self.core.queue and not self._unparsed:
                self.conn.close()  # what was left held no complete request
            elif not self._unparsed and len(self.core.queue) <= self.settings.h1_max_pipeline:
                self.conn.resume_reading()

    def _handle(self, data: bytes) -> None:
        core = self.core
        for event in core.parser.feed(data):  # core.receive_data, one call less per read
            kind = type(event)
            if kind is Request:
                self._on_request(event)  # type: ignore[arg-type]
            elif kind is Data:
                core.body_owner.feed_body(event.data)  # type: ignore[union-attr]
            elif kind is EndOfMessage:
                if core.body_owner is not None:
                    core.body_ended().end_body()  # type: ignore[union-attr]
            else:
                self._on_rejected(event)  # type: ignore[arg-type]
                return
        if core.upgrade is not None:
            self._try_upgrade()
            return
        cycles = core.queue
        if cycles and (len(cycles) > self.settings.h1_max_pipeline
                       or cycles[-1].buffered > _BODY_BUFFER_HIGH):
            self.conn.pause_reading()  # back-pressure: too many requests, or too much body
        self._update_timer()

    def _on_request(self, request: Request) -> None:
        core = self.core
        if request.upgrade is not None and core.hold_upgrade(request):
            return
        cycle = RequestCycle(self, request)
        if core.input_ended:
            cycle.end_of_input()
        if core.add(cycle, cycle.body_complete):
            state = self.conn.state
            # request_app decides only under BB_LIMIT_CONCURRENCY (a call less without)
            cycle.spawn(request_app(state) if self.settings.limit_concurrency
                        else state.app, state.tasks)

    def _on_rejected(self, rejection: RequestRejected) -> None:
        self._cancel_all_timers()
        core = self.core
        current = core.current
        owner = core.body_owner
        if owner is not None:
            # The error is in this request's body (e.g. 413 mid-chunked): its app sees a
            # disconnect; answered for it if it has not started answering itself.
            owner.disconnect()
        decision = core.reject(rejection, current is not None and current.writer is not None)
        if decision is HOLD:
            self.conn.pause_reading()  # answered once the earlier requests are done
            return
        if decision is ANSWER_INSTEAD:
            owner.response_complete = True  # type: ignore[union-attr]
        self._send_error(rejection)

    def _send_error(self, error: RequestRejected) -> None:
        if not error.respond:
            # Not HTTP at all (RFC 9112 §2.2's SHOULD 400 is not followed, so that a
            # cleartext port shared with h2c closes on a bad preface, h2spec http2/3.5/2).
            self._log(logging.INFO, "h1-not-http", "closing %s without an answer: %s",
                      self.conn.client, error.reason)
            self.conn.close()
            return
        if error.status >= 500:
            self._log(logging.WARNING, f"h1-refused-{error.status}",
                      "refusing request from %s: %s %s", self.conn.client, error.status,
                      error.reason)
        else:
            self._log(logging.INFO, f"h1-bad-request-{error.status}",
                      "bad request from %s: %s %s", self.conn.client, error.status,
                      error.reason)
        if error.respond:
            body = f"{error.status} {error.reason}\n".encode()
            self.conn.write(simple_response(error.status, body, date=http_date()))
            self._close_after_answer()
            return
        self.conn.close()

    def _close_after_answer(self) -> None:
        """RFC 9112 §9.6: after an error answer, close our side first and keep reading
        (and discarding) for a moment: closing with the client's bytes still unread
        would send a TCP reset that can destroy the answer before the client reads it
        (e.g. a slowloris client still dribbling its head when 408 goes out)."""
        transport = self.conn.transport
        if self.conn.closed or transport is None or not transport.can_write_eof():
            self.conn.close()
            return
        try:
            transport.write_eof()
        except OSError:  # the peer is already gone
            self.conn.close()
            return
        self._discarding = True
        self._cancel_all_timers()
        # What was buffered for the refused request is garbage now: free it at once.
        self._unparsed = bytearray()
        self.core.new_parser(self._new_parser())
        self.conn.resume_reading()
        self.loop.call_later(_LINGER, self.conn.close)

    def body_consumed(self) -> None:
        if len(self.core.queue) <= self.settings.h1_max_pipeline and \
                self.core.rejection is None:
            if self._unparsed:
                # Not from inside receive(): the app's current message is being built.
                self.loop.call_soon(self._feed_unparsed)
                return
            self.conn.resume_reading()

    # --- cycle completion --------------------------------------------------------------
    def cycle_done(self, cycle: RequestCycle) -> None:
        core = self.core
        step = core.finished(cycle, cycle.keep_alive, bool(self._unparsed))
        if step is NOTHING or self.conn.closed:
            return
        if step is START:
            state = self.conn.state
            core.queue[0].spawn(request_app(state) if self.settings.limit_concurrency
                                else state.app, state.tasks)
        elif step is CLOSE:
            for other in core.drop_queued():
                other.disconnect()
            self.conn.close()
            return
        elif step is REJECT:
            self._send_error(core.rejection)  # type: ignore[arg-type]
            return
        elif step is SWITCH:
            self._try_upgrade()
            return
        if self.conn.paused_reading or self._unparsed:
            self.body_consumed()  # else nothing is held back: nothing to resume
        self._update_timer()

    # --- upgrades ----------------------------------------------------------------------
    def _try_upgrade(self) -> None:
        upgrade = self.core.take_upgrade()
        if upgrade is None:
            self.conn.pause_reading()
            return  # after the earlier requests are answered
        request, trailing = upgrade
        self._cancel_all_timers()
        handler = self.conn.negotiator.upgrade(request, self.conn)
        self.conn.resume_reading()
        if handler is not None:
            self.conn.switch(handler, trailing)
            return
        # Not upgrading after all (RFC 9110 §7.8): serve it as a plain request.
        request = request._replace(upgrade=None)
        self.core.new_parser(self._new_parser())
        self._on_request(request)
        if trailing:
            self.data_received(trailing)

    # --- timers ------------------------------------------------------------------------
    def _update_timer(self) -> None:
        """Header timeout while a request head arrives, body timeout between two pieces
        of a body, keep-alive timeout while idle (no request in flight or arriving)."""
        if self.conn.closed:
            return
        core = self.core
        owner = core.body_owner
        if owner is None and core.parser.in_message:  # core.receiving_head, inlined
            kind, delay = "header", self.settings.h1_header_timeout
        elif owner is not None and not owner.disconnected:
            # A body that stops arriving (slow-body attack): the same number of seconds
            # is allowed between two pieces of it, restarted by each piece.
            kind, delay = "body", self.settings.h1_header_timeout
            if self._timer_kind == "body":
                self._cancel_timer()
        else:
            if self._timer_kind:
                self._cancel_timer()
            if core.queue:
                self._idle_since = -1.0  # busy: the app is answering
                return
            # Idle (the keep-alive wait): inline, as it follows every response.
            if self._idle_since < 0:
                self._idle_since = self.loop.time()
            if self._idle_timer is None:
                self._arm_idle_timer()
            return
        self._idle_since = -1.0
        if kind == self._timer_kind:
            return  # a running header timer is not restarted by more bytes (slowloris)
        self._cancel_timer()
        if delay > 0:
            self._timer_kind = kind
            self._timer = self.loop.call_later(delay, self._on_timeout, kind)

    def _arm_idle_timer(self) -> None:
        """The keep-alive timer is lazy: one timer stays armed across requests and, when
        it fires, closes only if the connection has been idle for the whole timeout
        (otherwise it re-arms for the rest), instead of one timer per request."""
        delay = self.settings.h1_keepalive_timeout
        if delay > 0:
            self._idle_timer = self.loop.call_later(delay, self._on_idle_check)

    def _on_idle_check(self) -> None:
        self._idle_timer = None
        since = self._idle_since
        if since < 0 or self.conn.closed:
            return  # not idle now: the next idle moment arms a new timer
        remaining = since + self.settings.h1_keepalive_timeout - self.loop.time()
        if remaining > 0.001:
            self._idle_timer = self.loop.call_later(remaining, self._on_idle_check)
            return
        self._idle_since = -1.0
        self.conn.close()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_kind = ""

    def _cancel_all_timers(self) -> None:
        self._cancel_timer()
        self._idle_since = -1.0
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def _on_timeout(self, kind: str) -> None:
        self._timer = None
        self._timer_kind = ""
        if kind == "header":
            self._log(logging.INFO, "h1-head-timeout", "request head timeout from %s "
                      "(BB_H1_HEADER_TIMEOUT=%g s)", self.conn.client,
                      self.settings.h1_header_timeout)
            self.conn.write(simple_response(408, b"408 Request Timeout\n", date=http_date()))
            self._close_after_answer()
            return
        if kind == "body" and not self._on_body_timeout():
            return
        self.conn.close()

    def _on_body_timeout(self) -> bool:
        """RFC 9110 §15.5.9: the body stopped arriving → 408 (if the app has not begun
        its answer) and close. False when we are the ones not reading (back-pressure):
        the client is not to blame, the timer starts again."""
        cycle = self.core.body_owner
        if cycle is None or self.conn.paused_reading:
            self._update_timer()
            return False
        self._log(logging.INFO, "h1-body-timeout", "request body timeout from %s "
                  "(BB_H1_HEADER_TIMEOUT=%g s between two pieces)", self.conn.client,
                  self.settings.h1_header_timeout)
        first = self.core.current is cycle
        cycle.disconnect()
        if first and cycle.writer is None and not cycle.response_complete:
            cycle.response_complete = True
            self.conn.write(simple_response(408, b"408 Request Timeout\n", date=http_date()))
        return True

    # --- connection events -----------------------------------------------------------
    def eof_received(self) -> bool | None:
        # A half-closed client may still read our answers (RFC 9112 §9.6): keep the write
        # side open while complete requests are in flight. A request whose body can now
        # never arrive is a disconnect (returning None closes the transport).
        if self._discarding or not self.core.end_of_input():
            return None
        # Every complete request already received is answered, in order (RFC 9112
        # §9.3.2), the last answer with Connection: close; then we close.
        for cycle in self.core.queue:
            cycle.end_of_input()
        return True

    def connection_lost(self, exc: BaseException | None) -> None:
        self._cancel_all_timers()
        self._cancel_write_timer()
        for cycle in self.core.queue:
            cycle.disconnect()
        self.writable.set()

    def pause_writing(self) -> None:
        self.writable.clear()
        delay = self.settings.h1_write_timeout
        if delay > 0 and self._write_timer is None:
            self._write_timer = self.loop.call_later(delay, self._on_write_timeout)

    def resume_writing(self) -> None:
        self.writable.set()
        self._cancel_write_timer()

    def _cancel_write_timer(self) -> None:
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None

    def _on_write_timeout(self) -> None:
        """The client has not read our response for BB_H1_WRITE_TIMEOUT seconds (the
        write buffer stayed above a quarter of BB_H1_WRITE_BUFFER, like nginx's
        send_timeout between two successful writes): the bytes cannot go anywhere, so
        the connection is aborted — its app's next send() raises ClientDisconnected."""
        self._write_timer = None
        if self.conn.closed or self.writable.is_set():
            return
        self._log(logging.INFO, "h1-write-timeout", "%s did not read its response for "
                  "BB_H1_WRITE_TIMEOUT=%g s: closing", self.conn.client,
                  self.settings.h1_write_timeout)
        self.conn.abort()

    def _log(self, level: int, cause: str, msg: str, *args: Any) -> None:
        log_limited(log, level, cause, self.settings.log_repeat_interval, msg, *args)

    def shutdown(self) -> None:
        if self.core.shutdown():
            self.conn.close()

    @property
    def idle(self) -> bool:
        return not self.core.queue
