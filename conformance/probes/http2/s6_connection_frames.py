"""RFC 9113 §6.5 (SETTINGS), §6.7 (PING), §6.8 (GOAWAY), §6.10 (CONTINUATION), §7 (error codes)."""

from __future__ import annotations

from conformance.probes.http2._wire import (
    CONTINUATION,
    DATA,
    ENABLE_CONNECT_PROTOCOL,
    ENABLE_PUSH,
    END_HEADERS,
    FLOW_CONTROL_ERROR,
    FRAME_SIZE_ERROR,
    GOAWAY,
    INITIAL_WINDOW_SIZE,
    MAX_CONCURRENT_STREAMS,
    MAX_FRAME_SIZE,
    MAX_HEADER_LIST_SIZE,
    NO_RFC7540_PRIORITIES,
    PING,
    PING_PAYLOAD,
    PROTOCOL_ERROR,
    SETTINGS,
    code_name,
    frame,
    goaway,
    h2_probe,
    ping,
    rst_stream,
    settings,
    settings_payload,
    started,
)
from conformance.probes.model import Level, Verdict
from conformance.probes.target import ProbeContext


def _connection_error(pid: str, requirement: str, build, code: int, *, h2spec=(), setup=None,
                      ping_after: bool = True, also=(), anchor: str = "") -> None:
    names = " or ".join(code_name(c) for c in (code, *also))

    @h2_probe(pid, level=Level.MUST, requirement=requirement,
              conforming=f"GOAWAY {names}, or the connection closed", h2spec=tuple(h2spec),
              anchor=anchor)
    def run(ctx: ProbeContext) -> Verdict:
        h2 = started(ctx)
        if setup is not None:
            setup(h2)
        h2.send(build(h2))
        return h2.expect_connection_error(code, ping=ping_after, also=also)


def _settings_accepted(pid: str, requirement: str, pairs, *, h2spec=(), level=Level.MUST) -> None:
    @h2_probe(pid, level=level, requirement=requirement,
              conforming="SETTINGS ACK, no error, and a request afterwards is answered",
              h2spec=tuple(h2spec))
    def run(ctx: ProbeContext) -> Verdict:
        h2 = started(ctx)
        before = h2.settings_acked
        h2.send(settings(pairs))
        h2.send_request(1)
        verdict = h2.expect_response(1)
        if verdict.outcome.value != "pass":
            return verdict
        if h2.settings_acked <= before:
            h2.wait_for(lambda g: g.type == SETTINGS and bool(g.flags & 1), 1.0)
        if h2.settings_acked <= before:
            return Verdict.failed("the SETTINGS frame was not acknowledged", h2.seen())
        return verdict


# -- SETTINGS (§6.5) -----------------------------------------------------------------------
_connection_error(
    "rfc9113/6.5/1", "Receipt of a SETTINGS frame with the ACK flag set and a length field "
    "value other than 0 MUST be treated as a connection error of type FRAME_SIZE_ERROR.",
    lambda h2: frame(SETTINGS, 1, 0, settings_payload([(INITIAL_WINDOW_SIZE, 1)])),
    FRAME_SIZE_ERROR, h2spec=("http2/6.5/1",))
_connection_error(
    "rfc9113/6.5/2", "If an endpoint receives a SETTINGS frame whose stream identifier field "
    "is anything other than 0x0, it MUST respond with a connection error of type "
    "PROTOCOL_ERROR.", lambda h2: settings([(INITIAL_WINDOW_SIZE, 65535)], stream=1),
    PROTOCOL_ERROR, h2spec=("http2/6.5/2",))
_connection_error(
    "rfc9113/6.5/3", "A SETTINGS frame with a length other than a multiple of 6 octets MUST be "
    "treated as a connection error of type FRAME_SIZE_ERROR.",
    lambda h2: frame(SETTINGS, 0, 0, b"\0\x03\0\0\0"), FRAME_SIZE_ERROR,
    h2spec=("http2/6.5/3",))
_connection_error(
    "rfc9113/6.5.2/1", "Any value of SETTINGS_ENABLE_PUSH other than 0 or 1 MUST be treated as "
    "a connection error of type PROTOCOL_ERROR.", lambda h2: settings([(ENABLE_PUSH, 2)]),
    PROTOCOL_ERROR, h2spec=("http2/6.5.2/1",))
