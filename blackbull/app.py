"""The framework: ``BlackBull`` is an ASGI 3 application with routes and interceptors."""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from .events import EVENTS, Event
from .exceptions import HTTPException
from .request import Request
from .response import PlainTextResponse, Response, to_response
from .routing import Route, Router
from .types import ASGIApp, Message, Receive, Scope, Send
from .utils import Scheme

log = logging.getLogger("blackbull")

#: ``async def mw(scope, receive, send, call_next)``: ``call_next`` is the next ASGI app.
Middleware = Callable[[Scope, Receive, Send, ASGIApp], Awaitable[None]]
ExceptionHandler = Callable[[Request, Exception], Awaitable[Any]]
Interceptor = Callable[[Event], Awaitable[Any]]
Hook = Callable[[], Awaitable[None]]
_F = TypeVar("_F", bound=Callable[..., Any])
_Interceptor = TypeVar("_Interceptor", bound=Interceptor)
_Handler = TypeVar("_Handler", bound=ExceptionHandler)
_Hook = TypeVar("_Hook", bound=Hook)


class State:
    """``app.state``: an attribute bag for what the application shares across requests
    (a database pool opened at startup, a settings object)."""

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"app.state has no attribute {name!r}")


class BlackBull:
    """An ASGI 3 application: ``await app(scope, receive, send)``.

    It runs under any ASGI server (uvicorn, hypercorn) and under our own (:meth:`run`).
    """

    def __init__(self) -> None:
        self.router = Router()
        self.interceptors: dict[str, list[Interceptor]] = defaultdict(list)
        self.middlewares: list[Middleware] = []
        #: WebSocket subprotocols the server may select from a client's offer (str or bytes).
        self.available_ws_protocols: list[str | bytes] = []
        self._startup: list[Hook] = []
        self._shutdown: list[Hook] = []
        #: Shared application state (``app.state.db = ...``).
        self.state = State()
        #: Exception class or HTTP status → handler, see :meth:`exception_handler`.
        self.exception_handlers: dict[type[BaseException] | int, ExceptionHandler] = {}

    # --- registration --------------------------------------------------------------------
    def route(self, path: str = "/", methods: Iterable[str] | None = None,
              scheme: Scheme = Scheme.http, middlewares: Iterable[Middleware] | None = None,
              name: str | None = None, asgi: bool | None = None) -> Callable[[_F], _F]:
        """Register a handler: simplified (returns str/bytes/dict/Response) or the full
        ASGI form ``(scope, receive, send)``. ``middlewares`` wrap it, outermost first."""
        method_set = frozenset(str(getattr(m, "value", m)).upper() for m in (methods or ["GET"]))

        def decorator(handler: _F) -> _F:
            route = Route(path, handler, method_set, Scheme(scheme), list(middlewares or ()),
                          name or handler.__name__, asgi)
            route.endpoint = self._chain(route)
            self.router.add(route)
            return handler

        return decorator

    def intercept(self, event_name: str) -> Callable[[_Interceptor], _Interceptor]:
        """``@app.intercept('before_handler')``: ``async def f(event)``; ``event.detail``
        has the event's keys (see ``blackbull.events.EVENTS``). Returning a Response from
        ``before_handler`` answers the request without calling the handler."""
        if event_name not in EVENTS:
            raise ValueError(f"unknown event {event_name!r}; known: {sorted(EVENTS)}")

        def decorator(func: _Interceptor) -> _Interceptor:
            self.interceptors[event_name].append(func)
            return func

        return decorator

    def use(self, middleware: Middleware) -> Middleware:
        """A middleware for every route: ``async def mw(scope, receive, send, call_next)``."""
        self.middlewares.append(middleware)
        for route in self.router.routes:
            route.endpoint = self._chain(route)
        return middleware

    def exception_handler(self, key: type[Exception] | int) -> Callable[[_Handler], _Handler]:
        """``@app.exception_handler(KeyError)`` or ``(404)``: ``async def h(request, exc)``
        returns what a simplified handler may return (a Response, str, dict…).

        A class matches its subclasses (the closest one wins); a status matches an
        :class:`~blackbull.exceptions.HTTPException` of that status and the framework's
        own 404 and 405. Unhandled exceptions propagate to the server (a 500 there)."""

        def decorator(func: _Handler) -> _Handler:
            self.exception_handlers[key] = func
            return func

        return decorator

    def on_startup(self, func: _Hook) -> _Hook:
        self._startup.append(func)
        return func

    def on_shutdown(self, func: _Hook) -> _Hook:
        self._shutdown.append(func)
        return func

    # --- ASGI ------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._dispatch(scope, receive, send, Scheme.http)
        elif kind == "websocket":
            await self._dispatch(scope, receive, send, Scheme.websocket)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        else:
            raise ValueError(f"unsupported scope type {kind!r}")

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send,
                        scheme: Scheme) -> None:
        path = scope["path"]
        method = scope.get("method", "GET")
        route, params, allowed = self.router.find(path, method, scheme)
        if route is None:
            if scheme is Scheme.websocket:
                await send({"type": "websocket.close", "code": 1000})
                return
            headers = {"allow": ", ".join(sorted(allowed))} if allowed else None
            exc = HTTPException(405 if allowed else 404, headers=headers)
            await self._handle_exception(exc, scope, receive, send)
            return
        scope["path_params"] = params
        if scheme is Scheme.websocket:
            await self._call(route, scope, receive, send, method, path)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self._call(route, scope, receive, watched, method, path)
        except Exception as exc:
            # Once the response has started, the status is out: the server ends the stream.
            if started or not (isinstance(exc, HTTPException) or self._handler_for(exc)):
                raise
            await self._handle_exception(exc, scope, receive, send)

    async def _call(self, route: Route, scope: Scope, receive: Receive, send: Send,
                    method: str, path: str) -> None:
        if not self.interceptors:
            await route.endpoint(scope, receive, send)
        else:
            await self._intercepted(route, scope, receive, send, method, path)

    def _handler_for(self, exc: Exception) -> ExceptionHandler | None:
        if isinstance(exc, HTTPException) and exc.status in self.exception_handlers:
            return self.exception_handlers[exc.status]
        for cls in type(exc).__mro__:
            if cls in self.exception_handlers:
                return self.exception_handlers[cls]
        return None

    async def _handle_exception(self, exc: Exception, scope: Scope, receive: Receive,
                                send: Send) -> None:
        handler = self._handler_for(exc)
        if handler is not None:
            response = to_response(await handler(Request(scope, receive), exc))
        elif isinstance(exc, HTTPException):
            response = PlainTextResponse(exc.detail, exc.status, exc.headers)
        else:  # pragma: no cover - _dispatch only calls this when one of the two holds
            raise exc
        await (response or Response(b"", 204))(scope, receive, send)

    async def _intercepted(self, route: Route, scope: Scope, receive: Receive,
                           send: Send, method: str, path: str) -> None:
        detail = {"scope": scope, "method": method, "path": path}
        for func in self.interceptors.get("before_handler", ()):
            result = await func(Event("before_handler", detail))
            if isinstance(result, Response):
                await result(scope, receive, send)
                return
        status: list[int] = []

        async def send_and_watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await route.endpoint(scope, receive, send_and_watch)
        except Exception as exc:
            for func in self.interceptors.get("handler_error", ()):
                await func(Event("handler_error", {**detail, "exception": exc}))
            raise
        after = {**detail, "status": status[0] if status else None}
        for func in self.interceptors.get("after_handler", ()):
            await func(Event("after_handler", after))

    def _chain(self, route: Route) -> ASGIApp:
        """Wrap the route's handler in the global then the route's middlewares, once."""
        endpoint = self._endpoint(route)
        for middleware in reversed([*self.middlewares, *route.middlewares]):
            endpoint = _wrap(middleware, endpoint)
        return endpoint

    @staticmethod
    def _endpoint(route: Route) -> ASGIApp:
        handler = route.handler
        if route.asgi:
            return handler
        wanted = route.wanted

        async def simplified(scope: Scope, receive: Receive, send: Send) -> None:
            available = {"scope": scope, "receive": receive, "send": send,
                         **scope.get("path_params", {})}
            kwargs = {k: v for k, v in available.items() if k in wanted}
            if "request" in wanted:
                kwargs["request"] = Request(scope, receive)
            response = to_response(await handler(**kwargs))
            if response is None:
                if scope["type"] == "http":
                    response = Response(b"", 204)
                else:
                    return
            await response(scope, receive, send)

        return simplified

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            phase = message["type"].rsplit(".", 1)[-1]  # startup | shutdown
            hooks = self._startup if phase == "startup" else self._shutdown
            try:
                for hook in hooks:
                    await hook()
            except Exception as exc:  # noqa: BLE001 - reported to the server, by the protocol
                log.exception("lifespan %s hook failed", phase)
                await send({"type": f"lifespan.{phase}.failed", "message": repr(exc)})
                if phase == "startup":
                    return
            else:
                await send({"type": f"lifespan.{phase}.complete"})
            if phase == "shutdown":
                return

    # --- serving ---------------------------------------------------------------------------
    def run(self, host: str | None = None, port: int | None = None, *,
            certfile: str | None = None, keyfile: str | None = None,
            workers: int | None = None, argv: list[str] | None = None) -> None:
        """Serve this app (blocking) with the ``blackbull`` command's options read from the
        script's command line, so ``python app.py --port 8443 --cert c.pem --key k.pem``
        (or ``--help``) works for any ``app.run(...)``. Flags win over the arguments given
        here, which win over ``BB_*`` variables. An unknown flag is an error: a script
        with its own options passes what is left of them as ``argv``."""
        from .binds import Bind
        from .cli import run_script

        defaults: dict[str, Any] = {}
        if host is not None or port is not None:
            defaults["bind"] = str(Bind("tcp", host=host or "127.0.0.1",
                                        port=8000 if port is None else port))
        if certfile:
            defaults["ssl_certfile"] = certfile
            defaults["ssl_keyfile"] = keyfile or ""
        if workers:
            defaults["workers"] = workers
        run_script(self, argv, defaults)


def _wrap(middleware: Middleware, inner: ASGIApp) -> ASGIApp:
    async def call(scope: Scope, receive: Receive, send: Send) -> None:
        await middleware(scope, receive, send, inner)

    return call
