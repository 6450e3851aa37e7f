"""RFC 9113 §8.3 (HTTP control data: pseudo-header fields) and §8.5 (the CONNECT method)."""

from __future__ import annotations

from conformance.probes.http2._wire import PROTOCOL_ERROR, data, h2_probe, started
from conformance.probes.model import Level, Verdict
from conformance.probes.target import ProbeContext

_MALFORMED = ("RST_STREAM PROTOCOL_ERROR (a response before it is allowed, §8.1.1), or GOAWAY "
              "PROTOCOL_ERROR, or the connection closed")


def _malformed(pid: str, requirement: str, headers, *, h2spec=(), anchor: str = "",
               level: Level = Level.MUST, conforming: str = _MALFORMED) -> None:
    """*headers*: a function of the connection returning the request's field list."""
    @h2_probe(pid, level=level, requirement=requirement, conforming=conforming,
              h2spec=tuple(h2spec), anchor=anchor)
    def run(ctx: ProbeContext) -> Verdict:
        h2 = started(ctx)
        h2.send_request(1, headers=headers(h2))
        return h2.expect_stream_error(1, PROTOCOL_ERROR, malformed=True)


def _without(name: str):
    return lambda h2: [(n, v) for n, v in h2.request_headers() if n != name]


def _twice(name: str):
    def build(h2):
        hs = h2.request_headers()
        value = dict(hs)[name]
        return hs[:1] + [(name, value)] + hs[1:] if name != ":method" else [(name, "GET")] + hs
    return build


def _replace(name: str, value: str):
    return lambda h2: [(n, value if n == name else v) for n, v in h2.request_headers()]


_malformed("rfc9113/8.3/1", "Endpoints MUST treat a request that contains undefined or "
           "invalid pseudo-header fields as malformed (here :foo).",
           lambda h2: h2.request_headers() + [(":foo", "bar")], h2spec=("http2/8.1.2.1/1",),
           anchor="section-8.3")
_malformed("rfc9113/8.3/2", "Pseudo-header fields defined for responses MUST NOT appear in "
           "requests (here :status); such a request is malformed.",
           lambda h2: h2.request_headers() + [(":status", "200")], h2spec=("http2/8.1.2.1/2",),
           anchor="section-8.3")
_malformed("rfc9113/8.3/3", "All pseudo-header fields MUST appear in a field block before all "
           "regular field lines; a pseudo-header after a regular field makes it malformed.",
           lambda h2: [(n, v) for n, v in h2.request_headers() if n != ":path"]
           + [("x-probe", "1"), (":path", h2.path)], h2spec=("http2/8.1.2.1/4",),
           anchor="section-8.3")
_malformed("rfc9113/8.3/4", "The same pseudo-header field name MUST NOT appear more than once "
           "in a field block (here :authority); such a request is malformed.",
           _twice(":authority"), anchor="section-8.3")


@h2_probe("rfc9113/8.3/5", level=Level.MUST,
          requirement="Pseudo-header fields MUST NOT appear in a trailer section; a request "
                      "whose trailers carry one is malformed.",
          conforming=_MALFORMED, h2spec=("http2/8.1.2.1/3",), anchor="section-8.3")
