"""RFC 9218 probes: the PRIORITY_UPDATE frame (§7.1), the priority field (§4, §5) and
SETTINGS_NO_RFC7540_PRIORITIES (§2.1).

A server that does not implement RFC 9218 must ignore frame type 0x10 and setting 0x9 as
unknown (RFC 9113 §4.1, §6.5.2); for it the error probes here say ``not-applicable`` rather
than accusing it — unless it advertised SETTINGS_NO_RFC7540_PRIORITIES, which shows it knows
the extension.
"""

from __future__ import annotations

UNTESTABLE: tuple[tuple[str, str, str, str], ...] = (
    ("rfc9218/10", "SHOULD",
     "A server SHOULD send responses in the order of their urgency, and share bandwidth "
     "between incremental responses of equal urgency.",
     "Scheduling is visible only with responses large enough to compete for the connection "
     "window; the target route's body is small (tests/unit/rfc9218 checks our scheduler)."),
)
