"""Middlewares: ``async def mw(scope, receive, send, call_next)``."""
from __future__ import annotations

from .websocket import websocket

__all__ = ["websocket"]
