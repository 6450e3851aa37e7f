"""Response objects: each is an ASGI callable, and what simplified handlers may return."""
from __future__ import annotations

import json
from typing import Any

HeaderList = list[tuple[bytes, bytes]]


def _encode_headers(headers: Any) -> HeaderList:
    if headers is None:
        return []
    items = headers.items() if isinstance(headers, dict) else headers
    out: HeaderList = []
    for name, value in items:
        n = name.encode("latin-1") if isinstance(name, str) else bytes(name)
        v = value.encode("latin-1") if isinstance(value, str) else bytes(value)
        out.append((n.lower(), v))
    return out


class Response:
    """A complete response: status, headers and a body sent in one piece."""

    media_type = "application/octet-stream"
    charset = "utf-8"

    def __init__(self, content: Any = b"", status: int = 200, headers: Any = None,
                 media_type: str | None = None) -> None:
        self.status = status
        self.body = self.render(content)
        self.headers = _encode_headers(headers)
        media_type = media_type or self.media_type
        names = {n for n, _ in self.headers}
        if status < 200 or status in (204, 304):
            # RFC 9110 §6.4.1: no content; §8.6: no Content-Length in 1xx/204 (in a 304
            # it would describe the 200, which is not this object's body); no default
            # type for content that does not exist (§8.3).
            return
        if b"content-type" not in names and media_type:
            if media_type.startswith("text/") or media_type.endswith("json"):
                if "charset" not in media_type and media_type.startswith("text/"):
                    media_type += f"; charset={self.charset}"
            self.headers.append((b"content-type", media_type.encode("latin-1")))
        if b"content-length" not in names:
            self.headers.append((b"content-length", str(len(self.body)).encode()))

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        if isinstance(content, str):
            return content.encode(self.charset)
        if isinstance(content, bytearray | memoryview):
            return bytes(content)
        raise TypeError(f"cannot send {type(content).__name__} as a response body")

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": self.status,
                    "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


class PlainTextResponse(Response):
    media_type = "text/plain"


class HTMLResponse(Response):
    media_type = "text/html"


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def to_response(result: Any) -> Response | None:
    """What a simplified handler returned → a Response (None stays None)."""
    if result is None or isinstance(result, Response):
        return result
    if isinstance(result, str):
        return PlainTextResponse(result)
    if isinstance(result, bytes | bytearray | memoryview):
        return Response(bytes(result))
    if isinstance(result, dict | list):
        return JSONResponse(result)
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], int):
        response = to_response(result[0]) or Response(b"")
        response.status = result[1]
        return response
    raise TypeError(f"a handler cannot return {type(result).__name__}")
