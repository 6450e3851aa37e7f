"""Events the WebSocket core reports for received bytes (RFC 6455 §6.2).

The two message events, built once per received message, get the cores' shared
cheaper ``__init__`` (:func:`~blackbull.protocol.quick_init.quick_init`: each slot
set through its own descriptor, not ``object.__setattr__``); they stay frozen."""
from __future__ import annotations

from dataclasses import dataclass

from ..quick_init import quick_init


@quick_init
@dataclass(frozen=True, slots=True)
class TextMessage:
    """A complete text message (opcode 0x1, valid UTF-8, §5.6)."""

    data: str


@quick_init
@dataclass(frozen=True, slots=True)
class BytesMessage:
    """A complete binary message (opcode 0x2, §5.6)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Ping:
    """A Ping (§5.5.2); the core has already queued the Pong."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class Pong:
    """A Pong (§5.5.3)."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class CloseReceived:
    """The peer's Close frame (§5.5.1); 1005 when it carried no code (§7.1.5).

    If we had not sent a Close yet, the core has queued the echo (§5.5.1).
    """

    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class ConnectionFailed:
    """We failed the connection (§7.1.7): a Close with ``code`` is queued, stop reading."""

    code: int
    reason: str


Event = TextMessage | BytesMessage | Ping | Pong | CloseReceived | ConnectionFailed
