"""WebSocket close codes and the protocol error type (RFC 6455 §7.4).

A protocol failure is a value: :class:`WebSocketProtocolError` carries the close code
the endpoint must send when it fails the connection (§7.1.7).
"""
from __future__ import annotations

from enum import IntEnum


class CloseCode(IntEnum):
    """Status codes of RFC 6455 §7.4.1 plus the IANA-registered 1012–1014."""

    NORMAL = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS = 1005          # never on the wire: "the close frame had no code"
    ABNORMAL = 1006           # never on the wire: "the connection dropped"
    INVALID_PAYLOAD = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    TLS_HANDSHAKE = 1015      # never on the wire


#: Codes below 3000 an endpoint may put in a Close frame (§7.4.1, §7.4.2, IANA registry).
_WIRE_CODES = frozenset({1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012,
                         1013, 1014})


def is_valid_wire_code(code: int) -> bool:
    """RFC 6455 §7.4: may ``code`` appear in a Close frame?

    1005, 1006 and 1015 are reserved for reporting and never sent; 0–999 and unassigned
    1xxx/2xxx codes are invalid; 3000–4999 belong to libraries and applications.
    """
    return code in _WIRE_CODES or 3000 <= code <= 4999


class WebSocketProtocolError(Exception):
    """The peer broke the protocol: fail the connection with ``code`` (§7.1.7)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = int(code)
        self.reason = reason
