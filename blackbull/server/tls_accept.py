"""A TLS listener that creates a connection's TLS state only once the client has spoken.

An accepted TCP connection on a TLS port costs nothing until its ClientHello (RFC 8446
§4.1.2) arrives: before that the server has nothing to act on. The event loop's own TLS
server (``create_server(ssl=...)``) creates the TLS state at accept time, though: uvloop's
SSLProtocol with its 256 KiB read buffer and OpenSSL's ``SSL`` object, whose first
``SSL_do_handshake`` allocates the record buffers and handshake state. Measured (uvloop
0.23, OpenSSL 3.0, 1000 silent connections): ~50 KiB resident per connection that never
sent a byte, ~10 KiB of it ``SSL_new`` and ~32 KiB the first handshake call. A port
scanner or a slowloris then costs the server memory at no cost to itself.

:class:`DeferredTLSListener` accepts on the listening socket itself, watches each new
socket for readability (a socket object, a timer and a poll handle: ~1 KiB), and hands
it to ``loop.connect_accepted_socket(ssl=...)`` only when its first bytes are there,
within one deadline for both phases (``BB_TLS_HANDSHAKE_TIMEOUT`` from the accept). A
client that closes before sending anything is closed without any TLS state. nginx defers
the same way (its SSL connection is created in the read handler of the first byte).
"""
from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Callable

log = logging.getLogger("blackbull.server")

#: Connections accepted per readiness of the listening socket (then the loop runs others).
ACCEPT_BATCH = 64
#: Handshake time left at least once the first bytes arrived late in the deadline.
MIN_HANDSHAKE = 1.0


class DeferredTLSListener:
    """Accepts on ``sock`` and starts TLS (``ssl_context``, protocol from ``factory``) on
    each connection once it is readable. At most ``max_pending`` connections wait for
    their first bytes; one beyond is closed at once. ``timeout``: seconds from the accept
    until the handshake must be complete."""

    __slots__ = ("_loop", "_sock", "_factory", "_ssl", "_timeout", "_max_pending",
                 "_pending", "_handshakes", "_closed")

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: socket.socket,
                 factory: Callable[[], asyncio.Protocol], ssl_context: ssl.SSLContext,
                 timeout: float, max_pending: int) -> None:
        self._loop = loop
        self._sock = sock
        self._factory = factory
        self._ssl = ssl_context
        self._timeout = timeout
        self._max_pending = max_pending
        #: fd → (socket, deadline timer, deadline) of connections that have not spoken
        self._pending: dict[int, tuple[socket.socket, asyncio.TimerHandle, float]] = {}
        self._handshakes: set[asyncio.Task[object]] = set()
        self._closed = False

    @property
    def pending(self) -> int:
        """Connections accepted that have not sent their first bytes yet."""
        return len(self._pending)

    def start(self) -> None:
        self._sock.setblocking(False)
        self._loop.add_reader(self._sock.fileno(), self._accept)

    def close(self) -> None:
        """Stop accepting; close the connections that have not spoken, abandon handshakes
        under way (their sockets are closed by the loop)."""
        if self._closed:
            return
        self._closed = True
        self._loop.remove_reader(self._sock.fileno())
        self._sock.close()
        for fd in list(self._pending):
            self._drop(fd)
        for task in list(self._handshakes):
            task.cancel()

    def _accept(self) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                conn, _addr = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # EMFILE, ENFILE, ECONNABORTED: try on the next turn
                log.warning("accept failed: %s", exc)
                return
            if len(self._pending) >= self._max_pending:
                conn.close()
                continue
            conn.setblocking(False)
            if conn.family != socket.AF_UNIX:
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            fd = conn.fileno()
            deadline = self._loop.time() + self._timeout
            timer = self._loop.call_at(deadline, self._drop, fd)
            self._pending[fd] = (conn, timer, deadline)
            self._loop.add_reader(fd, self._readable, fd)

    def _drop(self, fd: int) -> None:
        entry = self._pending.pop(fd, None)
        if entry is None:
            return
        conn, timer, _ = entry
        timer.cancel()
        self._loop.remove_reader(fd)
        conn.close()

    def _readable(self, fd: int) -> None:
        conn, timer, deadline = self._pending[fd]
        try:
            first = conn.recv(1, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return  # spurious wake-up: keep waiting
        except OSError:
            first = b""  # reset by the peer
        if not first:  # closed before a byte: no TLS state was ever made
            self._drop(fd)
            return
        del self._pending[fd]
        timer.cancel()
        self._loop.remove_reader(fd)
        left = max(deadline - self._loop.time(), MIN_HANDSHAKE)
        task = self._loop.create_task(self._loop.connect_accepted_socket(
            self._factory, conn, ssl=self._ssl, ssl_handshake_timeout=left))
        self._handshakes.add(task)
        task.add_done_callback(self._handshake_done)

    def _handshake_done(self, task: asyncio.Task[object]) -> None:
        self._handshakes.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:  # a failed or timed-out handshake: the loop closed the socket
            log.debug("TLS handshake failed: %r", exc)
