"""The server role of an HTTP/1.1 connection (RFC 9112 §9): which request is answered
now, what follows each answer, and when the connection closes or switches protocols.

Sans-I/O like the HTTP/2 and WebSocket cores: no sockets, no clock. The asyncio handler
feeds bytes to :meth:`ServerConnection.receive_data`, creates one exchange object per
:class:`~.events.Request` (its ASGI side; opaque here) and tells the core when each
response is complete; the core answers with what to do next (:class:`Next`).

The rules it keeps (h11's ``_state.py`` is the model, extended to pipelining):

* Pipelining (RFC 9112 §9.3.2): requests are queued in arrival order and answered one at a
  time, in that order; only the body of the last one can still be arriving.
* Persistence (§9.3): a response that cannot keep the connection (``Connection: close``,
  HTTP/1.0 without keep-alive, a body cut short) ends it after that response, and the
  requests queued behind it are dropped.
* A rejected request (§2.2, e.g. 400/413/431) is answered once the responses before it
  are out, then the connection closes.
* Upgrade (RFC 9110 §7.8): a request for a protocol we switch to (``websocket``, ``h2c``)
  waits for the earlier responses; then :meth:`upgrade_target` decides whether it is
  really switched or served as a plain request.
* Half-close (§9.6): after the client's EOF, the complete requests already queued are
  answered, the last one with ``Connection: close``.
"""
from __future__ import annotations

from enum import Enum
from typing import Generic, TypeVar

from .events import Request, RequestRejected
from .parser import Event, RequestParser

T = TypeVar("T")


class Next(Enum):
    """What the handler does once a response is complete (:meth:`ServerConnection.finished`)."""

    NOTHING = "nothing"    # not the exchange being answered: ignore
    START = "start"        # start answering the next queued exchange (:attr:`current`)
    IDLE = "idle"          # keep the connection open for the next request (§9.3)
    CLOSE = "close"        # close; the queued exchanges (:meth:`drop_queued`) are dropped
    REJECT = "reject"      # send the held :attr:`rejection`, then close
    SWITCH = "switch"      # the held upgrade (:attr:`upgrade`) may now take place


class Rejection(Enum):
    """What to do with a :class:`RequestRejected` (:meth:`ServerConnection.reject`)."""

    ANSWER = "answer"          # answer it now (nothing else is being answered)
    ANSWER_INSTEAD = "instead"  # answer it now in place of :attr:`body_owner`'s response
    HOLD = "hold"              # after the earlier responses (stop reading meanwhile)


# Enum members read through their class cost ~10x a global in CPython 3.11 (EnumType
# attribute lookup): the per-request paths use these module-level names instead.
NOTHING, START, IDLE, CLOSE, REJECT, SWITCH = (
    Next.NOTHING, Next.START, Next.IDLE, Next.CLOSE, Next.REJECT, Next.SWITCH)
ANSWER, ANSWER_INSTEAD, HOLD = Rejection.ANSWER, Rejection.ANSWER_INSTEAD, Rejection.HOLD


