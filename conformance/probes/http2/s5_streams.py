"""RFC 9113 §5: stream states (§5.1), identifiers (§5.1.1), concurrency (§5.1.2),
dependencies (§5.3.1), error handling (§5.4) and extensibility (§5.5)."""

from __future__ import annotations

from conformance.probes.http2._wire import (
    CONTINUATION,
    DATA,
    END_HEADERS,
    GOAWAY,
    MAX_CONCURRENT_STREAMS,
    PROTOCOL_ERROR,
    REFUSED_STREAM,
    STREAM_CLOSED,
    completed,
    frame,
    h2_probe,
    half_closed_remote,
    priority,
    priority_fields,
    rst_stream,
    started,
    window_update,
)
from conformance.probes.model import Level, Verdict
from conformance.probes.target import ProbeContext

_IDLE = ("Receiving any frame other than HEADERS or PRIORITY on a stream in the idle state "
         "MUST be treated as a connection error of type PROTOCOL_ERROR")


def _idle(pid: str, what: str, build, h2spec: tuple[str, ...]) -> None:
    @h2_probe(pid, level=Level.MUST, requirement=f"{_IDLE} (here {what}).",
              conforming="GOAWAY PROTOCOL_ERROR, or the connection closed", h2spec=h2spec,
              anchor="section-5.1")
    def run(ctx: ProbeContext) -> Verdict:
        h2 = started(ctx)
        h2.send(build(h2))
        return h2.expect_connection_error(PROTOCOL_ERROR, ping=what != "CONTINUATION")


_idle("rfc9113/5.1/1", "DATA", lambda h2: frame(DATA, 1, 1, b"test"), ("http2/5.1/1",))
_idle("rfc9113/5.1/2", "RST_STREAM", lambda h2: rst_stream(1), ("http2/5.1/2", "http2/6.4/2"))
_idle("rfc9113/5.1/3", "WINDOW_UPDATE", lambda h2: window_update(1, 100), ("http2/5.1/3",))
_idle("rfc9113/5.1/4", "CONTINUATION",
      lambda h2: frame(CONTINUATION, END_HEADERS, 1, h2.block(h2.request_headers())),
      ("http2/5.1/4",))


def _allowed(pid: str, requirement: str, prepare, after, h2spec: tuple[str, ...],
             section: str = "section-5.1") -> None:
    @h2_probe(pid, level=Level.MUST, requirement=requirement,
              conforming="no error: the request is answered and the connection stays usable",
              h2spec=h2spec, anchor=section)
    def run(ctx: ProbeContext) -> Verdict:
        h2 = prepare(ctx)
        h2.send(after(h2))
        verdict = h2.expect_response(1)
        if verdict.outcome.value != "pass":
            return verdict
        return h2.expect_alive()


_allowed("rfc9113/5.1/5", "PRIORITY frames are allowed on a stream in the idle state.",
         started, lambda h2: priority(1, 0, 15) + h2.headers_frame(1, h2.block(h2.request_headers())),
         ("generic/2/1",))
_allowed("rfc9113/5.1/6", "A stream in the half-closed (remote) state can receive "
         "WINDOW_UPDATE frames (the server still sends on it).", half_closed_remote,
         lambda h2: window_update(1, 100), ("generic/2/2",))
_allowed("rfc9113/5.1/7", "A stream in the half-closed (remote) state can receive PRIORITY "
         "frames.", half_closed_remote, lambda h2: priority(1, 0, 200), ("generic/2/3",))


@h2_probe("rfc9113/5.1/8", level=Level.MUST,
          requirement="A stream in the half-closed (remote) state can receive RST_STREAM, "
                      "which closes it; the connection stays usable.",
          conforming="no GOAWAY; a later request on a new stream is answered",
          h2spec=("generic/2/4", "generic/3.4/1"))
def rst_on_half_closed_remote(ctx: ProbeContext) -> Verdict:
    h2 = half_closed_remote(ctx)
    h2.send(rst_stream(1))
    h2.send_request(3)
    return h2.expect_response(3)


@h2_probe("rfc9113/5.1/9", level=Level.MUST,
          requirement="PRIORITY frames can be sent on a closed stream; receiving one is not an "
                      "error.",
          conforming="the PING after a PRIORITY on the closed stream is answered; no error",
          h2spec=("generic/2/5",))
def priority_on_closed(ctx: ProbeContext) -> Verdict:
    h2 = completed(ctx)
    h2.send(priority(1, 0, 100))
    return h2.expect_alive()


_HALF = ("If an endpoint receives additional frames, other than WINDOW_UPDATE, PRIORITY, or "
         "RST_STREAM, for a stream that is in the half-closed (remote) state, it MUST respond "
         "with a stream error of type STREAM_CLOSED")


