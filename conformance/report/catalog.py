"""The RFC sections the compliance report indexes, so uncovered sections show up too.

Normative sections of the seven RFCs BlackBull implements (titles abridged). The
report maps every piece of evidence (unit tests, h2spec, Autobahn, the RFC 8441
matrix) onto these rows; a row with no evidence is a requirement nobody tests yet.
Sections that evidence cites but this list lacks are added to the report as found.
"""

from __future__ import annotations

RFC_TITLES: dict[str, str] = {
    "RFC 9112": "HTTP/1.1",
    "RFC 9113": "HTTP/2",
    "RFC 7541": "HPACK",
    "RFC 9218": "Extensible Prioritization",
    "RFC 6455": "The WebSocket Protocol",
    "RFC 7692": "Compression Extensions for WebSocket",
    "RFC 8441": "Bootstrapping WebSockets with HTTP/2",
}

# RFCs that evidence may cite besides the seven above; titled, but not catalogued.
OTHER_TITLES: dict[str, str] = {
    "RFC 9110": "HTTP Semantics",
    "RFC 6585": "Additional HTTP Status Codes",
    "RFC 7540": "HTTP/2 (obsoleted by RFC 9113)",
    "RFC 8446": "TLS 1.3",
    "RFC 7301": "TLS ALPN",
}

SECTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "RFC 9112": (
        ("2.1", "Message Format"), ("2.2", "Message Parsing"), ("2.3", "HTTP Version"),
        ("3", "Request Line"), ("3.1", "Method"), ("3.2", "Request Target"),
        ("3.2.1", "origin-form"), ("3.2.2", "absolute-form"), ("3.2.3", "authority-form"),
        ("3.2.4", "asterisk-form"), ("3.3", "Reconstructing the Target URI"),
        ("4", "Status Line"), ("5", "Field Syntax"), ("5.1", "Field Line Parsing"),
        ("5.2", "Obsolete Line Folding"), ("6", "Message Body"), ("6.1", "Transfer-Encoding"),
        ("6.2", "Content-Length"), ("6.3", "Message Body Length"),
        ("7.1", "Chunked Transfer Coding"), ("7.1.1", "Chunk Extensions"),
        ("7.1.2", "Chunked Trailer Section"), ("7.1.3", "Decoding Chunked"),
        ("7.2", "Transfer Codings for Compression"), ("7.4", "Negotiating Transfer Codings"),
        ("8", "Handling Incomplete Messages"), ("9.1", "Connection Establishment"),
        ("9.2", "Associating a Response to a Request"), ("9.3", "Persistence"),
        ("9.3.1", "Retrying Requests"), ("9.3.2", "Pipelining"), ("9.4", "Concurrency"),
        ("9.5", "Failures and Timeouts"), ("9.6", "Tear-down"),
        ("9.7", "TLS Connection Initiation"), ("9.8", "TLS Connection Closure"),
        ("11.1", "Response Splitting"), ("11.2", "Request Smuggling"),
    ),
    "RFC 9113": (
        ("3.1", "HTTP/2 Version Identification"), ("3.2", "Starting HTTP/2 for https URIs"),
        ("3.3", "Starting HTTP/2 with Prior Knowledge"), ("3.4", "HTTP/2 Connection Preface"),
        ("4.1", "Frame Format"), ("4.2", "Frame Size"),
        ("4.3", "Field Section Compression and Decompression"), ("4.3.1", "Compression State"),
        ("5.1", "Stream States"), ("5.1.1", "Stream Identifiers"),
        ("5.1.2", "Stream Concurrency"), ("5.2", "Flow Control"),
        ("5.2.1", "Flow-Control Principles"), ("5.2.2", "Appropriate Use of Flow Control"),
        ("5.3", "Prioritization"), ("5.3.1", "Background on Priority in RFC 7540"),
        ("5.3.2", "Priority Signaling in This Document"), ("5.4", "Error Handling"),
        ("5.4.1", "Connection Error Handling"), ("5.4.2", "Stream Error Handling"),
        ("5.4.3", "Connection Termination"), ("5.5", "Extending HTTP/2"),
        ("6.1", "DATA"), ("6.2", "HEADERS"), ("6.3", "PRIORITY"), ("6.4", "RST_STREAM"),
        ("6.5", "SETTINGS"), ("6.5.1", "SETTINGS Format"),
        ("6.5.2", "Defined Settings"), ("6.5.3", "Settings Synchronization"),
        ("6.6", "PUSH_PROMISE"), ("6.7", "PING"), ("6.8", "GOAWAY"), ("6.9", "WINDOW_UPDATE"),
        ("6.9.1", "The Flow-Control Window"), ("6.9.2", "Initial Flow-Control Window Size"),
        ("6.9.3", "Reducing the Stream Window Size"), ("6.10", "CONTINUATION"),
        ("7", "Error Codes"), ("8.1", "HTTP Message Framing"), ("8.1.1", "Malformed Messages"),
        ("8.2", "HTTP Fields"), ("8.2.1", "Field Validity"),
        ("8.2.2", "Connection-Specific Header Fields"),
        ("8.2.3", "Compressing the Cookie Header Field"), ("8.3", "HTTP Control Data"),
        ("8.3.1", "Request Pseudo-Header Fields"), ("8.3.2", "Response Pseudo-Header Fields"),
        ("8.4", "Server Push"), ("8.5", "The CONNECT Method"),
        ("8.6", "The Upgrade Header Field"), ("8.7", "Request Reliability"),
        ("9.1", "Connection Management"), ("9.1.1", "Connection Reuse"),
        ("9.2", "Use of TLS Features"), ("10.5", "Denial-of-Service Considerations"),
        ("10.5.1", "Limits on Field Block Size"),
    ),
    "RFC 7541": (
        ("2.3", "Indexing Tables"), ("2.3.3", "Index Address Space"),
        ("3.1", "Header Block Processing"), ("4.1", "Calculating Table Size"),
        ("4.2", "Maximum Table Size"), ("4.3", "Entry Eviction When Table Size Changes"),
        ("4.4", "Entry Eviction When Adding New Entries"), ("5.1", "Integer Representation"),
        ("5.2", "String Literal Representation"), ("6", "Binary Format"),
        ("6.1", "Indexed Header Field Representation"),
        ("6.2.1", "Literal Header Field with Incremental Indexing"),
        ("6.2.2", "Literal Header Field without Indexing"),
        ("6.2.3", "Literal Header Field Never Indexed"), ("6.3", "Dynamic Table Size Update"),
        ("7.1", "Probing Dynamic Table State"), ("7.3", "Memory Consumption"),
        ("7.4", "Implementation Limits"),
    ),
    "RFC 9218": (
        ("2.1", "Disabling RFC 7540 Stream Priorities"), ("4", "Priority Parameters"),
        ("4.1", "Urgency"), ("4.2", "Incremental"), ("5", "The Priority HTTP Header Field"),
        ("6", "Reprioritization"), ("7.1", "HTTP/2 PRIORITY_UPDATE Frame"),
        ("8", "Merging Client- and Server-Driven Priority Parameters"),
        ("10", "Server Scheduling"), ("11", "Scheduling and the CONNECT Method"),
        ("13", "Fairness"),
    ),
    "RFC 6455": (
        ("4.1", "Client Requirements"), ("4.2.1", "Reading the Client's Opening Handshake"),
        ("4.2.2", "Sending the Server's Opening Handshake"),
        ("4.4", "Supporting Multiple Versions"), ("5.1", "Framing Overview"),
        ("5.2", "Base Framing Protocol"), ("5.3", "Client-to-Server Masking"),
        ("5.4", "Fragmentation"), ("5.5", "Control Frames"), ("5.5.1", "Close"),
        ("5.5.2", "Ping"), ("5.5.3", "Pong"), ("5.6", "Data Frames"), ("5.8", "Extensibility"),
        ("6.1", "Sending Data"), ("6.2", "Receiving Data"), ("7.1", "Closing Definitions"),
        ("7.2", "Abnormal Closures"), ("7.3", "Normal Closure of Connections"),
        ("7.4", "Status Codes"), ("7.4.1", "Defined Status Codes"),
        ("7.4.2", "Reserved Status Code Ranges"),
        ("8.1", "Handling Errors in UTF-8-Encoded Data"), ("9.1", "Negotiating Extensions"),
        ("10.2", "Origin Considerations"), ("10.4", "Implementation-Specific Limits"),
        ("10.7", "Handling of Invalid Data"),
    ),
    "RFC 7692": (
        ("4", "Per-Message Compression Extension"), ("5", "Extension Negotiation"),
        ("6", "Framing"), ("6.1", "Compression"), ("6.2", "Decompression"),
        ("7", "The permessage-deflate Extension"), ("7.1", "Extension Parameters"),
        ("7.1.1", "Context Takeover Control"), ("7.1.2", "Limiting the LZ77 Window Size"),
        ("7.2", "Message Payload Transformation"), ("7.2.1", "Compression"),
        ("7.2.2", "Decompression"), ("7.3", "Implementation Notes"),
    ),
    "RFC 8441": (
        ("3", "The SETTINGS_ENABLE_CONNECT_PROTOCOL Parameter"),
        ("4", "The Extended CONNECT Method"),
        ("5", "Using Extended CONNECT to Bootstrap the WebSocket Protocol"),
        ("6", "Design Considerations"),
    ),
}


def section_key(section: str) -> tuple[int, ...]:
    """Sort ``6.10`` after ``6.9``: numeric, part by part; non-numeric parts sort last."""
    parts: list[int] = []
    for part in section.split("."):
        parts.append(int(part) if part.isdigit() else 10_000)
    return tuple(parts)


def covers(catalogued: str, cited: str) -> bool:
    """Evidence citing ``6.9.1`` also counts for ``6.9`` (rolled up), not the reverse."""
    return cited == catalogued or cited.startswith(catalogued + ".")