_connection_error(
    "rfc9113/6.5.2/2", "Values of SETTINGS_INITIAL_WINDOW_SIZE above the maximum flow-control "
    "window size of 2^31-1 MUST be treated as a connection error of type FLOW_CONTROL_ERROR.",
    lambda h2: settings([(INITIAL_WINDOW_SIZE, 2**31)]), FLOW_CONTROL_ERROR,
    h2spec=("http2/6.5.2/2", "http2/6.9.2/3"))
_connection_error(
    "rfc9113/6.5.2/3", "Values of SETTINGS_MAX_FRAME_SIZE outside 2^14..2^24-1 (here 2^14-1) "
    "MUST be treated as a connection error of type PROTOCOL_ERROR.",
    lambda h2: settings([(MAX_FRAME_SIZE, 2**14 - 1)]), PROTOCOL_ERROR, h2spec=("http2/6.5.2/3",))
_connection_error(
    "rfc9113/6.5.2/4", "Values of SETTINGS_MAX_FRAME_SIZE outside 2^14..2^24-1 (here 2^24) MUST "
    "be treated as a connection error of type PROTOCOL_ERROR.",
    lambda h2: settings([(MAX_FRAME_SIZE, 2**24)]), PROTOCOL_ERROR, h2spec=("http2/6.5.2/4",))
_settings_accepted(
    "rfc9113/6.5.2/5", "An endpoint that receives a SETTINGS frame with any unknown or "
    "unsupported identifier MUST ignore that setting.", [(0xFF, 1), (0x7777, 0xFFFFFFFF)],
    h2spec=("http2/6.5.2/5",))
_settings_accepted(
    "rfc9113/6.5.2/6", "SETTINGS_ENABLE_PUSH 0 and 1 are the allowed values; a client may "
    "send 1 (the initial value) explicitly.", [(ENABLE_PUSH, 1)])
_settings_accepted(
    "rfc9113/6.5.2/7", "SETTINGS_MAX_FRAME_SIZE may be as large as 2^24-1.",
    [(MAX_FRAME_SIZE, 2**24 - 1)])
_settings_accepted(
    "rfc9113/6.5.2/8", "SETTINGS_INITIAL_WINDOW_SIZE may be as large as 2^31-1.",
    [(INITIAL_WINDOW_SIZE, 2**31 - 1)])
_settings_accepted(
    "rfc9113/6.5.2/9", "SETTINGS_MAX_HEADER_LIST_SIZE is advisory; a client may announce it.",
    [(MAX_HEADER_LIST_SIZE, 16384)])
_settings_accepted(
    "rfc9113/6.5.2/10", "SETTINGS_MAX_CONCURRENT_STREAMS 0 from a client only forbids the "
    "server to open (push) streams; the client's own requests are unaffected.",
    [(MAX_CONCURRENT_STREAMS, 0)])


def _server_setting_check(pid: str, requirement: str, level: Level, judge) -> None:
    @h2_probe(pid, level=level, requirement=requirement,
              conforming="the server's SETTINGS values are within the allowed ranges")
    def run(ctx: ProbeContext) -> Verdict:
        h2 = started(ctx)
        problem = judge(h2.server_settings)
        if problem:
            return Verdict.failed(problem, h2.seen())
        return Verdict.passed(f"server SETTINGS {h2.server_settings}")


_server_setting_check(
    "rfc9113/6.5.2/11", "A server MUST NOT explicitly set SETTINGS_ENABLE_PUSH to 1 (a client "
    "treats that as a connection error).", Level.MUST_NOT,
    lambda s: f"ENABLE_PUSH={s[ENABLE_PUSH]}" if s.get(ENABLE_PUSH, 0) != 0 else "")


def _ranges(s: dict[int, int]) -> str:
    if s.get(INITIAL_WINDOW_SIZE, 0) > 2**31 - 1:
        return f"INITIAL_WINDOW_SIZE={s[INITIAL_WINDOW_SIZE]} exceeds 2^31-1"
    if not 2**14 <= s.get(MAX_FRAME_SIZE, 2**14) <= 2**24 - 1:
        return f"MAX_FRAME_SIZE={s[MAX_FRAME_SIZE]} is outside 2^14..2^24-1"
    for key in (ENABLE_CONNECT_PROTOCOL, NO_RFC7540_PRIORITIES):
        if s.get(key, 0) not in (0, 1):
            return f"setting 0x{key:x}={s[key]} is neither 0 nor 1"
    return ""


