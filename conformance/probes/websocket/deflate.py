"""RFC 7692 §5–§7: permessage-deflate negotiation — each parameter, bad values, duplicates,
several offers — and what the negotiated parameters oblige the server to do."""

from __future__ import annotations

import os
import zlib

from conformance.probes.http1._wire import Response
from conformance.probes.model import Level, Verdict, probe
from conformance.probes.websocket._deflate import judge_invalid_offer, judge_valid_offer
from conformance.probes.websocket._ws import (
    OP_BINARY,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    WS,
    Frame,
    connection_failed,
    deflate_message,
    frame,
    inflate_message,
    open_handshake,
    read_frame,
    read_message,
)

_INVALID = "The negotiation offer {what}: a server MUST decline it (or fail the handshake)."
_DECLINED = "101 without permessage-deflate, or a 4xx"


def _invalid(pid: str, what: str, offer: str, level: Level = Level.MUST):
    @probe(pid, level=level, transports=WS,
           requirement=_INVALID.format(what=what) + f" Offer: {offer}",
           conforming=_DECLINED, anchor="section-7")
    def check(ctx):
        return judge_invalid_offer(open_handshake(ctx, extensions=offer))

    check.__name__ = "declines_" + pid.replace("/", "_").replace(".", "_")
    return check


_invalid("rfc7692/7/1", "contains an extension parameter not defined for use in an offer",
         "permessage-deflate; x_probe_unknown")
_invalid("rfc7692/7/2", "has server_max_window_bits below 8 (an invalid value)",
         "permessage-deflate; server_max_window_bits=7")
_invalid("rfc7692/7/3", "has server_max_window_bits above 15 (an invalid value)",
         "permessage-deflate; server_max_window_bits=16")
_invalid("rfc7692/7/4", "has server_max_window_bits without a value (it requires one)",
         "permessage-deflate; server_max_window_bits")
_invalid("rfc7692/7/5", "has server_max_window_bits with a leading zero (§7.1.2.1's prose "
         "says \"without leading zeroes\" but its ABNF is 1*DIGIT, hence SHOULD)",
         "permessage-deflate; server_max_window_bits=010", Level.SHOULD)
_invalid("rfc7692/7/6", "has client_max_window_bits below 8 (an invalid value)",
         "permessage-deflate; client_max_window_bits=7")
_invalid("rfc7692/7/7", "has client_max_window_bits above 15 (an invalid value)",
         "permessage-deflate; client_max_window_bits=16")
_invalid("rfc7692/7/8", "has client_max_window_bits that is not a number",
         "permessage-deflate; client_max_window_bits=abc")
_invalid("rfc7692/7/9", "gives server_no_context_takeover a value (it takes none)",
         "permessage-deflate; server_no_context_takeover=1")
_invalid("rfc7692/7/10", "gives client_no_context_takeover a value (it takes none)",
         "permessage-deflate; client_no_context_takeover=x")
_invalid("rfc7692/7/11", "contains server_no_context_takeover twice (multiple parameters "
         "with the same name)",
         "permessage-deflate; server_no_context_takeover; server_no_context_takeover")
_invalid("rfc7692/7/12", "contains server_max_window_bits twice",
         "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10")
_invalid("rfc7692/7/13", "contains client_max_window_bits twice",
         "permessage-deflate; client_max_window_bits; client_max_window_bits=10")
_invalid("rfc7692/7/14", "contains client_no_context_takeover twice",
         "permessage-deflate; client_no_context_takeover; client_no_context_takeover")


def _valid(pid: str, requirement: str, offers: list[str], anchor: str = "",
           *, may_fail: bool = False):
    """*may_fail*: an offer list with an invalid element, which the server may answer by
    failing the handshake (a 4xx) rather than declining that element."""
    @probe(pid, level=Level.MUST, transports=WS, requirement=requirement,
           conforming="declined, or accepted with parameters the offer allows"
                      + (", or a 4xx" if may_fail else ""),
           anchor=anchor)
    def check(ctx):
        hs = open_handshake(ctx, extensions=", ".join(offers))
        if may_fail and isinstance(hs.got, Response) and 400 <= hs.got.status < 500:
            return Verdict.passed(f"handshake failed: {hs.got.status}")
        verdict, _ = judge_valid_offer(hs, offers)
        return verdict

    check.__name__ = "accepts_" + pid.replace("/", "_").replace(".", "_")
    return check


