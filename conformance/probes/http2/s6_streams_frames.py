"""RFC 9113 §6.1–§6.4 and §6.6: DATA, HEADERS, PRIORITY, RST_STREAM, PUSH_PROMISE."""

from __future__ import annotations

import struct

from conformance.probes.http2._wire import (
    DATA,
    END_HEADERS,
    FRAME_SIZE_ERROR,
    HEADERS,
    PADDED,
    PING,
    PRIORITY,
    PROTOCOL_ERROR,
    PUSH_PROMISE,
    RST_STREAM,
    data,
    frame,
    h2_probe,
    ping,
    priority,
    priority_fields,
    rst_stream,
    started,
)
from conformance.probes.model import Level, Verdict
from conformance.probes.target import ProbeContext


def _connection_error(pid: str, requirement: str, build, code: int, *, h2spec=(), setup=None,
                      ping: bool = True, also=(), anchor: str = "") -> None:
    from conformance.probes.http2._wire import code_name
    names = " or ".join(code_name(c) for c in (code, *also))

    @h2_probe(pid, level=Level.MUST, requirement=requirement,
              conforming=f"GOAWAY {names}, or the connection closed", h2spec=tuple(h2spec),
              anchor=anchor)
    def run(ctx: ProbeContext) -> Verdict:
        h2 = started(ctx)
        if setup is not None:
            setup(h2)
        h2.send(build(h2))
        return h2.expect_connection_error(code, ping=ping, also=also)


def _stream_error(pid: str, requirement: str, build, code: int, *, h2spec=(), setup=None,
                  stream: int = 1, anchor: str = "") -> None:
    from conformance.probes.http2._wire import code_name

    @h2_probe(pid, level=Level.MUST, requirement=requirement,
              conforming=f"RST_STREAM {code_name(code)}, or GOAWAY {code_name(code)}, or the "
                         "connection closed", h2spec=tuple(h2spec), anchor=anchor)
    def run(ctx: ProbeContext) -> Verdict:
        h2 = started(ctx)
        if setup is not None:
            setup(h2)
        h2.send(build(h2))
        return h2.expect_stream_error(stream, code)


def _accepted(pid: str, requirement: str, build, *, h2spec=(), anchor: str = "",
              level: Level = Level.MUST) -> None:
    @h2_probe(pid, level=level, requirement=requirement,
              conforming="the request is answered with success", h2spec=tuple(h2spec),
              anchor=anchor)
    def run(ctx: ProbeContext) -> Verdict:
        h2 = started(ctx)
        h2.send(build(h2))
        return h2.expect_response(1)


def _post_open(h2) -> None:
    h2.send_request(1, "POST", end_stream=False)


def _post(h2, *body_frames: bytes) -> bytes:
    return h2.headers_frame(1, h2.block(h2.request_headers("POST")), end_stream=False) + \
        b"".join(body_frames)


# -- DATA (§6.1) ---------------------------------------------------------------------------
_connection_error(
    "rfc9113/6.1/1", "DATA frames MUST be associated with a stream; a DATA frame with stream "
    "identifier 0x0 is a connection error of type PROTOCOL_ERROR.",
    lambda h2: frame(DATA, 1, 0, b"test"), PROTOCOL_ERROR, h2spec=("http2/6.1/1",))
_connection_error(
    "rfc9113/6.1/2", "If the length of the padding is the length of the frame payload or "
    "greater, the recipient MUST treat this as a connection error of type PROTOCOL_ERROR.",
    lambda h2: frame(DATA, PADDED | 1, 1, b"\x06test"), PROTOCOL_ERROR, setup=_post_open,
    h2spec=("http2/6.1/3",))
_connection_error(
    "rfc9113/6.1/3", "A padded DATA frame too short to hold its Pad Length field is malformed: "
    "a connection error (PROTOCOL_ERROR, or FRAME_SIZE_ERROR for a frame too small for its "
    "mandatory fields, §4.2).",
    lambda h2: frame(DATA, PADDED | 1, 1, b""), PROTOCOL_ERROR, setup=_post_open,
    also=(FRAME_SIZE_ERROR,))
_accepted("rfc9113/6.1/4", "A DATA frame with the PADDED flag and padding is accepted: the "
          "padding is removed and the data delivered.",
          lambda h2: _post(h2, data(1, b"test", end_stream=True, pad=8)),
          h2spec=("generic/3.1/3",))
