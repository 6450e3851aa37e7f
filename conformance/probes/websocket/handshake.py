"""RFC 6455 §4.2.1 / §4.2.2 (and RFC 9110 §7.8): what a server does with a client's
opening handshake — the valid one, and each requirement broken in turn."""

from __future__ import annotations

import base64

from conformance.probes.http1._wire import Response, describe
from conformance.probes.model import Level, Verdict, probe
from conformance.probes.websocket._ws import (
    SAMPLE_KEY,
    WS,
    accept_for,
    handshake_fields,
    new_key,
    open_handshake,
)


def _replace(fields, name: str, value: str | None):
    """*fields* with field *name* given *value* (``None``: removed)."""
    out = []
    for n, v in fields:
        if n.lower() == name.lower():
            if value is not None:
                out.append((n, value))
        else:
            out.append((n, v))
    return out


def _no_switch(hs) -> Verdict:
    """MUST NOT complete: anything but 101."""
    if hs.switched:
        return Verdict.failed("101 Switching Protocols: the handshake was completed")
    return Verdict.passed(describe(hs.got))


def _error_status(hs) -> Verdict:
    """§4.2.1: stop processing and return an HTTP error code (4xx), never 101."""
    if hs.switched:
        return Verdict.failed("101 Switching Protocols: the handshake was completed")
    got = hs.got
    if isinstance(got, Response) and 400 <= got.status < 500:
        return Verdict.passed(describe(got))
    return Verdict.failed(f"{describe(got)}; the RFC asks for an HTTP error code such as 400")


def _switched(hs) -> Verdict:
    if hs.switched:
        return Verdict.passed()
    return Verdict.failed(f"a valid handshake got {describe(hs.got)}, not 101")


@probe("rfc6455/4.2.2/1", level=Level.MUST, transports=WS,
       requirement="A server accepting a valid opening handshake answers with a Status-Line "
                   "with a 101 response code.",
       conforming="101")
def valid_handshake_101(ctx):
    return _switched(open_handshake(ctx))


@probe("rfc6455/4.2.2/2", level=Level.MUST, transports=WS,
       requirement="The server's handshake has an Upgrade header field with value "
                   "\"websocket\" (RFC 9110 §7.8: a server that sends 101 MUST send Upgrade).",
       conforming="101 with Upgrade: websocket (case-insensitive)")
def accept_has_upgrade(ctx):
    hs = open_handshake(ctx)
    if not hs.switched:
        return Verdict.undecided(f"no 101: {describe(hs.got)}")
    if hs.got.tokens("upgrade") == ["websocket"]:
        return Verdict.passed()
    return Verdict.failed(f"Upgrade: {hs.got.get_all('upgrade')!r}")


@probe("rfc6455/4.2.2/3", level=Level.MUST, transports=WS,
       requirement="The server's handshake has a Connection header field with value "
                   "\"Upgrade\".",
       conforming="101 with the Upgrade token in Connection (case-insensitive)")
def accept_has_connection_upgrade(ctx):
    hs = open_handshake(ctx)
    if not hs.switched:
        return Verdict.undecided(f"no 101: {describe(hs.got)}")
    if "upgrade" in hs.got.tokens("connection"):
        return Verdict.passed()
    return Verdict.failed(f"Connection: {hs.got.get_all('connection')!r}")


@probe("rfc6455/4.2.2/4", level=Level.MUST, transports=WS,
       requirement="The server's handshake has a Sec-WebSocket-Accept header field whose value "
                   "is the base64 of the SHA-1 of the key concatenated with "
                   "\"258EAFA5-E914-47DA-95CA-C5AB0DC85B11\" (§1.3's example and a random key).",
       conforming="Sec-WebSocket-Accept s3pPLMBiTxaQ9kYGzzhZRbK+xOo= for §1.3's key, and the "
                  "right value for a fresh key")
def accept_value(ctx):
    for key in (SAMPLE_KEY, new_key()):
        hs = open_handshake(ctx, key=key)
        if not hs.switched:
            return Verdict.undecided(f"no 101: {describe(hs.got)}")
        values = hs.got.get_all("sec-websocket-accept")
        if values != [accept_for(key)]:
            return Verdict.failed(f"key {key}: Sec-WebSocket-Accept {values!r}, expected "
                                  f"{accept_for(key)}")
    return Verdict.passed()


@probe("rfc6455/4.2.2/5", level=Level.MUST, transports=WS,
       requirement="The accept value is computed from the Sec-WebSocket-Key value with leading "
                   "and trailing whitespace removed (§4.2.2 item 5.4, /key/).",
       conforming="Sec-WebSocket-Accept of the trimmed key although the field had extra spaces")
