"""The payload of Close frames (RFC 6455 §5.5.1, §7.1.5, §7.4)."""
from __future__ import annotations

import struct

from .errors import CloseCode, WebSocketProtocolError, is_valid_wire_code

_CODE = struct.Struct("!H")


def parse_close_payload(payload: bytes) -> tuple[int, str]:
    """``(code, reason)`` of a received Close frame.

    RFC 6455 §5.5.1: an empty body means no status (reported as 1005, §7.1.5); otherwise
    the first two bytes are the code, which must be valid (§7.4), and the rest is UTF-8
    text (§5.5.1). A one-byte body or an invalid code is a protocol error (1002); a
    reason that is not UTF-8 is 1007.
    """
    if not payload:
        return CloseCode.NO_STATUS, ""
    if len(payload) == 1:
        raise WebSocketProtocolError(CloseCode.PROTOCOL_ERROR, "one-byte close payload")
    code = _CODE.unpack_from(payload)[0]
    if not is_valid_wire_code(code):
        raise WebSocketProtocolError(CloseCode.PROTOCOL_ERROR, f"invalid close code {code}")
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise WebSocketProtocolError(CloseCode.INVALID_PAYLOAD,
                                     "close reason is not UTF-8") from None
    return code, reason


def build_close_payload(code: int | None = CloseCode.NORMAL, reason: str = "") -> bytes:
    """The body of a Close frame we send (§5.5.1).

    ``None`` (or 1005) sends an empty body. The reason is cut at a character boundary so
    the control frame stays within 125 bytes (§5.5).
    """
    if code is None or code == CloseCode.NO_STATUS:
        return b""
    if not is_valid_wire_code(code):
        raise ValueError(f"close code {code} may not be sent (RFC 6455 §7.4)")
    raw = reason.encode("utf-8")
    if len(raw) > 123:
        raw = raw[:123].decode("utf-8", "ignore").encode("utf-8")
    return _CODE.pack(code) + raw
