"""Map h2spec case groups to the RFC sections they check.

h2spec numbers its ``http2/…`` groups by RFC 7540 sections. RFC 9113 obsoletes RFC 7540
and moved some text (e.g. the connection preface 7540 §3.5 → 9113 §3.4, header fields
7540 §8.1.2.x → 9113 §8.2/§8.3); we report the RFC 9113 section and keep the RFC 7540
number alongside whenever the two differ. ``hpack/…`` groups are RFC 7541 sections, and
the ``generic/…`` groups exercise the basics of RFC 9113 §6 frame by frame.
"""

from __future__ import annotations

from dataclasses import dataclass

RFC9113 = "RFC 9113"
RFC7541 = "RFC 7541"

# RFC 7540 section (h2spec's numbering) -> RFC 9113 section, only where they differ.
_RFC7540_TO_9113: dict[str, str] = {
    "3.5": "3.4",  # HTTP/2 Connection Preface
    "8.1.2": "8.2.1",  # Field Validity (upper-case field names)
    "8.1.2.1": "8.3",  # HTTP Control Data (pseudo-header fields)
    "8.1.2.2": "8.2.2",  # Connection-Specific Header Fields
    "8.1.2.3": "8.3.1",  # Request Pseudo-Header Fields
    "8.1.2.6": "8.1.1",  # Malformed Messages
    "8.2": "8.4",  # Server Push
}

# generic/<group> -> RFC 9113 section (generic/5 is HPACK, RFC 7541 §6 binary format).
_GENERIC: dict[str, tuple[str, str]] = {
    "1": (RFC9113, "3.4"),
    "2": (RFC9113, "5.1"),
    "3.1": (RFC9113, "6.1"),
    "3.2": (RFC9113, "6.2"),
    "3.3": (RFC9113, "6.3"),
    "3.4": (RFC9113, "6.4"),
    "3.5": (RFC9113, "6.5"),
    "3.7": (RFC9113, "6.7"),
    "3.8": (RFC9113, "6.8"),
    "3.9": (RFC9113, "6.9"),
    "3.10": (RFC9113, "6.10"),
    "4": (RFC9113, "8.1"),
    "5": (RFC7541, "6"),
}


@dataclass(frozen=True)
class SectionRef:
    """Where a case points in the RFCs: current RFC + section, and RFC 7540's number."""

    rfc: str
    section: str
    rfc7540_section: str = ""


def section_for_package(package: str) -> SectionRef:
    """Map an h2spec package such as ``http2/8.1.2.3`` to its RFC section."""
    spec, _, group = package.partition("/")
    if spec == "http2":
        current = _RFC7540_TO_9113.get(group, group)
        return SectionRef(RFC9113, current, group if current != group else "")
    if spec == "hpack":
        return SectionRef(RFC7541, group)
    if spec == "generic":
        rfc, section = _GENERIC.get(group, (RFC9113, ""))
        return SectionRef(rfc, section)
    return SectionRef("", "")