def accept_of_trimmed_key(ctx):
    key = new_key()
    fields = _replace(handshake_fields(key), "Sec-WebSocket-Key", f"   {key}  \t")
    hs = open_handshake(ctx, fields)
    if not hs.switched:
        return Verdict.failed(f"{describe(hs.got)}: a key with surrounding whitespace is valid")
    if hs.got.get("sec-websocket-accept") == accept_for(key):
        return Verdict.passed()
    return Verdict.failed(f"Sec-WebSocket-Accept {hs.got.get('sec-websocket-accept')!r}")


@probe("rfc6455/4.2.1/1", level=Level.MUST, transports=WS,
       requirement="The client's handshake is an HTTP/1.1 or higher GET request; a server MUST "
                   "NOT complete a handshake sent with another method (POST).",
       conforming="anything but 101 (an HTTP error such as 400 or 405, or the request served "
                  "as plain HTTP)")
def post_is_not_a_handshake(ctx):
    return _no_switch(open_handshake(ctx, method="POST"))


@probe("rfc9110/7.8/1", level=Level.MUST, transports=WS,
       requirement="A server MUST ignore an Upgrade header field that is received in an "
                   "HTTP/1.0 request (and RFC 6455 §4.2.1 needs HTTP/1.1 or higher).",
       conforming="anything but 101 for a WebSocket handshake sent as HTTP/1.0")
def http10_handshake_ignored(ctx):
    return _no_switch(open_handshake(ctx, version="HTTP/1.0"))


@probe("rfc9110/7.8/2", level=Level.MUST_NOT, transports=WS,
       requirement="A server MUST NOT switch to a protocol that was not indicated by the "
                   "client in the corresponding request's Upgrade header field.",
       conforming="no 101 when Upgrade names only an unknown protocol")
def unknown_upgrade_not_switched(ctx):
    key = new_key()
    hs = open_handshake(ctx, _replace(handshake_fields(key), "Upgrade", "x-probe-unknown/1"))
    return _no_switch(hs)


@probe("rfc6455/4.2.1/2", level=Level.MUST, transports=WS,
       requirement="The handshake MUST contain a Host header field; without it the server MUST "
                   "stop processing and answer with an HTTP error (RFC 9112 §3.2: 400).",
       conforming="400 (any 4xx), never 101")
def handshake_without_host(ctx):
    return _error_status(open_handshake(ctx, host=None))


@probe("rfc6455/4.2.1/3", level=Level.MUST, transports=WS,
       requirement="The handshake has an Upgrade header field containing \"websocket\"; a "
                   "server MUST NOT complete a handshake without one.",
       conforming="anything but 101")
def no_upgrade_field(ctx):
    return _no_switch(open_handshake(ctx, _replace(handshake_fields(new_key()), "Upgrade", None)))


@probe("rfc6455/4.2.1/4", level=Level.MUST, transports=WS,
       requirement="The Upgrade value \"websocket\" is treated as an ASCII case-insensitive "
                   "value: \"Upgrade: WebSocket\" is a valid handshake.",
       conforming="101")
def upgrade_case_insensitive(ctx):
    return _switched(open_handshake(ctx, _replace(handshake_fields(new_key()), "Upgrade",
                                                  "WebSocket")))


@probe("rfc6455/4.2.1/5", level=Level.MUST, transports=WS,
       requirement="The handshake has a Connection header field that includes the token "
                   "\"Upgrade\"; a server MUST NOT complete a handshake without one.",
       conforming="anything but 101")
def no_connection_field(ctx):
    return _no_switch(open_handshake(ctx, _replace(handshake_fields(new_key()), "Connection",
                                                   None)))


@probe("rfc6455/4.2.1/6", level=Level.MUST, transports=WS,
       requirement="A Connection header field without the \"Upgrade\" token (\"keep-alive\") "
                   "does not make a handshake.",
       conforming="anything but 101")
def connection_without_upgrade_token(ctx):
    return _no_switch(open_handshake(ctx, _replace(handshake_fields(new_key()), "Connection",
                                                   "keep-alive")))


@probe("rfc6455/4.2.1/7", level=Level.MUST, transports=WS,
       requirement="Connection includes the token \"Upgrade\", treated as an ASCII "
                   "case-insensitive value, in a token list: \"Connection: keep-alive, "
                   "upgrade\" is a valid handshake.",
       conforming="101")
