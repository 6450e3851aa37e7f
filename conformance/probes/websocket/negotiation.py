"""RFC 6455 §4.2.2 /subprotocol/ and §9.1: what the server's handshake may select —
only a subprotocol and extensions the client offered."""

from __future__ import annotations

from conformance.probes.http1._wire import describe
from conformance.probes.model import Level, Verdict, probe
from conformance.probes.websocket._ws import (
    WS,
    handshake_fields,
    new_key,
    open_handshake,
    parse_extensions,
)


def _protocol_choice(hs, offered: list[str]) -> Verdict:
    if not hs.switched:
        return Verdict.undecided(f"no 101: {describe(hs.got)}")
    values = hs.got.get_all("sec-websocket-protocol")
    if not values:
        return Verdict.passed("no subprotocol selected")
    if len(values) == 1 and "," not in values[0] and values[0].strip() in offered:
        return Verdict.passed(f"selected {values[0]!r}")
    return Verdict.failed(f"Sec-WebSocket-Protocol {values!r}; offered {offered!r}")


@probe("rfc6455/4.2.2/9", level=Level.MUST_NOT, transports=WS,
       requirement="If the client's handshake did not contain a Sec-WebSocket-Protocol header "
                   "field the only acceptable value is null: the server MUST NOT send back a "
                   "Sec-WebSocket-Protocol header field.",
       conforming="101 without Sec-WebSocket-Protocol")
def no_protocol_offered(ctx):
    hs = open_handshake(ctx)
    if not hs.switched:
        return Verdict.undecided(f"no 101: {describe(hs.got)}")
    values = hs.got.get_all("sec-websocket-protocol")
    return Verdict.failed(f"Sec-WebSocket-Protocol {values!r} sent unasked") if values else \
        Verdict.passed()


@probe("rfc6455/4.2.2/10", level=Level.MUST, transports=WS,
       requirement="/subprotocol/ is either a single value representing a subprotocol the "
                   "client offered, or null (no Sec-WebSocket-Protocol header field).",
       conforming="no Sec-WebSocket-Protocol, or exactly one of the offered values")
def protocol_from_the_offer(ctx):
    offered = ["x-probe-chat", "x-probe-superchat"]
    return _protocol_choice(open_handshake(ctx, protocols=", ".join(offered)), offered)


@probe("rfc6455/4.2.2/11", level=Level.MUST, transports=WS,
       requirement="The subprotocols may be offered on several Sec-WebSocket-Protocol lines; "
                   "the answer is still a single offered value or null.",
       conforming="no Sec-WebSocket-Protocol, or exactly one of the offered values")
def protocol_offered_on_two_lines(ctx):
    key = new_key()
    fields = handshake_fields(key) + [("Sec-WebSocket-Protocol", "x-probe-a"),
                                      ("Sec-WebSocket-Protocol", "x-probe-b")]
    return _protocol_choice(open_handshake(ctx, fields, key=key), ["x-probe-a", "x-probe-b"])


@probe("rfc6455/9.1/1", level=Level.MUST_NOT, transports=WS,
       requirement="The server's Sec-WebSocket-Extensions may only indicate extensions present "
                   "in the client's handshake (a client MUST fail the connection otherwise, "
                   "§4.1): none offered, none in the answer.",
       conforming="101 without Sec-WebSocket-Extensions", anchor="section-9.1")
def no_extension_offered(ctx):
    hs = open_handshake(ctx)
    if not hs.switched:
        return Verdict.undecided(f"no 101: {describe(hs.got)}")
    values = hs.got.get_all("sec-websocket-extensions")
    return Verdict.failed(f"Sec-WebSocket-Extensions {values!r} sent unasked") if values else \
        Verdict.passed()


@probe("rfc6455/9.1/2", level=Level.MUST_NOT, transports=WS,
       requirement="An extension the server does not know (\"x-probe-unknown\") cannot be in "
                   "the server's answer; only offered extensions may be.",
       conforming="101 whose Sec-WebSocket-Extensions (if any) names no other extension than "
                  "those offered, and not the unknown one", anchor="section-9.1")
def unknown_extension_not_accepted(ctx):
    hs = open_handshake(ctx, extensions="x-probe-unknown; x=1")
    if not hs.switched:
        return Verdict.undecided(f"no 101: {describe(hs.got)}")
    parsed = parse_extensions(hs.got.get_all("sec-websocket-extensions"))
    if isinstance(parsed, str):
        return Verdict.failed(f"Sec-WebSocket-Extensions does not parse: {parsed}")
    if parsed:
        return Verdict.failed(f"answered extensions {[n for n, _ in parsed]}")
    return Verdict.passed()