_server_setting_check(
    "rfc9113/6.5.2/12", "The server's own SETTINGS respect the value ranges it must enforce on "
    "its peer: INITIAL_WINDOW_SIZE ≤ 2^31-1, MAX_FRAME_SIZE within 2^14..2^24-1, boolean "
    "settings (RFC 8441 §3, RFC 9218 §2.1) 0 or 1.", Level.MUST, _ranges)


@h2_probe("rfc9113/6.5.3/1", level=Level.MUST,
          requirement="The values in the SETTINGS frame MUST be processed in the order they "
                      "appear, with no other frame processing between values: of two "
                      "INITIAL_WINDOW_SIZE values the last one applies.",
          conforming="the response's first DATA frame carries exactly 1 octet (window 1)",
          h2spec=("http2/6.5.3/1",))
def settings_in_order(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx, [(INITIAL_WINDOW_SIZE, 100), (INITIAL_WINDOW_SIZE, 1)])
    if h2.goaway is not None:
        return Verdict.failed(f"{h2.goaway.describe()}: the repeated setting was refused",
                              h2.seen())
    h2.send_request(1)
    got = h2.wait_for(lambda g: g.type in (DATA, GOAWAY, 3) and g.stream in (0, 1))
    if got is not None and got.type != DATA:
        return Verdict.failed(f"{got.describe()}: the repeated setting was refused", h2.seen())
    if got is None:
        return Verdict.undecided("no DATA frame arrived", h2.seen())
    if len(got.payload) == 1:
        return Verdict.passed("1-octet DATA frame")
    return Verdict.failed(f"DATA frame of {len(got.payload)} octets with a window of 1", h2.seen())


# -- PING (§6.7) ---------------------------------------------------------------------------
@h2_probe("rfc9113/6.7/1", level=Level.MUST,
          requirement="Receivers of a PING frame that does not include an ACK flag MUST send a "
                      "PING frame with the ACK flag set in response, with an identical payload.",
          conforming="PING with ACK and the same 8 octets",
          h2spec=("http2/6.7/1", "generic/3.7/1"))
