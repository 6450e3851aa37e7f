"""SETTINGS parameters (RFC 9113 §6.5.2, RFC 8441 §3) and their validation."""
from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from enum import IntEnum

from .errors import ErrorCode, ProtocolError
from .frames import DEFAULT_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE, MAX_WINDOW, parse_settings


class SettingCode(IntEnum):
    HEADER_TABLE_SIZE = 0x1
    ENABLE_PUSH = 0x2
    MAX_CONCURRENT_STREAMS = 0x3
    INITIAL_WINDOW_SIZE = 0x4
    MAX_FRAME_SIZE = 0x5
    MAX_HEADER_LIST_SIZE = 0x6
    ENABLE_CONNECT_PROTOCOL = 0x8  # RFC 8441 §3
    NO_RFC7540_PRIORITIES = 0x9  # RFC 9218 §2.1


# The codes as module constants (plain ints) for the paths run per connection and per
# SETTINGS frame: ``SettingCode.X`` is a lookup through the enum metaclass, which CPython
# 3.11 makes on its slow path (see ``stream.py``).
HEADER_TABLE_SIZE = int(SettingCode.HEADER_TABLE_SIZE)
ENABLE_PUSH = int(SettingCode.ENABLE_PUSH)
MAX_CONCURRENT_STREAMS = int(SettingCode.MAX_CONCURRENT_STREAMS)
INITIAL_WINDOW_SIZE = int(SettingCode.INITIAL_WINDOW_SIZE)
MAX_FRAME_SIZE = int(SettingCode.MAX_FRAME_SIZE)
MAX_HEADER_LIST_SIZE = int(SettingCode.MAX_HEADER_LIST_SIZE)
ENABLE_CONNECT_PROTOCOL = int(SettingCode.ENABLE_CONNECT_PROTOCOL)
NO_RFC7540_PRIORITIES = int(SettingCode.NO_RFC7540_PRIORITIES)
#: The codes this endpoint knows (§6.5.2: others are ignored).
KNOWN_CODES = frozenset(int(c) for c in SettingCode)

#: SETTINGS values as callers write them: by :class:`SettingCode` or by number.
SettingsMap = Mapping["SettingCode", int] | Mapping[int, int]

#: Initial values before any SETTINGS frame (RFC 9113 §6.5.2); None = unlimited.
INITIAL_VALUES: dict[int, int | None] = {
    SettingCode.HEADER_TABLE_SIZE: 4096,
    SettingCode.ENABLE_PUSH: 1,
    SettingCode.MAX_CONCURRENT_STREAMS: None,
    SettingCode.INITIAL_WINDOW_SIZE: 65535,
    SettingCode.MAX_FRAME_SIZE: DEFAULT_MAX_FRAME_SIZE,
    SettingCode.MAX_HEADER_LIST_SIZE: None,
    SettingCode.ENABLE_CONNECT_PROTOCOL: 0,
}


def validate_setting(code: int, value: int) -> None:
    """RFC 9113 §6.5.2 bounds; each violation is a connection error of the given type."""
    if code == ENABLE_PUSH and value not in (0, 1):
        raise ProtocolError("SETTINGS_ENABLE_PUSH must be 0 or 1")
    if code == INITIAL_WINDOW_SIZE and value > MAX_WINDOW:
        raise ProtocolError("SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1",
                            ErrorCode.FLOW_CONTROL_ERROR)
    if code == MAX_FRAME_SIZE and not (
            DEFAULT_MAX_FRAME_SIZE <= value <= MAX_MAX_FRAME_SIZE):
        raise ProtocolError("SETTINGS_MAX_FRAME_SIZE out of range")
    if code == ENABLE_CONNECT_PROTOCOL and value not in (0, 1):
        raise ProtocolError("SETTINGS_ENABLE_CONNECT_PROTOCOL must be 0 or 1")
    if code == NO_RFC7540_PRIORITIES and value not in (0, 1):
        raise ProtocolError("SETTINGS_NO_RFC7540_PRIORITIES must be 0 or 1")  # RFC 9218 §2.1


