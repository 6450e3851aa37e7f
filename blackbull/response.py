"""Response objects: each is an ASGI callable, and what simplified handlers may return."""
from __future__ import annotations

import json
import mimetypes
import os
from collections.abc import AsyncIterable, Iterable, Mapping
from email.utils import formatdate
from typing import Any
from urllib.parse import quote

from .types import Receive, Scope, Send

HeaderList = list[tuple[bytes, bytes]]
#: Header fields as a handler gives them: a mapping or (name, value) pairs, str or bytes.
HeadersInput = (Mapping[str, str | bytes] | Mapping[bytes, str | bytes]
                | Iterable[tuple[str | bytes, str | bytes]] | None)
#: One piece of a streamed body (str is encoded with the response's charset).
Chunk = str | bytes | bytearray | memoryview
#: Statuses whose responses carry no content (RFC 9110 §6.4.1): no body, and no
#: Content-Length on 1xx and 204 (§8.6); a 304 keeps the fields of the 200 it stands for.
NO_CONTENT = frozenset({204, 304}) | frozenset(range(100, 200))


def _encode_headers(headers: HeadersInput) -> HeaderList:
    if headers is None:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
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

    def __init__(self, content: Any = b"", status: int = 200, headers: HeadersInput = None,
                 media_type: str | None = None) -> None:
        self.status = status
        self.body = self.render(content)
        self.headers = _encode_headers(headers)
        if status in NO_CONTENT:
            # RFC 9110 §8.6 / §15.3.5: no Content-Length, no content (and so no type).
            self.body = b""
            return
        media_type = media_type or self.media_type
        names = {n for n, _ in self.headers}
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
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


class RedirectResponse(Response):
    """A redirect to *url* (default 307, which keeps the method; RFC 9110 §15.4)."""

    media_type = ""

    def __init__(self, url: str, status: int = 307, headers: HeadersInput = None) -> None:
        super().__init__(b"", status, headers)
        self.headers.append((b"location", quote(url, safe=":/%#?=@[]!$&'()*+,;").encode("latin-1")))


class StreamingResponse(Response):
    """A body sent piece by piece from an (async) iterable of ``bytes``/``str`` chunks.

    No Content-Length is sent, so HTTP/1.1 uses chunked coding and HTTP/2 DATA frames.
    Each chunk waits for the server to take it (``send`` applies back-pressure); when the
    client goes away ``send`` raises and the iteration stops there.
    """

    def __init__(self, content: AsyncIterable[Chunk] | Iterable[Chunk], status: int = 200,
                 headers: HeadersInput = None, media_type: str | None = None) -> None:
        self.iterator = content
        self.status = status
        self.body = b""
        self.headers = _encode_headers(headers)
        media_type = media_type or self.media_type
        if media_type and b"content-type" not in {n for n, _ in self.headers}:
            self.headers.append((b"content-type", media_type.encode("latin-1")))

    def _chunk(self, chunk: Chunk) -> bytes:
        return chunk.encode(self.charset) if isinstance(chunk, str) else bytes(chunk)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status,
                    "headers": self.headers})
        if isinstance(self.iterator, AsyncIterable):
            async for chunk in self.iterator:
                await send({"type": "http.response.body", "body": self._chunk(chunk),
                            "more_body": True})
        else:
            for chunk in self.iterator:
                await send({"type": "http.response.body", "body": self._chunk(chunk),
                            "more_body": True})
        await send({"type": "http.response.body", "body": b""})


class FileResponse(Response):
    """A file from disk, read in chunks: Content-Length, a type guessed from the name,
    Last-Modified (RFC 9110 §8.8.2), and ``Content-Disposition`` when *filename* is given."""

    chunk_size = 64 * 1024

    def __init__(self, path: str | os.PathLike[str], status: int = 200,
                 headers: HeadersInput = None,
                 media_type: str | None = None, filename: str | None = None) -> None:
        self.path = os.fspath(path)
        self.status = status
        self.body = b""
        self.headers = _encode_headers(headers)
        stat = os.stat(self.path)
        names = {n for n, _ in self.headers}
        guessed = media_type or mimetypes.guess_type(filename or self.path)[0]
        if b"content-type" not in names:
            self.headers.append((b"content-type", (guessed or "application/octet-stream").encode()))
        self.headers.append((b"content-length", str(stat.st_size).encode()))
        self.headers.append((b"last-modified", formatdate(stat.st_mtime, usegmt=True).encode()))
        if filename is not None:
            disposition = f"attachment; filename*=utf-8''{quote(filename)}"
            self.headers.append((b"content-disposition", disposition.encode("latin-1")))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status,
                    "headers": self.headers})
        if scope.get("method") == "HEAD":
            await send({"type": "http.response.body", "body": b""})
            return
        with open(self.path, "rb") as fh:
            while chunk := fh.read(self.chunk_size):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


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
        if result[1] in NO_CONTENT:
            return Response(b"", result[1])
        response = to_response(result[0]) or Response(b"")
        response.status = result[1]
        return response
    raise TypeError(f"a handler cannot return {type(result).__name__}")
