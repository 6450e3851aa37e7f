"""RFC 8441 §3–§5: the setting, the :protocol pseudo-header, and the tunnel's first frames."""

from __future__ import annotations

from conformance.probes.http2._wire import (
    DATA,
    ENABLE_CONNECT_PROTOCOL,
    HEADERS,
    PROTOCOL_ERROR,
    data,
    h2_probe,
    started,
)
from conformance.probes.model import Level, Verdict
from conformance.probes.target import ProbeContext

_MALFORMED = ("RST_STREAM PROTOCOL_ERROR (a response before it is allowed), or GOAWAY "
              "PROTOCOL_ERROR, or the connection closed")
# A masked WebSocket PING (RFC 6455 §5.5.2) with an empty payload.
_WS_PING = bytes([0x89, 0x80, 1, 2, 3, 4])


def _extended(h2, *, drop: str = "", method: str = "CONNECT") -> list[tuple[str, str]]:
    headers = [(":method", method), (":protocol", "websocket"), (":scheme", h2.scheme),
               (":path", h2.path), (":authority", h2.authority),
               ("sec-websocket-version", "13")]
    return [(n, v) for n, v in headers if n != drop]


def _enabled(h2) -> bool:
    return h2.server_settings.get(ENABLE_CONNECT_PROTOCOL) == 1


@h2_probe("rfc8441/4/1", level=Level.MUST,
          requirement="Without SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 from the server, :protocol "
                      "is not a defined pseudo-header field, and a request carrying it MUST be "
                      "treated as malformed (RFC 9113 §8.3).",
          conforming=_MALFORMED + "; not applicable when the server advertises the setting",
          anchor="section-4")