def connection_token_list(ctx):
    return _switched(open_handshake(ctx, _replace(handshake_fields(new_key()), "Connection",
                                                  "keep-alive, upgrade")))


@probe("rfc6455/4.2.1/8", level=Level.SHOULD, transports=WS,
       requirement="The handshake has \"an Upgrade header field containing the value "
                   "websocket\"; a list offering another protocol first (\"x-probe/1, "
                   "websocket\") contains it (RFC 9110 §7.8: Upgrade is a list). The RFC "
                   "states no MUST to accept, hence SHOULD.",
       conforming="101 (switching to websocket)")
def upgrade_list(ctx):
    hs = open_handshake(ctx, _replace(handshake_fields(new_key()), "Upgrade",
                                      "x-probe/1, websocket"))
    if hs.switched and hs.got.tokens("upgrade") != ["websocket"]:
        return Verdict.failed(f"101 with Upgrade {hs.got.get_all('upgrade')!r}")
    return _switched(hs)


def _key_error(ctx, value: str | None, doubled: bool = False) -> Verdict:
    fields = handshake_fields(new_key())
    if doubled:
        fields.append(("Sec-WebSocket-Key", new_key()))
    else:
        fields = _replace(fields, "Sec-WebSocket-Key", value)
    return _error_status(open_handshake(ctx, fields))


@probe("rfc6455/4.2.1/9", level=Level.MUST, transports=WS,
       requirement="The handshake has a Sec-WebSocket-Key header field; a server that finds "
                   "none MUST stop processing and return an HTTP error code (such as 400).",
       conforming="a 4xx, never 101")
def no_key(ctx):
    return _key_error(ctx, None)


@probe("rfc6455/4.2.1/10", level=Level.MUST, transports=WS,
       requirement="Sec-WebSocket-Key is base64-encoded: a value that is not base64 is a "
                   "handshake error (an HTTP error code such as 400).",
       conforming="a 4xx, never 101")
def key_not_base64(ctx):
    return _key_error(ctx, "not*base64*at*all!!!!!=")


@probe("rfc6455/4.2.1/11", level=Level.MUST, transports=WS,
       requirement="Sec-WebSocket-Key decodes to 16 bytes: the base64 of 15 bytes is a "
                   "handshake error.",
       conforming="a 4xx, never 101")
def key_of_15_bytes(ctx):
    return _key_error(ctx, base64.b64encode(b"k" * 15).decode())


@probe("rfc6455/4.2.1/12", level=Level.MUST, transports=WS,
       requirement="Sec-WebSocket-Key decodes to 16 bytes: the base64 of 17 bytes is a "
                   "handshake error.",
       conforming="a 4xx, never 101")
def key_of_17_bytes(ctx):
    return _key_error(ctx, base64.b64encode(b"k" * 17).decode())


@probe("rfc6455/4.2.1/13", level=Level.MUST, transports=WS,
       requirement="An empty Sec-WebSocket-Key is a handshake error.",
       conforming="a 4xx, never 101")
def key_empty(ctx):
    return _key_error(ctx, "")


@probe("rfc6455/11.3.1/1", level=Level.MUST, transports=WS,
       requirement="The Sec-WebSocket-Key header field MUST NOT appear more than once in an "
                   "HTTP request: a doubled key is a handshake error (§4.2.1).",
       conforming="a 4xx, never 101")
def key_doubled(ctx):
    return _key_error(ctx, None, doubled=True)


#: No WebSocket version: 0-8 were drafts (some servers still speak 8), 9-12 are reserved.
UNKNOWN_VERSION = "99"


def _version(ctx, value: str | None):
    return open_handshake(ctx, _replace(handshake_fields(new_key()), "Sec-WebSocket-Version",
                                        value))


@probe("rfc6455/4.2.1/14", level=Level.MUST, transports=WS,
       requirement="The handshake has a Sec-WebSocket-Version header field with value 13; "
                   "without it the server MUST return an HTTP error code.",
       conforming="a 4xx, never 101")
def no_version(ctx):
    return _error_status(_version(ctx, None))


@probe("rfc6455/4.2.2/6", level=Level.MUST, transports=WS,
       requirement="If the version does not match a version understood by the server, the "
                   "server MUST abort the handshake and send an appropriate HTTP error code "
                   "and a Sec-WebSocket-Version header field indicating the version(s) the "
                   "server is capable of understanding.",
       conforming="a 4xx with Sec-WebSocket-Version listing 13, for version 99")
