"""HPACK probes (RFC 7541): field blocks written octet by octet, judged from the wire.

A decoding error in a field block is a connection error of type COMPRESSION_ERROR
(RFC 9113 §4.3); each probe here sends one malformed or unusual representation.
"""

from __future__ import annotations

UNTESTABLE: tuple[tuple[str, str, str, str], ...] = (
    ("rfc7541/4.4", "MUST",
     "Before a new entry is added, entries are evicted from the end of the dynamic table "
     "until the size fits.",
     "Eviction inside the server's decoder shows only through later references; 4.4/1 tests "
     "the observable case (a too-large entry empties the table)."),
    ("rfc7541/7.1", "SHOULD",
     "An encoder SHOULD NOT index values that are secret (never-indexed literals for "
     "authorization, cookies).",
     "Which response fields are sensitive is the application's knowledge, not the wire's."),
)