def ping_answered(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send(ping(b"\x01\x02h2ping"))
    got = h2.wait_for(lambda g: g.type == PING)
    if got is None:
        return Verdict.failed("no PING ACK", h2.seen())
    if got.flags & 1 and got.payload == b"\x01\x02h2ping" and got.stream == 0:
        return Verdict.passed(got.describe())
    return Verdict.failed(f"wrong answer: {got.describe()}", h2.seen())


@h2_probe("rfc9113/6.7/2", level=Level.MUST_NOT,
          requirement="An endpoint MUST NOT respond to PING frames containing the ACK flag.",
          conforming="no PING answers the client's unsolicited PING ACK (the PING sent after "
                     "it is answered)", h2spec=("http2/6.7/2",))
def ping_ack_not_answered(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send(ping(b"unexpect", ack=True))
    h2.send(ping(PING_PAYLOAD))
    h2.wait_for(lambda g: g.type == PING and g.payload == PING_PAYLOAD)
    h2.drain(0.3)
    wrong = [g for g in h2.frames if g.type == PING and g.payload == b"unexpect"]
    if wrong:
        return Verdict.failed("the server answered a PING ACK", [g.describe() for g in wrong])
    if not h2.ping_acks:
        return Verdict.undecided("the control PING was not answered either", h2.seen())
    return Verdict.passed("only the control PING answered")


_connection_error(
    "rfc9113/6.7/3", "If a PING frame is received with a stream identifier other than 0x0, the "
    "recipient MUST respond with a connection error of type PROTOCOL_ERROR.",
    lambda h2: ping(stream=1), PROTOCOL_ERROR, h2spec=("http2/6.7/3",))
_connection_error(
    "rfc9113/6.7/4", "Receipt of a PING frame with a length other than 8 (here 6) MUST be "
    "treated as a connection error of type FRAME_SIZE_ERROR.",
    lambda h2: frame(PING, 0, 0, b"\0" * 6), FRAME_SIZE_ERROR, h2spec=("http2/6.7/4",))
_connection_error(
    "rfc9113/6.7/5", "Receipt of a PING frame with a length other than 8 (here 9) MUST be "
    "treated as a connection error of type FRAME_SIZE_ERROR.",
    lambda h2: frame(PING, 0, 0, b"\0" * 9), FRAME_SIZE_ERROR)
_connection_error(
    "rfc9113/6.7/6", "A PING ACK with a length other than 8 is also a connection error of type "
    "FRAME_SIZE_ERROR.", lambda h2: frame(PING, 1, 0, b"\0" * 4), FRAME_SIZE_ERROR)

# -- GOAWAY (§6.8) -------------------------------------------------------------------------
_connection_error(
    "rfc9113/6.8/1", "An endpoint MUST treat a GOAWAY frame with a stream identifier other than "
    "0x0 as a connection error of type PROTOCOL_ERROR.", lambda h2: goaway(stream=1),
    PROTOCOL_ERROR, h2spec=("http2/6.8/1",))
_connection_error(
    "rfc9113/6.8/2", "A GOAWAY frame shorter than its mandatory 8 octets is a frame size error: "
    "a connection error of type FRAME_SIZE_ERROR (§4.2).",
    lambda h2: frame(GOAWAY, 0, 0, b"\0\0\0\0\0"), FRAME_SIZE_ERROR, anchor="section-4.2")


@h2_probe("rfc9113/6.8/3", level=Level.MAY,
          requirement="A GOAWAY from the client limits only the streams the server may "
                      "initiate; activity on the client's open streams might still complete "
                      "successfully.",
          conforming="the POST left open before GOAWAY(last 0, NO_ERROR) is answered after its "
                     "body arrives", h2spec=("generic/3.8/1",))
def client_goaway(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(1, "POST", end_stream=False)
    h2.send(goaway(0, 0, b"probe"))
    h2.send(frame(DATA, 1, 1, b"test"))
    return h2.expect_response(1)


# -- CONTINUATION (§6.10) ------------------------------------------------------------------
@h2_probe("rfc9113/6.10/1", level=Level.MUST,
          requirement="Any number of CONTINUATION frames can follow a HEADERS frame without "
                      "END_HEADERS, as long as each preceding frame lacked END_HEADERS.",
          conforming="the request split over HEADERS and several CONTINUATION frames is "
                     "answered", h2spec=("http2/6.10/1", "generic/3.10/1", "generic/3.10/2"))
def many_continuations(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    block = h2.block(h2.request_headers(extra=[("x-dummy", "d" * 60)] * 4))
    pieces = [block[i:i + 16] for i in range(0, len(block), 16)]
    out = h2.headers_frame(1, pieces[0], end_headers=False)
    for i, piece in enumerate(pieces[1:], 1):
        out += frame(CONTINUATION, END_HEADERS if i == len(pieces) - 1 else 0, 1, piece)
    h2.send(out, f"HEADERS + {len(pieces) - 1} CONTINUATION frames")
    return h2.expect_response(1)


def _split(h2, stream: int = 1) -> tuple[bytes, bytes]:
    block = h2.block(h2.request_headers())
    return h2.headers_frame(stream, block[:3], end_headers=False), block[3:]


_connection_error(
    "rfc9113/6.10/2", "A CONTINUATION sequence followed by any frame other than CONTINUATION "
    "(here DATA) MUST be treated as a connection error of type PROTOCOL_ERROR.",
    lambda h2: (lambda h, rest: h + frame(CONTINUATION, 0, 1, rest[:1])
                + frame(DATA, 1, 1, b"x"))(*_split(h2)),
    PROTOCOL_ERROR, ping_after=False, h2spec=("http2/6.10/2",))
_connection_error(
    "rfc9113/6.10/3", "If a CONTINUATION frame is received with a stream identifier of 0x0, "
    "the recipient MUST respond with a connection error of type PROTOCOL_ERROR.",
    lambda h2: (lambda h, rest: h + frame(CONTINUATION, END_HEADERS, 0, rest))(*_split(h2)),
    PROTOCOL_ERROR, ping_after=False, h2spec=("http2/6.10/3",))
_connection_error(
    "rfc9113/6.10/4", "A CONTINUATION frame MUST be preceded by a HEADERS, PUSH_PROMISE or "
    "CONTINUATION frame without END_HEADERS; after HEADERS with END_HEADERS it is a connection "
    "error of type PROTOCOL_ERROR.",
    lambda h2: h2.headers_frame(1, h2.block(h2.request_headers()))
    + frame(CONTINUATION, END_HEADERS, 1, h2.block([("x-dummy", "x")])),
    PROTOCOL_ERROR, h2spec=("http2/6.10/4",))
_connection_error(
    "rfc9113/6.10/5", "A CONTINUATION frame after a CONTINUATION frame with END_HEADERS is a "
    "connection error of type PROTOCOL_ERROR.",
    lambda h2: (lambda h, rest: h + frame(CONTINUATION, END_HEADERS, 1, rest)
                + frame(CONTINUATION, END_HEADERS, 1, h2.block([("x-dummy", "x")])))(*_split(h2)),
    PROTOCOL_ERROR, h2spec=("http2/6.10/5",))
_connection_error(
    "rfc9113/6.10/6", "A CONTINUATION frame after a DATA frame is a connection error of type "
    "PROTOCOL_ERROR.",
    lambda h2: h2.headers_frame(1, h2.block(h2.request_headers("POST")), end_stream=False)
    + frame(DATA, 0, 1, b"test") + frame(CONTINUATION, END_HEADERS, 1, h2.block([("x-a", "b")])),
    PROTOCOL_ERROR, h2spec=("http2/6.10/6",))
_connection_error(
    "rfc9113/6.10/7", "A CONTINUATION frame for a different stream than the field block it "
    "would continue is a connection error of type PROTOCOL_ERROR.",
    lambda h2: (lambda h, rest: h + frame(CONTINUATION, END_HEADERS, 3, rest))(*_split(h2)),
    PROTOCOL_ERROR, ping_after=False)


# -- error codes (§7) ----------------------------------------------------------------------
def _after_goaway(ctx: ProbeContext, code: int) -> tuple[str, list[str]]:
    """How the server reacts to a GOAWAY with *code* followed by a PING."""
    h2 = started(ctx)
    h2.send(goaway(0, code))
    h2.send(ping(PING_PAYLOAD))
    got = h2.wait_for(lambda g: g.type == GOAWAY or (g.type == PING and g.flags & 1))
    if got is not None and got.type == PING:
        kind = "PING answered"
    elif got is not None:
        kind = f"GOAWAY {code_name(got.error_code or 0)}"
    elif h2.closed:
        kind = "closed"
    else:
        kind = "silent"
    return kind, h2.seen()


@h2_probe("rfc9113/7/1", level=Level.MUST_NOT,
          requirement="Unknown or unsupported error codes MUST NOT trigger any special "
                      "behavior: a GOAWAY with code 0xff is handled like one with NO_ERROR.",
          conforming="the reaction to GOAWAY(0xff) + PING is graceful (PING answered, "
                     "GOAWAY NO_ERROR or a close) exactly when the reaction to GOAWAY(NO_ERROR) "
                     "+ PING on a second connection is",
          h2spec=("http2/7/1",), anchor="section-7")
def goaway_unknown_code(ctx: ProbeContext) -> Verdict:
    unknown, seen = _after_goaway(ctx, 0xFF)
    baseline, _ = _after_goaway(ctx, 0)
    if "silent" in (unknown, baseline):
        return Verdict.undecided(f"0xff: {unknown}; NO_ERROR: {baseline}", seen)
    # "special behaviour" is an error reaction to one code and a graceful one to the other
    graceful = ("PING answered", "closed", "GOAWAY NO_ERROR")
    if (unknown in graceful) == (baseline in graceful):
        return Verdict.passed(f"0xff: {unknown}; NO_ERROR: {baseline}")
    return Verdict.failed(f"0xff: {unknown}, but NO_ERROR: {baseline}", seen)


@h2_probe("rfc9113/7/2", level=Level.MUST_NOT,
          requirement="Unknown or unsupported error codes MUST NOT trigger any special "
                      "behavior (RST_STREAM with code 0xff).",
          conforming="the stream is closed and the connection stays usable (PING answered)",
          h2spec=("http2/7/2",), anchor="section-7")
def rst_unknown_code(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(1, "POST", end_stream=False)
    h2.send(rst_stream(1, 0xFF))
    return h2.expect_alive()