class PeerSettings:
    """The settings one endpoint has declared, starting from the §6.5.2 defaults.

    ``values`` holds them by code; each one the core reads is also a plain attribute
    (``initial_window_size``, ``max_frame_size``, …), read on every stream and frame
    sent, and kept in step by :meth:`update`, the only way values change.
    """

    __slots__ = ("values", "header_table_size", "enable_push", "max_concurrent_streams",
                 "initial_window_size", "max_frame_size", "max_header_list_size",
                 "enable_connect_protocol")

    def __init__(self) -> None:
        self.values: dict[int, int | None] = dict(INITIAL_VALUES)
        self._refresh()

    def __repr__(self) -> str:
        return f"PeerSettings({self.values!r})"

    def get(self, code: int) -> int | None:
        return self.values.get(code)

    def update(self, changed: Mapping[int, int | None]) -> None:
        """Take new values (a SETTINGS frame applied, §6.5.3)."""
        self.values.update(changed)
        self._refresh()

    def _refresh(self) -> None:
        values = self.values
        self.header_table_size: int = values[HEADER_TABLE_SIZE] or 0
        self.enable_push = bool(values[ENABLE_PUSH])
        self.max_concurrent_streams: int | None = values[MAX_CONCURRENT_STREAMS]
        self.initial_window_size: int = values[INITIAL_WINDOW_SIZE]  # type: ignore[assignment]
        self.max_frame_size: int = values[MAX_FRAME_SIZE]  # type: ignore[assignment]
        self.max_header_list_size: int | None = values[MAX_HEADER_LIST_SIZE]
        self.enable_connect_protocol = bool(values[ENABLE_CONNECT_PROTOCOL])


#: RFC 7540 §3.2.1 / RFC 4648 §5: the base64url alphabet (a stray "=" pad is let by).
_BASE64URL = re.compile(rb"[A-Za-z0-9_-]*={0,2}")


def decode_settings_header(value: bytes) -> dict[int, int]:
    """RFC 7540 §3.2.1: ``HTTP2-Settings`` is a SETTINGS payload in base64url without
    padding. Raises :class:`ProtocolError` for a value that is not one (any byte outside
    the base64url alphabet included: the lenient decoder would skip ``!!!`` and read an
    empty payload); unknown parameters are dropped (§6.5.2)."""
    value = value.strip()
    if not _BASE64URL.fullmatch(value):
        raise ProtocolError("HTTP2-Settings is not base64url")
    value = value.rstrip(b"=")
    try:
        payload = base64.urlsafe_b64decode(value + b"=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise ProtocolError("HTTP2-Settings is not base64url") from None
    changed: dict[int, int] = {}
    for code, setting in parse_settings(payload):
        validate_setting(code, setting)
        if code in KNOWN_CODES:
            changed[code] = setting
    return changed


class LocalSettings:
    """Our side of the SETTINGS exchange (RFC 9113 §6.5.3).

    Values we send apply only once the peer acknowledges them, in the order sent;
    until then they are *pending*. Some decisions must count a pending value already,
    since the peer may act on our SETTINGS before its ACK reaches us: a larger
    receive window (§6.9.2) and RFC 8441 §3's extended CONNECT.
    """

    __slots__ = ("acked", "pending", "wanted", "inbound_initial_window")

    def __init__(self, wanted: SettingsMap | None = None) -> None:
        #: The values in force: the §6.5.2 defaults overridden by acknowledged ones.
        self.acked = PeerSettings()
        #: SETTINGS frames sent and not yet acknowledged, oldest first.
        self.pending: list[dict[int, int]] = []
        #: What the first SETTINGS frame (the connection preface) declares.
        self.wanted: dict[int, int] = {code: value for code, value in (wanted or {}).items()}
        #: Receive window of new streams: the acknowledged INITIAL_WINDOW_SIZE, or a
        #: larger pending one, which the peer may use before our SETTINGS is ACKed.
        self.inbound_initial_window = self.acked.initial_window_size

    @property
    def awaiting_ack(self) -> bool:
        """True while a SETTINGS frame of ours waits for its ACK (§6.5.3)."""
        return bool(self.pending)

    def sent(self, values: SettingsMap) -> dict[int, int]:
        """A SETTINGS frame with ``values`` goes out (checked first, §6.5.2); returns
        the values as recorded, pending until their ACK."""
        checked: dict[int, int] = {}
        for code, value in values.items():
            validate_setting(code, value)
            checked[code] = value
        self.pending.append(checked)
        self._refresh()
        return checked

    def acknowledged(self) -> dict[int, int]:
        """The peer ACKed our oldest outstanding SETTINGS: apply and return its values."""
        if not self.pending:
            raise ProtocolError("SETTINGS ACK without outstanding SETTINGS")
        applied = self.pending.pop(0)
        self.acked.update(applied)
        self._refresh()
        return applied

    def announced(self, code: int) -> bool:
        """Whether ``code`` is on, acknowledged or still pending."""
        return bool(self.acked.values.get(code)) or any(p.get(code) for p in self.pending)

    def _refresh(self) -> None:
        value = self.acked.initial_window_size
        for pending in self.pending:
            value = max(value, pending.get(INITIAL_WINDOW_SIZE, value))
        self.inbound_initial_window = value
