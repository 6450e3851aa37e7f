"""Clients built on the sans-I/O protocol cores (``blackbull.protocol``)."""
from __future__ import annotations

from ..protocol.websocket.errors import HandshakeFailed, WebSocketError
from ..protocol.websocket.frames import Opcode as WSOpcode
from .websocket import ByteChannel, WebSocketClient, WebSocketClosed, WebSocketSession

__all__ = ["ByteChannel", "HandshakeFailed", "WSOpcode", "WebSocketClient",
           "WebSocketClosed", "WebSocketError", "WebSocketSession"]
from .h2 import HandshakeError, WebSocketH2Client, WebSocketH2Session  # noqa: E402, F401, I001
