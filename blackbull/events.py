"""Interception points of the request path (``@app.intercept(name)``)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The events the framework fires, with the keys of their ``detail``.
EVENTS = {
    "before_handler": ("scope", "method", "path"),
    "after_handler": ("scope", "method", "path", "status"),
    "handler_error": ("scope", "method", "path", "exception"),
}


@dataclass(slots=True)
class Event:
    """What an interceptor receives: ``event.name`` and ``event.detail``."""

    name: str
    detail: dict[str, Any] = field(default_factory=dict)
