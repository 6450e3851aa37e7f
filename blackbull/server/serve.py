"""The server: listening sockets, TLS with ALPN, the lifespan, graceful shutdown, workers.

Lifecycle lines on logger ``blackbull.server``: "started server process", one
"listening on URL (protocols)" per socket with its real port, "application startup
complete", then "shutting down" and "finished server process".
"""
from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import socket
import ssl
import sys
from collections.abc import Callable
from typing import Any

from ..binds import Bind, parse_binds
from ..config import Settings
from .access_log import AccessLog
from .connection import Connection
from .default_headers import DefaultHeaders, default_headers
from .heap import HeapReleaser, keep_heap
from .http1 import HTTP1Handler
from .http2 import HTTP2Handler
from .lifespan import Lifespan, LifespanError
from .listen import BindError, bind_socket, describe, open_sockets, worker_sockets
from .logs import configure_logging
from .negotiate import Negotiator
from .overload import refuse_connection
from .proxy_headers import ProxyHeaders, TrustedProxies
from .state import ServerState
from .tls_accept import DeferredTLSListener
from .websocket import WebSocketHandler
from .workers import STARTUP_FAILED, supervise

__all__ = ["BindError", "Server", "bind_socket", "default_negotiator", "make_ssl_context",
           "run", "serving_app"]

log = logging.getLogger("blackbull.server")

#: Heap a connection is counted for by the releaser of closed connections' memory
#: (heap.HeapReleaser trims after 16 MiB given back: ~256 TLS or 2048 cleartext closes).
TLS_CONNECTION_BYTES = 64 * 1024
CONNECTION_BYTES = 8 * 1024
HEAP_WATCH_INTERVAL = 1.0

def make_ssl_context(certfile: str, keyfile: str | None = None,
                     alpn: tuple[str, ...] = ("h2", "http/1.1"), *,
                     password: str | None = None, ca_certs: str | None = None,
                     cert_reqs: int = ssl.CERT_NONE,
                     ciphers: str | None = None) -> ssl.SSLContext:
    """A server context for HTTP/2 and HTTP/1.1 (RFC 9113 §9.2: TLS ≥ 1.2, ephemeral
    key exchange and AEAD ciphers only, which also keeps §9.2.2's deny-list out).
    ``cert_reqs``/``ca_certs``: client certificates (mutual TLS)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    ctx.set_ciphers(ciphers or "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20")
    ctx.load_cert_chain(certfile, keyfile, password=password or None)
    if ca_certs:
        ctx.load_verify_locations(ca_certs)
    ctx.verify_mode = ssl.VerifyMode(cert_reqs)
    ctx.set_alpn_protocols(list(alpn))
    return ctx


def ssl_context_from(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context the ``ssl_*`` settings describe (None: cleartext)."""
    if not settings.ssl_certfile:
        return None
    return make_ssl_context(
        settings.ssl_certfile, settings.ssl_keyfile or None,
        password=settings.ssl_keyfile_password or None,
        ca_certs=settings.ssl_ca_certs or None, cert_reqs=settings.ssl_cert_reqs,
        ciphers=settings.ssl_ciphers)


def serving_app(app: Any, settings: Settings,
                on_request_limit: Callable[[], None] | None = None) -> Any:
    """The app wrapped in what the settings switch on (each wrapper only when on, so a
    plain configuration calls the app directly). Outermost first: proxy headers (the
    real client for the others), the access log, default response fields, the request
    budget (``on_request_limit`` is called once it is spent)."""
    if settings.limit_max_requests and on_request_limit is not None:
        app = RequestBudget(app, settings.limit_max_requests, on_request_limit)

    fields = default_headers(settings.server_header, settings.headers)
    if fields:
        app = DefaultHeaders(app, fields)
    if settings.access_log:
        app = AccessLog(app)
    if settings.proxy_headers:
        app = ProxyHeaders(app, TrustedProxies(settings.forwarded_allow_ips))
    return app


