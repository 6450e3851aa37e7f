"""BlackBull: a reference ASGI 3 framework and server for HTTP/1.1, HTTP/2 and WebSocket."""
from __future__ import annotations

from .app import BlackBull
from .config import Settings
from .events import Event
from .response import HTMLResponse, JSONResponse, PlainTextResponse, Response
from .utils import HTTPMethods, Scheme

__version__ = "0.9.0.dev0"
__all__ = [
    "BlackBull", "Event", "HTMLResponse", "HTTPMethods", "JSONResponse", "PlainTextResponse",
    "Response", "Scheme", "Settings", "__version__",
]
