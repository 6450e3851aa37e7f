"""RFC 9110 as a server shows it over HTTP/1.1: HEAD, 304, Expect: 100-continue and 1xx,
the Date and Server fields."""

from __future__ import annotations

import re
import time

from conformance.probes.http1._judge import H1, answers, statuses, success
from conformance.probes.http1._wire import (
    SILENT,
    Response,
    describe,
    open_exchange,
    request,
    send_one,
)
from conformance.probes.model import Level, Verdict, probe

# RFC 9110 §5.6.7: IMF-fixdate = day-name "," SP date1 SP time-of-day SP GMT
_IMF_FIXDATE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|"
                          r"Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$")
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_PRODUCT = re.compile(rf"^{_TOKEN}(/{_TOKEN})?$")


@probe("rfc9110/9.3.2/1", level=Level.MUST_NOT, transports=H1,
       requirement="The HEAD method is identical to GET except that the server MUST NOT send "
                   "content in the response.",
       conforming="HEAD then GET pipelined: the GET's status line follows the HEAD's header "
                  "section directly")
def head_has_no_content(ctx):
    ex = open_exchange(ctx)
    ex.send(request("HEAD", ctx=ctx) + request(ctx=ctx))
    head, _ = ex.final(head_only=True)
    if not isinstance(head, Response):
        return Verdict.undecided(f"no answer to HEAD: {head}")
    nxt = ex.read()
    if isinstance(nxt, Response) and nxt.version != "?" and success(nxt):
        return Verdict.passed()
    return Verdict.failed(f"after the HEAD answer: {describe(nxt)} (content was sent?)")


@probe("rfc9110/8.6/3", level=Level.MUST_NOT, transports=H1,
       requirement="A server MUST NOT send Content-Length in a response to HEAD unless its field "
                   "value equals the decimal number of octets that would have been sent in the "
                   "content of a response if the same request had used the GET method.",
       conforming="no Content-Length on the HEAD answer, or the GET body's length")
def head_content_length_matches_get(ctx):
    ex = open_exchange(ctx)
    ex.send(request("HEAD", ctx=ctx) + request(ctx=ctx))
    got = answers(ex, 2, head_only=(0,))
    if len(got) != 2 or not all(success(g) for g in got):
        return Verdict.undecided(statuses(got))
    head, get = got
    length = head.get("content-length")
    if length is None or length.strip() == str(len(get.body)):
        return Verdict.passed()
    return Verdict.failed(f"HEAD says Content-Length {length}, GET sent {len(get.body)} octets")


@probe("rfc9110/9.3.2/2", level=Level.SHOULD, transports=H1,
       requirement="The server SHOULD send the same header fields in response to a HEAD "
                   "request as it would have sent if the request method had been GET (it MAY "
                   "omit fields determined only while generating the content, such as "
                   "Content-Length).",
       conforming="the HEAD answer has the GET answer's Content-Type")
def head_fields_like_get(ctx):
    ex = open_exchange(ctx)
    ex.send(request("HEAD", ctx=ctx) + request(ctx=ctx))
    got = answers(ex, 2, head_only=(0,))
    if len(got) != 2 or not all(success(g) for g in got):
        return Verdict.undecided(statuses(got))
    head, get = got
    missing = [n for n in ("content-type",)
               if get.get(n) is not None and head.get(n) != get.get(n)]
    if missing:
        return Verdict.failed(f"differs from GET in {missing}: HEAD "
                              f"{[(n, head.get(n)) for n in missing]}")
    return Verdict.passed()


@probe("rfc9110/15.4.5/1", level=Level.MUST, transports=H1,
       requirement="A 304 (Not Modified) response is terminated by the end of the header "
                   "section; it cannot contain content or trailers.",
       conforming="GET with If-None-Match of the resource's ETag: the 304 has no content (the "
                  "next pipelined answer follows its header section)")
def not_modified_has_no_content(ctx):
    _, first = send_one(ctx, request(ctx=ctx))
    if not success(first):
        return Verdict.undecided(f"GET: {describe(first)}")
    etag, modified = first.get("etag"), first.get("last-modified")
    if not etag and not modified:
        return Verdict.not_applicable("the route sends neither ETag nor Last-Modified")
    cond = ("If-None-Match", etag) if etag else ("If-Modified-Since", modified)
    ex = open_exchange(ctx)
    ex.send(request(ctx=ctx, headers=[cond]) + request(ctx=ctx))
    got = ex.read()
    if not isinstance(got, Response) or got.status != 304:
        return Verdict.not_applicable(f"the conditional GET got {describe(got)}, not 304")
    nxt = ex.read()
    if success(nxt):
        return Verdict.passed()
    return Verdict.failed(f"after the 304: {describe(nxt)} (content was sent?)")


def _expect(ctx, version: str = "HTTP/1.1") -> bytes:
    return request("POST", ctx=ctx, version=version,
                   headers=[("Expect", "100-continue"), ("Content-Length", "5")])


@probe("rfc9110/10.1.1/1", level=Level.MUST, transports=H1,
       requirement="An origin server MUST, upon receiving an HTTP/1.1 request that has a "
                   "complete header section containing a 100-continue expectation and an "
                   "indication that request content will follow, either send an immediate "
                   "response with a final status code or send an immediate 100 (Continue) "
                   "response; it MUST NOT wait for the content before sending the 100.",
       conforming="100 (then, once the body is sent, the final answer) or an immediate final "
                  "answer, while the client has not sent the body")
