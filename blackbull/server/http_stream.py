"""One ASGI ``http`` request cycle, whatever carries it (ASGI HTTP spec 2.4).

:class:`HTTPStream` holds the rules of the ASGI HTTP messages once, for every transport:
``receive()`` yields the request body as ``http.request`` messages and then
``http.disconnect``; ``send()`` checks the order of ``http.response.start``, ``.body``
and ``.trailers``, drops the content of responses that have none (RFC 9110 §9.3.2 HEAD,
§6.4.1 204 and 304), raises :class:`ClientDisconnected` once the client is gone, and
answers 500 for an app that failed before its response started (else cuts the response
off). How the bytes travel is the business of its carrier, a subclass implementing the
carrier hooks: one request on an HTTP/1.1 connection
(:class:`~blackbull.server.http1_cycle.RequestCycle`) or one HTTP/2 stream
(:class:`~blackbull.server.http2_stream.H2Stream`).

The carrier is a subclass rather than a second object the stream calls: this is every
request's hot path, and the delegation (one more object, forwarding attributes and
calls) measured +12 % of the instructions of a whole HTTP/1.1 request.
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

from ..protocol.http1.response import ResponseError
from .asgi import ClientDisconnected
from .ratelog import log_limited

log = logging.getLogger("blackbull.server")
_Task = asyncio.Task

Message = dict[str, Any]
Headers = list[tuple[bytes, bytes]]

#: RFC 9110 §6.4.1: statuses whose responses carry no content.
_NO_CONTENT_STATUS = (204, 304)


class HTTPStream:
    """The ASGI side of one request: ``receive``, ``send`` and the app's task.

    The carrier feeds the request (:meth:`add_body`, :meth:`end_body`, :meth:`end_of_input`,
    :meth:`disconnect`) and reads the state: ``started`` (the head went out),
    ``response_complete`` (the last body piece was sent), ``disconnected``. It
    implements the hooks of the last section; ``send_head``, ``send_body`` and
    ``send_trailers`` return True when the app's ``send()`` must wait for
    :meth:`drain` (back-pressure, flow control), and their ``end`` means the response
    is complete after this piece (the carrier then finishes it: next request, END_STREAM).
    """

    __slots__ = (
        "scope", "loop", "chunks", "buffered", "body_complete", "request_done",
        "disconnected", "client_eof", "expect_continue", "waiter", "start", "started",
        "response_complete", "trailers_expected", "trailers", "no_content", "task",
    )

    #: The ``log_limited`` cause under which failures after a disconnect are folded.
    disconnect_log_key = "http-app-after-disconnect"
    #: Optional hooks, off where a carrier has nothing to do in them (saving a call on
    #: every request): without ``on_start`` no trailers are offered.
    start_hook = True
    end_hook = True
    #: The name of the app's task (``asyncio.Task.get_name``), for debugging.
    task_name = "blackbull-http"

    def __init__(self, scope: dict[str, Any], loop: asyncio.AbstractEventLoop,
                 body_complete: bool, expect_continue: bool) -> None:
        self.scope = scope
        self.loop = loop
        self.chunks: deque[bytes] | None = None  # made when a body piece arrives
        #: Credit of the buffered body: flow-controlled octets (HTTP/2), bytes (HTTP/1.1).
        self.buffered = 0
        self.body_complete = body_complete
        self.request_done = False  # the app was given the last http.request
        self.disconnected = False
        self.client_eof = False
        self.expect_continue = expect_continue and not body_complete
        self.waiter: asyncio.Future[None] | None = None
        self.start: Message | None = None
        self.started = False
        self.response_complete = False
        self.trailers_expected = False
        self.trailers: Headers | None = None
        self.no_content = False
        self.task: asyncio.Task[None] | None = None

    # --- fed by the carrier ------------------------------------------------------------
    def add_body(self, data: bytes, credit: int) -> bool:
        """A piece of request body; False when nobody will read it (the response is
        complete, or the client gone) or it is empty: its credit is the caller's."""
        if self.response_complete or self.disconnected or not data:
            return False
        chunks = self.chunks
        if chunks is None:
            chunks = self.chunks = deque()
        chunks.append(data)
        self.buffered += credit
        self._wake()
        return True

    def end_body(self) -> None:
        self.body_complete = True
        self._wake()

    def end_of_input(self) -> None:
        """The client closed its sending side after this request's body (a full close
        looks the same until a write fails): an app waiting on ``receive()`` for more
        than the body is told ``http.disconnect``, as uvicorn, hypercorn and nginx read
        an EOF; what the app still sends goes out, for a client that half-closed and
        still reads (RFC 9112 §9.6), unless the app was told of the disconnect."""
        self.client_eof = True
        self._wake()

    def disconnect(self) -> None:
        self.disconnected = True
        self._wake()

    def drop_body(self) -> int:
        """Forget the buffered body; returns its credit."""
        credit = self.buffered
        if credit:
            self.buffered = 0
            self.chunks.clear()  # type: ignore[union-attr]
        return credit

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- ASGI receive --------------------------------------------------------------------
    async def receive(self) -> Message:
        while True:
            if self.disconnected:
                return {"type": "http.disconnect"}
            chunks = self.chunks
            if chunks:
                body = b"".join(chunks) if len(chunks) > 1 else chunks[0]
                chunks.clear()
                credit = self.buffered
                self.buffered = 0
                self.request_done = self.body_complete
                self.consumed(credit)
                return {"type": "http.request", "body": body,
                        "more_body": not self.body_complete}
            if self.body_complete:
                if not self.request_done:
                    self.request_done = True
                    return {"type": "http.request", "body": b"", "more_body": False}
                if self.response_complete:
                    return {"type": "http.disconnect"}  # ASGI: the response is sent
                if self.client_eof:
                    self.disconnected = True  # told so: from now on send() raises
                    return {"type": "http.disconnect"}
            elif self.expect_continue and not self.started:
                # RFC 9110 §10.1.1: the client waits for 100 before sending the body.
                self.expect_continue = False
                self.send_continue()
            waiter = self.waiter = self.loop.create_future()
            await waiter

    # --- ASGI send -----------------------------------------------------------------------
    async def send(self, message: Message) -> None:
        if self.disconnected:
            # ASGI spec 2.4: send() once the client is gone raises an OSError subclass.
            raise ClientDisconnected(f"{self.where()} is gone")
        kind = message["type"]
        if kind == "http.response.body":
            if self.response_complete:
                raise RuntimeError("http.response.body after the response completed")
            body = message.get("body", b"")
            more = message.get("more_body", False)
            end = not more and not self.trailers_expected
            if self.started:
                if body and self.no_content:
                    body = b""  # RFC 9110 §9.3.2, §6.4.1: HEAD, 204, 304 carry no content
                wait = self.send_body(body, end)
            else:
                start = self.start
                if start is None:
                    raise RuntimeError("http.response.body before http.response.start")
                self.no_content = self.scope["method"] == "HEAD" \
                    or start["status"] in _NO_CONTENT_STATUS
                wait = self.send_head(start, body, end)
                self.started = True
            if not more:
                self.response_complete = True
                if self.waiter is not None:  # an app waiting in receive(): its disconnect
                    self._wake()
            if wait and not self.disconnected:
                await self.drain()
                if self.disconnected:
                    raise ClientDisconnected(f"{self.where()} is gone")
        elif kind == "http.response.start":
            if self.start is not None:
                raise RuntimeError("http.response.start sent twice")
            self.start = message
            if self.start_hook:
                self.trailers_expected = self.on_start(message)
        elif kind == "http.response.trailers":
            await self._send_trailers(message)
        elif kind == "http.response.push":
            self.push(message)
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} in an http scope "
                               f"({self.where()})")

    async def _send_trailers(self, message: Message) -> None:
        if not self.trailers_expected or not self.started:
            raise RuntimeError("http.response.trailers without trailers=True and a body")
        trailers = [(bytes(k).lower(), bytes(v)) for k, v in message.get("headers", ())]
        if self.trailers is not None:
            trailers = self.trailers + trailers
        if message.get("more_trailers", False):
            self.trailers = trailers
            return
        self.trailers = None
        self.trailers_expected = False  # nothing more is due
        self.response_complete = True
        wait = self.send_trailers(trailers)
        if wait and not self.disconnected:
            await self.drain()

    # --- the app task --------------------------------------------------------------------
    def spawn(self, app: Any, tasks: set[asyncio.Task[Any]]) -> None:
        """Run the app in a task the server tracks in ``tasks`` (graceful shutdown waits
        for them) until :meth:`run` ends; the task leaves ``tasks`` itself, which costs
        no done callback (one loop callback less per request).

        The task is built directly with a fixed name: on CPython 3.11 a nameless task
        formats "Task-N" from a global counter, and uvloop's ``create_task(name=...)``
        still does so before renaming it. The server installs no task factory."""
        task = self.task = _Task(self.run(app, tasks), loop=self.loop, name=self.task_name)
        tasks.add(task)

    async def run(self, app: Any, tasks: set[asyncio.Task[Any]] | None = None) -> None:
        try:
            await app(self.scope, self.receive, self.send)
        except asyncio.CancelledError:
            self._fail()
            raise
        except BaseException as exc:  # noqa: BLE001 - an app bug must not kill the server
            if isinstance(exc, ResponseError):
                log.error("invalid response from the ASGI app: %s", exc)
            elif self.disconnected or self.client_eof:
                # Most often our own ClientDisconnected, re-raised by the app (Starlette
                # turns it into ClientDisconnect): the client's doing, so folded.
                log_limited(log, logging.INFO, self.disconnect_log_key, self.log_interval(),
                            "ASGI app ended with %r after %s went away", exc, self.where())
                log.debug("ASGI app traceback", exc_info=True)
            else:
                log.exception("exception in ASGI application (%s)", self.where())
            self._fail()
            if not isinstance(exc, Exception):
                raise
        else:
            if not self.response_complete or self.trailers_expected:
                if not self.disconnected:
                    log.error("ASGI app returned without %s the response (%s)",
                              "completing" if self.started else "sending", self.where())
                self._fail()
        finally:
            if tasks is not None:
                tasks.discard(self.task)
            if self.end_hook:
                self.finished()

    def _fail(self) -> None:
        """The app failed or returned early: a 500 if nothing was sent yet (ASGI spec),
        else the carrier cuts the response off. Nothing once it was all handed over."""
        if self.response_complete and not self.trailers_expected:
            return
        self.response_complete = True
        self.trailers_expected = False
        if not self.started and not self.disconnected:
            self.started = True
            self.send_error()
        else:
            self.abort()

    # --- carrier hooks -------------------------------------------------------------------
    def where(self) -> str:
        """Who is gone, for messages: ``"the HTTP/1.1 client"``, ``"HTTP/2 stream 3"``."""
        raise NotImplementedError

    def log_interval(self) -> float:
        """Seconds between two log lines of one cause (BB_LOG_REPEAT_INTERVAL)."""
        raise NotImplementedError

    def consumed(self, credit: int) -> None:
        """The app read request body worth ``credit`` (flow control, read resumption)."""
        raise NotImplementedError

    def send_continue(self) -> None:
        """RFC 9110 §10.1.1: the app waits for the body: a ``100 (Continue)``."""
        raise NotImplementedError

    def on_start(self, start: Message) -> bool:
        """``http.response.start`` arrived (nothing is sent before the first body piece);
        True when ``http.response.trailers`` will follow (the trailers extension).
        Called where ``start_hook`` is set."""
        raise NotImplementedError

    def send_head(self, start: Message, body: bytes, end: bool) -> bool:
        """Status and fields of ``start`` with the first piece of content. When
        ``no_content`` is set the content is not sent (a HEAD response may still
        announce its length). Raising leaves the response unstarted (a 500)."""
        raise NotImplementedError

    def send_body(self, body: bytes, end: bool) -> bool:
        """A later piece of content (empty where the response has none)."""
        raise NotImplementedError

    def send_trailers(self, trailers: Headers) -> bool:
        """The trailer section, which ends the response."""
        raise NotImplementedError

    async def drain(self) -> None:
        """Return when what was sent has left (or the client is gone)."""
        raise NotImplementedError

    def push(self, message: Message) -> None:
        """``http.response.push`` (RFC 9113 §8.4); raise where it cannot be carried."""
        raise NotImplementedError

    def send_error(self) -> None:
        """Answer ``500 Internal Server Error`` in place of the app's response."""
        raise NotImplementedError

    def abort(self) -> None:
        """The response started but cannot complete: close or reset what carries it."""
        raise NotImplementedError

    def finished(self) -> None:
        """The app task ended (after the last piece, ``send_error`` or ``abort``).
        Called where ``end_hook`` is set."""
        raise NotImplementedError
