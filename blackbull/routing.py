"""Routes: path patterns with ``{name}``, ``{name:int}``, ``{name:path}`` parameters."""
from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .types import ASGIApp
from .utils import Scheme

_PARAM = re.compile(r"{([A-Za-z_][A-Za-z_0-9]*)(?::(int|str|path|float))?}")
_CONVERTERS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "str": (r"[^/]+", str),
    "int": (r"-?[0-9]+", int),
    "float": (r"-?[0-9]+(?:\.[0-9]+)?", float),
    "path": (r".*", str),
}


def compile_path(path: str) -> tuple[re.Pattern[str], dict[str, Callable[[str], Any]]]:
    pattern = "^"
    converters: dict[str, Callable[[str], Any]] = {}
    pos = 0
    for match in _PARAM.finditer(path):
        pattern += re.escape(path[pos:match.start()])
        name, kind = match.group(1), match.group(2) or "str"
        regex, convert = _CONVERTERS[kind]
        pattern += f"(?P<{name}>{regex})"
        converters[name] = convert
        pos = match.end()
    pattern += re.escape(path[pos:]) + "$"
    return re.compile(pattern), converters


#: Parameter names a simplified handler may ask for besides its path parameters.
INJECTED = frozenset({"scope", "receive", "send", "request"})


def is_asgi_handler(func: Callable[..., Any], path_params: frozenset[str] = frozenset()) -> bool:
    """Whether *func* is the full ASGI form ``(scope, receive, send)``.

    Decided by names, not only by count: three required positional parameters make an
    ASGI callable unless one of them is named after a path parameter of the route or is
    ``request`` (``/three/{a}/{b}/{c}`` with ``async def h(a, b, c)`` is simplified).
    ``app.route(..., asgi=True/False)`` says it explicitly and skips the guess."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return True
    required = [p for p in params
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    if len(required) != 3:
        return False
    names = {p.name for p in required}
    return not (names & path_params) and "request" not in names


@dataclass(eq=False)
class Route:
    path: str
    handler: Callable[..., Any]
    methods: frozenset[str]
    scheme: Scheme
    middlewares: list[Callable[..., Any]] = field(default_factory=list)
    name: str = ""
    #: True: the handler is an ASGI callable; False: simplified; None: guess by signature.
    asgi: bool | None = None
    #: The handler wrapped in its middlewares, as one ASGI app (set by ``BlackBull``).
    endpoint: ASGIApp = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.regex, self.converters = compile_path(self.path)
        if self.asgi is None:
            self.asgi = is_asgi_handler(self.handler, frozenset(self.converters))
        params = inspect.signature(self.handler).parameters if not self.asgi else {}
        self.wanted = set(params)

    def match(self, path: str) -> dict[str, Any] | None:
        m = self.regex.match(path)
        if m is None:
            return None
        return {k: self.converters[k](v) for k, v in m.groupdict().items()}


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, route: Route) -> None:
        self.routes.append(route)

    def find(self, path: str, method: str, scheme: Scheme
             ) -> tuple[Route | None, dict[str, Any], set[str]]:
        """(route, params, allowed methods); route is None for 404/405."""
        allowed: set[str] = set()
        for route in self.routes:
            if route.scheme is not scheme:
                continue
            params = route.match(path)
            if params is None:
                continue
            if scheme is Scheme.websocket or method in route.methods or (
                    method == "HEAD" and "GET" in route.methods):
                return route, params, allowed
            allowed |= route.methods
        return None, {}, allowed
