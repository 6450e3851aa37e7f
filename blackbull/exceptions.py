"""Exceptions a handler raises to answer with an HTTP status (``@app.exception_handler``)."""
from __future__ import annotations

from http import HTTPStatus

from .response import HeadersInput


class HTTPException(Exception):
    """Raise to answer *status* with *detail* (the status's reason phrase by default)."""

    def __init__(self, status: int, detail: str | None = None, headers: HeadersInput = None) -> None:
        self.status = status
        self.detail = detail if detail is not None else _phrase(status)
        self.headers = headers
        super().__init__(status, self.detail)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
