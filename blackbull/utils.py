"""Small public enums of the framework."""
from __future__ import annotations

from enum import StrEnum


class Scheme(StrEnum):
    """What a route serves: plain HTTP requests or WebSocket sessions."""

    http = "http"
    websocket = "websocket"


class HTTPMethods(StrEnum):
    """RFC 9110 §9 methods (``str`` values, so ``'GET' == HTTPMethods.get``)."""

    get = "GET"
    head = "HEAD"
    post = "POST"
    put = "PUT"
    delete = "DELETE"
    connect = "CONNECT"
    options = "OPTIONS"
    trace = "TRACE"
    patch = "PATCH"
