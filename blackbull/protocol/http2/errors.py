"""HTTP/2 error codes and the two error scopes (RFC 9113 §5.4, §7).

Errors are values: a :class:`ConnectionError` ends the connection with GOAWAY
(§5.4.1), a :class:`StreamError` ends one stream with RST_STREAM (§5.4.2).
"""
from __future__ import annotations

from enum import IntEnum


class ErrorCode(IntEnum):
    """RFC 9113 §7 error codes."""

    NO_ERROR = 0x0
    PROTOCOL_ERROR = 0x1
    INTERNAL_ERROR = 0x2
    FLOW_CONTROL_ERROR = 0x3
    SETTINGS_TIMEOUT = 0x4
    STREAM_CLOSED = 0x5
    FRAME_SIZE_ERROR = 0x6
    REFUSED_STREAM = 0x7
    CANCEL = 0x8
    COMPRESSION_ERROR = 0x9
    CONNECT_ERROR = 0xA
    ENHANCE_YOUR_CALM = 0xB
    INADEQUATE_SECURITY = 0xC
    HTTP_1_1_REQUIRED = 0xD


def error_code(value: int) -> ErrorCode | int:
    """Unknown codes MUST NOT trigger special behaviour (§7); keep them as ints."""
    try:
        return ErrorCode(value)
    except ValueError:
        return value


class H2Error(Exception):
    """Base of every error raised by the HTTP/2 core."""


class ConnectionError(H2Error):  # noqa: A001 - the RFC's own name, scoped to this package
    """A connection error (RFC 9113 §5.4.1): the connection answers with GOAWAY."""

    def __init__(self, code: ErrorCode, message: str = "") -> None:
        super().__init__(f"{code.name}: {message}" if message else code.name)
        self.code = code
        self.message = message


class ProtocolError(ConnectionError):
    """Connection error of type PROTOCOL_ERROR unless another code is given."""

    def __init__(self, message: str = "", code: ErrorCode = ErrorCode.PROTOCOL_ERROR) -> None:
        super().__init__(code, message)


class StreamError(H2Error):
    """A stream error (RFC 9113 §5.4.2): the stream answers with RST_STREAM."""

    def __init__(self, stream_id: int, code: ErrorCode, message: str = "") -> None:
        super().__init__(f"stream {stream_id} {code.name}: {message}")
        self.stream_id = stream_id
        self.code = code
        self.message = message


class UsageError(H2Error):
    """The local user of the core asked for something the protocol forbids
    (e.g. DATA beyond the flow-control window, a frame on a closed stream)."""
