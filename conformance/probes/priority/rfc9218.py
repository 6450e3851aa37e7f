"""RFC 9218 §2.1, §4, §5, §7.1 from the wire."""

from __future__ import annotations

from conformance.probes.http2._wire import (
    FRAME_SIZE_ERROR,
    GOAWAY,
    MAX_CONCURRENT_STREAMS,
    NO_RFC7540_PRIORITIES,
    PING,
    PING_PAYLOAD,
    PRIORITY_UPDATE,
    PROTOCOL_ERROR,
    code_name,
    frame,
    h2_probe,
    ping,
    priority_update,
    settings,
    started,
)
from conformance.probes.model import Level, Outcome, Verdict
from conformance.probes.target import ProbeContext


def _knows_9218(h2) -> bool:
    return NO_RFC7540_PRIORITIES in h2.server_settings


def _judge_error(h2, code: int, also=()) -> Verdict:
    verdict = h2.expect_connection_error(code, also=also)
    if verdict.outcome is Outcome.FAIL and "stayed open" in verdict.detail and not _knows_9218(h2):
        return Verdict.not_applicable("the server ignored it like an unknown frame or setting "
                                      "and does not advertise SETTINGS_NO_RFC7540_PRIORITIES: "
                                      "it does not appear to implement RFC 9218")
    return verdict


def _error(pid: str, requirement: str, build, code: int = PROTOCOL_ERROR, *, also=(),
           setup=None, anchor: str = "") -> None:
    names = " or ".join(code_name(c) for c in (code, *also))

    @h2_probe(pid, level=Level.MUST, requirement=requirement,
              conforming=f"GOAWAY {names}, or the connection closed (not applicable to a server "
                         "that ignores the extension as unknown)", anchor=anchor)
    def run(ctx: ProbeContext) -> Verdict:
        h2 = started(ctx)
        if setup is not None:
            setup(h2)
        h2.send(build(h2))
        return _judge_error(h2, code, also)


_error("rfc9218/7.1/1", "The Stream Identifier field in the PRIORITY_UPDATE frame header MUST "
       "be zero; receiving a PRIORITY_UPDATE frame with any other value MUST be treated as a "
       "connection error of type PROTOCOL_ERROR.",
       lambda h2: priority_update(1, b"u=1", stream=1), anchor="section-7.1")
_error("rfc9218/7.1/2", "If a PRIORITY_UPDATE frame is received with a Prioritized Stream ID "
       "of 0x0, the recipient MUST respond with a connection error of type PROTOCOL_ERROR.",
       lambda h2: priority_update(0, b"u=1"), anchor="section-7.1")
_error("rfc9218/7.1/3", "Servers that receive a PRIORITY_UPDATE for a push stream in the idle "
       "state MUST respond with a connection error of type PROTOCOL_ERROR (here stream 2, "
       "never promised).", lambda h2: priority_update(2, b"u=1"), anchor="section-7.1")
_error("rfc9218/7.1/4", "A PRIORITY_UPDATE frame too short for its Prioritized Stream ID "
       "field (3 octets) is malformed: a frame too small for its mandatory data is a "
       "FRAME_SIZE_ERROR (RFC 9113 §4.2), or PROTOCOL_ERROR.",
       lambda h2: frame(PRIORITY_UPDATE, 0, 0, b"\0\0\x01"), FRAME_SIZE_ERROR,
       also=(PROTOCOL_ERROR,), anchor="section-7.1")


@h2_probe("rfc9218/7.1/5", level=Level.MUST,
          requirement="The number of streams that have been prioritized but remain idle plus "
                      "the active streams MUST NOT exceed SETTINGS_MAX_CONCURRENT_STREAMS; "
                      "servers that receive such a PRIORITY_UPDATE MUST respond with a "
                      "connection error of type PROTOCOL_ERROR.",
          conforming="GOAWAY PROTOCOL_ERROR, or the connection closed (not applicable without "
                     "a limit ≤ 256 or without RFC 9218 support)", anchor="section-7.1")
