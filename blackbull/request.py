"""``Request``: what simplified handlers ask for by naming a ``request`` parameter.

A thin, read-only view of the ASGI ``scope`` plus the body read from ``receive``:
method, path, query parameters, headers (case-insensitive, repeated fields kept),
cookies, client, and the body as bytes, JSON or form fields.  The body is read once and
cached, so ``await request.json()`` after ``await request.body()`` costs nothing more.
"""
from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from email.parser import BytesParser
from email.policy import HTTP
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl

from .types import Receive, Scope


class Disconnected(Exception):
    """The client went away before the whole body arrived (ASGI ``http.disconnect``)."""


class MultiMapping(Mapping[str, str]):
    """An immutable mapping that keeps every value of a repeated key.

    ``m[key]`` and ``m.get(key)`` give the first value, ``m.getall(key)`` all of them.
    """

    def __init__(self, items: list[tuple[str, str]], *, fold_case: bool = False) -> None:
        self._fold = fold_case
        self._items = [(self._key(k), v) for k, v in items]
        self._first: dict[str, str] = {}
        for key, value in self._items:
            self._first.setdefault(key, value)

    def _key(self, key: str) -> str:
        return key.lower() if self._fold else key

    def __getitem__(self, key: str) -> str:
        return self._first[self._key(key)]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._key(key) in self._first

    def __iter__(self) -> Iterator[str]:
        return iter(self._first)

    def __len__(self) -> int:
        return len(self._first)

    def getall(self, key: str) -> list[str]:
        key = self._key(key)
        return [v for k, v in self._items if k == key]

    def multi_items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._items!r})"


class Headers(MultiMapping):
    """Request header fields: names case-insensitive (RFC 9110 §5.1), values latin-1."""

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        super().__init__([(n.decode("latin-1"), v.decode("latin-1")) for n, v in raw],
                         fold_case=True)


class QueryParams(MultiMapping):
    """The query string's ``name=value`` pairs, percent-decoded, repeats kept."""

    def __init__(self, query_string: bytes | str) -> None:
        text = query_string.decode("latin-1") if isinstance(query_string, bytes) else query_string
        super().__init__(parse_qsl(text, keep_blank_values=True))


class UploadFile:
    """One file part of a ``multipart/form-data`` body (held in memory)."""

    def __init__(self, filename: str, content_type: str, data: bytes) -> None:
        self.filename = filename
        self.content_type = content_type
        self.data = data

    def __repr__(self) -> str:
        return f"UploadFile({self.filename!r}, {self.content_type!r}, {len(self.data)} bytes)"


#: One form field: text, or the file of a file part.
FormValue = str | UploadFile


class FormData(Mapping[str, FormValue]):
    """Form fields: ``str`` values, or :class:`UploadFile` for file parts."""

    def __init__(self, items: Iterable[tuple[str, FormValue]]) -> None:
        self._items = list(items)
        self._first: dict[str, FormValue] = {}
        for key, value in items:
            self._first.setdefault(key, value)

    def __getitem__(self, key: str) -> FormValue:
        return self._first[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._first)

    def __len__(self) -> int:
        return len(self._first)

    def getall(self, key: str) -> list[FormValue]:
        return [v for k, v in self._items if k == key]


class Request:
    """The HTTP request of one ASGI ``http`` (or ``websocket``) scope."""

    def __init__(self, scope: Scope, receive: Receive | None = None) -> None:
        self.scope = scope
        self._receive = receive
        self._body: bytes | None = None
        self._headers: Headers | None = None

    # --- the request head ----------------------------------------------------------------
    @property
    def method(self) -> str:
        return str(self.scope.get("method", "GET"))

    @property
    def path(self) -> str:
        return str(self.scope["path"])

    @property
    def path_params(self) -> dict[str, Any]:
        return dict(self.scope.get("path_params", {}))

    @property
    def query_params(self) -> QueryParams:
        return QueryParams(self.scope.get("query_string", b""))

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(list(self.scope.get("headers", [])))
        return self._headers

    @property
    def cookies(self) -> dict[str, str]:
        """Cookies of every ``Cookie`` field (RFC 6265 §5.4); a malformed pair is skipped."""
        jar: dict[str, str] = {}
        for field in self.headers.getall("cookie"):
            for pair in field.split(";"):
                cookie = SimpleCookie()
                try:
                    cookie.load(pair.strip())
                except CookieError:
                    continue
                jar.update({key: morsel.value for key, morsel in cookie.items()})
        return jar

    @property
    def client(self) -> tuple[str, int] | None:
        client = self.scope.get("client")
        return (client[0], client[1]) if client else None

    @property
    def url(self) -> str:
        scheme = self.scope.get("scheme", "http")
        host = self.headers.get("host")
        if host is None:
            server = self.scope.get("server") or ("localhost", None)
            host = server[0] if server[1] in (None, 80, 443) else f"{server[0]}:{server[1]}"
        query = self.scope.get("query_string", b"")
        tail = f"?{query.decode('latin-1')}" if query else ""
        return f"{scheme}://{host}{self.scope.get('root_path', '')}{self.path}{tail}"

    @property
    def http_version(self) -> str:
        return str(self.scope.get("http_version", "1.1"))

    @property
    def state(self) -> dict[str, Any]:
        """The lifespan state the server copied into this scope (ASGI ``scope["state"]``)."""
        state: dict[str, Any] = self.scope.setdefault("state", {})
        return state

    # --- the body ----------------------------------------------------------------------------
    async def stream(self) -> AsyncIterator[bytes]:
        """The body's chunks as they arrive (an async iterator); each chunk once."""
        if self._body is not None:
            yield self._body
            return
        if self._receive is None:
            return
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise Disconnected()
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    async def body(self) -> bytes:
        if self._body is None:
            self._body = b"".join([chunk async for chunk in self.stream()])
        return self._body

    async def json(self) -> Any:
        return json.loads(await self.body())

    async def form(self) -> FormData:
        """``application/x-www-form-urlencoded`` or ``multipart/form-data`` fields."""
        content_type = self.headers.get("content-type", "")
        body = await self.body()
        if content_type.split(";")[0].strip().lower() == "multipart/form-data":
            return _parse_multipart(content_type, body)
        return FormData(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _parse_multipart(content_type: str, body: bytes) -> FormData:
    """RFC 7578 multipart/form-data, through the standard library's MIME parser."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    items: list[tuple[str, FormValue]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        # decode=True gives the decoded bytes of a leaf part, None for a nested multipart
        decoded = part.get_payload(decode=True)
        payload = decoded if isinstance(decoded, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            items.append((name, UploadFile(filename, part.get_content_type(), payload)))
        else:
            charset = part.get_content_charset() or "utf-8"
            items.append((name, payload.decode(charset, "replace")))
    return FormData(items)