def pseudo_in_trailers(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(1, "POST", end_stream=False)
    h2.send(data(1, b"test"))
    h2.send(h2.headers_frame(1, h2.block([("x-trailer", "1"), (":method", "POST")])))
    return h2.expect_stream_error(1, PROTOCOL_ERROR, malformed=True)


_EXACT = ("All HTTP/2 requests MUST include exactly one valid value for the :method, :scheme, "
          "and :path pseudo-header fields, unless they are CONNECT requests; otherwise the "
          "request is malformed")
_malformed("rfc9113/8.3.1/1", "The :path pseudo-header field MUST NOT be empty for http or "
           "https URIs.", _replace(":path", ""), h2spec=("http2/8.1.2.3/1",),
           anchor="section-8.3.1")
_malformed("rfc9113/8.3.1/2", f"{_EXACT} (here :method omitted).", _without(":method"),
           h2spec=("http2/8.1.2.3/2",), anchor="section-8.3.1")
_malformed("rfc9113/8.3.1/3", f"{_EXACT} (here :scheme omitted).", _without(":scheme"),
           h2spec=("http2/8.1.2.3/3",), anchor="section-8.3.1")
_malformed("rfc9113/8.3.1/4", f"{_EXACT} (here :path omitted).", _without(":path"),
           h2spec=("http2/8.1.2.3/4",), anchor="section-8.3.1")
_malformed("rfc9113/8.3.1/5", f"{_EXACT} (here :method twice).", _twice(":method"),
           h2spec=("http2/8.1.2.3/5",), anchor="section-8.3.1")
_malformed("rfc9113/8.3.1/6", f"{_EXACT} (here :scheme twice).", _twice(":scheme"),
           h2spec=("http2/8.1.2.3/6",), anchor="section-8.3.1")
_malformed("rfc9113/8.3.1/7", f"{_EXACT} (here :path twice).", _twice(":path"),
           h2spec=("http2/8.1.2.3/7",), anchor="section-8.3.1")
_malformed("rfc9113/8.3.1/8", "The :path of an http or https request is the absolute-path "
           "and query of the target URI (\"/\" when the path is empty); a :path that does not "
           "start with \"/\" (and is not \"*\" for OPTIONS) is an invalid pseudo-header field.",
           _replace(":path", "index.html"), anchor="section-8.3.1")
_malformed("rfc9113/8.3.1/9", "The :authority pseudo-header field MUST NOT include the "
           "deprecated userinfo subcomponent for http or https URIs. The MUST NOT binds the "
           "sender; that a receiver treats such an :authority as invalid (malformed, §8.3) is "
           "a reading of the text, so the probe is levelled SHOULD.",
           lambda h2: _replace(":authority", "user:pass@" + h2.authority)(h2),
           anchor="section-8.3.1", level=Level.SHOULD)
@h2_probe("rfc9113/8.3.1/10", level=Level.SHOULD,
          requirement="If the :scheme has a mandatory authority component (http and https), "
                      "the request MUST contain either an :authority pseudo-header field or a "
                      "Host header field; the RFC does not name the server's answer, so a "
                      "stream error or a 4xx response are both taken as refusing it.",
          conforming="RST_STREAM PROTOCOL_ERROR, GOAWAY PROTOCOL_ERROR, the connection closed, "
                     "or a 4xx response", anchor="section-8.3.1")
def no_authority_no_host(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(1, headers=_without(":authority")(h2))
    verdict = h2.expect_stream_error(1, PROTOCOL_ERROR, malformed=True)
    status = h2.response(1).status
    if verdict.outcome.value == "fail" and status is not None and 400 <= status < 500:
        return Verdict.passed(f":status {status}")
    return verdict


_malformed("rfc9113/8.3.1/11", "A server SHOULD treat a request as malformed if it contains a "
           "Host header field that identifies an entity that differs from the entity in the "
           ":authority pseudo-header field.",
           lambda h2: h2.request_headers(extra=[("host", "other.example:1")]),
           level=Level.SHOULD, anchor="section-8.3.1")


@h2_probe("rfc9113/8.3.1/12", level=Level.MUST,
          requirement="Clients that generate HTTP/2 requests directly MUST use :authority "
                      "instead of Host — but a request carrying only Host (no :authority) "
                      "still has its authority and is valid.",
          conforming="the request is answered with success", anchor="section-8.3.1")
def host_without_authority(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(1, headers=h2.request_headers(authority=False, extra=[("host", h2.authority)]))
    return h2.expect_response(1)


@h2_probe("rfc9113/8.3.2/1", level=Level.MUST,
          requirement="For HTTP/2 responses, a single :status pseudo-header field is defined "
                      "that carries the status code; it MUST be included in all responses, "
                      "and no request pseudo-header field appears in a response.",
          conforming="the response's field block has exactly one :status (three digits), "
                     "first, and no other pseudo-header", anchor="section-8.3.2")
def response_status(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(1)
    resp = h2.wait_response(1)
    if not resp.blocks:
        return h2._no_response(1)
    block = resp.headers
    pseudo = [n for n, _ in block if n.startswith(":")]
    first_regular = next((i for i, (n, _) in enumerate(block) if not n.startswith(":")), len(block))
    late = [n for n, _ in block[first_regular:] if n.startswith(":")]
    status = dict(block).get(":status", "")
    if pseudo != [":status"] or late or not (len(status) == 3 and status.isdigit()):
        return Verdict.failed(f"response pseudo-headers {pseudo}, :status {status!r}"
                              + (f", after regular fields: {late}" if late else ""), h2.seen())
    return Verdict.passed(f":status {status}")


_CONNECT = ("In a CONNECT request the :scheme and :path pseudo-header fields MUST be omitted "
            "and :authority carries the host and port; a CONNECT request that does not conform "
            "is malformed")
_malformed("rfc9113/8.5/1", f"{_CONNECT} (here with :scheme and :path, no :protocol).",
           lambda h2: [(":method", "CONNECT"), (":scheme", h2.scheme), (":path", "/"),
                       (":authority", h2.authority)], anchor="section-8.5")
_malformed("rfc9113/8.5/2", f"{_CONNECT} (here without :authority).",
           lambda h2: [(":method", "CONNECT")], anchor="section-8.5")
_malformed("rfc9113/8.5/3", f"{_CONNECT} (here with :path only).",
           lambda h2: [(":method", "CONNECT"), (":path", "/"), (":authority", h2.authority)],
           anchor="section-8.5")
