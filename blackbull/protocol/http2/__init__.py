"""Sans-I/O HTTP/2 (RFC 9113) with HPACK (RFC 7541, via ``hpack``) and RFC 9218
priorities, for both roles. See :class:`H2Connection`.

A client (e.g. for RFC 8441 WebSocket over HTTP/2)::

    conn = H2Connection("client", {SettingCode.ENABLE_PUSH: 0})
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    for event in conn.receive_data(sock.recv(65536)):   # server SETTINGS
        ...
    if conn.remote.enable_connect_protocol:              # RFC 8441 §3
        sid = conn.get_next_available_stream_id()
        conn.send_headers(sid, [(b":method", b"CONNECT"), (b":protocol", b"websocket"),
                                (b":scheme", b"https"), (b":path", b"/chat"),
                                (b":authority", b"example.com"),
                                (b"sec-websocket-version", b"13")])
    # DataReceived → give credit back with acknowledge_received_data(event
    # .flow_controlled_length, sid); send_data() must fit local_flow_control_window(sid).

Errors are values: an :class:`H2ConnectionError` inside ``receive_data`` queues GOAWAY and
ends the event list with ``ConnectionTerminated(remote=False)``; a :class:`StreamError`
queues RST_STREAM and reports ``StreamReset(remote=False)``. Misuse of the send API
raises :class:`UsageError` and leaves the connection unchanged.
"""
from __future__ import annotations

from .connection import H2Connection
from .errors import (
    EmptyFieldName,
    ErrorCode,
    H2ConnectionError,
    H2Error,
    MalformedHeaders,
    ProtocolError,
    StreamError,
    UsageError,
)
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
from .flow import Window
from .frames import PREFACE, FrameType
from .priority import DEFAULT_PRIORITY, Priority, parse_priority_field
from .settings import SettingCode
from .stream import CloseReason, Stream, StreamState

__all__ = [
    "PREFACE", "H2Connection", "H2ConnectionError", "EmptyFieldName", "ErrorCode", "H2Error",
    "MalformedHeaders", "ProtocolError", "StreamError", "UsageError", "Window", "ConnectionTerminated", "DataReceived", "Event",
    "InformationalResponseReceived", "PingAckReceived", "PingReceived", "PriorityInfo",
    "PriorityUpdated", "PushedStreamReceived", "RemoteSettingsChanged", "RequestReceived",
    "ResponseReceived", "SettingsAcknowledged", "StreamEnded", "StreamReset",
    "TrailersReceived", "WindowUpdated", "FrameType", "DEFAULT_PRIORITY", "Priority",
    "parse_priority_field", "SettingCode", "CloseReason", "Stream", "StreamState",
]
