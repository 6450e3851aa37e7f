"""BlackBull: a reference ASGI 3 framework and server for HTTP/1.1, HTTP/2 and WebSocket."""
from __future__ import annotations

from .app import BlackBull
from .config import Settings
from .events import Event
from .exceptions import HTTPException
from .request import Request
from .response import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from .utils import HTTPMethods, Scheme
from .version import __version__

__all__ = [
    "BlackBull", "Event", "FileResponse", "HTMLResponse", "HTTPException", "HTTPMethods",
    "JSONResponse", "PlainTextResponse", "RedirectResponse", "Request", "Response", "Scheme",
    "Settings", "StreamingResponse", "__version__",
]