class ServerConnection(Generic[T]):
    """RFC 9112 §9 server side; ``T`` is the handler's exchange (request cycle) type."""

    __slots__ = ("parser", "queue", "body_owner", "rejection", "upgrade", "input_ended",
                 "closing")

    def __init__(self, parser: RequestParser) -> None:
        self.parser = parser
        #: Requests received and not yet answered, in order; ``queue[0]`` is answering.
        #: A list, not a deque: an empty list is 56 bytes, an empty deque ~760 (its first
        #: 64-slot block), held by every idle keep-alive connection; the queue is short
        #: (BB_H1_MAX_PIPELINE), so pop(0) costs no more than popleft.
        self.queue: list[T] = []
        #: The exchange whose request body is still arriving (always the last queued).
        self.body_owner: T | None = None
        #: A rejected request, to be answered once the earlier responses are out.
        self.rejection: RequestRejected | None = None
        #: A request to switch protocols, with the bytes that followed its head.
        self.upgrade: tuple[Request, bytes] | None = None
        #: The client half-closed after complete requests (§9.6).
        self.input_ended = False
        #: The server is shutting down: no response keeps the connection.
        self.closing = False

    # --- input -----------------------------------------------------------------------
    def receive_data(self, data: bytes) -> list[Event]:
        """Parse bytes from the client into events (several requests when pipelined)."""
        return self.parser.feed(data)

    @property
    def receiving_head(self) -> bool:
        """A request head is arriving (for the head timeout, RFC 9112 §9.5); a body
        arriving is :attr:`body_owner`, nothing arriving is an empty :attr:`queue`
        (the keep-alive wait) or a busy one."""
        return self.body_owner is None and self.parser.in_message

    def new_parser(self, parser: RequestParser) -> None:
        """Parse what follows with a fresh parser (after an error answer or an upgrade
        that was not done)."""
        self.parser = parser

    def hold_upgrade(self, request: Request) -> bool:
        """True when ``request`` asks to switch protocols (the parser stopped at its
        head): it is held, not queued, until the earlier responses are out."""
        if request.upgrade is None or not self.parser.stopped:
            return False
        self.upgrade = (request, self.parser.trailing_data)
        return True

    def keep_for_upgrade(self, data: bytes) -> None:
        """Bytes that arrived behind a held upgrade belong to the protocol switched to
        (or, if it is not, to the next request): kept with it, not parsed."""
        if self.upgrade is not None:
            request, trailing = self.upgrade
            self.upgrade = (request, trailing + data)

    def add(self, exchange: T, body_complete: bool) -> bool:
        """Queue the exchange of a new request; True when it is answered at once."""
        queue = self.queue
        queue.append(exchange)
        self.body_owner = None if body_complete else exchange
        return len(queue) == 1

    def body_ended(self) -> T | None:
        """The current request body is complete; returns its exchange, if any."""
        owner = self.body_owner
        self.body_owner = None
        return owner

    def reject(self, rejection: RequestRejected, answering: bool) -> Rejection:
        """A request was rejected. ``answering``: the exchange being answered has begun
        its response. The body owner (if any) is the request the error is in: its app
        must be told the client is gone (it never gets the rest of its body)."""
        owner = self.body_owner
        if owner is None and not self.queue:
            return ANSWER
        if owner is not None and self.queue[0] is owner and not answering:
            return ANSWER_INSTEAD
        self.rejection = rejection
        return HOLD

    def end_of_input(self) -> bool:
        """The client sent EOF (§9.6). True when the queued requests are still answered
        (the write side stays open); False to close now (nothing to answer, or a body
        that can never arrive)."""
        if self.body_owner is not None or not self.queue:
            return False
        self.input_ended = True
        return True

    # --- output ----------------------------------------------------------------------
    @property
    def current(self) -> T | None:
        """The exchange being answered."""
        return self.queue[0] if self.queue else None

    def keep_alive(self, exchange: T, requested: bool, more_input: bool,
                   unread_body: bool = False) -> bool:
        """Whether ``exchange``'s response may keep the connection (RFC 9112 §9.3):
        ``requested`` is the request's own answer (§9.3: Connection, version); after a
        half-close the last response closes unless more (unparsed) input waits.
        ``unread_body``: the response goes out before a body the client held back for a
        100 Continue it never got (RFC 9110 §10.1.1): the client may send it or not, so
        what follows on the connection cannot be framed; it closes."""
        if not requested or self.closing or unread_body:
            return False
        queue = self.queue
        return not (self.input_ended and queue and queue[-1] is exchange and not more_input)

    def finished(self, exchange: T, keep_alive: bool, more_input: bool) -> Next:
        """``exchange``'s response is complete; ``keep_alive`` is what it said (§9.3),
        ``more_input``: bytes wait unparsed (pipelining back-pressure)."""
        queue = self.queue
        if not queue or queue[0] is not exchange:
            return NOTHING
        queue.pop(0)
        if not keep_alive or self.closing:
            return CLOSE
        if queue:
            return START
        if self.rejection is not None:
            return REJECT
        if self.upgrade is not None:
            return SWITCH
        if self.input_ended and not more_input:
            return CLOSE  # every request the half-closed client sent is answered
        return IDLE

    def drop_queued(self) -> list[T]:
        """The exchanges that will not be answered (the connection closes)."""
        dropped = list(self.queue)
        self.queue.clear()
        return dropped

    def shutdown(self) -> bool:
        """Graceful close: no further response keeps the connection. True when
        nothing is in flight (close now)."""
        self.closing = True
        return not self.queue

    @staticmethod
    def continue_needed(request: Request, continue_sent: bool, response_started: bool,
                        body_complete: bool) -> bool:
        """RFC 9110 §10.1.1: a request with ``Expect: 100-continue`` gets one interim
        100 when its body is asked for (the client waits before sending it), unless a
        final response has begun or the body came anyway."""
        return (request.expect_continue and not continue_sent and not response_started
                and not body_complete)

    # --- upgrade (RFC 9110 §7.8) -----------------------------------------------------
    def take_upgrade(self) -> tuple[Request, bytes] | None:
        """The held upgrade once nothing is answered before it (else None: wait)."""
        if self.queue or self.upgrade is None:
            return None
        upgrade, self.upgrade = self.upgrade, None
        return upgrade

    @staticmethod
    def upgrade_target(request: Request, secure: bool) -> bytes | None:
        """The protocol ``request`` is switched to, or None to serve it as HTTP/1.1
        (RFC 9110 §7.8: the server may ignore Upgrade). ``websocket`` is judged by the
        WebSocket handshake itself (RFC 6455 §4.2, a refusal is an HTTP answer); ``h2c``
        only on cleartext (RFC 9113 §3.2 removed it, RFC 7540 §3.2 defines it) with
        exactly one HTTP2-Settings field that Connection names (RFC 7540 §3.2.1)."""
        token = request.upgrade
        if token == b"websocket":
            return token
        if token == b"h2c" and not secure:
            settings = sum(1 for name, _ in request.headers if name == b"http2-settings")
            connection = (request.header(b"connection") or b"").lower()
            if settings == 1 and b"http2-settings" in connection:
                return token
        return None