class RequestBudget:
    """ASGI wrapper counting ``http`` and ``websocket`` scopes (BB_LIMIT_MAX_REQUESTS)."""

    def __init__(self, app: Any, limit: int, on_limit: Callable[[], None]) -> None:
        self.app = app
        self.left = limit
        self.on_limit = on_limit

    def __getattr__(self, name: str) -> Any:  # e.g. available_ws_protocols of the app
        return getattr(self.app, name)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            self.left -= 1
            if self.left == 0:
                log.info("served BB_LIMIT_MAX_REQUESTS requests; shutting down this worker")
                self.on_limit()
        await self.app(scope, receive, send)


def default_negotiator() -> Negotiator:
    """The protocols every connection may speak and switch between (``negotiate.py``):
    HTTP/1.1, HTTP/2 (by ALPN, by the preface, by an h2c Upgrade) and WebSocket over
    HTTP/1.1; RFC 8441 WebSocket is part of the HTTP/2 handler."""
    return Negotiator(http1=HTTP1Handler, http2=HTTP2Handler, h2c=HTTP2Handler.for_upgrade,
                      websocket=WebSocketHandler, refuse=refuse_connection)


def protocols(secure: bool, settings: Settings) -> str:
    """What a listener speaks, for the startup line."""
    names = ["h2", "http/1.1"] if secure else ["http/1.1", "h2c"]
    names.append("websocket")
    if settings.h2_enable_websocket:
        names.append("websocket over h2 (RFC 8441)")
    return ", ".join(names)


