"""After the opening handshake (RFC 6455 §5.1, §5.5.1, §7.1.1): what Autobahn|Testsuite
does not check — an unmasked client frame, the server's own masking, and the end of the
close handshake."""

from __future__ import annotations

import struct

from conformance.probes.http1._wire import CLOSED, describe
from conformance.probes.model import Level, Verdict, probe
from conformance.probes.websocket._ws import (
    OP_CLOSE,
    OP_TEXT,
    WS,
    Frame,
    connection_failed,
    frame,
    open_handshake,
    read_frame,
    read_message,
)


def _open(ctx):
    hs = open_handshake(ctx)
    if not hs.switched:
        return hs, Verdict.undecided(f"no 101: {describe(hs.got)}")
    return hs, None


@probe("rfc6455/4.2.2/12", level=Level.MUST, transports=WS,
       requirement="Once the server has sent its 101 handshake the connection is in the OPEN "
                   "state: a masked text frame sent right after it is delivered (the echo "
                   "route sends it back).",
       conforming="a text frame with the same payload")
def text_after_handshake(ctx):
    hs, problem = _open(ctx)
    if problem:
        return problem
    hs.ex.send(frame(OP_TEXT, "probé".encode()))
    frames, end = read_message(hs.ex, ctx.timeout)
    data = [f for f in frames if f.opcode == OP_TEXT]
    if data and data[0].payload == "probé".encode():
        return Verdict.passed()
    return Verdict.failed(f"after the handshake: {[f.describe() for f in frames]} {end or ''}")


@probe("rfc6455/5.1/1", level=Level.MUST_NOT, transports=WS,
       requirement="A server MUST NOT mask any frames that it sends to the client.",
       conforming="the server's frames have the MASK bit clear", anchor="section-5.1")
def server_frames_unmasked(ctx):
    hs, problem = _open(ctx)
    if problem:
        return problem
    hs.ex.send(frame(OP_TEXT, b"mask?"))
    frames, end = read_message(hs.ex, ctx.timeout)
    if not frames:
        return Verdict.undecided(f"no frame from the server: {end}")
    masked = [f.describe() for f in frames if f.masked]
    return Verdict.failed(f"masked frames: {masked}") if masked else Verdict.passed()


@probe("rfc6455/5.1/2", level=Level.MUST, transports=WS,
       requirement="A server MUST close the connection upon receiving a frame that is not "
                   "masked (it MAY first send a Close frame with status code 1002).",
       conforming="the connection closed (a Close 1002 before it is fine), no echo",
       anchor="section-5.1")
def unmasked_client_frame_closes(ctx):
    hs, problem = _open(ctx)
    if problem:
        return problem
    hs.ex.send(frame(OP_TEXT, b"unmasked", mask=False))
    return connection_failed(hs.ex, ctx.timeout, "an unmasked frame")


@probe("rfc6455/5.5.1/1", level=Level.MUST, transports=WS,
       requirement="If an endpoint receives a Close frame and did not previously send a Close "
                   "frame, the endpoint MUST send a Close frame in response (typically echoing "
                   "the status code it received).",
       conforming="a Close frame (code 1000 expected as the echo of 1000)",
       anchor="section-5.5.1")
def close_is_answered(ctx):
    hs, problem = _open(ctx)
    if problem:
        return problem
    hs.ex.send(frame(OP_CLOSE, struct.pack("!H", 1000) + b"probe"))
    while True:
        fr = read_frame(hs.ex, ctx.timeout)
        if not isinstance(fr, Frame):
            return Verdict.failed(f"no Close frame in response: {fr}")
        if fr.opcode == OP_CLOSE:
            code = struct.unpack("!H", fr.payload[:2])[0] if len(fr.payload) >= 2 else None
            return Verdict.passed(f"Close {code}")


@probe("rfc6455/7.1.1/1", level=Level.SHOULD, transports=WS,
       requirement="The underlying TCP connection, in most normal cases, SHOULD be closed first "
                   "by the server: after the close handshake the server closes it.",
       conforming="the connection closed by the server after it answered the Close",
       anchor="section-7.1.1")
def server_closes_tcp_after_close(ctx):
    hs, problem = _open(ctx)
    if problem:
        return problem
    hs.ex.send(frame(OP_CLOSE, struct.pack("!H", 1000)))
    while True:
        fr = read_frame(hs.ex, ctx.timeout)
        if fr is CLOSED:
            return Verdict.passed()
        if not isinstance(fr, Frame):
            return Verdict.failed(f"the server did not close the TCP connection: {fr}")