def other_version_lists_13(ctx):
    hs = _version(ctx, UNKNOWN_VERSION)
    verdict = _error_status(hs)
    if not verdict.outcome.value == "pass":
        return verdict
    versions = hs.got.tokens("sec-websocket-version")
    if "13" in versions:
        return Verdict.passed(f"{describe(hs.got)}, Sec-WebSocket-Version {versions}")
    return Verdict.failed(f"{describe(hs.got)} without Sec-WebSocket-Version 13 "
                          f"({hs.got.get_all('sec-websocket-version')!r})")


@probe("rfc6455/4.2.2/7", level=Level.MAY, transports=WS,
       requirement="The error for a version the server does not understand is an appropriate "
                   "HTTP error code, such as 426 Upgrade Required (§4.4 shows 426).",
       conforming="426")
def other_version_426(ctx):
    hs = _version(ctx, UNKNOWN_VERSION)
    if isinstance(hs.got, Response) and hs.got.status == 426:
        return Verdict.passed()
    return Verdict.failed(f"{describe(hs.got)}, not 426")


@probe("rfc6455/4.2.2/8", level=Level.MUST, transports=WS,
       requirement="A version that is not a number (\"x\") is not understood: the server MUST "
                   "abort with an HTTP error code and list its versions.",
       conforming="a 4xx with Sec-WebSocket-Version listing 13")
def version_not_a_number(ctx):
    hs = _version(ctx, "x")
    verdict = _error_status(hs)
    if verdict.outcome.value != "pass":
        return verdict
    if "13" in hs.got.tokens("sec-websocket-version"):
        return Verdict.passed(describe(hs.got))
    return Verdict.failed(f"{describe(hs.got)} without Sec-WebSocket-Version 13")


@probe("rfc9110/15.5.22/1", level=Level.MUST, transports=WS,
       requirement="The server MUST send an Upgrade header field in a 426 (Upgrade Required) "
                   "response to indicate the required protocol(s).",
       conforming="a 426 answer to version 99 carries Upgrade: websocket (or the answer is "
                  "not 426)")
def upgrade_on_426(ctx):
    hs = _version(ctx, UNKNOWN_VERSION)
    if not isinstance(hs.got, Response) or hs.got.status != 426:
        return Verdict.not_applicable(f"no 426: {describe(hs.got)}")
    if "websocket" in hs.got.tokens("upgrade"):
        return Verdict.passed()
    return Verdict.failed(f"426 with Upgrade {hs.got.get_all('upgrade')!r}")


@probe("rfc9110/6.6.1/2", level=Level.MUST, transports=WS,
       requirement="An origin server with a clock MUST generate a Date header field in all 4xx "
                   "(Client Error) responses — the handshake refusals too.",
       conforming="Date on the 4xx answers to a handshake without a key and with version 99",
       anchor="section-6.6.1")
def date_on_handshake_errors(ctx):
    seen = 0
    for hs in (open_handshake(ctx, _replace(handshake_fields(new_key()), "Sec-WebSocket-Key",
                                            None)),
               _version(ctx, UNKNOWN_VERSION)):
        got = hs.got
        if isinstance(got, Response) and 400 <= got.status < 500:
            seen += 1
            if got.get("date") is None:
                return Verdict.failed(f"no Date on {describe(got)}")
    if not seen:
        return Verdict.not_applicable("no 4xx answer to check")
    return Verdict.passed()


@probe("rfc9110/8.6/5", level=Level.MUST_NOT, transports=WS,
       requirement="A server MUST NOT send a Content-Length header field in any response with "
                   "a status code of 1xx (Informational) — 101 Switching Protocols included.",
       conforming="the 101 carries no Content-Length", anchor="section-8.6")
def no_content_length_on_101(ctx):
    hs = open_handshake(ctx)
    if not hs.switched:
        return Verdict.undecided(f"no 101: {describe(hs.got)}")
    value = hs.got.get("content-length")
    return Verdict.failed(f"101 with Content-Length: {value}") if value is not None else \
        Verdict.passed()


@probe("rfc9112/6.1/6", level=Level.MUST_NOT, transports=WS,
       requirement="A server MUST NOT send a Transfer-Encoding header field in any response with "
                   "a status code of 1xx (Informational) — 101 Switching Protocols included.",
       conforming="the 101 carries no Transfer-Encoding", anchor="section-6.1")
def no_transfer_encoding_on_101(ctx):
    hs = open_handshake(ctx)
    if not hs.switched:
        return Verdict.undecided(f"no 101: {describe(hs.got)}")
    value = hs.got.get("transfer-encoding")
    return Verdict.failed(f"101 with Transfer-Encoding: {value}") if value is not None else \
        Verdict.passed()
