"""RFC 7541 §2.3, §4, §5, §6: index ranges, table size updates, integers and Huffman strings."""

from __future__ import annotations

from conformance.probes.http2._wire import (
    COMPRESSION_ERROR,
    END_HEADERS,
    END_STREAM,
    H2,
    HEADER_TABLE_SIZE,
    HEADERS,
    frame,
    h2_probe,
    started,
)
from conformance.probes.model import Level, Verdict
from conformance.probes.target import ProbeContext


def integer(value: int, prefix_bits: int, first: int = 0) -> bytes:
    """RFC 7541 §5.1 integer with an N-bit prefix; *first* holds the pattern bits."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = bytearray([first | limit])
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def string(text: bytes, huffman: bool = False) -> bytes:
    if huffman:
        from hpack.huffman import HuffmanEncoder
        from hpack.huffman_constants import REQUEST_CODES, REQUEST_CODES_LENGTH
        encoded = HuffmanEncoder(REQUEST_CODES, REQUEST_CODES_LENGTH).encode(text)
        return integer(len(encoded), 7, 0x80) + encoded
    return integer(len(text), 7) + text


def request_fields(h2: H2) -> bytes:
    """The request's pseudo-header fields from the static table only (no dynamic entries)."""
    out = bytes([0x82, 0x87 if h2.ctx.tls else 0x86])  # :method GET, :scheme
    out += b"\x84" if h2.path == "/" else b"\x04" + string(h2.path.encode())
    return out + b"\x01" + string(h2.authority.encode())  # :authority, without indexing


def _send(h2: H2, block: bytes, note: str) -> None:
    h2.send(frame(HEADERS, END_STREAM | END_HEADERS, 1, block), f"HEADERS stream=1: {note}")


def _decoding_error(pid: str, requirement: str, build, note: str, *, h2spec=(),
                    anchor: str = "", pairs=()) -> None:
    @h2_probe(pid, level=Level.MUST, requirement=requirement,
              conforming="GOAWAY COMPRESSION_ERROR, or the connection closed",
              h2spec=tuple(h2spec), anchor=anchor)
    def run(ctx: ProbeContext) -> Verdict:
        h2 = started(ctx, pairs)
        _send(h2, build(h2), note)
        return h2.expect_connection_error(COMPRESSION_ERROR)


def _decoded(pid: str, requirement: str, build, note: str, *, h2spec=(), anchor: str = "") -> None:
    @h2_probe(pid, level=Level.MUST, requirement=requirement,
              conforming="the request is decoded and answered with success",
              h2spec=tuple(h2spec), anchor=anchor)
    def run(ctx: ProbeContext) -> Verdict:
        h2 = started(ctx)
        _send(h2, build(h2), note)
        return h2.expect_response(1)


# -- index ranges (§2.3.3, §6.1) -------------------------------------------------------------
_decoding_error(
    "rfc7541/2.3.3/1", "Indices strictly greater than the sum of the lengths of both tables "
    "MUST be treated as a decoding error (indexed field, index 70, empty dynamic table).",
    lambda h2: request_fields(h2) + integer(70, 7, 0x80), "indexed field 70",
    h2spec=("hpack/2.3.3/1",), anchor="section-2.3.3")
_decoding_error(
    "rfc7541/2.3.3/2", "Indices strictly greater than the sum of the lengths of both tables "
    "MUST be treated as a decoding error (literal field with indexed name 70).",
    lambda h2: request_fields(h2) + integer(70, 6, 0x40) + string(b"x"),
    "literal with name index 70", h2spec=("hpack/2.3.3/2",), anchor="section-2.3.3")
_decoding_error(
    "rfc7541/2.3.3/3", "Index 62 with an empty dynamic table is one past both tables: a "
    "decoding error.", lambda h2: request_fields(h2) + integer(62, 7, 0x80),
    "indexed field 62 (empty dynamic table)", anchor="section-2.3.3")
_decoding_error(
    "rfc7541/2.3.3/4", "An index past both tables in a literal without indexing (4-bit prefix) "
    "is a decoding error.", lambda h2: request_fields(h2) + integer(100, 4, 0x00) + string(b"x"),
    "literal without indexing, name index 100", anchor="section-2.3.3")
_decoding_error(
    "rfc7541/6.1/1", "The index value of 0 is not used. It MUST be treated as a decoding error "
    "if found in an indexed header field representation.",
    lambda h2: request_fields(h2) + b"\x80", "indexed field 0", h2spec=("hpack/6.1/1",),
    anchor="section-6.1")
_decoded(
    "rfc7541/2.3.3/5", "Index 61, the last static-table entry, is valid (here "
    "www-authenticate, an odd but harmless request field).",
    lambda h2: request_fields(h2) + integer(61, 4, 0x00) + string(b"x"),
    "literal with name index 61", anchor="section-2.3.3")
