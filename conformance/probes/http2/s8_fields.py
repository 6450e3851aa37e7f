"""RFC 9113 §8.2: field validity (§8.2.1), connection-specific fields (§8.2.2), and the
fields of the server's own responses."""

from __future__ import annotations

from conformance.probes.http2._wire import PROTOCOL_ERROR, h2_probe, started
from conformance.probes.model import Level, Verdict
from conformance.probes.target import ProbeContext

_MALFORMED = ("RST_STREAM PROTOCOL_ERROR (a response before it is allowed, §8.1.1), or GOAWAY "
              "PROTOCOL_ERROR, or the connection closed")


def _malformed_field(pid: str, requirement: str, name: str, value: str, *, h2spec=(),
                     anchor: str = "", method: str = "GET", level: Level = Level.MUST) -> None:
    @h2_probe(pid, level=level, requirement=requirement, conforming=_MALFORMED,
              h2spec=tuple(h2spec), anchor=anchor)
    def run(ctx: ProbeContext) -> Verdict:
        h2 = started(ctx)
        h2.send_request(1, method, extra=[(name, value)])
        return h2.expect_stream_error(1, PROTOCOL_ERROR, malformed=True)


_NAME = ("A field name MUST NOT contain characters in the ranges 0x00-0x20, 0x41-0x5a, or "
         "0x7f-0xff; a request with such a field MUST be treated as malformed")
for n, (name, what, h2spec) in enumerate([
        ("x-Probe", "an uppercase letter", ("http2/8.1.2/1",)),
        ("x probe", "a space (0x20)", ()),
        ("x\x00probe", "NUL (0x00)", ()),
        ("x\x01probe", "a control character (0x01)", ()),
        ("x\tprobe", "HTAB (0x09)", ()),
        ("x\nprobe", "LF (0x0a)", ()),
        ("x\rprobe", "CR (0x0d)", ()),
        ("x\x7fprobe", "DEL (0x7f)", ()),
        ("x\x80probe", "an octet above 0x7f (0x80)", ()),
        ("x\xffprobe", "the octet 0xff", ()),
        ("X-PROBE", "only uppercase letters", ()),
], start=1):
    _malformed_field(f"rfc9113/8.2.1/{n}", f"{_NAME} (here {what}).", name, "1",
                     h2spec=h2spec, anchor="section-8.2.1")

_malformed_field(
    "rfc9113/8.2.1/12", "With the exception of pseudo-header fields, field names MUST NOT "
    "include a colon (0x3a); such a request is malformed.", "x:probe", "1",
    anchor="section-8.2.1")

_VALUE = "A field value MUST NOT contain NUL, LF or CR at any position; the request is malformed"
for n, (value, what) in enumerate([("a\x00b", "NUL"), ("a\nb", "LF"), ("a\rb", "CR"),
                                   ("ab\r\n", "a trailing CRLF")], start=13):
    _malformed_field(f"rfc9113/8.2.1/{n}", f"{_VALUE} (here {what}).", "x-probe", value,
                     anchor="section-8.2.1")

_WS = ("A field value MUST NOT start or end with an ASCII whitespace character (SP or HTAB); "
       "the request is malformed")
for n, (value, what) in enumerate([(" ab", "a leading SP"), ("ab ", "a trailing SP"),
                                   ("\tab", "a leading HTAB"), ("ab\t", "a trailing HTAB")],
                                  start=17):
    _malformed_field(f"rfc9113/8.2.1/{n}", f"{_WS} (here {what}).", "x-probe", value,
                     anchor="section-8.2.1")

_CONN = ("An endpoint MUST NOT generate an HTTP/2 message containing connection-specific "
         "header fields; any message containing them MUST be treated as malformed")
for n, (name, value, h2spec) in enumerate([
        ("connection", "keep-alive", ("http2/8.1.2.2/1",)),
        ("keep-alive", "timeout=5", ()),
        ("proxy-connection", "keep-alive", ()),
        ("transfer-encoding", "chunked", ()),
        ("upgrade", "websocket", ()),
], start=1):
    _malformed_field(f"rfc9113/8.2.2/{n}", f"{_CONN} (here {name}: {value}).", name, value,
                     h2spec=h2spec, anchor="section-8.2.2",
                     method="POST" if name == "transfer-encoding" else "GET")

_TE = ("The TE header field MAY be present in an HTTP/2 request; when it is, it MUST NOT "
       "contain any value other than \"trailers\" (a request that does is malformed)")
_malformed_field("rfc9113/8.2.2/6", f"{_TE} (here gzip).", "te", "gzip",
                 h2spec=("http2/8.1.2.2/2",), anchor="section-8.2.2")
_malformed_field("rfc9113/8.2.2/7", f"{_TE} (here \"trailers, deflate\").", "te",
                 "trailers, deflate", anchor="section-8.2.2")


@h2_probe("rfc9113/8.2.2/8", level=Level.MAY, requirement=_TE + " — \"te: trailers\" is valid.",
          conforming="the request with te: trailers is answered with success",
          anchor="section-8.2.2")
def te_trailers_accepted(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(1, extra=[("te", "trailers")])
    return h2.expect_response(1)


_CONN_NAMES = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}


def _response(ctx: ProbeContext, method: str = "GET"):
    h2 = started(ctx)
    h2.send_request(1, method)
    resp = h2.wait_response(1)
    return h2, resp


@h2_probe("rfc9113/8.2.2/9", level=Level.MUST_NOT,
          requirement="An endpoint MUST NOT generate an HTTP/2 message containing "
                      "connection-specific header fields (the server's response).",
          conforming="the response has none of connection, keep-alive, proxy-connection, "
                     "transfer-encoding, upgrade", anchor="section-8.2.2")
def response_no_connection_fields(ctx: ProbeContext) -> Verdict:
    h2, resp = _response(ctx)
    if resp.status is None:
        return h2._no_response(1)
    bad = [n for n, _ in resp.headers if n in _CONN_NAMES]
    if bad:
        return Verdict.failed(f"the response carries {bad}", h2.seen())
    return Verdict.passed(f"{len(resp.headers)} fields, none connection-specific")


@h2_probe("rfc9113/8.2/1", level=Level.MUST,
          requirement="Field names MUST be converted to lowercase when constructing an HTTP/2 "
                      "message, and must be valid: the server's response has lowercase, valid "
                      "field names and values.",
          conforming="every response field name is lowercase without forbidden characters; "
                     "values have no NUL/CR/LF and no leading or trailing whitespace",
          anchor="section-8.2")
def response_fields_valid(ctx: ProbeContext) -> Verdict:
    h2, resp = _response(ctx)
    if resp.status is None:
        return h2._no_response(1)
    bad = []
    for name, value in resp.headers:
        plain = name[1:] if name.startswith(":") else name
        if any(c <= " " or "A" <= c <= "Z" or c >= "\x7f" or c == ":" for c in plain):
            bad.append(f"name {name!r}")
        if any(c in value for c in "\0\r\n") or value[:1] in (" ", "\t") or value[-1:] in (" ", "\t"):
            bad.append(f"value of {name}: {value!r}")
    if bad:
        return Verdict.failed("; ".join(bad), h2.seen())
    return Verdict.passed(f"{len(resp.headers)} valid fields")