_valid("rfc7692/5/1", "An accepted permessage-deflate offer (no parameters) is answered with "
       "one permessage-deflate element whose parameters are valid ones the offer allows "
       "(§7: a client MUST fail a connection with any other answer).",
       ["permessage-deflate"], "section-5")
_valid("rfc7692/5/2", "Of several offers the server accepts at most one (two would conflict on "
       "RSV1); the first here is invalid and MUST be declined, so an acceptance fits the "
       "second.", ["permessage-deflate; x_probe_unknown=1", "permessage-deflate"], "section-5",
       may_fail=True)
_valid("rfc7692/5/3", "Two valid offers: the answer accepts one of them, with parameters valid "
       "for that one — never two permessage-deflate elements.",
       ["permessage-deflate; client_max_window_bits", "permessage-deflate"], "section-5")
_valid("rfc7692/7.1.1.1/1", "A server accepts an offer that includes server_no_context_takeover "
       "by including server_no_context_takeover in the response (or declines it).",
       ["permessage-deflate; server_no_context_takeover"])
_valid("rfc7692/7.1.1.2/1", "An offer with client_no_context_takeover may be accepted; the "
       "response's context-takeover parameters take no value.",
       ["permessage-deflate; client_no_context_takeover"])
_valid("rfc7692/7.1.2.1/1", "A server accepts an offer with server_max_window_bits=10 by "
       "including server_max_window_bits in the response with the same or smaller value.",
       ["permessage-deflate; server_max_window_bits=10"])
_valid("rfc7692/7.1.2.1/2", "server_max_window_bits=8 is a valid offer: accepted with "
       "server_max_window_bits=8, or declined (zlib-based servers cannot use 8).",
       ["permessage-deflate; server_max_window_bits=8"])
_valid("rfc7692/7.1.2.2/1", "If a received offer doesn't have client_max_window_bits, the "
       "corresponding response MUST NOT include client_max_window_bits (offer: "
       "server_no_context_takeover only).",
       ["permessage-deflate; server_no_context_takeover"])
_valid("rfc7692/7.1.2.2/2", "client_max_window_bits without a value is a valid offer; a "
       "response that includes client_max_window_bits gives it a value of 8..15.",
       ["permessage-deflate; client_max_window_bits"])
_valid("rfc7692/7.1.2.2/3", "client_max_window_bits=10 is a valid offer; any "
       "client_max_window_bits in the response has a value of 8..15.",
       ["permessage-deflate; client_max_window_bits=10"])
_valid("rfc7692/7/15", "A quoted parameter value is equivalent to the token "
       "(RFC 6455 §9.1): server_max_window_bits=\"10\" is a valid offer.",
       ['permessage-deflate; server_max_window_bits="10"'], "section-7")


def _negotiate(ctx, offer: str):
    hs = open_handshake(ctx, extensions=offer)
    verdict, params = judge_valid_offer(hs, [offer])
    if verdict.outcome.value != "pass":
        return hs, None, verdict
    if params is None:
        return hs, None, Verdict.not_applicable(f"the server declined {offer!r}")
    return hs, dict(params), None


def _echo(hs, ctx, payload: bytes):
    hs.ex.send(frame(OP_BINARY, deflate_message(payload), rsv1=True),
               note=f"compressed binary message of {len(payload)} bytes")
    frames, end = read_message(hs.ex, ctx.timeout)
    data = [f for f in frames if f.opcode in (OP_BINARY, 0)]
    return data, end


@probe("rfc7692/6/1", level=Level.MUST, transports=WS,
       requirement="With permessage-deflate negotiated, a compressed message (RSV1 set on its "
                   "first frame) is decompressed by the server, and the server's own messages "
                   "decompress (§7.2.2) to what it means to send.",
       conforming="the echo of a compressed message decompresses to the original bytes",
       anchor="section-6")