def expect_100_continue(ctx):
    ex = open_exchange(ctx)
    ex.send(_expect(ctx))
    got = ex.read()
    if got is SILENT:
        return Verdict.failed("neither 100 nor a final answer before the body was sent")
    if not isinstance(got, Response):
        return Verdict.failed(describe(got))
    if got.status != 100:
        return Verdict.passed(f"an immediate final answer: {describe(got)}")
    ex.send(b"hello")
    final, _ = ex.final()
    if success(final):
        return Verdict.passed("100, then the final answer")
    return Verdict.failed(f"after 100 and the body: {describe(final)}")


@probe("rfc9110/8.6/4", level=Level.MUST_NOT, transports=H1,
       requirement="A server MUST NOT send a Content-Length header field in any response with "
                   "a status code of 1xx (Informational) or 204 (No Content).",
       conforming="the 100 (Continue) carries no Content-Length", anchor="section-8.6")
def no_content_length_on_100(ctx):
    return _interim_field(ctx, "content-length")


@probe("rfc9112/6.1/4", level=Level.MUST_NOT, transports=H1,
       requirement="A server MUST NOT send a Transfer-Encoding header field in any response "
                   "with a status code of 1xx (Informational) or 204 (No Content).",
       conforming="the 100 (Continue) carries no Transfer-Encoding")
def no_transfer_encoding_on_100(ctx):
    return _interim_field(ctx, "transfer-encoding")


def _interim_field(ctx, name: str) -> Verdict:
    ex = open_exchange(ctx)
    ex.send(_expect(ctx))
    got = ex.read()
    if not isinstance(got, Response):
        return Verdict.undecided(f"no answer before the body: {describe(got)}")
    if got.status != 100:
        return Verdict.not_applicable(f"no 100 (Continue) sent: {describe(got)}")
    if got.get(name) is not None:
        return Verdict.failed(f"the 100 carries {name}: {got.get(name)}")
    return Verdict.passed()


@probe("rfc9110/15.2/1", level=Level.MUST_NOT, transports=H1,
       requirement="A server MUST NOT send a 1xx response to an HTTP/1.0 client (and MUST "
                   "ignore a 100-continue expectation in an HTTP/1.0 request, §10.1.1).",
       conforming="the final answer to an HTTP/1.0 POST with Expect: 100-continue, no 100")
def no_1xx_to_http10(ctx):
    ex = open_exchange(ctx)
    ex.send(_expect(ctx, "HTTP/1.0") + b"hello")
    got, interim = ex.final()
    if interim:
        return Verdict.failed(f"sent {describe(interim[0])} to an HTTP/1.0 client")
    if not isinstance(got, Response):
        return Verdict.undecided(f"no answer: {got}")
    return Verdict.passed(describe(got))


@probe("rfc9110/10.1.1/2", level=Level.MUST, transports=H1,
       requirement="A client may send the content without waiting for 100 (Continue); the "
                   "server reads it as the request's content, and a pipelined request after "
                   "it is answered in turn.",
       conforming="two 2xx answers (an interim 100 before the first is fine)")
def expect_with_body_already_sent(ctx):
    ex = open_exchange(ctx)
    ex.send(_expect(ctx) + b"hello" + request(ctx=ctx))
    got = answers(ex, 2)
    if len(got) == 2 and all(success(g) for g in got):
        return Verdict.passed()
    return Verdict.failed(statuses(got))


@probe("rfc9110/6.6.1/1", level=Level.MUST, transports=H1,
       requirement="An origin server with a clock MUST generate a Date header field in all 2xx "
                   "(Successful), 3xx (Redirection), and 4xx (Client Error) responses.",
       conforming="Date on the 2xx answer to GET and on the 400 answer to a request without Host")
def date_on_2xx_and_4xx(ctx):
    for raw in (request(ctx=ctx), request(ctx=ctx, host=None)):
        _, got = send_one(ctx, raw)
        if not isinstance(got, Response):
            return Verdict.undecided(f"no answer: {got}")
        if 200 <= got.status < 500 and got.get("date") is None:
            return Verdict.failed(f"no Date on {describe(got)}")
    return Verdict.passed()


@probe("rfc9110/5.6.7/1", level=Level.MUST, transports=H1,
       requirement="A sender that generates an HTTP-date value MUST generate it in the "
                   "IMF-fixdate format (\"Sun, 06 Nov 1994 08:49:37 GMT\"), and it is the "
                   "current time (Date, §6.6.1).",
       conforming="Date in IMF-fixdate, within a minute of the probe's clock")
def date_is_imf_fixdate(ctx):
    _, got = send_one(ctx, request(ctx=ctx))
    if not isinstance(got, Response) or got.get("date") is None:
        return Verdict.not_applicable(f"no Date to check: {describe(got)}")
    value = got.get("date")
    if not _IMF_FIXDATE.match(value):
        return Verdict.failed(f"Date {value!r} is not IMF-fixdate")
    from email.utils import parsedate_to_datetime

    skew = abs(parsedate_to_datetime(value).timestamp() - time.time())
    if skew > 60:
        return Verdict.failed(f"Date {value!r} is {skew:.0f} s from the current time")
    return Verdict.passed(value)


@probe("rfc9110/10.2.4/1", level=Level.MAY, transports=H1,
       requirement="An origin server MAY generate a Server header field in its responses; "
                   "Server = product *( RWS ( product / comment ) ).",
       conforming="no Server field, or one that starts with a product token")
def server_field_syntax(ctx):
    _, got = send_one(ctx, request(ctx=ctx))
    if not isinstance(got, Response):
        return Verdict.undecided(f"no answer: {got}")
    value = got.get("server")
    if value is None:
        return Verdict.passed("no Server field")
    first = value.split()[0] if value.split() else ""
    if _PRODUCT.match(first):
        return Verdict.passed(value)
    return Verdict.failed(f"Server {value!r} does not start with a product token")
