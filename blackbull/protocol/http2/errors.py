"""HTTP/2 error codes and the core's one exception tree (RFC 9113 §5.4, §7).

Everything the core raises derives from :class:`H2Error`::

    H2Error
    ├── H2ConnectionError     connection error (§5.4.1): GOAWAY
    │   └── ProtocolError     ... of type PROTOCOL_ERROR unless told otherwise
    ├── StreamError           stream error (§5.4.2): RST_STREAM
    ├── MalformedHeaders      malformed message (§8.1.1), mapped to a StreamError
    ├── EmptyFieldName        HPACK decoding stopped at an empty name (§8.2.1)
    └── UsageError            the local user asked for something the protocol forbids

Errors are values: inside ``receive_data`` the first two become frames and events;
only :class:`UsageError` (and :class:`ProtocolError` from
``initiate_upgrade_connection``) reaches the core's caller.
"""
from __future__ import annotations

from enum import IntEnum

from hpack.exceptions import HPACKDecodingError


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


class H2ConnectionError(H2Error):
    """A connection error (RFC 9113 §5.4.1): the connection answers with GOAWAY."""

    def __init__(self, code: ErrorCode, message: str = "") -> None:
        super().__init__(f"{code.name}: {message}" if message else code.name)
        self.code = code
        self.message = message


class ProtocolError(H2ConnectionError):
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


class MalformedHeaders(H2Error):
    """RFC 9113 §8.1.1: a malformed request or response; the receiving connection
    answers with a stream error of type PROTOCOL_ERROR."""


class EmptyFieldName(H2Error, HPACKDecodingError):
    """A literal field with an empty name (RFC 9113 §8.2.1): HPACK decoding stopped
    there, so the shared compression context is lost (RFC 7541 §2.2). Also an
    ``hpack`` decoding error, for callers that catch those."""
