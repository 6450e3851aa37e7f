"""Listening, TLS with ALPN, the lifespan, graceful shutdown and worker processes."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import ssl
from collections.abc import Callable
from typing import Any

from ..config import Settings
from .connection import Connection
from .heap import keep_heap
from .lifespan import Lifespan
from .state import ServerState

log = logging.getLogger("blackbull.server")


def make_ssl_context(certfile: str, keyfile: str | None = None,
                     alpn: tuple[str, ...] = ("h2", "http/1.1")) -> ssl.SSLContext:
    """A server context for HTTP/2 and HTTP/1.1 (RFC 9113 §9.2: TLS ≥ 1.2, ephemeral
    key exchange and AEAD ciphers only, which also keeps §9.2.2's deny-list out)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    ctx.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20")
    ctx.load_cert_chain(certfile, keyfile)
    ctx.set_alpn_protocols(list(alpn))
    return ctx


def bind_socket(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """Bind exactly ``host`` (an IPv6 literal gets an IPv6 socket)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), port))
    sock.listen(backlog)
    sock.setblocking(False)
    return sock


class Server:
    """One event loop's server: ``await start()``, then ``await shutdown()``."""

    def __init__(self, app: Any, settings: Settings | None = None, host: str = "127.0.0.1",
                 port: int = 8000, ssl_context: ssl.SSLContext | None = None,
                 sock: socket.socket | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.state = ServerState(app=app, settings=self.settings)
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.sock = sock
        self.lifespan = Lifespan(app, self.state.lifespan_state, self.settings.lifespan)
        self._server: asyncio.base_events.Server | None = None
        self._stopped = asyncio.Event()

    @property
    def bound_port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    async def start(self) -> None:
        from . import detect  # noqa: F401 - import the protocol handlers before the first client

        await self.lifespan.startup()
        loop = asyncio.get_running_loop()
        state = self.state

        def factory() -> Connection:
            return Connection(state)

        sock = self.sock or bind_socket(self.host, self.port, self.settings.backlog)
        self._server = await loop.create_server(
            factory, sock=sock, ssl=self.ssl_context, backlog=self.settings.backlog,
            ssl_handshake_timeout=10.0 if self.ssl_context else None)
        name = sock.getsockname()
        scheme = "https" if self.ssl_context else "http"
        log.info("serving on %s://%s:%d (pid %d)", scheme, name[0], name[1], os.getpid())

    async def shutdown(self) -> None:
        """Stop accepting, let in-flight requests finish (graceful_timeout), then close."""
        state = self.state
        if state.shutting_down:
            await self._stopped.wait()
            return
        state.shutting_down = True
        if self._server is not None:
            self._server.close()
        for conn in list(state.connections):
            if conn.handler is not None:
                conn.handler.shutdown()
            else:
                conn.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.graceful_timeout
        while state.connections and loop.time() < deadline:
            await asyncio.sleep(0.05)
        for conn in list(state.connections):
            conn.abort()
        tasks = [t for t in state.tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2.0)
        await self.lifespan.shutdown()
        self._stopped.set()

    async def serve_until(self, stop: asyncio.Event) -> None:
        await self.start()
        await stop.wait()
        await self.shutdown()


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


def _run_one(app: Any, settings: Settings, host: str, port: int,
             ssl_context: ssl.SSLContext | None, sock: socket.socket | None) -> None:
    keep_heap(settings.malloc_threshold)  # per process: each worker has its own heap

    async def main() -> None:
        stop = asyncio.Event()
        _install_signal_handlers(stop)
        server = Server(app, settings, host, port, ssl_context, sock)
        await server.serve_until(stop)

    with asyncio.Runner(loop_factory=_loop_factory(settings)) as runner:
        runner.run(main())


def run(app: Any, host: str = "127.0.0.1", port: int = 8000, *, certfile: str | None = None,
        keyfile: str | None = None, workers: int = 1, settings: Settings | None = None) -> None:
    """Serve ``app`` until SIGINT/SIGTERM (blocking). ``workers`` > 1 forks processes that
    share one listening socket."""
    settings = settings or Settings.from_env()
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ssl_context = make_ssl_context(certfile, keyfile) if certfile else None
    if workers <= 1:
        _run_one(app, settings, host, port, ssl_context, None)
        return
    sock = bind_socket(host, port, settings.backlog)
    _supervise(workers, lambda: _run_one(app, settings, host, port, ssl_context, sock))


def _supervise(workers: int, child_main: Callable[[], None]) -> None:
    """Fork ``workers`` children on the shared socket; forward SIGINT/SIGTERM; reap."""
    children: set[int] = set()
    stopping = False

    def spawn() -> None:
        pid = os.fork()
        if pid == 0:  # child
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            code = 0
            try:
                child_main()
            except BaseException:  # noqa: BLE001
                log.exception("worker %d failed", os.getpid())
                code = 1
            finally:
                os._exit(code)
        children.add(pid)

    def forward(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    for _ in range(workers):
        spawn()
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        children.discard(pid)
        if not stopping:
            log.warning("worker %d exited (status %d); starting another", pid, status)
            spawn()
