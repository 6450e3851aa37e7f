"""HTTP/2 probes: RFC 9113 §3–§9, from the wire (frames built by hand, judged by `_wire`).

Modules by section: ``s3_preface`` (§3.4 and the TLS rules of §9.2), ``s4_frames`` (§4),
``s5_streams`` (§5), ``s6_*`` (§6, one module per group of frame types), ``s7_errors``,
``s8_fields`` (§8.2 field validity), ``s8_pseudo`` (§8.3 control data), ``s8_messages``
(§8.1 framing, §8.4 push, §8.5 CONNECT) and ``generic`` (the h2spec ``generic`` group:
ordinary traffic a server must simply accept).
"""

from __future__ import annotations

#: Requirements of RFC 9113 that a client-side probe cannot observe on the wire.
UNTESTABLE: tuple[tuple[str, str, str, str], ...] = (
    ("rfc9113/5.1.2", "SHOULD",
     "An endpoint SHOULD NOT set SETTINGS_MAX_CONCURRENT_STREAMS below 100.",
     "A deployment choice, not behaviour: probes report the advertised value (5.1.2/1 "
     "tests the limit it sets)."),
    ("rfc9113/6.9.1", "MUST NOT",
     "A sender MUST NOT send a flow-controlled frame larger than the available window.",
     "Tested only for the windows a probe can shrink (6.9.1/1, 6.9.2/1); connection-window "
     "exhaustion needs a response body larger than the target route's."),
    ("rfc9113/8.2.3", "MAY",
     "Cookie header fields may be split into separate field lines and must be "
     "concatenated with '; ' before being passed to a non-HTTP/2 context.",
     "What the server hands its application is not visible on the wire without an "
     "echoing route."),
    ("rfc9113/8.4", "MUST NOT",
     "A server MUST NOT push when the client set SETTINGS_ENABLE_PUSH to 0.",
     "The target route never pushes, so there is nothing to refrain from."),
    ("rfc9113/9.2.1", "MUST",
     "TLS compression and renegotiation MUST be disabled for HTTP/2 over TLS 1.2.",
     "Python's ssl module offers neither compression nor a way to request renegotiation, "
     "so a probe cannot ask for them."),
    ("rfc9113/10.5", "SHOULD",
     "Endpoints SHOULD limit the resources (header list size, streams, frames) a peer can "
     "consume.",
     "Limits are measured by the hostile-peer tests (tests/hostile), not single probes."),
)