class Server:
    """One event loop's server: ``await start()``, then ``await shutdown()``.

    It listens on ``sockets`` (already open, e.g. shared by workers), else on ``sock``,
    else on ``host``:``port`` (0: a free port; see :attr:`bound_port`). Its connections
    switch protocols as ``negotiator`` says (default: :func:`default_negotiator`).
    """

    def __init__(self, app: Any, settings: Settings | None = None, host: str = "127.0.0.1",
                 port: int = 8000, ssl_context: ssl.SSLContext | None = None,
                 sock: socket.socket | None = None,
                 sockets: list[socket.socket] | None = None,
                 negotiator: Negotiator | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.negotiator = negotiator or default_negotiator()
        #: Set when the server should stop on its own (the request budget is spent).
        self.stop_requested = asyncio.Event()
        self.state = ServerState(app=serving_app(app, self.settings, self.stop_requested.set),
                                 settings=self.settings, root_path=self.settings.root_path)
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.sockets = list(sockets) if sockets else ([sock] if sock is not None else [])
        self.lifespan = Lifespan(app, self.state.lifespan_state, self.settings.lifespan)
        self._servers: list[asyncio.base_events.Server] = []
        self._tls_listeners: list[DeferredTLSListener] = []
        self._heap_timer: asyncio.TimerHandle | None = None
        self._unix_paths: list[str] = []
        self._stopped = asyncio.Event()

    @property
    def bound_port(self) -> int:
        """The port of the first TCP listener (the real one when 0 was asked)."""
        for sock in self.sockets:
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                return int(sock.getsockname()[1])
        raise RuntimeError("no TCP listener")

    @property
    def addresses(self) -> list[str]:
        """``http://127.0.0.1:43817`` … for each listener (real ports)."""
        return [describe(sock, self.ssl_context is not None) for sock in self.sockets]

    async def start(self) -> None:
        """Listen (before the app starts: a busy port costs no startup), run the lifespan
        startup, then accept."""
        if not self.sockets:
            self.sockets = [bind_socket(self.host, self.port, self.settings.backlog)]
        try:
            await self.lifespan.startup()
        except BaseException:
            self._close_sockets()
            raise
        loop = asyncio.get_running_loop()
        state = self.state
        chosen = self.negotiator

        def factory() -> Connection:
            return Connection(state, chosen)

        secure = self.ssl_context is not None
        self._unix_paths = [_unix_path(s) for s in self.sockets if s.family == socket.AF_UNIX]
        for sock in self.sockets:
            if self.ssl_context is not None and self.settings.tls_defer:
                listener = DeferredTLSListener(
                    loop, sock, factory, self.ssl_context,
                    self.settings.tls_handshake_timeout, self.settings.max_connections)
                listener.start()
                self._tls_listeners.append(listener)
            else:
                self._servers.append(await loop.create_server(
                    factory, sock=sock, ssl=self.ssl_context, backlog=self.settings.backlog,
                    ssl_handshake_timeout=self.settings.tls_handshake_timeout
                    if secure else None))
            log.info("listening on %s (%s)", describe(sock, secure),
                     protocols(secure, self.settings))
        self._watch_heap(loop, HeapReleaser(loop, self.settings.malloc_threshold),
                         TLS_CONNECTION_BYTES if secure else CONNECTION_BYTES)
        if self.lifespan.supported:
            log.info("application startup complete")

    def _watch_heap(self, loop: asyncio.AbstractEventLoop, releaser: HeapReleaser,
                    per_connection: int) -> None:
        """Once a second, report the connections held (at ``per_connection`` bytes each)
        to ``releaser``: after a burst of closes the C heap is trimmed, else what the
        closed connections' buffers took stays resident (measured: ~53 KiB per TLS
        connection closed, from OpenSSL's and the loop's freed buffers between live
        ones)."""
        connections = self.state.connections

        def tick() -> None:
            releaser.held(len(connections) * per_connection)
            self._heap_timer = loop.call_later(HEAP_WATCH_INTERVAL, tick)

        self._heap_timer = loop.call_later(HEAP_WATCH_INTERVAL, tick)

    def _close_sockets(self) -> None:
        for sock in self.sockets:
            sock.close()

    async def shutdown(self) -> None:
        """Stop accepting, let in-flight requests finish (graceful_timeout), then close."""
        state = self.state
        if state.shutting_down:
            await self._stopped.wait()
            return
        state.shutting_down = True
        log.info("shutting down")
        for server in self._servers:
            server.close()
        for listener in self._tls_listeners:
            listener.close()
        if self._heap_timer is not None:
            self._heap_timer.cancel()
        for conn in list(state.connections):
            if conn.handler is not None:
                conn.handler.shutdown()
            else:
                conn.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.graceful_timeout
        while state.connections and loop.time() < deadline:
            await asyncio.sleep(0.05)
        if state.connections:
            log.warning("graceful shutdown timeout: closing %d connection(s)",
                        len(state.connections))
        for conn in list(state.connections):
            conn.abort()
        tasks = [t for t in state.tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2.0)
        await self.lifespan.shutdown()
        for path in self._unix_paths:
            _unlink(path)
        self._stopped.set()

    async def serve_until(self, stop: asyncio.Event) -> None:
        await self.start()
        await stop.wait()
        await self.shutdown()


def tune_gc(settings: Settings) -> None:
    """BB_GC_THRESHOLD and BB_GC_FREEZE, in a worker once the app and its startup state
    exist (not in :class:`Server`, which tests run in their own process). Measured
    (profile_requests --proto h2c -c16 -m10 -n 5000, Ir/request): 195.5k, 189.1k frozen,
    188.9k with a threshold of 7000, 181.4k both; HTTP/1.1 -c1 unchanged; idle-connection
    RSS rows unchanged within their noise."""
    if settings.gc_threshold:
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(settings.gc_threshold, older, oldest)
    if settings.gc_freeze:
        gc.collect()  # what startup left as garbage is freed, not frozen
        gc.freeze()


def _unix_path(sock: socket.socket) -> str:
    name = sock.getsockname()
    return name.decode() if isinstance(name, bytes) else name


def _unlink(path: str) -> None:
    """Remove our Unix socket file (not an abstract-namespace name: no file)."""
    if path and not path.startswith("\0"):
        try:
            os.unlink(path)
        except OSError:
            pass


def _install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread / platform
            pass


def _loop_factory(settings: Settings) -> Callable[[], asyncio.AbstractEventLoop] | None:
    if settings.loop == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if settings.loop == "uvloop":
            raise
        return None
    return uvloop.new_event_loop


async def _first(*waits: Any) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


_stop_requested = False


def _note_stop(_signum: int, _frame: Any) -> None:
    """SIGINT/SIGTERM between opening the sockets and the loop's own handlers."""
    global _stop_requested
    _stop_requested = True


def _run_one(app: Any, settings: Settings, ssl_context: ssl.SSLContext | None,
             sockets: list[socket.socket]) -> int:
    """Serve in this process until a signal; the exit code (STARTUP_FAILED when the
    app's lifespan startup failed)."""
    keep_heap(settings.malloc_threshold)  # per process: each worker has its own heap
    log.info("started server process %d", os.getpid())

    async def main() -> int:
        stop = asyncio.Event()
        _install_signal_handlers(stop)
        if _stop_requested:
            stop.set()
        server = Server(app, settings, ssl_context=ssl_context, sockets=sockets)
        try:
            await server.start()
        except LifespanError as exc:
            log.error("application startup failed: %s", exc)
            return STARTUP_FAILED
        tune_gc(settings)
        await _first(stop.wait(), server.stop_requested.wait())
        await server.shutdown()
        return 0

    with asyncio.Runner(loop_factory=_loop_factory(settings)) as runner:
        code = runner.run(main())
    log.info("finished server process %d", os.getpid())
    return code


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError | FileNotFoundError) and not str(exc).startswith("BB_"):
        return f"TLS: {exc}"
    return str(exc)


