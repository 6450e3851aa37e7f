"""RFC 9112 §2.2–§3 and RFC 9110 §2.5 / §6.2: message parsing, the request line, HTTP
versions and request-target forms, as a server shows them on the wire."""

from __future__ import annotations

from conformance.probes.http1._judge import H1, should_400, success
from conformance.probes.http1._wire import CLOSED, SILENT, Response, describe, request, send_one
from conformance.probes.model import Level, Verdict, probe


def _ok(ctx, raw: bytes, why: str) -> Verdict:
    _, got = send_one(ctx, raw)
    if success(got):
        return Verdict.passed(describe(got))
    return Verdict.failed(f"{why}: {describe(got)}")


@probe("rfc9112/2.2/1", level=Level.SHOULD, transports=H1,
       requirement="A server that is expecting to receive and parse a request-line SHOULD "
                   "ignore at least one empty line (CRLF) received prior to the request-line.",
       conforming="the request after the empty line answered 2xx")
def empty_line_before_request(ctx):
    return _ok(ctx, b"\r\n" + request(ctx=ctx), "the empty line was not ignored")


@probe("rfc9112/2.2/2", level=Level.MAY, transports=H1,
       requirement="A recipient MAY recognize a single LF as a line terminator and ignore "
                   "any preceding CR; otherwise the message is invalid (400).",
       conforming="2xx (LF recognised) or 400 (rejected); never silence")
def bare_lf_line_ends(ctx):
    raw = request(ctx=ctx).replace(b"\r\n", b"\n")
    _, got = send_one(ctx, raw)
    if isinstance(got, Response) and (success(got) or got.status == 400):
        return Verdict.passed(describe(got))
    return Verdict.failed(f"neither processed nor rejected: {describe(got)}")


@probe("rfc9112/2.2/3", level=Level.MUST, transports=H1,
       requirement="A recipient of a bare CR (not followed by LF) MUST consider that element "
                   "invalid or replace each bare CR with SP before processing it — it is "
                   "never a line terminator.",
       conforming="400 (or closed) for the request, or both pipelined requests answered 2xx "
                  "(the CR replaced)")
def bare_cr_is_not_a_line_end(ctx):
    # Were the bare CR a line end, "Content-Length: 3" would become a field and swallow
    # "GET" of the next request, whose remains then fail to parse.
    first = request(ctx=ctx, headers=[("X-Probe", "a\rContent-Length: 3")])
    ex, got = send_one(ctx, first + request(ctx=ctx))
    if got is CLOSED or (isinstance(got, Response) and got.status == 400):
        return Verdict.passed(f"rejected: {describe(got)}")
    if not success(got):
        return Verdict.failed(f"first request: {describe(got)}")
    second, _ = ex.final()
    if success(second):
        return Verdict.passed("both answered: the bare CR was not a line end")
    return Verdict.failed(f"the second request was mis-framed: {describe(second)} — the bare "
                          "CR was taken as a line end")


@probe("rfc9112/2.2/4", level=Level.MUST, transports=H1,
       requirement="A recipient that receives whitespace between the start-line and the first "
                   "header field MUST either reject the message as invalid or consume each "
                   "whitespace-preceded line without further processing of it.",
       conforming="400 (or closed), or 2xx with the indented line ignored")
def whitespace_line_after_request_line(ctx):
    # The indented line announces a chunked body that never comes: a server that
    # processed it waits for chunks (silent) instead of answering.
    target = ctx.target.path
    raw = (f"GET {target} HTTP/1.1\r\n Transfer-Encoding: chunked\r\n"
           f"Host: {ctx.target.authority}\r\n\r\n").encode()
    _, got = send_one(ctx, raw)
    if got is CLOSED or (isinstance(got, Response) and (got.status == 400 or success(got))):
        return Verdict.passed(describe(got))
    if got is SILENT:
        return Verdict.failed("silent: the indented Transfer-Encoding line was processed "
                              "(waiting for a chunked body)")
    return Verdict.failed(describe(got))


@probe("rfc9112/2.2/5", level=Level.SHOULD, transports=H1,
       requirement="A server that receives a sequence of octets that does not match the "
                   "HTTP-message grammar SHOULD respond with 400 (Bad Request) and close the "
                   "connection.",
       conforming="400, then the connection closed")
def garbage_is_400_and_close(ctx):
    from conformance.probes.http1._judge import rejected_and_closed

    # plain text, not a TLS ClientHello a server may recognise and drop on sight
    ex, got = send_one(ctx, b"this is not an HTTP request\r\n\r\n")
    return rejected_and_closed(ex, got)


@probe("rfc9112/2.3/1", level=Level.SHOULD, transports=H1,
       requirement="HTTP-name is case-sensitive (\"HTTP\"); recipients of an invalid "
                   "request-line SHOULD respond with 400 (or a 301 redirect).",
       conforming="400 (or 301)", anchor="section-2.3")
def lowercase_http_name(ctx):
    _, got = send_one(ctx, request(ctx=ctx, version="http/1.1"))
    return should_400(got, also=(301,))


