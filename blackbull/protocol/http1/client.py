"""The client role of an HTTP/1.1 connection (RFC 9112 §9), sans-I/O.

:meth:`ClientConnection.send_request` renders a request and queues it; the bytes from
the server go to :meth:`ClientConnection.receive_data`, which returns the responses in
request order (§9.3.2) as :class:`~.events.Response`, :class:`~.events.Data` and
:class:`~.events.EndOfMessage` events. The connection state follows h11's client side:
``IDLE`` → ``WAITING`` (responses outstanding) → back to ``IDLE`` when persistent,
``MUST_CLOSE`` when a message ended persistence (§9.3, §9.6), ``SWITCHED`` after a
``101`` to an Upgrade we proposed (RFC 9110 §7.8) or a 2xx to CONNECT, ``ERROR`` after a
response we cannot accept.
"""
from __future__ import annotations

from collections import deque
from enum import Enum

from .events import Data, EndOfMessage, Headers, Response, ResponseRejected
from .response_parser import ResponseEvent, ResponseParser


class ClientState(Enum):
    IDLE = "idle"              # nothing outstanding; a request may be sent
    WAITING = "waiting"        # requests sent, responses outstanding (pipelined or not)
    MUST_CLOSE = "must-close"  # persistence ended: close once the responses are read
    SWITCHED = "switched"      # the connection now carries another protocol
    ERROR = "error"            # the server broke the protocol: close


class LocalProtocolError(Exception):
    """This side asked for something HTTP/1.1 cannot do in the current state."""


class ClientConnection:
    """RFC 9112 client side of one connection: requests out, responses in, in order."""

    __slots__ = ("parser", "state", "_upgrades", "trailing_data", "_closing")

    def __init__(self, parser: ResponseParser | None = None) -> None:
        self.parser = parser or ResponseParser()
        self.state = ClientState.IDLE
        #: Per outstanding request, in order: the Upgrade tokens it proposed.
        self._upgrades: deque[frozenset[bytes]] = deque()
        #: After ``SWITCHED``: the bytes that followed the 101, for the new protocol.
        self.trailing_data = b""
        self._closing = False  # a request sent Connection: close

    def send_request(self, method: str, target: str, headers: Headers,
                     body: bytes = b"") -> bytes:
        """The bytes of one request (RFC 9112 §3), ``Host`` among ``headers``; a body is
        sent with its Content-Length. Pipelining is allowed only for safe methods after
        the first request (RFC 9112 §9.3.2: a client SHOULD NOT pipeline unsafe ones)."""
        if self.state not in (ClientState.IDLE, ClientState.WAITING) or self._closing:
            raise LocalProtocolError(f"cannot send a request in state {self.state.value}")
        if self.state is ClientState.WAITING and method not in ("GET", "HEAD", "OPTIONS"):
            raise LocalProtocolError(f"{method} is not pipelined (RFC 9112 §9.3.2)")
        upgrades: set[bytes] = set()
        lines = [f"{method} {target} HTTP/1.1\r\n".encode("ascii")]
        for name, value in headers:
            low = name.lower()
            if low == b"upgrade":
                upgrades.update(t.strip().lower().partition(b"/")[0]
                                for t in value.split(b","))
            elif low == b"connection" and b"close" in value.lower():
                self._closing = True
            elif low in (b"content-length", b"transfer-encoding"):
                raise LocalProtocolError("the body framing is ours to set")
            lines.append(b"%s: %s\r\n" % (name, value))
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(b"content-length: %d\r\n" % len(body))
        lines.append(b"\r\n")
        self.parser.expect(method)
        self._upgrades.append(frozenset(upgrades))
        self.state = ClientState.WAITING
        return b"".join(lines) + body

    @property
    def outstanding(self) -> int:
        """Requests whose response is not complete yet."""
        return len(self._upgrades)

    def receive_data(self, data: bytes) -> list[ResponseEvent]:
        """Bytes from the server → events; states follow (see the module docstring)."""
        if self.state in (ClientState.SWITCHED, ClientState.ERROR):
            return []
        return self._after(self.parser.feed(data))

    def receive_eof(self) -> list[ResponseEvent]:
        """The server closed its side (ends a close-delimited body, RFC 9112 §6.3)."""
        if self.state in (ClientState.SWITCHED, ClientState.ERROR):
            return []
        events = self._after(self.parser.feed_eof())
        if not any(type(event) is ResponseRejected for event in events):
            self.state = ClientState.MUST_CLOSE
        return events

    def _after(self, events: list[ResponseEvent]) -> list[ResponseEvent]:
        for i, event in enumerate(events):
            kind = type(event)
            if kind is Response:
                if not self._on_response(event):  # type: ignore[arg-type]
                    return [*events[:i], ResponseRejected("101 to no Upgrade we proposed")]
            elif kind is EndOfMessage:
                self._upgrades.popleft()
                if self.state is ClientState.WAITING and not self._upgrades:
                    self.state = ClientState.IDLE
            elif kind is ResponseRejected:
                self.state = ClientState.ERROR
            elif kind is not Data:  # pragma: no cover - the parser emits nothing else
                raise AssertionError(event)
        return events

    def _on_response(self, response: Response) -> bool:
        """Move the state on for a response head; False when it is unacceptable."""
        if response.status == 101 or self.parser.stopped:
            proposed = self._upgrades.popleft()
            token = (response.header(b"upgrade") or b"").strip().lower()
            if response.status == 101 and token.partition(b"/")[0] not in proposed:
                self.state = ClientState.ERROR  # RFC 9110 §15.2.2: only what we asked
                return False
            self.state = ClientState.SWITCHED
            self.trailing_data = self.parser.trailing_data
        elif not response.informational and (not response.keep_alive or self._closing):
            self.state = ClientState.MUST_CLOSE
        return True