_decoded(
    "rfc7541/2.3.3/6", "Index 62 refers to the newest dynamic-table entry, usable in the same "
    "field block that added it.",
    lambda h2: request_fields(h2) + b"\x40" + string(b"x-probe") + string(b"1") + b"\xbe",
    "literal with indexing x-probe, then indexed 62", anchor="section-2.3.3")

# -- dynamic table size updates (§4.2, §6.3) ------------------------------------------------
_decoding_error(
    "rfc7541/4.2/1", "A dynamic table size update MUST occur at the beginning of the first "
    "field block following the change; one at the end of a block is a decoding error.",
    lambda h2: request_fields(h2) + integer(0, 5, 0x20), "size update at the end",
    h2spec=("hpack/4.2/1",), anchor="section-4.2")
_decoding_error(
    "rfc7541/4.2/2", "A dynamic table size update MUST occur at the beginning of a field "
    "block; one after the first field is a decoding error.",
    lambda h2: request_fields(h2)[:1] + integer(0, 5, 0x20) + request_fields(h2)[1:],
    "size update after the first field", anchor="section-4.2")
_decoded(
    "rfc7541/4.2/3", "A dynamic table size update at the beginning of a field block (here to "
    "0) is valid.", lambda h2: integer(0, 5, 0x20) + request_fields(h2),
    "size update 0 then the fields", h2spec=("generic/5/14",), anchor="section-4.2")
_decoded(
    "rfc7541/4.2/4", "Several dynamic table size updates may open a field block (the smallest "
    "then the final size).",
    lambda h2: integer(0, 5, 0x20) + integer(4096, 5, 0x20) + request_fields(h2),
    "size updates 0 and 4096 then the fields", h2spec=("generic/5/15",), anchor="section-4.2")


@h2_probe("rfc7541/6.3/1", level=Level.MUST,
          requirement="The new maximum size in a dynamic table size update MUST be lower than "
                      "or equal to the limit (SETTINGS_HEADER_TABLE_SIZE); a value that "
                      "exceeds it MUST be treated as a decoding error.",
          conforming="GOAWAY COMPRESSION_ERROR, or the connection closed",
          h2spec=("hpack/6.3/1",), anchor="section-6.3")