def compressed_message_echoed(ctx):
    hs, _, problem = _negotiate(ctx, "permessage-deflate")
    if problem:
        return problem
    payload = b"probe " * 200
    data, end = _echo(hs, ctx, payload)
    if not data:
        return Verdict.failed(f"no echo of a compressed message: {end}")
    body = b"".join(f.payload for f in data)
    try:
        got = inflate_message(body) if data[0].rsv1 else body
    except zlib.error as exc:
        return Verdict.failed(f"the server's message does not inflate: {exc}")
    return Verdict.passed() if got == payload else Verdict.failed(
        f"echo differs: {len(got)} bytes, expected {len(payload)}")


@probe("rfc7692/7.2.1/1", level=Level.MUST, transports=WS,
       requirement="If the \"agreed parameters\" contain the \"server_no_context_takeover\" "
                   "extension parameter, the server MUST start compressing each new message "
                   "with an empty LZ77 sliding window.",
       conforming="each of two identical compressed echoes inflates on its own (a fresh "
                  "inflater per message)")
def server_no_context_takeover_honoured(ctx):
    hs, params, problem = _negotiate(ctx, "permessage-deflate; server_no_context_takeover")
    if problem:
        return problem
    payload = os.urandom(300) * 4
    for i in (1, 2):
        data, end = _echo(hs, ctx, payload)
        if not data:
            return Verdict.failed(f"no echo of message {i}: {end}")
        if not data[0].rsv1:
            return Verdict.undecided(f"message {i} was echoed uncompressed: the window is not "
                                     "visible")
        try:
            got = inflate_message(b"".join(f.payload for f in data))
        except zlib.error as exc:
            return Verdict.failed(f"message {i} does not inflate with an empty window: {exc}")
        if got != payload:
            return Verdict.failed(f"message {i} inflates to other bytes with an empty window")
    return Verdict.passed()


@probe("rfc7692/7.1.2.1/3", level=Level.MUST_NOT, transports=WS,
       requirement="By including server_max_window_bits in an offer, a client limits the LZ77 "
                   "sliding window size that the server will use to compress messages; a server "
                   "that accepts it with a value compresses within that window (§7.1.2.1).",
       conforming="with server_max_window_bits=9 accepted, the compressed echo of a message "
                  "with repeats 600 bytes apart inflates with a 512-byte window")
def server_window_honoured(ctx):
    hs, params, problem = _negotiate(ctx, "permessage-deflate; server_max_window_bits=9")
    if problem:
        return problem
    bits = int(params.get("server_max_window_bits") or 15)
    payload = os.urandom(600) * 6
    data, end = _echo(hs, ctx, payload)
    if not data:
        return Verdict.failed(f"no echo: {end}")
    if not data[0].rsv1:
        return Verdict.undecided("the echo was sent uncompressed: the window is not visible")
    try:
        got = inflate_message(b"".join(f.payload for f in data), wbits=bits)
    except zlib.error as exc:
        return Verdict.failed(f"the echo needs a window larger than 2^{bits}: {exc}")
    return Verdict.passed() if got == payload else Verdict.failed("the echo inflates to other bytes")


@probe("rfc7692/6.1/1", level=Level.MUST, transports=WS,
       requirement="An endpoint MUST NOT set the \"Per-Message Compressed\" bit of control "
                   "frames; an endpoint receiving such a frame MUST Fail the WebSocket "
                   "Connection (here a Ping with RSV1 on a permessage-deflate connection).",
       conforming="the connection closed (a Close 1002 first is fine); no Pong",
       anchor="section-6.1")
def compressed_ping_fails(ctx):
    hs, _, problem = _negotiate(ctx, "permessage-deflate")
    if problem:
        return problem
    hs.ex.send(frame(OP_PING, b"rsv1", rsv1=True), note="PING with RSV1")
    return connection_failed(hs.ex, ctx.timeout, "a Ping with RSV1")


@probe("rfc7692/6.1/2", level=Level.MUST, transports=WS,
       requirement="An endpoint MUST NOT set the \"Per-Message Compressed\" bit of non-first "
                   "fragments of a data message; an endpoint receiving such a frame MUST Fail "
                   "the WebSocket Connection.",
       conforming="the connection closed (a Close 1002 first is fine); no echo",
       anchor="section-6.1")