@probe("rfc9112/2.3/2", level=Level.SHOULD, transports=H1,
       requirement="HTTP-version is HTTP-name \"/\" DIGIT \".\" DIGIT; a request-line with "
                   "another version syntax is invalid and SHOULD get 400.",
       conforming="400 (or 301)")
def version_without_minor(ctx):
    _, got = send_one(ctx, request(ctx=ctx, version="HTTP/1."))
    return should_400(got, also=(301,))


@probe("rfc9110/2.5/1", level=Level.SHOULD, transports=H1,
       requirement="A recipient that receives a message with a major version number that it "
                   "implements and a minor version number higher than what it implements "
                   "SHOULD process the message as if it were in the highest minor version "
                   "within that major version to which the recipient is conformant.",
       conforming="HTTP/1.2 answered like HTTP/1.1 (2xx)")
def higher_minor_version_processed(ctx):
    return _ok(ctx, request(ctx=ctx, version="HTTP/1.2"), "HTTP/1.2 was not processed as 1.1")


@probe("rfc9110/6.2/1", level=Level.MAY, transports=H1,
       requirement="A server can send a 505 (HTTP Version Not Supported) response to refuse "
                   "service of the client's major protocol version.",
       conforming="505 (or 400) for HTTP/3.0 in an HTTP/1 request-line; processing it as "
                  "HTTP/1.1 fails", anchor="section-6.2")
def unknown_major_version(ctx):
    _, got = send_one(ctx, request(ctx=ctx, version="HTTP/3.0"))
    if isinstance(got, Response) and got.status in (505, 400):
        return Verdict.passed(describe(got))
    return Verdict.failed(f"{describe(got)}: an unknown major version was not refused")


@probe("rfc9110/6.2/2", level=Level.SHOULD, transports=H1,
       requirement="A server SHOULD send a response version equal to the highest version to "
                   "which the server is conformant that has a major version less than or "
                   "equal to the one received in the request.",
       conforming="the answer to an HTTP/1.0 request says HTTP/1.1")
def response_version_to_http10(ctx):
    _, got = send_one(ctx, request(ctx=ctx, version="HTTP/1.0"))
    if not isinstance(got, Response):
        return Verdict.undecided(f"no answer to an HTTP/1.0 request: {got}")
    if got.version == "1.1":
        return Verdict.passed(describe(got))
    return Verdict.failed(f"answered with HTTP/{got.version}")


@probe("rfc9112/3/1", level=Level.SHOULD, transports=H1,
       requirement="It is RECOMMENDED that all HTTP senders and recipients support, at a "
                   "minimum, request-line lengths of 8000 octets.",
       conforming="a request-line of 8000 octets answered 2xx")
def request_line_of_8000_octets(ctx):
    base = ctx.target.path
    sep = "&" if "?" in base else "?"
    pad = 8000 - len(f"GET {base}{sep}p= HTTP/1.1")
    return _ok(ctx, request(ctx=ctx, target=f"{base}{sep}p={'a' * pad}"),
               "an 8000-octet request-line was refused")


@probe("rfc9112/3/2", level=Level.MUST, transports=H1,
       requirement="A server that receives a request-target longer than any URI it wishes to "
                   "parse MUST respond with a 414 (URI Too Long) status code.",
       conforming="414, or 2xx (the server parses targets that long)")
def long_target_is_414(ctx):
    base = ctx.target.path
    sep = "&" if "?" in base else "?"
    _, got = send_one(ctx, request(ctx=ctx, target=f"{base}{sep}p={'a' * 200_000}"))
    if isinstance(got, Response) and (got.status == 414 or success(got)):
        return Verdict.passed(describe(got))
    return Verdict.failed(f"a 200 kB request-target got {describe(got)}, not 414")


@probe("rfc9112/3/3", level=Level.SHOULD, transports=H1,
       requirement="Recipients of an invalid request-line SHOULD respond with either a 400 "
                   "(Bad Request) error or a 301 (Moved Permanently) redirect; they SHOULD NOT "
                   "autocorrect and process it (here: a space inside the target).",
       conforming="400 or 301")
def space_inside_target(ctx):
    _, got = send_one(ctx, request(ctx=ctx, target="/a b"))
    return should_400(got, also=(301,))


@probe("rfc9112/3/4", level=Level.MAY, transports=H1,
       requirement="Recipients MAY parse the request-line on whitespace-delimited word "
                   "boundaries (two SP between method and target), or reject it.",
       conforming="2xx or 400; never silence")
def double_space_separator(ctx):
    raw = request(ctx=ctx).replace(b" ", b"  ", 1)
    _, got = send_one(ctx, raw)
    if isinstance(got, Response) and (success(got) or got.status in (400, 301)):
        return Verdict.passed(describe(got))
    return Verdict.failed(describe(got))


@probe("rfc9112/3/5", level=Level.SHOULD, transports=H1,
       requirement="The method is a token; a request-line whose method holds a delimiter "
                   "(\"G(T\") is invalid and SHOULD get 400.",
       conforming="400 (or 301)")