def size_update_over_limit(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    limit = h2.server_settings.get(HEADER_TABLE_SIZE, 4096)
    _send(h2, integer(limit + 1, 5, 0x20) + request_fields(h2), f"size update to {limit + 1}")
    return h2.expect_connection_error(COMPRESSION_ERROR)


@h2_probe("rfc7541/6.3/2", level=Level.MUST,
          requirement="A dynamic table size update equal to the limit "
                      "(SETTINGS_HEADER_TABLE_SIZE) is valid.",
          conforming="the request is answered with success", anchor="section-6.3")
def size_update_at_limit(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    limit = h2.server_settings.get(HEADER_TABLE_SIZE, 4096)
    _send(h2, integer(limit, 5, 0x20) + request_fields(h2), f"size update to {limit}")
    return h2.expect_response(1)


_decoding_error(
    "rfc7541/4.4/1", "Adding an entry larger than the maximum table size empties the table; "
    "a later reference to the evicted entry (index 62) is past both tables: a decoding error.",
    lambda h2: integer(50, 5, 0x20) + request_fields(h2) + b"\x40" + string(b"x-a")
    + string(b"1") + b"\x40" + string(b"x-b") + string(b"b" * 40) + b"\xbe",
    "size 50; add x-a (36); add x-b (75, too big: table emptied); indexed 62",
    anchor="section-4.4")

# -- integers and strings (§5.1, §5.2) ----------------------------------------------------
_decoding_error(
    "rfc7541/5.1/1", "Integer encodings that exceed implementation limits, in value or octet "
    "length, MUST be treated as decoding errors (an index of 2^70).",
    lambda h2: request_fields(h2) + b"\xff" + b"\xff" * 10 + b"\x01",
    "indexed field with a 12-octet integer", anchor="section-5.1")
_decoding_error(
    "rfc7541/5.1/2", "Integer encodings that exceed implementation limits MUST be treated as "
    "decoding errors (a string length of 2^63).",
    lambda h2: request_fields(h2) + b"\x00" + b"\x7f" + b"\xff" * 9 + b"\x01" + b"x",
    "literal with a name length of 2^63", anchor="section-5.1")
_decoding_error(
    "rfc7541/5.2/1", "A padding strictly longer than 7 bits MUST be treated as a decoding "
    "error (a Huffman string with a whole octet of EOS-prefix padding).",
    lambda h2: request_fields(h2) + b"\x00\x85\xf2\xb4\xa7\x3f\xff" + string(b"x"),
    "Huffman name 'x-foo' followed by 0xff padding", h2spec=("hpack/5.2/1",),
    anchor="section-5.2")
_decoding_error(
    "rfc7541/5.2/2", "A padding not corresponding to the most significant bits of the code for "
    "the EOS symbol MUST be treated as a decoding error (padded with zero bits).",
    lambda h2: request_fields(h2) + b"\x00\x81\x00" + string(b"x"),
    "Huffman name padded with zeros", h2spec=("hpack/5.2/2",), anchor="section-5.2")
_decoding_error(
    "rfc7541/5.2/3", "A Huffman-encoded string literal containing the EOS symbol MUST be "
    "treated as a decoding error.",
    lambda h2: request_fields(h2) + b"\x00\x84\xff\xff\xff\xff" + string(b"x"),
    "Huffman name containing EOS (30 one-bits)", h2spec=("hpack/5.2/3",), anchor="section-5.2")
_decoding_error(
    "rfc7541/5.2/4", "A string literal whose length runs past the end of the field block is "
    "a decoding error (truncated representation).",
    lambda h2: request_fields(h2) + b"\x00\x0ax-pr", "name length 10, 4 octets left",
    anchor="section-5.2")

# -- the representations a decoder must accept (§6.1, §6.2) --------------------------------
_CASES = [
    # id, description, representation bytes (after the pseudo-header fields), h2spec case
    ("rfc7541/6.1/2", "an indexed header field (static index 16, accept-encoding: gzip, "
     "deflate)", b"\x90", "generic/5/1", "section-6.1"),
    ("rfc7541/6.2.1/1", "a literal field with incremental indexing, indexed name",
     b"\x50" + string(b"gzip"), "generic/5/2", "section-6.2.1"),
    ("rfc7541/6.2.1/2", "a literal field with incremental indexing, indexed name, Huffman value",
     b"\x50" + string(b"gzip", True), "generic/5/3", "section-6.2.1"),
    ("rfc7541/6.2.1/3", "a literal field with incremental indexing, new name",
     b"\x40" + string(b"x-probe") + string(b"value"), "generic/5/4", "section-6.2.1"),
    ("rfc7541/6.2.1/4", "a literal field with incremental indexing, new name, Huffman",
     b"\x40" + string(b"x-probe", True) + string(b"value", True), "generic/5/5", "section-6.2.1"),
    ("rfc7541/6.2.2/1", "a literal field without indexing, indexed name",
     b"\x0f\x01" + string(b"gzip"), "generic/5/6", "section-6.2.2"),
    ("rfc7541/6.2.2/2", "a literal field without indexing, indexed name, Huffman value",
     b"\x0f\x01" + string(b"gzip", True), "generic/5/7", "section-6.2.2"),
    ("rfc7541/6.2.2/3", "a literal field without indexing, new name",
     b"\x00" + string(b"x-probe") + string(b"value"), "generic/5/8", "section-6.2.2"),
    ("rfc7541/6.2.2/4", "a literal field without indexing, new name, Huffman",
     b"\x00" + string(b"x-probe", True) + string(b"value", True), "generic/5/9", "section-6.2.2"),
    ("rfc7541/6.2.3/1", "a literal field never indexed, indexed name",
     b"\x1f\x01" + string(b"gzip"), "generic/5/10", "section-6.2.3"),
    ("rfc7541/6.2.3/2", "a literal field never indexed, indexed name, Huffman value",
     b"\x1f\x01" + string(b"gzip", True), "generic/5/11", "section-6.2.3"),
    ("rfc7541/6.2.3/3", "a literal field never indexed, new name",
     b"\x10" + string(b"x-probe") + string(b"value"), "generic/5/12", "section-6.2.3"),
    ("rfc7541/6.2.3/4", "a literal field never indexed, new name, Huffman",
     b"\x10" + string(b"x-probe", True) + string(b"value", True), "generic/5/13", "section-6.2.3"),
]
for _pid, _what, _rep, _case, _anchor in _CASES:
    _decoded(_pid, f"A decoder MUST accept {_what}.",
             (lambda rep: lambda h2: request_fields(h2) + rep)(_rep), _what, h2spec=(_case,),
             anchor=_anchor)


@h2_probe("rfc7541/4.2/5", level=Level.MUST,
          requirement="A change in the maximum size of the dynamic table is signaled via a "
                      "dynamic table size update, which MUST occur at the beginning of the "
                      "first field block following the change: after the client sets "
                      "SETTINGS_HEADER_TABLE_SIZE to 0 (below the initial 4,096), the server's "
                      "first response block starts with a size update to 0.",
          conforming="the first response field block begins with a dynamic table size update "
                     "≤ 0 (octet 0x20)", anchor="section-4.2")
def encoder_signals_table_size(ctx: ProbeContext) -> Verdict:
    h2 = H2(ctx)
    h2.decoder.max_allowed_table_size = 0
    h2.start([(HEADER_TABLE_SIZE, 0)])
    h2.send_request(1)
    resp = h2.wait_response(1)
    if not resp.raw_blocks:
        return h2._no_response(1)
    first = resp.raw_blocks[0]
    if first[:1] == b"\x20":
        return Verdict.passed("response block starts with a size update to 0")
    if h2.decode_problem:
        return Verdict.failed(h2.decode_problem, h2.seen())
    return Verdict.failed(f"first response block starts with {first[:4].hex()} (no size update "
                          "to 0)", h2.seen())