def protocol_without_setting(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    if _enabled(h2):
        return Verdict.not_applicable("the server advertises SETTINGS_ENABLE_CONNECT_PROTOCOL=1")
    h2.send_request(1, headers=_extended(h2), end_stream=False)
    return h2.expect_stream_error(1, PROTOCOL_ERROR, malformed=True)


@h2_probe("rfc8441/4/2", level=Level.MUST,
          requirement="The :protocol pseudo-header field is defined only for the CONNECT "
                      "method; on a GET it is an invalid pseudo-header field and the request "
                      "is malformed.",
          conforming=_MALFORMED, anchor="section-4")
def protocol_on_get(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(1, headers=_extended(h2, method="GET"))
    return h2.expect_stream_error(1, PROTOCOL_ERROR, malformed=True)


def _missing(pid: str, name: str) -> None:
    @h2_probe(pid, level=Level.MUST,
              requirement="On requests that contain the :protocol pseudo-header field, the "
                          f":scheme and :path pseudo-header fields MUST also be included (here "
                          f"{name} is missing); such a request is malformed.",
              conforming=_MALFORMED + "; not applicable without the setting", anchor="section-4")
    def run(ctx: ProbeContext) -> Verdict:
        h2 = started(ctx)
        if not _enabled(h2):
            return Verdict.not_applicable("no SETTINGS_ENABLE_CONNECT_PROTOCOL=1")
        h2.send_request(1, headers=_extended(h2, drop=name), end_stream=False)
        return h2.expect_stream_error(1, PROTOCOL_ERROR, malformed=True)


_missing("rfc8441/4/3", ":scheme")
_missing("rfc8441/4/4", ":path")


def _open_tunnel(ctx: ProbeContext, *, early_data: bool = False):
    h2 = started(ctx)
    if not _enabled(h2):
        return h2, None
    h2.send_request(1, headers=_extended(h2), end_stream=False)
    if early_data:
        h2.send(data(1, _WS_PING), "DATA stream=1: a WebSocket PING before the response")
    h2.wait_for(lambda g: g.stream == 1 and g.type in (HEADERS, DATA, 3) or g.type == 7)
    return h2, h2.response(1)


@h2_probe("rfc8441/5/1", level=Level.MUST,
          requirement="HTTP/2 does not use the 101 (Switching Protocols) status: an accepted "
                      "extended CONNECT is answered with a 2xx status (RFC 8441 §5, RFC 9113 "
                      "§8.6).",
          conforming="a final :status that is not 101 (2xx when the route accepts the "
                     "WebSocket, 4xx when it refuses); not applicable without the setting",
          anchor="section-5")
def no_101(ctx: ProbeContext) -> Verdict:
    h2, resp = _open_tunnel(ctx)
    if resp is None:
        return Verdict.not_applicable("no SETTINGS_ENABLE_CONNECT_PROTOCOL=1")
    statuses = [dict(b).get(":status") for b in resp.blocks]
    if "101" in statuses:
        return Verdict.failed(":status 101 on HTTP/2", h2.seen())
    if resp.status is None:
        return h2._no_response(1)
    return Verdict.passed(f":status {resp.status}")


@h2_probe("rfc8441/5/2", level=Level.MUST_NOT,
          requirement="A server MUST NOT send any Transfer-Encoding or Content-Length header "
                      "fields in a 2xx (Successful) response to CONNECT (RFC 9110 §9.3.6), "
                      "extended CONNECT included.",
          conforming="the 2xx response carries neither; not applicable without the setting or "
                     "when the route refuses the WebSocket", anchor="section-5")
def no_content_length_on_2xx(ctx: ProbeContext) -> Verdict:
    h2, resp = _open_tunnel(ctx)
    if resp is None:
        return Verdict.not_applicable("no SETTINGS_ENABLE_CONNECT_PROTOCOL=1")
    if resp.status is None:
        return h2._no_response(1)
    if not 200 <= resp.status < 300:
        return Verdict.not_applicable(f"the route refused the WebSocket (:status {resp.status})")
    bad = [n for n, _ in resp.headers if n in ("content-length", "transfer-encoding")]
    if bad:
        return Verdict.failed(f"2xx response to CONNECT carries {bad}", h2.seen())
    return Verdict.passed(f":status {resp.status} without content-length")


@h2_probe("rfc8441/5/3", level=Level.MUST,
          requirement="The server's response HEADERS come first on the extended CONNECT "
                      "stream: the tunnel carries DATA only after the 2xx response (RFC 9113 "
                      "§8.1: a message begins with its header section).",
          conforming="the first frame on the stream is HEADERS (or RST_STREAM); not applicable "
                     "without the setting", anchor="section-5")
def headers_before_data(ctx: ProbeContext) -> Verdict:
    h2, resp = _open_tunnel(ctx, early_data=True)
    if resp is None:
        return Verdict.not_applicable("no SETTINGS_ENABLE_CONNECT_PROTOCOL=1")
    on_stream = [g for g in h2.frames if g.stream == 1]
    if not on_stream:
        return h2._no_response(1)
    if on_stream[0].type == DATA:
        return Verdict.failed("DATA before the response HEADERS", h2.seen())
    return Verdict.passed(on_stream[0].describe())


@h2_probe("rfc8441/5/4", level=Level.MAY,
          requirement="A client may send WebSocket data on the extended CONNECT stream before "
                      "the response arrives (the stream is open); the server buffers it "
                      "rather than failing the stream.",
          conforming="a response (2xx, or a 4xx refusal) and no stream or connection error",
          anchor="section-5")
def data_before_response(ctx: ProbeContext) -> Verdict:
    h2, resp = _open_tunnel(ctx, early_data=True)
    if resp is None:
        return Verdict.not_applicable("no SETTINGS_ENABLE_CONNECT_PROTOCOL=1")
    if resp.status is not None:
        return Verdict.passed(f":status {resp.status}")
    return h2._no_response(1)


@h2_probe("rfc8441/3/1", level=Level.MAY,
          requirement="Receipt of SETTINGS_ENABLE_CONNECT_PROTOCOL by a server does not have "
                      "any impact: a client may send it.",
          conforming="SETTINGS ACK and an ordinary request answered", anchor="section-3")
def client_sends_setting(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx, [(ENABLE_CONNECT_PROTOCOL, 1)])
    h2.send_request(1)
    return h2.expect_response(1)