def method_not_a_token(ctx):
    _, got = send_one(ctx, request("G(T", ctx=ctx))
    return should_400(got, also=(301, 501))


@probe("rfc9112/3.2/1", level=Level.MUST, transports=H1,
       requirement="A server MUST respond with a 400 (Bad Request) status code to any "
                   "HTTP/1.1 request message that lacks a Host header field.",
       conforming="400")
def missing_host(ctx):
    _, got = send_one(ctx, request(ctx=ctx, host=None))
    return _exactly_400(got)


@probe("rfc9112/3.2/2", level=Level.MUST, transports=H1,
       requirement="A server MUST respond with a 400 (Bad Request) status code to any "
                   "request message that contains more than one Host header field line.",
       conforming="400")
def doubled_host(ctx):
    raw = request(ctx=ctx, headers=[("Host", ctx.target.authority)])
    _, got = send_one(ctx, raw)
    return _exactly_400(got)


@probe("rfc9112/3.2/3", level=Level.MUST, transports=H1,
       requirement="A server MUST respond with a 400 (Bad Request) status code to any "
                   "request message that contains a Host header field with an invalid field "
                   "value (here a space inside the host).",
       conforming="400")
def host_with_space(ctx):
    _, got = send_one(ctx, request(ctx=ctx, host="exa mple.com"))
    return _exactly_400(got)


@probe("rfc9112/3.2/4", level=Level.MUST, transports=H1,
       requirement="A server MUST respond with 400 (Bad Request) to a Host header field with "
                   "an invalid field value (here a port that is not digits).",
       conforming="400")
def host_with_bad_port(ctx):
    _, got = send_one(ctx, request(ctx=ctx, host=f"{ctx.target.host}:8o"))
    return _exactly_400(got)


@probe("rfc9112/3.2/5", level=Level.MUST, transports=H1,
       requirement="A server MUST respond with 400 (Bad Request) to a Host header field with "
                   "an invalid field value (here a host with a '/' and a userinfo '@').",
       conforming="400")
def host_with_path_and_userinfo(ctx):
    _, got = send_one(ctx, request(ctx=ctx, host=f"user@{ctx.target.authority}/x"))
    return _exactly_400(got)


def _exactly_400(got) -> Verdict:
    if isinstance(got, Response) and got.status == 400:
        return Verdict.passed(describe(got))
    return Verdict.failed(f"{describe(got)}, not 400")


def _absolute(ctx) -> str:
    scheme = "https" if ctx.tls else "http"
    return f"{scheme}://{ctx.target.authority}{ctx.target.path}"


@probe("rfc9112/3.2.2/1", level=Level.MUST, transports=H1,
       requirement="A server MUST accept the absolute-form in requests even though most "
                   "HTTP/1.1 clients will only send the absolute-form to a proxy.",
       conforming="2xx")
def absolute_form_accepted(ctx):
    return _ok(ctx, request(ctx=ctx, target=_absolute(ctx)), "absolute-form refused")


@probe("rfc9112/3.2.2/2", level=Level.MUST, transports=H1,
       requirement="When an origin server receives a request with an absolute-form of "
                   "request-target, the origin server MUST ignore the received Host header "
                   "field (if any) and instead use the host information of the request-target.",
       conforming="2xx although Host names another host")
def absolute_form_overrides_host(ctx):
    return _ok(ctx, request(ctx=ctx, target=_absolute(ctx), host="other.example"),
               "the Host field was not ignored for an absolute-form target")


@probe("rfc9112/3.2.3/1", level=Level.SHOULD, transports=H1,
       requirement="The authority-form is only used for CONNECT requests; a GET in "
                   "authority-form has an invalid request-line (400 or 301).",
       conforming="400 (or 301)")
def authority_form_without_connect(ctx):
    _, got = send_one(ctx, request(ctx=ctx, target=ctx.target.authority))
    return should_400(got, also=(301,))


@probe("rfc9112/3.2.4/1", level=Level.SHOULD, transports=H1,
       requirement="The asterisk-form is only used for a server-wide OPTIONS request; a GET "
                   "with target \"*\" has an invalid request-line (400 or 301).",
       conforming="400 (or 301)")
def asterisk_form_without_options(ctx):
    _, got = send_one(ctx, request(ctx=ctx, target="*"))
    return should_400(got, also=(301,))


@probe("rfc9112/3.2.4/2", level=Level.MAY, transports=H1,
       requirement="OPTIONS * (asterisk-form) is a valid request for the server as a whole.",
       conforming="a final status other than 400 (it is a valid request)")
def options_asterisk_answered(ctx):
    _, got = send_one(ctx, request("OPTIONS", ctx=ctx, target="*"))
    if isinstance(got, Response) and got.status != 400 and got.status >= 200:
        return Verdict.passed(describe(got))
    return Verdict.failed(f"OPTIONS * got {describe(got)}")
