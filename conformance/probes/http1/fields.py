"""RFC 9112 §5 and RFC 9110 §5: field lines — syntax, obs-fold, invalid octets, limits."""

from __future__ import annotations

from conformance.probes.http1._judge import H1, answers, statuses, success
from conformance.probes.http1._wire import (
    CLOSED,
    CRLF,
    SILENT,
    Response,
    describe,
    open_exchange,
    request,
    send_one,
)
from conformance.probes.model import Level, Verdict, probe


def _with_line(ctx, line: bytes) -> bytes:
    head = request(ctx=ctx)
    return head[:-2] + line + CRLF + CRLF


@probe("rfc9112/5.1/1", level=Level.MUST, transports=H1,
       requirement="No whitespace is allowed between the field name and colon: a server MUST "
                   "reject, with a response status code of 400 (Bad Request), any received "
                   "request message that contains whitespace between a header field name and "
                   "colon.",
       conforming="400")
def space_before_colon(ctx):
    _, got = send_one(ctx, _with_line(ctx, b"X-Probe : 1"))
    if isinstance(got, Response) and got.status == 400:
        return Verdict.passed(describe(got))
    return Verdict.failed(f"{describe(got)}, not 400")


@probe("rfc9112/5.1/2", level=Level.MUST, transports=H1,
       requirement="A server MUST reject with 400 a request with whitespace between a field "
                   "name and colon — also a tab, and on a framing field (Content-Length\\t:).",
       conforming="400")
def tab_before_colon_on_content_length(ctx):
    raw = request("POST", ctx=ctx)[:-2] + b"Content-Length\t: 5" + CRLF + CRLF + b"hello"
    _, got = send_one(ctx, raw)
    if isinstance(got, Response) and got.status == 400:
        return Verdict.passed(describe(got))
    return Verdict.failed(f"{describe(got)}, not 400")


@probe("rfc9112/5.2/1", level=Level.MUST, transports=H1,
       requirement="A server that receives an obs-fold in a request message MUST either reject "
                   "the message by sending a 400 (Bad Request) or replace each received obs-fold "
                   "with one or more SP octets prior to interpreting the field value.",
       conforming="400, or both pipelined requests answered 2xx (the fold joined: "
                  "Content-Length 5)")
def obs_fold(ctx):
    raw = (request("POST", ctx=ctx)[:-2] + b"Content-Length:" + CRLF + b" 5" + CRLF + CRLF
           + b"hello")
    ex = open_exchange(ctx)
    ex.send(raw + request(ctx=ctx))
    got = answers(ex, 2)
    if isinstance(got[0], Response) and got[0].status == 400:
        return Verdict.passed(describe(got[0]))
    if len(got) == 2 and all(success(g) for g in got):
        return Verdict.passed("the fold was replaced by SP")
    return Verdict.failed(statuses(got))


@probe("rfc9110/5.5/1", level=Level.MUST, transports=H1,
       requirement="Field values containing CR, LF, or NUL characters are invalid and "
                   "dangerous; a recipient of NUL within a field value MUST either reject the "
                   "message or replace each of those characters with SP before further "
                   "processing.",
       conforming="400 (or closed), or 2xx (replaced); never a 5xx or silence")
def nul_in_field_value(ctx):
    _, got = send_one(ctx, request(ctx=ctx, headers=[("X-Probe", "a\x00b")]))
    if got is CLOSED or (isinstance(got, Response) and (success(got) or got.status == 400)):
        return Verdict.passed(describe(got))
    return Verdict.failed(describe(got))


@probe("rfc9110/5.1/1", level=Level.SHOULD, transports=H1,
       requirement="A field name is a token; a field line whose name holds a delimiter "
                   "(\"X(Probe\") does not match the grammar and SHOULD get 400 (RFC 9112 §2.2).",
       conforming="400")
def field_name_not_a_token(ctx):
    _, got = send_one(ctx, _with_line(ctx, b"X(Probe: 1"))
    if isinstance(got, Response) and got.status == 400:
        return Verdict.passed(describe(got))
    return Verdict.failed(f"{describe(got)}, not 400")