def compressed_continuation_fails(ctx):
    hs, _, problem = _negotiate(ctx, "permessage-deflate")
    if problem:
        return problem
    data = deflate_message(b"fragmented probe message " * 8)
    half = len(data) // 2
    hs.ex.send(frame(OP_TEXT, data[:half], fin=False, rsv1=True), note="TEXT RSV1, not FIN")
    hs.ex.send(frame(OP_CONT, data[half:], rsv1=True), note="CONT with RSV1 (forbidden)")
    return connection_failed(hs.ex, ctx.timeout, "a continuation frame with RSV1")


@probe("rfc7692/6.1/3", level=Level.MUST_NOT, transports=WS,
       requirement="An endpoint MUST NOT set the \"Per-Message Compressed\" bit of control "
                   "frames and non-first fragments of a data message (the server's own frames: "
                   "the echo of a 256 KiB message, and the Pong to a Ping).",
       conforming="RSV1 only on first frames of data messages", anchor="section-6.1")
def server_rsv1_only_on_first_frames(ctx):
    hs, _, problem = _negotiate(ctx, "permessage-deflate")
    if problem:
        return problem
    hs.ex.send(frame(OP_BINARY, deflate_message(os.urandom(64) * 4096), rsv1=True),
               note="compressed binary message of 256 KiB")
    hs.ex.send(frame(OP_PING, b"p"), note="PING")
    frames: list = []
    done = pong = False
    while not (done and pong):
        fr = read_frame(hs.ex, ctx.timeout)
        if not isinstance(fr, Frame):
            return Verdict.undecided(f"the echo and the Pong did not both arrive: {fr}")
        frames.append(fr)
        pong = pong or fr.opcode == OP_PONG
        done = done or (fr.opcode in (OP_BINARY, OP_CONT) and fr.fin)
    bad = [f.describe() for f in frames
           if f.rsv1 and (f.opcode >= 0x8 or f.opcode == OP_CONT)]
    if bad:
        return Verdict.failed(f"RSV1 on {bad}")
    return Verdict.passed(f"{len(frames)} frames")


@probe("rfc7692/7.2.2/1", level=Level.MUST, transports=WS,
       requirement="If the \"agreed parameters\" do not contain \"client_no_context_takeover\", "
                   "the server MUST decompress each new message using the LZ77 sliding window "
                   "used to process the last compressed message.",
       conforming="the echo of a second message, compressed with back-references into the "
                  "first, equals the original")
def server_keeps_client_context(ctx):
    hs, params, problem = _negotiate(ctx, "permessage-deflate")
    if problem:
        return problem
    if "client_no_context_takeover" in params:
        return Verdict.not_applicable("the server asked for client_no_context_takeover")
    comp = zlib.compressobj(wbits=-15)
    payload = os.urandom(500)
    for i in (1, 2):
        data = comp.compress(payload) + comp.flush(zlib.Z_SYNC_FLUSH)
        hs.ex.send(frame(OP_BINARY, data[:-4], rsv1=True),
                   note=f"message {i}, compressed with context takeover ({len(data) - 4} bytes)")
        frames, end = read_message(hs.ex, ctx.timeout)
        echo = [f for f in frames if f.opcode in (OP_BINARY, OP_CONT)]
        if not echo:
            return Verdict.failed(f"no echo of message {i}: "
                                  f"{[f.describe() for f in frames]} {end or ''}")
        if i == 1:
            inflater = zlib.decompressobj(wbits=-15)
        body = b"".join(f.payload for f in echo)
        try:
            got = inflate_message(body, inflater=inflater) if echo[0].rsv1 else body
        except zlib.error as exc:
            return Verdict.undecided(f"the server's echo {i} does not inflate: {exc}")
        if got != payload:
            return Verdict.failed(f"message {i} echoed as other bytes: the server lost the "
                                  "context" if i == 2 else f"message {i} echoed wrong")
    return Verdict.passed()
