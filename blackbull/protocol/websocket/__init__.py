"""Sans-I/O WebSocket (RFC 6455) with permessage-deflate (RFC 7692).

Used by the HTTP/1.1 server handler, the clients and the RFC 8441 HTTP/2 bridge.
"""
from __future__ import annotations

from .close import build_close_payload, parse_close_payload
from .connection import Role, State, WebSocketConnection
from .deflate import (
    CLIENT_OFFER,
    DeflateParams,
    PerMessageDeflate,
    negotiate_client,
    negotiate_server,
)
from .errors import (
    CloseCode,
    HandshakeFailed,
    HandshakeRejection,
    InvalidState,
    NegotiationError,
    OpeningHandshakeError,
    WebSocketError,
    WebSocketProtocolError,
    is_valid_wire_code,
)
from .events import (
    BytesMessage,
    CloseReceived,
    ConnectionFailed,
    Event,
    Ping,
    Pong,
    TextMessage,
)
from .frames import FrameParser, Opcode, apply_mask, encode_frame

__all__ = [
    "CLIENT_OFFER", "BytesMessage", "CloseCode", "CloseReceived", "ConnectionFailed",
    "DeflateParams", "Event", "FrameParser", "HandshakeFailed", "HandshakeRejection",
    "InvalidState", "NegotiationError", "Opcode", "OpeningHandshakeError",
    "PerMessageDeflate", "Ping", "Pong", "Role", "State", "TextMessage",
    "WebSocketConnection", "WebSocketError", "WebSocketProtocolError", "apply_mask",
    "build_close_payload",
    "encode_frame", "is_valid_wire_code", "negotiate_client", "negotiate_server",
    "parse_close_payload",
]
