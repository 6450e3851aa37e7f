"""Events the HTTP/2 core reports to its driver (server handler or client).

Events are frozen dataclasses: the core emits each once and drivers only read
them; a driver that needs more state keeps it beside the event. The events of every
request (:func:`~blackbull.protocol.quick_init.quick_init`) are built by an
``__init__`` that sets their slots directly."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..quick_init import quick_init
from .errors import ErrorCode
from .priority import Priority

Headers = list[tuple[bytes, bytes]]



@dataclass(frozen=True, slots=True)
class Event:
    pass


@dataclass(frozen=True, slots=True)
class PriorityInfo:
    """RFC 9113 §5.3.2 (deprecated) priority signal carried on HEADERS or PRIORITY."""

    depends_on: int
    weight: int
    exclusive: bool


@quick_init
@dataclass(frozen=True, slots=True)
class RequestReceived(Event):
    """A request's header block (server role), RFC 9113 §8.3.1."""

    stream_id: int
    headers: Headers
    end_stream: bool = False
    priority: PriorityInfo | None = None
    #: RFC 9218 §7: a PRIORITY_UPDATE that arrived while the stream was still idle.
    priority_update: Priority | None = None
    #: The field section's size as RFC 9113 §6.5.2 counts it for
    #: SETTINGS_MAX_HEADER_LIST_SIZE: octets of names and values plus 32 per field.
    field_section_size: int = field(default=0, compare=False)


@quick_init
@dataclass(frozen=True, slots=True)
class ResponseReceived(Event):
    """A final or informational response's header block (client role), §8.3.2."""

    stream_id: int
    headers: Headers
    end_stream: bool = False
    priority: PriorityInfo | None = None


@dataclass(frozen=True, slots=True)
class InformationalResponseReceived(ResponseReceived):
    """A 1xx response (RFC 9113 §8.1)."""


@quick_init
@dataclass(frozen=True, slots=True)
class TrailersReceived(Event):
    """A trailing header block, which always ends the stream (§8.1)."""

    stream_id: int
    headers: Headers
    priority: PriorityInfo | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class DataReceived(Event):
    """DATA payload; ``flow_controlled_length`` includes padding (RFC 9113 §6.1) and is
    what must be passed back to ``acknowledge_received_data``."""

    stream_id: int
    data: bytes
    flow_controlled_length: int
    end_stream: bool = False


@quick_init
@dataclass(frozen=True, slots=True)
class StreamEnded(Event):
    stream_id: int


@dataclass(frozen=True, slots=True)
class StreamReset(Event):
    """The stream was reset: by the peer (``remote``) or by us after a stream error."""

    stream_id: int
    error_code: ErrorCode | int
    remote: bool = True


@quick_init
@dataclass(frozen=True, slots=True)
class WindowUpdated(Event):
    """Send credit grew (stream 0 = connection), RFC 9113 §6.9; also emitted when a
    SETTINGS_INITIAL_WINDOW_SIZE change enlarges open streams' windows."""

    stream_id: int
    delta: int


@dataclass(frozen=True, slots=True)
class RemoteSettingsChanged(Event):
    changed: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SettingsAcknowledged(Event):
    changed: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PingReceived(Event):
    data: bytes


@dataclass(frozen=True, slots=True)
class PingAckReceived(Event):
    data: bytes


@dataclass(frozen=True, slots=True)
class PriorityUpdated(Event):
    """RFC 9218 §7: new priority parameters for ``stream_id`` (from PRIORITY_UPDATE)."""

    stream_id: int
    urgency: int
    incremental: bool
    field_value: bytes = b""


@dataclass(frozen=True, slots=True)
class PushedStreamReceived(Event):
    """PUSH_PROMISE (client role), RFC 9113 §8.4."""

    pushed_stream_id: int
    parent_stream_id: int
    headers: Headers


@dataclass(frozen=True, slots=True)
class ConnectionTerminated(Event):
    """GOAWAY received (``remote``) or sent by us after a connection error."""

    error_code: ErrorCode | int
    last_stream_id: int
    additional_data: bytes = b""
    remote: bool = True


@dataclass(frozen=True, slots=True)
class UnknownFrameReceived(Event):
    """RFC 9113 §5.5: unknown frame types are ignored; reported for diagnostics."""

    frame_type: int
    stream_id: int