def too_many_idle_prioritized(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    limit = h2.server_settings.get(MAX_CONCURRENT_STREAMS)
    if limit is None or limit > 256:
        return Verdict.not_applicable(f"SETTINGS_MAX_CONCURRENT_STREAMS is {limit}")
    h2.send(b"".join(priority_update(1 + 2 * i, b"u=2") for i in range(limit + 1)),
            f"{limit + 1} PRIORITY_UPDATE frames for idle streams")
    return _judge_error(h2, PROTOCOL_ERROR)


def _allowed(pid: str, requirement: str, before, *, level: Level = Level.MUST, anchor: str,
             extra=(), after=None) -> None:
    @h2_probe(pid, level=level, requirement=requirement,
              conforming="no error: the request is answered with success", anchor=anchor)
    def run(ctx: ProbeContext) -> Verdict:
        h2 = started(ctx)
        if before is not None:
            h2.send(before(h2))
        h2.send_request(1, extra=extra)
        if after is not None:
            h2.send(after(h2))
        return h2.expect_response(1)


_allowed("rfc9218/7.1/6", "A PRIORITY_UPDATE may name a stream still in the idle state (it "
         "is sent before the request); the server keeps it for when the stream opens.",
         lambda h2: priority_update(1, b"u=0"), anchor="section-7.1")
_allowed("rfc9218/7.1/7", "A PRIORITY_UPDATE for an open stream reprioritizes it; the response "
         "still completes.", None, after=lambda h2: priority_update(1, b"u=7, i"),
         anchor="section-7.1")
_allowed("rfc9218/4/1", "Unknown parameters, parameters with out-of-range values, or values of "
         "unexpected types MUST be ignored (PRIORITY_UPDATE with u=9).",
         lambda h2: priority_update(1, b"u=9"), anchor="section-4")
_allowed("rfc9218/4/2", "A priority field value that does not parse as a Structured Fields "
         "Dictionary is ignored (PRIORITY_UPDATE with \"u=;;\").",
         lambda h2: priority_update(1, b"u=;;, i=?2"), anchor="section-4")
for _n, (_value, _what) in enumerate([("u=9", "an out-of-range urgency"),
                                      ("u=x, i=?5", "values of unexpected types"),
                                      ("foo=bar, u=1", "an unknown parameter"),
                                      ("u=1;;;", "a value that does not parse")], start=1):
    _allowed(f"rfc9218/5/{_n}", "Unknown parameters, out-of-range values or values of "
             f"unexpected types in the priority header field MUST be ignored (here {_what}: "
             f"\"{_value}\").", None, extra=[("priority", _value)], anchor="section-5")


@h2_probe("rfc9218/7.1/8", level=Level.MAY,
          requirement="Servers can discard PRIORITY_UPDATE frames whose prioritized stream is "
                      "closed; such a frame is not an error.",
          conforming="the PING after a PRIORITY_UPDATE for the completed stream 1 is answered",
          anchor="section-7.1")
def priority_update_for_closed(ctx: ProbeContext) -> Verdict:
    from conformance.probes.http2._wire import completed
    h2 = completed(ctx)
    h2.send(priority_update(1, b"u=1"))
    return h2.expect_alive()


@h2_probe("rfc9218/2.1/1", level=Level.MUST,
          requirement="The value of SETTINGS_NO_RFC7540_PRIORITIES MUST be 0 or 1. Any value "
                      "other than 0 or 1 MUST be treated as a connection error of type "
                      "PROTOCOL_ERROR.",
          conforming="GOAWAY PROTOCOL_ERROR, or the connection closed (not applicable to a "
                     "server that ignores setting 0x9 as unknown)", anchor="section-2.1")
def no_rfc7540_priorities_value(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send(settings([(NO_RFC7540_PRIORITIES, 2)]))
    return _judge_error(h2, PROTOCOL_ERROR)


@h2_probe("rfc9218/2.1/2", level=Level.MUST,
          requirement="SETTINGS_NO_RFC7540_PRIORITIES with the value 1 (or 0) in the client's "
                      "first SETTINGS frame is valid.",
          conforming="SETTINGS ACK and the request answered", anchor="section-2.1")
def no_rfc7540_priorities_accepted(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx, [(NO_RFC7540_PRIORITIES, 1)])
    h2.send_request(1, extra=[("priority", "u=1, i")])
    return h2.expect_response(1)


@h2_probe("rfc9218/2.1/3", level=Level.MAY,
          requirement="Senders MUST NOT change the SETTINGS_NO_RFC7540_PRIORITIES value after "
                      "the first SETTINGS frame; receivers that detect a change MAY treat it as "
                      "a connection error of type PROTOCOL_ERROR.",
          conforming="GOAWAY PROTOCOL_ERROR or the connection closed (ignoring it is allowed, "
                     "and reported as a failed MAY)", anchor="section-2.1")
def no_rfc7540_priorities_changed(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx, [(NO_RFC7540_PRIORITIES, 1)])
    h2.send(settings([(NO_RFC7540_PRIORITIES, 0)]))
    return h2.expect_connection_error(PROTOCOL_ERROR)


@h2_probe("rfc9218/7.1/9", level=Level.MUST_NOT,
          requirement="Servers MUST NOT send PRIORITY_UPDATE frames.",
          conforming="no frame of type 0x10 from the server during a prioritized exchange",
          anchor="section-7.1")
def server_sends_no_priority_update(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send(priority_update(1, b"u=2"))
    h2.send_request(1, extra=[("priority", "u=2")])
    h2.wait_response(1)
    h2.send(ping(PING_PAYLOAD))
    h2.wait_for(lambda g: g.type in (PING, GOAWAY) and (g.type == GOAWAY or g.flags & 1))
    sent = [g.describe() for g in h2.frames if g.type == PRIORITY_UPDATE]
    if sent:
        return Verdict.failed("the server sent PRIORITY_UPDATE", sent)
    if h2.response(1).status is None:
        return h2._no_response(1)
    return Verdict.passed("none sent")
