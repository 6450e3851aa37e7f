"""One accepted connection, and the protocol handler that currently speaks on it.

A :class:`Connection` is the asyncio ``Protocol`` for a socket. It does no parsing
itself: it hands bytes to its current :class:`ProtocolHandler` (HTTP/1.1, HTTP/2 or
WebSocket), which can hand the connection over to another handler (an HTTP/1.1
Upgrade to WebSocket or h2c, or the h2c preface detected on a cleartext socket).
Which handler comes first and which one follows is decided by the connection's
:class:`~blackbull.server.negotiate.Negotiator`, given by the server.
"""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .negotiate import Negotiator
    from .state import ServerState

log = logging.getLogger("blackbull.server")


class ProtocolHandler:
    """Base of the per-protocol handlers; all methods are called on the event loop.

    ``conn`` is set by :meth:`Connection.switch` before ``start`` is called.
    """

    conn: Connection

    def start(self, initial_data: bytes) -> None:
        """The handler takes over the connection; ``initial_data`` was already read."""
        if initial_data:
            self.data_received(initial_data)

    def data_received(self, data: bytes) -> None:
        raise NotImplementedError

    def eof_received(self) -> bool | None:
        return None

    def connection_lost(self, exc: BaseException | None) -> None:
        pass

    def pause_writing(self) -> None:
        pass

    def resume_writing(self) -> None:
        pass

    def shutdown(self) -> None:
        """Graceful shutdown: take no new requests, let in-flight ones finish, then close."""
        self.conn.close()

    @property
    def idle(self) -> bool:
        """True when no request is in flight (shutdown may close at once)."""
        return True


class Connection(asyncio.Protocol):
    """The socket of one client, with TLS/ALPN facts and the handler speaking on it."""

    __slots__ = (
        "state", "negotiator", "transport", "handler", "client", "server",
        "scheme_secure", "alpn", "closed", "paused_reading", "__weakref__",
    )

    def __init__(self, state: ServerState, negotiator: Negotiator) -> None:
        self.state = state
        self.negotiator = negotiator
        self.transport: asyncio.Transport | None = None
        self.handler: ProtocolHandler | None = None
        self.client: tuple[str, int] | None = None
        self.server: tuple[str, int] | None = None
        self.scheme_secure = False
        self.alpn: str | None = None
        self.closed = False
        #: True while the server holds the socket's reading back (back-pressure); a
        #: plain attribute (handlers read it per request), set only here.
        self.paused_reading = False

    # --- asyncio.Protocol -------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.client = _addr(transport.get_extra_info("peername"))
        self.server = _addr(transport.get_extra_info("sockname"))
        ssl_object = transport.get_extra_info("ssl_object")
        self.scheme_secure = ssl_object is not None
        if ssl_object is not None:
            self.alpn = ssl_object.selected_alpn_protocol()
        state = self.state
        if len(state.connections) >= state.settings.max_connections:
            self.negotiator.refuse(self)
            return
        state.connections.add(self)
        self.switch(self.negotiator.first(self))

    def data_received(self, data: bytes) -> None:
        self.handler.data_received(data)  # type: ignore[union-attr]

    def eof_received(self) -> bool | None:
        if self.handler is None:
            return None
        return self.handler.eof_received()

    def connection_lost(self, exc: BaseException | None) -> None:
        self.closed = True
        self.state.connections.discard(self)
        handler, self.handler = self.handler, None  # no cycle left behind (handler.conn)
        if handler is not None:
            handler.connection_lost(exc)

    def pause_writing(self) -> None:
        if self.handler is not None:
            self.handler.pause_writing()

    def resume_writing(self) -> None:
        if self.handler is not None:
            self.handler.resume_writing()

    # --- for handlers -----------------------------------------------------------------
    def switch(self, handler: ProtocolHandler, initial_data: bytes = b"") -> None:
        """Hand the connection to ``handler``; bytes already read go with it."""
        self.handler = handler
        handler.conn = self
        handler.start(initial_data)

    def write(self, data: bytes) -> None:
        if not self.closed:
            self.transport.write(data)  # type: ignore[union-attr]

    def writelines(self, parts: Sequence[bytes | memoryview]) -> None:
        """Several buffers in one vectored write (uvloop: writev, no join)."""
        if not self.closed:
            self.transport.writelines(parts)  # type: ignore[union-attr]

    def pause_reading(self) -> None:
        if not self.paused_reading and not self.closed:
            self.paused_reading = True
            self.transport.pause_reading()  # type: ignore[union-attr]

    def resume_reading(self) -> None:
        if self.paused_reading and not self.closed:
            self.paused_reading = False
            self.transport.resume_reading()  # type: ignore[union-attr]

    def close(self) -> None:
        """Flush what was written, then close."""
        if not self.closed:
            self.closed = True
            self.transport.close()  # type: ignore[union-attr]

    def abort(self) -> None:
        if self.transport is not None:
            self.closed = True
            self.transport.abort()

    @property
    def scheme(self) -> str:
        return "https" if self.scheme_secure else "http"

    def extra(self, name: str, default: Any = None) -> Any:
        return self.transport.get_extra_info(name, default)  # type: ignore[union-attr]


def _addr(value: Any) -> tuple[str, int] | None:
    if isinstance(value, tuple) and len(value) >= 2:
        return (str(value[0]), int(value[1]))
    return None
