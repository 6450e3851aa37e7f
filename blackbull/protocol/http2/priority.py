"""RFC 9218 Extensible Priorities: the ``priority`` field value and its parameters.

The value is a Structured Field Dictionary (RFC 8941 §3.2); only ``u`` (urgency,
integer 0..7, default 3) and ``i`` (incremental, boolean, default false) are defined
(RFC 9218 §4). Unknown members and out-of-range values are ignored (§4.1, §4.2).
"""
from __future__ import annotations

from dataclasses import dataclass

DEFAULT_URGENCY = 3
DEFAULT_INCREMENTAL = False


@dataclass(frozen=True, slots=True)
class Priority:
    urgency: int = DEFAULT_URGENCY
    incremental: bool = DEFAULT_INCREMENTAL

    def as_dict(self) -> dict[str, int | bool]:
        return {"urgency": self.urgency, "incremental": self.incremental}

    def serialize(self) -> bytes:
        """The shortest field value that means this priority (RFC 9218 §4)."""
        parts = []
        if self.urgency != DEFAULT_URGENCY:
            parts.append(f"u={self.urgency}")
        if self.incremental:
            parts.append("i")
        return ", ".join(parts).encode()


DEFAULT_PRIORITY = Priority()


def parse_priority_params(value: bytes | str) -> dict[str, int | bool]:
    """Only the parameters a field value actually sets (valid ones), for merging
    (RFC 9218 §8: a server combines the client's signal with its own)."""
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            return {}
    found: dict[str, int | bool] = {}
    for member in value.split(","):
        key, sep, raw = member.strip(" \t").partition("=")
        key = key.strip().split(";", 1)[0]
        raw = raw.split(";", 1)[0].strip()
        if key == "u" and sep and raw.isdigit() and len(raw) <= 15 and int(raw) <= 7:
            found["urgency"] = int(raw)
        elif key == "i" and (not sep or raw in ("?1", "?0")):
            found["incremental"] = not sep or raw == "?1"
    return found


def merge_priority(base: Priority, value: bytes | str) -> Priority:
    """RFC 9218 §8: parameters in ``value`` override ``base``; absent ones are kept."""
    params = parse_priority_params(value)
    return Priority(int(params.get("urgency", base.urgency)),
                    bool(params.get("incremental", base.incremental)))


def parse_priority_field(value: bytes | str, base: Priority = DEFAULT_PRIORITY) -> Priority:
    """Parse a ``priority`` header or PRIORITY_UPDATE field value.

    Absent parameters take their defaults (RFC 9218 §4); members with values out of
    range or of the wrong type are ignored (§4.1, §4.2). A value that is not ASCII
    cannot be a Structured Field and is ignored as a whole: ``base`` is returned.
    """
    if isinstance(value, bytes):
        try:
            value.decode("ascii")
        except UnicodeDecodeError:
            return base
    return merge_priority(DEFAULT_PRIORITY, value)
