"""WebSocket close codes (RFC 6455 §7.4) and the one exception tree of the WebSocket code.

A protocol failure is a value: :class:`WebSocketProtocolError` carries the close code
the endpoint must send when it fails the connection (§7.1.7); a refused opening
handshake carries the HTTP status to answer (§4.2.1). Every exception the WebSocket
core, its handshakes and the clients raise derives from :class:`WebSocketError`::

    WebSocketError
    ├── WebSocketProtocolError   the peer broke RFC 6455 / RFC 7692 framing: close with .code
    ├── InvalidState             (also RuntimeError) we used the connection in a state that
    │                            forbids it, e.g. a data frame after our Close (§5.5.1)
    └── OpeningHandshakeError    the opening handshake did not open a WebSocket (§4)
        ├── HandshakeRejection   server side: refuse the request with .status, .headers
        ├── HandshakeFailed      client side: the answer does not complete the handshake
        │                        (§4.1; RFC 8441 §5 for ``client.h2.HandshakeError``)
        └── NegotiationError     (also ValueError) an invalid extension offer or answer
                                 (RFC 7692 §5); a server declines it, a client fails

Invalid arguments (a control payload over 125 octets, a close code that may not be
sent) stay :class:`ValueError`, as in the standard library.
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


Headers = list[tuple[bytes, bytes]]


class WebSocketError(Exception):
    """The base of every exception of the WebSocket code (RFC 6455, RFC 7692, RFC 8441)."""


class WebSocketProtocolError(WebSocketError):
    """The peer broke the protocol: fail the connection with ``code`` (§7.1.7)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = int(code)
        self.reason = reason


class InvalidState(WebSocketError, RuntimeError):
    """The connection's state forbids the operation (a data frame after our Close,
    RFC 6455 §5.5.1): a bug of the caller, not of the peer."""


class OpeningHandshakeError(WebSocketError):
    """The opening handshake (RFC 6455 §4, RFC 8441 §4–§5) did not open a WebSocket."""


class HandshakeRejection(OpeningHandshakeError):
    """Server side: the handshake is invalid; answer ``status`` with ``headers`` and
    stop (RFC 6455 §4.2.1, RFC 8441 §5)."""

    def __init__(self, status: int, reason: str, headers: Headers | None = None) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason
        self.headers = headers or []


class HandshakeFailed(OpeningHandshakeError):
    """Client side: the server's answer does not complete the opening handshake
    (RFC 6455 §4.1; RFC 8441 §5). ``status`` and ``headers`` are the answer's, when
    one arrived."""

    def __init__(self, message: str, status: int | None = None,
                 headers: Headers | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or []


class NegotiationError(OpeningHandshakeError, ValueError):
    """An invalid permessage-deflate offer or answer (RFC 7692 §5, §7.1): the server
    declines the extension, the client fails the handshake."""
