"""RFC 9113 §6.9: WINDOW_UPDATE, the flow-control window (§6.9.1) and its initial size (§6.9.2)."""

from __future__ import annotations

from conformance.probes.http2._wire import (
    DATA,
    FLOW_CONTROL_ERROR,
    FRAME_SIZE_ERROR,
    GOAWAY,
    INITIAL_WINDOW_SIZE,
    PROTOCOL_ERROR,
    RST_STREAM,
    WINDOW_UPDATE,
    frame,
    h2_probe,
    settings,
    started,
    window_update,
)
from conformance.probes.model import Level, Outcome, Verdict
from conformance.probes.target import ProbeContext


@h2_probe("rfc9113/6.9/1", level=Level.MUST,
          requirement="A receiver MUST treat the receipt of a WINDOW_UPDATE frame with a "
                      "flow-control window increment of 0 as a connection error of type "
                      "PROTOCOL_ERROR when it affects the connection (stream 0).",
          conforming="GOAWAY PROTOCOL_ERROR, or the connection closed", h2spec=("http2/6.9/1",))
def zero_increment_connection(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send(window_update(0, 0))
    return h2.expect_connection_error(PROTOCOL_ERROR)


@h2_probe("rfc9113/6.9/2", level=Level.MUST,
          requirement="A WINDOW_UPDATE frame with an increment of 0 on a stream MUST be treated "
                      "as a stream error of type PROTOCOL_ERROR.",
          conforming="RST_STREAM PROTOCOL_ERROR, or GOAWAY PROTOCOL_ERROR, or the connection "
                     "closed", h2spec=("http2/6.9/2",))
def zero_increment_stream(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(1, "POST", end_stream=False)
    h2.send(window_update(1, 0))
    return h2.expect_stream_error(1, PROTOCOL_ERROR)


def _bad_length(pid: str, payload: bytes, h2spec=()) -> None:
    @h2_probe(pid, level=Level.MUST,
              requirement=f"A WINDOW_UPDATE frame with a length other than 4 octets (here "
                          f"{len(payload)}) MUST be treated as a connection error of type "
                          "FRAME_SIZE_ERROR.",
              conforming="GOAWAY FRAME_SIZE_ERROR, or the connection closed", h2spec=h2spec)
    def run(ctx: ProbeContext) -> Verdict:
        h2 = started(ctx)
        h2.send(frame(WINDOW_UPDATE, 0, 0, payload))
        return h2.expect_connection_error(FRAME_SIZE_ERROR)


_bad_length("rfc9113/6.9/3", b"\0\0\x01", ("http2/6.9/3",))
_bad_length("rfc9113/6.9/4", b"\0\0\0\x01\0")


@h2_probe("rfc9113/6.9/5", level=Level.MUST,
          requirement="WINDOW_UPDATE frames with a positive increment on stream 0 and on an "
                      "open stream are accepted.",
          conforming="the request is answered and no error follows",
          h2spec=("generic/3.9/1", "generic/3.9/2"))
def window_updates_accepted(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(1, "POST", end_stream=False)
    h2.send(window_update(0, 1) + window_update(1, 1) + frame(DATA, 1, 1, b"test"))
    return h2.expect_response(1)


@h2_probe("rfc9113/6.9/6", level=Level.MAY,
          requirement="The WINDOW_UPDATE payload starts with a reserved bit whose semantics are "
                      "undefined (RFC 9113 §6.9; no keyword): a receiver may ignore it, as §4.1 "
                      "requires for the frame header's reserved bit.",
          conforming="the request is answered; the set reserved bit is not an error")
def window_update_reserved_bit(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send(frame(WINDOW_UPDATE, 0, 0, b"\x80\0\0\x01"))
    h2.send_request(1)
    return h2.expect_response(1)


def _first_data(h2, stream: int = 1, timeout: float | None = None):
    return h2.wait_for(lambda g: (g.type == DATA and g.stream == stream)
                       or g.type == GOAWAY or (g.type == RST_STREAM and g.stream == stream),
                       timeout)


@h2_probe("rfc9113/6.9.1/1", level=Level.MUST_NOT,
          requirement="A sender MUST NOT send a flow-controlled frame with a length that "
                      "exceeds the space available in either of the flow-control windows "
                      "advertised by the receiver (here an initial stream window of 1).",
          conforming="the response's first DATA frame carries at most 1 octet",
          h2spec=("http2/6.9.1/1",))
def respects_window_of_one(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx, [(INITIAL_WINDOW_SIZE, 1)])
    h2.send_request(1)
    got = _first_data(h2)
    if got is None or got.type != DATA:
        return Verdict.undecided("no DATA frame arrived", h2.seen())
    if len(got.payload) <= 1:
        return Verdict.passed(f"DATA of {len(got.payload)} octet(s)")
    return Verdict.failed(f"DATA of {len(got.payload)} octets in a window of 1", h2.seen())


@h2_probe("rfc9113/6.9.1/2", level=Level.MUST,
          requirement="A sender MUST NOT allow a flow-control window to exceed 2^31-1 octets; "
                      "if a sender receives a WINDOW_UPDATE that causes the connection window "
                      "to exceed this maximum, it MUST terminate the connection with "
                      "FLOW_CONTROL_ERROR.",
          conforming="GOAWAY FLOW_CONTROL_ERROR, or the connection closed",
          h2spec=("http2/6.9.1/2",))
def connection_window_overflow(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send(window_update(0, 2**31 - 1) + window_update(0, 2**31 - 1))
    return h2.expect_connection_error(FLOW_CONTROL_ERROR)


@h2_probe("rfc9113/6.9.1/3", level=Level.MUST,
          requirement="If a sender receives a WINDOW_UPDATE that causes a stream's window to "
                      "exceed 2^31-1, it MUST send a RST_STREAM with FLOW_CONTROL_ERROR.",
          conforming="RST_STREAM FLOW_CONTROL_ERROR, or GOAWAY FLOW_CONTROL_ERROR, or the "
                     "connection closed", h2spec=("http2/6.9.1/3",))
def stream_window_overflow(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(1, "POST", end_stream=False)
    h2.send(window_update(1, 2**31 - 1) + window_update(1, 2**31 - 1))
    return h2.expect_stream_error(1, FLOW_CONTROL_ERROR)


@h2_probe("rfc9113/6.9.1/4", level=Level.MUST_NOT,
          requirement="With a stream window of 0 the sender MUST NOT send DATA; it resumes "
                      "when a WINDOW_UPDATE opens the window.",
          conforming="no DATA before the WINDOW_UPDATE, then the body after it")
def waits_for_window(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx, [(INITIAL_WINDOW_SIZE, 0)])
    h2.send_request(1)
    early = _first_data(h2, timeout=min(1.0, ctx.timeout / 3))
    if early is not None and early.type == DATA and early.payload:
        return Verdict.failed(f"DATA of {len(early.payload)} octets in a window of 0", h2.seen())
    if early is not None and early.type != DATA:
        return Verdict.undecided(f"{early.describe()} before any DATA", h2.seen())
    # HEADERS are not flow-controlled, but a server may hold them back with the body.
    h2.send(window_update(1, 65535))
    resp = h2.wait_response(1)
    if resp.body:
        return Verdict.passed(f"{len(resp.body)} octets after the WINDOW_UPDATE")
    return Verdict.undecided("no body after the WINDOW_UPDATE", h2.seen())


@h2_probe("rfc9113/6.9.2/1", level=Level.MUST,
          requirement="When SETTINGS_INITIAL_WINDOW_SIZE changes, a receiver MUST adjust the "
                      "size of all stream flow-control windows it maintains by the difference.",
          conforming="a stream blocked on a window of 0 gets exactly 1 octet after the setting "
                     "becomes 1", h2spec=("http2/6.9.2/1",))
def initial_window_change_applies(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx, [(INITIAL_WINDOW_SIZE, 0)])
    h2.send_request(1)
    h2.wait_for(lambda g: g.type == 1 and g.stream == 1, min(1.0, ctx.timeout / 3))
    h2.send(settings([(INITIAL_WINDOW_SIZE, 1)]))
    got = _first_data(h2)
    if got is None or got.type != DATA:
        return Verdict.failed("no DATA after the window grew to 1", h2.seen())
    if len(got.payload) == 1:
        return Verdict.passed("1-octet DATA frame")
    return Verdict.failed(f"DATA of {len(got.payload)} octets", h2.seen())


@h2_probe("rfc9113/6.9.2/2", level=Level.MUST,
          requirement="A change to SETTINGS_INITIAL_WINDOW_SIZE can make a window negative; the "
                      "sender MUST track the negative window and send nothing until "
                      "WINDOW_UPDATE makes it positive.",
          conforming="window 3, 3 octets received, setting lowered to 2 (window −1), "
                     "WINDOW_UPDATE 2: the next DATA carries exactly 1 octet",
          h2spec=("http2/6.9.2/2",))
def negative_window(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx, [(INITIAL_WINDOW_SIZE, 3)])
    h2.send_request(1)
    got = _first_data(h2)
    if got is None or got.type != DATA:
        return Verdict.undecided("no DATA arrived", h2.seen())
    if len(got.payload) != 3:
        return Verdict.undecided(f"first DATA had {len(got.payload)} octets, not 3", h2.seen())
    acked = h2.settings_acked
    h2.send(settings([(INITIAL_WINDOW_SIZE, 2)]))
    h2.wait_for(lambda g: h2.settings_acked > acked)
    h2.send(window_update(1, 2))
    got = _first_data(h2)
    if got is None or got.type != DATA:
        return Verdict.failed("no DATA after the window became 1", h2.seen())
    if len(got.payload) == 1:
        return Verdict.passed("1-octet DATA frame")
    return Verdict.failed(f"DATA of {len(got.payload)} octets where the window was 1", h2.seen())


@h2_probe("rfc9113/6.9.2/3", level=Level.MUST,
          requirement="An endpoint MUST treat a change to SETTINGS_INITIAL_WINDOW_SIZE that "
                      "causes any flow-control window to exceed the maximum size as a "
                      "connection error of type FLOW_CONTROL_ERROR.",
          conforming="GOAWAY FLOW_CONTROL_ERROR, or the connection closed")
def initial_window_change_overflows(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(1, "POST", end_stream=False)
    h2.send(window_update(1, 2**31 - 1 - 65535))  # the stream's window is now 2^31-1
    h2.send(settings([(INITIAL_WINDOW_SIZE, 65536)]))
    return h2.expect_connection_error(FLOW_CONTROL_ERROR)


@h2_probe("rfc9113/6.9.2/4", level=Level.MUST,
          requirement="SETTINGS_INITIAL_WINDOW_SIZE does not change the connection window: with "
                      "an initial stream window of 2^31-1 and a fresh connection window of "
                      "65,535, no DATA exceeds the connection window.",
          conforming="the response body (whatever its size) arrives in DATA frames within "
                     "65,535 octets")
def connection_window_unaffected(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx, [(INITIAL_WINDOW_SIZE, 2**31 - 1)])
    h2.send_request(1)
    resp = h2.wait_response(1)
    total = sum(resp.data_frames)
    if resp.status is None:
        return h2._no_response(1)
    if total > 65535:
        return Verdict.failed(f"{total} octets of DATA exceed the connection window", h2.seen())
    return Verdict.passed(f"{total} octets of DATA")





@h2_probe("rfc9113/6.9.1/5", level=Level.MAY,
          requirement="A sender MUST NOT exceed the receiver's window; a receiver MAY respond "
                      "with a stream error or connection error of type FLOW_CONTROL_ERROR if it "
                      "is unable to accept a frame (here DATA one octet past the server's "
                      "initial stream window).",
          conforming="RST_STREAM FLOW_CONTROL_ERROR, GOAWAY FLOW_CONTROL_ERROR, or accepting "
                     "the octets (the detail says which: a receiver that has already sent a "
                     "WINDOW_UPDATE may rightly count the window as larger, so acceptance is "
                     "conforming and timing-dependent); another error code fails; not "
                     "applicable when the advertised window is above 1 MiB")
def data_beyond_stream_window(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    window = h2.server_settings.get(INITIAL_WINDOW_SIZE, 65535)
    if window > 1 << 20:
        return Verdict.not_applicable(f"SETTINGS_INITIAL_WINDOW_SIZE is {window}")
    h2.send_request(1, "POST", end_stream=False)
    size = h2.server_settings.get(0x5, 16384)
    left, chunks = window + 1, []
    while left > 0:
        n = min(size, left)
        chunks.append(frame(DATA, 0, 1, b"x" * n))
        left -= n
    h2.send(b"".join(chunks), f"{window + 1} octets of DATA on stream 1 (window {window})")
    verdict = h2.expect_stream_error(1, FLOW_CONTROL_ERROR)
    if verdict.outcome is Outcome.FAIL and not verdict.detail.startswith(("RST_STREAM", "GOAWAY")):
        # No error at all: the octets were accepted, which the MAY allows. Whether the
        # server counted them against the initial window or against one its own
        # WINDOW_UPDATE had already raised is a race the probe cannot see, so acceptance
        # passes (deterministically) and only a wrong error code fails.
        return Verdict.passed(f"accepted the octets (the MAY was not taken): {verdict.detail}")
    return verdict