def run(app: Any, host: str | None = None, port: int | None = None, *,
        certfile: str | None = None, keyfile: str | None = None, workers: int | None = None,
        settings: Settings | None = None, binds: list[Bind] | None = None) -> None:
    """Serve ``app`` until SIGINT/SIGTERM (blocking); exits the process with 1 when an
    address cannot be bound and 3 when the app fails its startup.

    Addresses: ``binds``, else ``host``/``port``, else ``settings.bind``. ``workers`` > 1
    forks processes that share the listening sockets."""
    settings = settings or Settings.from_env()
    if certfile:
        settings = settings.replace(ssl_certfile=certfile, ssl_keyfile=keyfile or "")
    if workers:
        settings = settings.replace(workers=workers)
    if binds is None:
        if host is not None or port is not None:
            binds = [Bind("tcp", host=host or "127.0.0.1", port=8000 if port is None else port)]
        else:
            binds = parse_binds(settings.bind)
    try:
        configure_logging(settings)
        ssl_context = ssl_context_from(settings)
    except (ValueError, OSError, ssl.SSLError) as exc:  # a file that is missing or wrong
        print(f"blackbull: error: {_one_line(exc)}", file=sys.stderr)
        sys.exit(2)
    # Everything slow to import is imported before listening (the protocol handlers with
    # this module, uvloop here): clients may connect as soon as the sockets exist, and a
    # signal must not find the process half started.
    _loop_factory(settings)
    if settings.workers <= 1:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, _note_stop)
    spread = settings.workers > 1 and settings.reuse_port
    try:
        sockets = open_sockets(binds, settings.backlog, reuse_port=spread)
        per_worker = (worker_sockets(sockets, settings.workers, settings.backlog)
                      if spread else [sockets] * settings.workers)
    except BindError as exc:
        log.error("%s", exc)
        sys.exit(1)
    if settings.workers <= 1:
        code = _run_one(app, settings, ssl_context, sockets)
    else:
        log.info("started parent process %d (%d workers)", os.getpid(), settings.workers)
        code = supervise(settings.workers,
                         lambda slot: _run_one(app, settings, ssl_context, per_worker[slot]))
        log.info("finished parent process %d", os.getpid())
    if code:
        sys.exit(code)