@h2_probe("rfc9113/5.1/10", level=Level.MUST, requirement=f"{_HALF} (here DATA).",
          conforming="RST_STREAM STREAM_CLOSED, or GOAWAY STREAM_CLOSED, or the connection "
                     "closed",
          h2spec=("http2/5.1/5", "http2/6.1/2"))
def data_on_half_closed_remote(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(1, "POST", end_stream=True)
    h2.send(frame(DATA, 1, 1, b"test"))
    return h2.expect_stream_error(1, STREAM_CLOSED)


@h2_probe("rfc9113/5.1/11", level=Level.MUST, requirement=f"{_HALF} (here a second HEADERS).",
          conforming="RST_STREAM STREAM_CLOSED, or GOAWAY STREAM_CLOSED, or the connection "
                     "closed",
          h2spec=("http2/5.1/6",))
def headers_on_half_closed_remote(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(1, "GET", end_stream=True)
    h2.send(h2.headers_frame(1, h2.block([("x-trailer", "late")])))
    return h2.expect_stream_error(1, STREAM_CLOSED)


@h2_probe("rfc9113/5.1/12", level=Level.MUST,
          requirement=f"{_HALF}; a CONTINUATION there has no field block to continue, which "
                      "RFC 9113 §6.10 makes a connection error of type PROTOCOL_ERROR.",
          conforming="RST_STREAM or GOAWAY with STREAM_CLOSED or PROTOCOL_ERROR, or the "
                     "connection closed",
          h2spec=("http2/5.1/7",))
def continuation_on_half_closed_remote(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(1, "GET", end_stream=True)
    h2.send(frame(CONTINUATION, END_HEADERS, 1, h2.block([("x-foo", "bar")])))
    return h2.expect_stream_error(1, STREAM_CLOSED, also=(PROTOCOL_ERROR,))


_AFTER_RST = ("An endpoint that receives any frame other than PRIORITY after receiving a "
              "RST_STREAM MUST treat that as a stream error of type STREAM_CLOSED")


def _after_rst(pid: str, what: str, build, h2spec: tuple[str, ...], also=()) -> None:
    @h2_probe(pid, level=Level.MUST, requirement=f"{_AFTER_RST} (here {what}).",
              conforming="RST_STREAM or GOAWAY " + " or ".join(
                  ["STREAM_CLOSED"] + (["PROTOCOL_ERROR"] if also else []))
              + ", or the connection closed", h2spec=h2spec, anchor="section-5.1")
    def run(ctx: ProbeContext) -> Verdict:
        h2 = started(ctx)
        h2.send_request(1, "POST", end_stream=False)
        h2.send(rst_stream(1))
        h2.send(build(h2))
        return h2.expect_stream_error(1, STREAM_CLOSED, also=also, ping=what != "CONTINUATION")


_after_rst("rfc9113/5.1/13", "DATA", lambda h2: frame(DATA, 1, 1, b"test"), ("http2/5.1/8",))
_after_rst("rfc9113/5.1/14", "HEADERS",
           lambda h2: h2.headers_frame(1, h2.block([("x-trailer", "late")])), ("http2/5.1/9",))
_after_rst("rfc9113/5.1/15", "CONTINUATION",
           lambda h2: frame(CONTINUATION, END_HEADERS, 1, h2.block([("x-foo", "bar")])),
           ("http2/5.1/10",), also=(PROTOCOL_ERROR,))

_CLOSED = ("An endpoint that receives any frames after receiving a frame with the END_STREAM "
           "flag set MUST treat that as a connection error of type STREAM_CLOSED")


@h2_probe("rfc9113/5.1/16", level=Level.MUST,
          requirement=f"{_CLOSED} (here DATA on a stream whose exchange completed).",
          conforming="GOAWAY STREAM_CLOSED, or RST_STREAM STREAM_CLOSED (h2spec accepts the "
                     "stream error too), or the connection closed",
          h2spec=("http2/5.1/11",))
def data_on_closed(ctx: ProbeContext) -> Verdict:
    h2 = completed(ctx)
    h2.send(frame(DATA, 1, 1, b"test"))
    return h2.expect_stream_error(1, STREAM_CLOSED)


@h2_probe("rfc9113/5.1/17", level=Level.MUST,
          requirement=f"{_CLOSED} (here HEADERS on a stream whose exchange completed).",
          conforming="GOAWAY STREAM_CLOSED or PROTOCOL_ERROR (a reused stream identifier, "
                     "§5.1.1), or the connection closed",
          h2spec=("http2/5.1/12",))
def headers_on_closed(ctx: ProbeContext) -> Verdict:
    h2 = completed(ctx)
    h2.send_request(1)
    return h2.expect_connection_error(STREAM_CLOSED, also=(PROTOCOL_ERROR,))


@h2_probe("rfc9113/5.1/18", level=Level.MUST,
          requirement=f"{_CLOSED} (here CONTINUATION on a stream whose exchange completed, "
                      "also a PROTOCOL_ERROR by §6.10).",
          conforming="GOAWAY STREAM_CLOSED or PROTOCOL_ERROR, or the connection closed",
          h2spec=("http2/5.1/13",))
def continuation_on_closed(ctx: ProbeContext) -> Verdict:
    h2 = completed(ctx)
    h2.send(frame(CONTINUATION, END_HEADERS, 1, h2.block([("x-foo", "bar")])))
    return h2.expect_connection_error(STREAM_CLOSED, also=(PROTOCOL_ERROR,), ping=False)


@h2_probe("rfc9113/5.1.1/1", level=Level.MUST,
          requirement="Streams initiated by a client MUST use odd-numbered stream identifiers; "
                      "an unexpected identifier is a connection error of type PROTOCOL_ERROR.",
          conforming="GOAWAY PROTOCOL_ERROR, or the connection closed",
          h2spec=("http2/5.1.1/1",))
def even_stream_id(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(2)
    return h2.expect_connection_error(PROTOCOL_ERROR)


@h2_probe("rfc9113/5.1.1/2", level=Level.MUST,
          requirement="The identifier of a newly established stream MUST be numerically greater "
                      "than all streams that the initiating endpoint has opened; otherwise a "
                      "connection error of type PROTOCOL_ERROR.",
          conforming="GOAWAY PROTOCOL_ERROR (or STREAM_CLOSED: the lower stream is implicitly "
                     "closed, §5.1.1, and HEADERS on a closed stream is STREAM_CLOSED, §5.1), "
                     "or the connection closed",
          h2spec=("http2/5.1.1/2",))
def smaller_stream_id(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(5)
    h2.wait_response(5)
    h2.send_request(3)
    return h2.expect_connection_error(PROTOCOL_ERROR, also=(STREAM_CLOSED,))


@h2_probe("rfc9113/5.1.1/3", level=Level.MUST,
          requirement="A PRIORITY frame does not open a stream: after a PRIORITY for idle "
                      "stream 5, a HEADERS frame on the lower stream 3 still opens a stream.",
          conforming="the request on stream 3 is answered",
          h2spec=("generic/3.3/5",))
def priority_does_not_consume_ids(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send(priority(5, 0, 15))
    h2.send_request(3)
    return h2.expect_response(3)


@h2_probe("rfc9113/5.1.1/4", level=Level.MUST,
          requirement="The first use of a new stream identifier implicitly closes all idle "
                      "streams with a lower identifier: a HEADERS frame on a skipped "
                      "identifier is a connection error of type PROTOCOL_ERROR.",
          conforming="GOAWAY PROTOCOL_ERROR (or STREAM_CLOSED), or the connection closed")
def skipped_stream_id_is_closed(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(7)
    h2.wait_response(7)
    h2.send_request(1)
    return h2.expect_connection_error(PROTOCOL_ERROR, also=(STREAM_CLOSED,))


@h2_probe("rfc9113/5.1.2/1", level=Level.MUST,
          requirement="An endpoint that receives a HEADERS frame that causes its advertised "
                      "concurrent stream limit to be exceeded MUST treat this as a stream error "
                      "of type PROTOCOL_ERROR or REFUSED_STREAM.",
          conforming="RST_STREAM PROTOCOL_ERROR or REFUSED_STREAM on the stream over the limit "
                     "(or GOAWAY with one of them); not applicable when no limit ≤ 256 is "
                     "advertised",
          h2spec=("http2/5.1.2/1",))
def concurrent_stream_limit(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    limit = h2.server_settings.get(MAX_CONCURRENT_STREAMS)
    if limit is None or limit > 256:
        return Verdict.not_applicable(f"SETTINGS_MAX_CONCURRENT_STREAMS is {limit}")
    block_frames = []
    for i in range(limit):
        sid = 1 + 2 * i
        block_frames.append(h2.headers_frame(sid, h2.block(h2.request_headers("POST")),
                                             end_stream=False))
    h2.send(b"".join(block_frames), f"{limit} POST requests left open (streams 1..{2 * limit - 1})")
    over = 1 + 2 * limit
    h2.send_request(over, "POST", end_stream=False)
    return h2.expect_stream_error(over, PROTOCOL_ERROR, also=(REFUSED_STREAM,))


_SELF = ("A stream cannot depend on itself. An endpoint MUST treat this as a stream error of "
         "type PROTOCOL_ERROR")


@h2_probe("rfc9113/5.3.1/1", level=Level.MUST, requirement=f"{_SELF} (priority in HEADERS).",
          conforming="RST_STREAM PROTOCOL_ERROR, or GOAWAY PROTOCOL_ERROR, or the connection "
                     "closed",
          h2spec=("http2/5.3.1/1",))
def headers_depend_on_self(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(1, prio=priority_fields(1, 15))
    return h2.expect_stream_error(1, PROTOCOL_ERROR)


@h2_probe("rfc9113/5.3.1/2", level=Level.MUST, requirement=f"{_SELF} (a PRIORITY frame).",
          conforming="RST_STREAM PROTOCOL_ERROR, or GOAWAY PROTOCOL_ERROR, or the connection "
                     "closed",
          h2spec=("http2/5.3.1/2",))
def priority_depends_on_self(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send(priority(1, 1, 15))
    return h2.expect_stream_error(1, PROTOCOL_ERROR)


_BAD_PING = frame(6, 0, 3, b"\0" * 8)  # PING on stream 3: a connection error (§6.7)


@h2_probe("rfc9113/5.4.1/1", level=Level.MUST,
          requirement="After sending the GOAWAY frame for an error condition, the endpoint "
                      "MUST close the TCP connection.",
          conforming="the connection is closed (with or without a GOAWAY first)",
          h2spec=("http2/5.4.1/1",))
def closes_after_connection_error(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send(_BAD_PING, "PING on stream 3")
    h2.drain(ctx.timeout)
    if h2.closed:
        return Verdict.passed("connection closed" + (" after GOAWAY" if h2.goaway else ""))
    return Verdict.failed("the connection stayed open after a connection error"
                          + (" (GOAWAY sent)" if h2.goaway else ""), h2.seen())


@h2_probe("rfc9113/5.4.1/2", level=Level.SHOULD,
          requirement="An endpoint that encounters a connection error SHOULD first send a "
                      "GOAWAY frame with the stream identifier of the last stream it "
                      "successfully received.",
          conforming="GOAWAY (PROTOCOL_ERROR) before the connection closes",
          h2spec=("http2/5.4.1/2",))
def goaway_before_close(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send(_BAD_PING, "PING on stream 3")
    got = h2.wait_for(lambda g: g.type == GOAWAY)
    if got is not None:
        return Verdict.passed(got.describe())
    return Verdict.failed("no GOAWAY" + (" (the connection closed)" if h2.closed else ""),
                          h2.seen())


@h2_probe("rfc9113/5.4.1/3", level=Level.MUST,
          requirement="The GOAWAY sent for a connection error carries the last stream "
                      "identifier the server received and processed: not a stream the client "
                      "never opened.",
          conforming="GOAWAY with last_stream ≤ 1 after a request on stream 1 and an error",
          anchor="section-6.8")
def goaway_last_stream_id(ctx: ProbeContext) -> Verdict:
    h2 = completed(ctx)
    h2.send(_BAD_PING, "PING on stream 3")
    got = h2.wait_for(lambda g: g.type == GOAWAY)
    if got is None:
        return Verdict.not_applicable("no GOAWAY was sent (the SHOULD of 5.4.1/2)")
    if (got.last_stream or 0) <= 1:
        return Verdict.passed(got.describe())
    return Verdict.failed(f"GOAWAY names stream {got.last_stream}, which was never opened",
                          h2.seen())


@h2_probe("rfc9113/5.5/1", level=Level.MUST,
          requirement="Implementations MUST ignore unknown or unsupported values in all "
                      "extensible protocol elements and MUST discard frames that have unknown "
                      "or unsupported types, also on an open stream.",
          conforming="an unknown frame type on stream 1 in the middle of a POST is ignored and "
                     "the request answered",
          h2spec=("http2/5.5/1",))
def unknown_extension_frame(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(1, "POST", end_stream=False)
    h2.send_frames(frame(0x22, 0xFF, 1, b"extension payload"), frame(DATA, 1, 1, b"test"))
    return h2.expect_response(1)


@h2_probe("rfc9113/5.5/2", level=Level.MUST,
          requirement="Extension frames that appear in the middle of a field block are not "
                      "permitted; they MUST be treated as a connection error of type "
                      "PROTOCOL_ERROR.",
          conforming="GOAWAY PROTOCOL_ERROR, or the connection closed",
          h2spec=("http2/5.5/2",))
def unknown_frame_inside_field_block(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    block = h2.block(h2.request_headers())
    h2.send_frames(h2.headers_frame(1, block, end_headers=False), frame(0x22, 0, 0, b"\0" * 8))
    return h2.expect_connection_error(PROTOCOL_ERROR, ping=False)