_accepted("rfc9113/6.1/5", "A padded DATA frame whose padding fills the payload (no data) is "
          "valid: Pad Length equal to the payload length minus one.",
          lambda h2: _post(h2, data(1, b"", pad=10), data(1, b"test", end_stream=True)))
_accepted("rfc9113/6.1/6", "A request body may arrive in several DATA frames; the last one "
          "carries END_STREAM.",
          lambda h2: _post(h2, data(1, b"te"), data(1, b"s"), data(1, b"t", end_stream=True)),
          h2spec=("generic/3.1/2",))
_accepted("rfc9113/6.1/7", "A DATA frame carrying the whole request body with END_STREAM is "
          "accepted.", lambda h2: _post(h2, data(1, b"test", end_stream=True)),
          h2spec=("generic/3.1/1",))
_accepted("rfc9113/6.1/8", "An empty DATA frame with END_STREAM ends a request body.",
          lambda h2: _post(h2, data(1, b"", end_stream=True)))

# -- HEADERS (§6.2) ------------------------------------------------------------------------
_connection_error(
    "rfc9113/6.2/1", "HEADERS frames MUST be associated with a stream; a HEADERS frame with "
    "stream identifier 0x0 is a connection error of type PROTOCOL_ERROR.",
    lambda h2: h2.headers_frame(0, h2.block(h2.request_headers())), PROTOCOL_ERROR,
    h2spec=("http2/6.2/3",))
_stream_error(
    "rfc9113/6.2/2", "Padding that exceeds the size remaining for the field block fragment "
    "MUST be treated as a PROTOCOL_ERROR (the sentence names no scope: a stream or a "
    "connection error of that type; h2spec asks for a connection error).",
    lambda h2: frame(HEADERS, PADDED | END_HEADERS | 1, 1,
                     bytes([200]) + h2.block(h2.request_headers())), PROTOCOL_ERROR,
    h2spec=("http2/6.2/4",))
_accepted("rfc9113/6.2/3", "A HEADERS frame with the PADDED flag and padding is accepted.",
          lambda h2: h2.headers_frame(1, h2.block(h2.request_headers()), pad=16),
          h2spec=("generic/3.2/2",))
_accepted("rfc9113/6.2/4", "A HEADERS frame with the PRIORITY flag (dependency and weight "
          "fields) is parsed and accepted, although RFC 9113 deprecated their meaning.",
          lambda h2: h2.headers_frame(1, h2.block(h2.request_headers()),
                                      prio=priority_fields(0, 255)),
          h2spec=("generic/3.2/3",))
_accepted("rfc9113/6.2/5", "A HEADERS frame with both PADDED and PRIORITY flags is parsed: pad "
          "length, then the priority fields, then the field block, then padding.",
          lambda h2: h2.headers_frame(1, h2.block(h2.request_headers()),
                                      prio=priority_fields(0, 100, True), pad=5))
_accepted("rfc9113/6.2/6", "A HEADERS frame without END_STREAM followed by DATA with "
          "END_STREAM forms a request.", lambda h2: _post(h2, data(1, b"x", end_stream=True)),
          h2spec=("generic/3.2/1",))

# -- PRIORITY (§6.3) -----------------------------------------------------------------------
_connection_error(
    "rfc9113/6.3/1", "If a PRIORITY frame is received with a stream identifier of 0x0, the "
    "recipient MUST respond with a connection error of type PROTOCOL_ERROR.",
    lambda h2: priority(0, 1, 15), PROTOCOL_ERROR, h2spec=("http2/6.3/1",))
_stream_error(
    "rfc9113/6.3/2", "A PRIORITY frame with a length other than 5 octets (here 4) MUST be "
    "treated as a stream error of type FRAME_SIZE_ERROR.",
    lambda h2: frame(PRIORITY, 0, 1, b"\0\0\0\x03"), FRAME_SIZE_ERROR, setup=_post_open,
    h2spec=("http2/6.3/2",))
_stream_error(
    "rfc9113/6.3/3", "A PRIORITY frame with a length other than 5 octets (here 6, on an idle "
    "stream) MUST be treated as a stream error of type FRAME_SIZE_ERROR.",
    lambda h2: frame(PRIORITY, 0, 3, b"\0\0\0\x01\x0f\0"), FRAME_SIZE_ERROR, stream=3)


