"""Sans-I/O HTTP/2 (RFC 9113) with HPACK (RFC 7541, via ``hpack``) and RFC 9218
priorities, for both roles. See :class:`H2Connection`."""
from __future__ import annotations

from .connection import PREFACE, H2Connection
from .errors import ConnectionError, ErrorCode, H2Error, ProtocolError, StreamError, UsageError
from .events import (
    ConnectionTerminated,
    DataReceived,
    Event,
    InformationalResponseReceived,
    PingAckReceived,
    PingReceived,
    PriorityInfo,
    PriorityUpdated,
    PushedStreamReceived,
    RemoteSettingsChanged,
    RequestReceived,
    ResponseReceived,
    SettingsAcknowledged,
    StreamEnded,
    StreamReset,
    TrailersReceived,
    WindowUpdated,
)
from .frames import FrameType
from .priority import DEFAULT_PRIORITY, Priority, parse_priority_field
from .settings import SettingCode
from .stream import CloseReason, Stream, StreamState

__all__ = [
    "PREFACE", "H2Connection", "ConnectionError", "ErrorCode", "H2Error", "ProtocolError",
    "StreamError", "UsageError", "ConnectionTerminated", "DataReceived", "Event",
    "InformationalResponseReceived", "PingAckReceived", "PingReceived", "PriorityInfo",
    "PriorityUpdated", "PushedStreamReceived", "RemoteSettingsChanged", "RequestReceived",
    "ResponseReceived", "SettingsAcknowledged", "StreamEnded", "StreamReset",
    "TrailersReceived", "WindowUpdated", "FrameType", "DEFAULT_PRIORITY", "Priority",
    "parse_priority_field", "SettingCode", "CloseReason", "Stream", "StreamState",
]