@probe("rfc9112/5/1", level=Level.SHOULD, transports=H1,
       requirement="A field line is field-name \":\" OWS field-value OWS; a line without a "
                   "colon does not match the grammar and SHOULD get 400 (RFC 9112 §2.2).",
       conforming="400")
def field_line_without_colon(ctx):
    _, got = send_one(ctx, _with_line(ctx, b"X-Probe-No-Colon"))
    if isinstance(got, Response) and got.status == 400:
        return Verdict.passed(describe(got))
    return Verdict.failed(f"{describe(got)}, not 400")


@probe("rfc9112/5/2", level=Level.SHOULD, transports=H1,
       requirement="A field name is a token of at least one character; \": value\" does not "
                   "match the grammar and SHOULD get 400.",
       conforming="400")
def empty_field_name(ctx):
    _, got = send_one(ctx, _with_line(ctx, b": value"))
    if isinstance(got, Response) and got.status == 400:
        return Verdict.passed(describe(got))
    return Verdict.failed(f"{describe(got)}, not 400")


def _too_large(got, what: str):
    if isinstance(got, Response) and (400 <= got.status < 500 or success(got)):
        return Verdict.passed(describe(got) + (" (431 preferred, RFC 6585)" if got.status
                                               not in (431,) and got.status >= 400 else ""))
    if got is SILENT:
        return Verdict.failed(f"silent after {what}")
    return Verdict.failed(f"{describe(got)} for {what}; the RFC asks for a 4xx")


@probe("rfc9110/5.4/1", level=Level.MUST, transports=H1,
       requirement="A server that receives a request header field line, field value, or set "
                   "of fields larger than it wishes to process MUST respond with an appropriate "
                   "4xx (Client Error) status code.",
       conforming="a 4xx (431 preferred), or 2xx when it accepts a 256 KiB field")
def huge_field_value(ctx):
    _, got = send_one(ctx, request(ctx=ctx, headers=[("X-Probe", "a" * 262_144)]))
    return _too_large(got, "a 256 KiB field value")


@probe("rfc9110/5.4/2", level=Level.MUST, transports=H1,
       requirement="A server that receives a set of fields larger than it wishes to process "
                   "MUST respond with an appropriate 4xx (Client Error) status code.",
       conforming="a 4xx (431 preferred), or 2xx when it accepts 10 000 field lines")
def many_fields(ctx):
    fields = [(f"X-P{i}", "v") for i in range(10_000)]
    _, got = send_one(ctx, request(ctx=ctx, headers=fields))
    return _too_large(got, "10 000 field lines")


@probe("rfc9112/2.2/6", level=Level.MUST, transports=H1,
       requirement="HTTP-message = start-line CRLF *( field-line CRLF ) CRLF: the server's "
                   "response head uses CRLF line ends and well-formed field lines "
                   "(no whitespace around field names, no CR/LF/NUL in values).",
       conforming="an answer to GET without syntax problems")
def response_head_syntax(ctx):
    _, got = send_one(ctx, request(ctx=ctx))
    if not isinstance(got, Response):
        return Verdict.undecided(f"no answer to GET: {got}")
    if got.problems:
        return Verdict.failed("; ".join(got.problems))
    return Verdict.passed()


@probe("rfc9112/4/1", level=Level.MUST, transports=H1,
       requirement="status-line = HTTP-version SP status-code SP [ reason-phrase ]; a server "
                   "MUST send the space that separates the status-code from the reason-phrase "
                   "even when the reason-phrase is absent.",
       conforming="\"HTTP/1.1 NNN \" on the answers to GET and to a bad request")
def status_line_syntax(ctx):
    for raw in (request(ctx=ctx), request(ctx=ctx, host=None)):
        _, got = send_one(ctx, raw)
        if not isinstance(got, Response):
            return Verdict.undecided(f"no answer: {got}")
        if got.version == "?" or any("status" in p for p in got.problems):
            return Verdict.failed(f"status line {got.head.splitlines()[0]!r}")
    return Verdict.passed()