def _priority_accepted(pid: str, what: str, prio: bytes, h2spec: tuple[str, ...]) -> None:
    _accepted(pid, f"A PRIORITY frame ({what}) is still parsed and accepted although its "
              "meaning is deprecated; the stream it names is then usable.",
              lambda h2: frame(PRIORITY, 0, 1, prio)
              + h2.headers_frame(1, h2.block(h2.request_headers())), h2spec=h2spec)


_priority_accepted("rfc9113/6.3/4", "weight 1", priority_fields(0, 0), ("generic/3.3/1",))
_priority_accepted("rfc9113/6.3/5", "weight 256", priority_fields(0, 255), ("generic/3.3/2",))
_priority_accepted("rfc9113/6.3/6", "depending on stream 3", priority_fields(3, 15),
                   ("generic/3.3/3",))
_priority_accepted("rfc9113/6.3/7", "exclusive", priority_fields(3, 15, True), ("generic/3.3/4",))

# -- RST_STREAM (§6.4) ---------------------------------------------------------------------
_connection_error(
    "rfc9113/6.4/1", "If a RST_STREAM frame is received with a stream identifier of 0x0, the "
    "recipient MUST treat this as a connection error of type PROTOCOL_ERROR.",
    lambda h2: rst_stream(0), PROTOCOL_ERROR, h2spec=("http2/6.4/1",))
_connection_error(
    "rfc9113/6.4/2", "A RST_STREAM frame with a length other than 4 octets (here 3) MUST be "
    "treated as a connection error of type FRAME_SIZE_ERROR.",
    lambda h2: frame(RST_STREAM, 0, 1, b"\0\0\x08"), FRAME_SIZE_ERROR, setup=_post_open,
    h2spec=("http2/6.4/3",))
_connection_error(
    "rfc9113/6.4/3", "A RST_STREAM frame with a length other than 4 octets (here 5) MUST be "
    "treated as a connection error of type FRAME_SIZE_ERROR.",
    lambda h2: frame(RST_STREAM, 0, 1, b"\0\0\0\x08\0"), FRAME_SIZE_ERROR, setup=_post_open)


@h2_probe("rfc9113/6.4/4", level=Level.MUST_NOT,
          requirement="After receiving a RST_STREAM on a stream, the receiver MUST NOT send "
                      "additional frames for that stream, except for PRIORITY.",
          conforming="no frame other than PRIORITY on the stream after the client's "
                     "RST_STREAM; the connection stays usable")
def nothing_after_rst(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(1, "POST", end_stream=False)
    h2.send(rst_stream(1) + ping(b"afterrst"))
    # Frames on stream 1 that the server sent before reading our RST_STREAM were in flight;
    # only those after the PING ACK (sent after the RST_STREAM) count.
    ack = h2.wait_for(lambda g: g.type == PING and bool(g.flags & 1) and g.payload == b"afterrst")
    if ack is None:
        return Verdict.undecided("the PING sent after RST_STREAM was not answered", h2.seen())
    mark = len(h2.frames)
    h2.send_request(3)
    h2.wait_response(3)
    h2.drain(min(1.0, ctx.timeout / 3))
    after = [g for g in h2.frames[mark:] if g.stream == 1 and g.type != PRIORITY]
    if after:
        return Verdict.failed(f"{len(after)} frame(s) on stream 1 after RST_STREAM",
                              [g.describe() for g in after] + h2.seen()[-10:])
    if h2.response(3).status is None:
        return Verdict.undecided("the control request on stream 3 got no answer", h2.seen())
    return Verdict.passed("nothing more on stream 1")


# -- PUSH_PROMISE (§6.6, §8.4) --------------------------------------------------------------
_connection_error(
    "rfc9113/8.4/1", "A client cannot push. Thus, servers MUST treat the receipt of a "
    "PUSH_PROMISE frame as a connection error of type PROTOCOL_ERROR.",
    lambda h2: frame(PUSH_PROMISE, END_HEADERS, 1,
                     struct.pack(">I", 2) + h2.block(h2.request_headers())),
    PROTOCOL_ERROR, setup=_post_open, h2spec=("http2/8.2/1",), anchor="section-8.4")
_connection_error(
    "rfc9113/6.6/1", "A PUSH_PROMISE frame with stream identifier 0x0 MUST be answered with a "
    "connection error of type PROTOCOL_ERROR.",
    lambda h2: frame(PUSH_PROMISE, END_HEADERS, 0,
                     struct.pack(">I", 2) + h2.block(h2.request_headers())),
    PROTOCOL_ERROR)

__all__: list[str] = []
