"""RFC 9113 §4: frame format (§4.1), frame size (§4.2), field section compression (§4.3)."""

from __future__ import annotations

from conformance.probes.http2._wire import (
    COMPRESSION_ERROR,
    CONTINUATION,
    DATA,
    END_HEADERS,
    FRAME_SIZE_ERROR,
    HEADERS,
    MAX_FRAME_SIZE,
    PING,
    PING_PAYLOAD,
    PROTOCOL_ERROR,
    SETTINGS,
    NotApplicable,
    frame,
    h2_probe,
    opened,
    priority,
    started,
)
from conformance.probes.model import Level, Verdict
from conformance.probes.target import ProbeContext


@h2_probe("rfc9113/4.1/1", level=Level.MUST,
          requirement="Implementations MUST ignore and discard frames of unknown types.",
          conforming="the PING sent after a frame of type 0x16 is answered; no error",
          h2spec=("http2/4.1/1",))
def unknown_frame_type_ignored(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send(frame(0x16, 0, 0, b"\0" * 8))
    return h2.expect_alive()


@h2_probe("rfc9113/4.1/2", level=Level.MUST,
          requirement="Flags that have no defined semantics for a frame type MUST be ignored on "
                      "receipt.",
          conforming="a PING with undefined flags (0x16, ACK clear) gets a PING ACK",
          h2spec=("http2/4.1/2",))
def undefined_flags_ignored(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send(frame(PING, 0x16, 0, PING_PAYLOAD))
    got = h2.wait_for(lambda g: g.type == PING or g.type == 7)
    if got is not None and got.type == PING and got.flags & 1 and got.payload == PING_PAYLOAD:
        return Verdict.passed("PING ACK")
    return Verdict.failed("no PING ACK for a PING with undefined flags", h2.seen())


@h2_probe("rfc9113/4.1/3", level=Level.MUST,
          requirement="The reserved bit of the stream identifier MUST be ignored when receiving.",
          conforming="a GET whose HEADERS frame has the reserved bit set is answered",
          h2spec=("http2/4.1/3",))
def reserved_bit_ignored(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    raw = h2.headers_frame(1, h2.block(h2.request_headers()))
    h2.send(raw[:5] + bytes([raw[5] | 0x80]) + raw[6:], "HEADERS stream=1 with the R bit set")
    return h2.expect_response(1)


@h2_probe("rfc9113/4.1/4", level=Level.MUST,
          requirement="The reserved bit of the stream identifier MUST remain unset (0x0) when "
                      "sending.",
          conforming="every frame of the server's preface and of a response has the bit clear")
def reserved_bit_unset_in_output(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(1)
    h2.wait_response(1)
    bad = [g.describe() for g in h2.frames if g.reserved]
    if bad:
        return Verdict.failed(f"{len(bad)} frame(s) with the reserved bit set", bad)
    if not h2.response(1).ended:
        return Verdict.undecided("no complete response to inspect", h2.seen())
    return Verdict.passed(f"{len(h2.frames)} frames, reserved bit clear")


@h2_probe("rfc9113/4.2/1", level=Level.MUST,
          requirement="All implementations MUST be capable of receiving and minimally "
                      "processing frames up to 2^14 octets in length.",
          conforming="a POST with one DATA frame of 16384 octets is answered with success",
          h2spec=("http2/4.2/1",))
def data_frame_of_2_14_accepted(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(1, "POST", end_stream=False, extra=[("content-length", "16384")])
    h2.send(frame(DATA, 1, 1, b"x" * 16384))
    return h2.expect_response(1)


def _oversize(h2) -> int:
    """One octet over the server's SETTINGS_MAX_FRAME_SIZE; a server that advertises the
    largest value (2^24-1) cannot be sent a larger frame: the length field has 24 bits."""
    limit = h2.server_settings.get(MAX_FRAME_SIZE, 16384)
    if limit >= (1 << 24) - 1:
        raise NotApplicable("SETTINGS_MAX_FRAME_SIZE is 2^24-1, the largest length a frame "
                            "header can express")
    return limit + 1


@h2_probe("rfc9113/4.2/2", level=Level.MUST,
          requirement="An endpoint MUST send an error code of FRAME_SIZE_ERROR if a frame "
                      "exceeds the size defined in SETTINGS_MAX_FRAME_SIZE (here a DATA frame).",
          conforming="RST_STREAM FRAME_SIZE_ERROR, or GOAWAY FRAME_SIZE_ERROR, or the "
                     "connection closed",
          h2spec=("http2/4.2/2",))
def oversized_data_frame(ctx: ProbeContext) -> Verdict:
    h2 = opened(ctx)
    h2.send(frame(DATA, 1, 1, b"x" * _oversize(h2)))
    return h2.expect_stream_error(1, FRAME_SIZE_ERROR)


@h2_probe("rfc9113/4.2/3", level=Level.MUST,
          requirement="A frame size error in a frame that could alter the state of the entire "
                      "connection — any frame carrying a field block (HEADERS) — MUST be "
                      "treated as a connection error.",
          conforming="GOAWAY FRAME_SIZE_ERROR, or the connection closed",
          h2spec=("http2/4.2/3",))
def oversized_headers_frame(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    n = _oversize(h2)
    block = h2.block(h2.request_headers())
    h2.send(frame(HEADERS, 0x1 | END_HEADERS, 1, block + _junk_literals(n - len(block))),
            f"HEADERS stream=1 of {n} octets (one over SETTINGS_MAX_FRAME_SIZE)")
    return h2.expect_connection_error(FRAME_SIZE_ERROR)


def _junk_literals(size: int) -> bytes:
    """Literal fields without indexing (x-pad: aaaa…) filling exactly *size* octets."""
    parts: list[bytes] = []
    left = size
    while left > 0:
        value = min(max(left - 10, 1), 4000)
        field = b"\x00\x05x-pad" + _hpack_len(value) + b"a" * value
        if len(field) > left:
            # close the gap with one-octet indexed fields (index 2, ":method: GET"): a second
            # :method makes the request malformed, but the frame size error comes first.
            parts.append(b"\x82" * left)
            break
        parts.append(field)
        left -= len(field)
    return b"".join(parts)


def _hpack_len(n: int) -> bytes:
    if n < 127:
        return bytes([n])
    n -= 127
    out = bytearray([127])
    while n >= 128:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


@h2_probe("rfc9113/4.2/4", level=Level.MUST,
          requirement="A frame size error in a SETTINGS frame (or any frame on stream 0) MUST "
                      "be treated as a connection error.",
          conforming="GOAWAY FRAME_SIZE_ERROR, or the connection closed")
def oversized_settings_frame(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    n = _oversize(h2)
    n += (-n) % 6
    # unknown identifiers (0xf000+) are ignored; only the length is wrong
    payload = b"".join((0xF000 + i % 0x0FFF).to_bytes(2, "big") + b"\0\0\0\0"
                       for i in range(n // 6))
    h2.send(frame(SETTINGS, 0, 0, payload))
    return h2.expect_connection_error(FRAME_SIZE_ERROR)


@h2_probe("rfc9113/4.3/1", level=Level.MUST,
          requirement="A decoding error in a field block MUST be treated as a connection error "
                      "of type COMPRESSION_ERROR.",
          conforming="GOAWAY COMPRESSION_ERROR, or the connection closed",
          h2spec=("http2/4.3/1",))
def undecodable_field_block(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    block = h2.block(h2.request_headers())
    # a literal field whose name claims 16 octets while the block ends after 3
    h2.send(frame(HEADERS, 0x1 | END_HEADERS, 1, block + b"\x00\x10abc"))
    return h2.expect_connection_error(COMPRESSION_ERROR)


@h2_probe("rfc9113/4.3/2", level=Level.MUST,
          requirement="A field block MUST be transmitted as a contiguous sequence of frames, "
                      "with no interleaved frames of any other type or from any other stream; "
                      "a PRIORITY frame inside it is a connection error of type PROTOCOL_ERROR.",
          conforming="GOAWAY PROTOCOL_ERROR, or the connection closed",
          h2spec=("http2/4.3/2", "http2/6.2/1"))
def priority_inside_field_block(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    block = h2.block(h2.request_headers())
    h2.send_frames(h2.headers_frame(1, block[:2], end_headers=False), priority(1, 0, 255),
                   frame(CONTINUATION, END_HEADERS, 1, block[2:]))
    return h2.expect_connection_error(PROTOCOL_ERROR, ping=False)


@h2_probe("rfc9113/4.3/3", level=Level.MUST,
          requirement="A field block MUST be transmitted as a contiguous sequence of frames; "
                      "a HEADERS frame for another stream inside it is a connection error of "
                      "type PROTOCOL_ERROR.",
          conforming="GOAWAY PROTOCOL_ERROR, or the connection closed",
          h2spec=("http2/4.3/3", "http2/6.2/2"))
def other_stream_inside_field_block(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    b1 = h2.block(h2.request_headers())
    b3 = h2.block(h2.request_headers())
    h2.send_frames(h2.headers_frame(1, b1, end_headers=False), h2.headers_frame(3, b3))
    return h2.expect_connection_error(PROTOCOL_ERROR, ping=False)


@h2_probe("rfc9113/4.3/4", level=Level.MUST,
          requirement="A field block MUST be contiguous: a DATA frame inside it is a "
                      "connection error of type PROTOCOL_ERROR.",
          conforming="GOAWAY PROTOCOL_ERROR, or the connection closed")
def data_inside_field_block(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    block = h2.block(h2.request_headers("POST"))
    h2.send_frames(h2.headers_frame(1, block, end_headers=False, end_stream=False),
                   frame(DATA, 1, 1, b"x"))
    return h2.expect_connection_error(PROTOCOL_ERROR, ping=False)


@h2_probe("rfc9113/4.3/5", level=Level.MUST,
          requirement="The compression context is shared by the whole connection: a field "
                      "block that references dynamic-table entries added by an earlier "
                      "stream's block is decoded with them.",
          conforming="both requests answered; the second uses only indexed fields from the "
                     "dynamic table")
def dynamic_table_spans_streams(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    headers = h2.request_headers(extra=[("x-probe", "shared-context")])
    h2.send_request(1, headers=headers)
    first = h2.wait_response(1)
    if first.status is None:
        return h2._no_response(1)
    h2.send_request(3, headers=headers)  # the encoder now emits dynamic-table indices
    return h2.expect_response(3)
