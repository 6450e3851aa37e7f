"""RFC 9112 §6 and RFC 9110 §8.6: message body length — Content-Length, Transfer-Encoding
and the request-smuggling family (both at once, duplicates, invalid values, overflow)."""

from __future__ import annotations

import socket

from conformance.probes.http1._judge import (
    H1,
    answers,
    rejected_and_closed,
    statuses,
    success,
)
from conformance.probes.http1._wire import (
    CLOSED,
    SILENT,
    Response,
    describe,
    open_exchange,
    request,
    send_one,
)
from conformance.probes.model import Level, Verdict, probe


#: A complete request hidden in a body: answered only by a server that mis-frames.
def _smuggled(ctx) -> bytes:
    return request(ctx=ctx, target=ctx.target.path + ("&" if "?" in ctx.target.path else "?")
                   + "smuggled=1")


def _post(ctx, fields: list[tuple[str, str]], body: bytes) -> bytes:
    return request("POST", ctx=ctx, headers=fields, body=body, content_length=False)


def _bad_length(ctx, fields: list[tuple[str, str]], body: bytes = b"hello") -> Verdict:
    """RFC 9112 §6.3 item 5: an invalid Content-Length is an unrecoverable error → 400, close."""
    ex, got = send_one(ctx, _post(ctx, fields, body))
    return rejected_and_closed(ex, got)


@probe("rfc9112/6.1/1", level=Level.SHOULD, transports=H1,
       requirement="A server that receives a request message with a transfer coding it does "
                   "not understand SHOULD respond with 501 (Not Implemented).",
       conforming="501")
def unknown_transfer_coding(ctx):
    raw = _post(ctx, [("Transfer-Encoding", "x-probe-unknown, chunked")], b"5\r\nhello\r\n0\r\n\r\n")
    _, got = send_one(ctx, raw)
    if isinstance(got, Response) and got.status == 501:
        return Verdict.passed(describe(got))
    return Verdict.failed(f"{describe(got)}, not 501")


@probe("rfc9112/6.1/2", level=Level.MUST_NOT, transports=H1,
       requirement="A server MUST NOT send a response containing Transfer-Encoding unless the "
                   "corresponding request indicates HTTP/1.1 (or later minor revisions).",
       conforming="the answers to HTTP/1.0 GET and POST carry no Transfer-Encoding")
def no_transfer_encoding_to_http10(ctx):
    for raw in (request(ctx=ctx, version="HTTP/1.0"),
                request("POST", ctx=ctx, version="HTTP/1.0", body=b"hello")):
        _, got = send_one(ctx, raw)
        if not isinstance(got, Response):
            return Verdict.undecided(f"no answer to an HTTP/1.0 request: {got}")
        if got.get("transfer-encoding") is not None:
            return Verdict.failed(f"Transfer-Encoding: {got.get('transfer-encoding')} sent to an "
                                  "HTTP/1.0 client")
    return Verdict.passed()


@probe("rfc9112/6.1/3", level=Level.MUST, transports=H1,
       requirement="A server MAY reject a request that contains both Content-Length and "
                   "Transfer-Encoding or process it per Transfer-Encoding alone; regardless, "
                   "the server MUST close the connection after responding to such a request.",
       conforming="the connection closed after the answer")
def cl_and_te_then_close(ctx):
    body = b"5\r\nhello\r\n0\r\n\r\n"
    raw = _post(ctx, [("Content-Length", str(len(body))), ("Transfer-Encoding", "chunked")], body)
    ex, got = send_one(ctx, raw)
    if got is CLOSED:
        return Verdict.passed("closed without an answer")
    if not isinstance(got, Response):
        return Verdict.failed(describe(got))
    closed = ex.closed_after(timeout=min(ctx.timeout, 2.0))
    if closed:
        return Verdict.passed(f"{got.status}, then closed")
    return Verdict.failed(f"answered {got.status} and kept the connection "
                          + ("open" if closed is None else "sending"))


@probe("rfc9112/6.3/1", level=Level.MUST, transports=H1,
       requirement="If a message is received with both a Transfer-Encoding and a "
                   "Content-Length header field, the Transfer-Encoding overrides the "
                   "Content-Length (or the request is rejected).",
       conforming="a 4xx, or the chunked body read (and nothing after it answered as a request)")
def te_overrides_cl(ctx):
    # Framed by Content-Length (3 octets) the rest of the chunked body would be parsed as a
    # request and answered (400); framed by chunked, the one request is followed by a
    # pipelined one the server must not answer either (it closes, §6.1).
    chunked = b"5\r\nhello\r\n0\r\n\r\n"
    raw = _post(ctx, [("Content-Length", "3"), ("Transfer-Encoding", "chunked")], chunked)
    ex = open_exchange(ctx)
    ex.send(raw + _smuggled(ctx))
    got = answers(ex, 2)
    first = got[0]
    if not isinstance(first, Response):
        return Verdict.passed(f"not processed: {describe(first)}")
    if len(got) > 1 and isinstance(got[1], Response) and not success(got[1]):
        return Verdict.failed(f"answers {statuses(got)}: the rest of the chunked body was "
                              "parsed as a request (framed by Content-Length)")
    # a 2xx second answer is the pipelined request after a chunked-framed body: the
    # framing was right (keeping the connection open is rfc9112/6.1/3's concern)
    return Verdict.passed(statuses(got))


@probe("rfc9112/6.3/2", level=Level.MUST, transports=H1,
       requirement="If a Transfer-Encoding header field is present in a request and the "
                   "chunked transfer coding is not the final encoding, the server MUST respond "
                   "with 400 (Bad Request) and then close the connection.",
       conforming="400 (or 501 for a coding it does not implement, §6.1), then closed")
def chunked_not_final(ctx):
    ex, got = send_one(ctx, _post(ctx, [("Transfer-Encoding", "chunked, gzip")],
                                  b"5\r\nhello\r\n0\r\n\r\n"))
    return rejected_and_closed(ex, got, (400, 501))


@probe("rfc9112/6.3/3", level=Level.MUST, transports=H1,
       requirement="Two Transfer-Encoding lines (chunked, then gzip) combine into a list whose "
                   "final coding is not chunked: the server MUST respond with 400 and close.",
       conforming="400 (or 501), then closed")
def chunked_not_final_across_lines(ctx):
    ex, got = send_one(ctx, _post(ctx, [("Transfer-Encoding", "chunked"),
                                        ("Transfer-Encoding", "gzip")],
                                  b"5\r\nhello\r\n0\r\n\r\n"))
    return rejected_and_closed(ex, got, (400, 501))


@probe("rfc9112/6.3/4", level=Level.MUST, transports=H1,
       requirement="A request without Transfer-Encoding and with an invalid Content-Length "
                   "(not digits) is an unrecoverable error: the server MUST respond with 400 "
                   "(Bad Request) and then close the connection.",
       conforming="400, then closed")
def content_length_not_digits(ctx):
    return _bad_length(ctx, [("Content-Length", "5a")])


@probe("rfc9112/6.3/5", level=Level.MUST, transports=H1,
       requirement="A Content-Length list whose values differ (\"5, 6\") is invalid: the "
                   "server MUST respond with 400 (Bad Request) and then close the connection.",
       conforming="400, then closed")
def content_length_list_differs(ctx):
    return _bad_length(ctx, [("Content-Length", "5, 6")], b"hello!")


@probe("rfc9112/6.3/6", level=Level.MUST, transports=H1,
       requirement="Two Content-Length lines with different values make an invalid "
                   "Content-Length: the server MUST respond with 400 and then close.",
       conforming="400, then closed")
def content_length_lines_differ(ctx):
    return _bad_length(ctx, [("Content-Length", "5"), ("Content-Length", "6")], b"hello!")


@probe("rfc9112/6.3/7", level=Level.MUST, transports=H1,
       requirement="A negative Content-Length (\"-1\") is invalid: the server MUST respond "
                   "with 400 and then close the connection.",
       conforming="400, then closed")
def content_length_negative(ctx):
    return _bad_length(ctx, [("Content-Length", "-1")])


@probe("rfc9112/6.3/8", level=Level.MUST, transports=H1,
       requirement="Content-Length is 1*DIGIT; a signed value (\"+5\") is invalid: the server "
                   "MUST respond with 400 and then close the connection.",
       conforming="400, then closed")
def content_length_plus_sign(ctx):
    return _bad_length(ctx, [("Content-Length", "+5")])


@probe("rfc9112/6.3/9", level=Level.MUST, transports=H1,
       requirement="An empty Content-Length field value is invalid: the server MUST respond "
                   "with 400 and then close the connection.",
       conforming="400, then closed")
def content_length_empty(ctx):
    return _bad_length(ctx, [("Content-Length", "")])


@probe("rfc9110/8.6/1", level=Level.MAY, transports=H1,
       requirement="A recipient of a Content-Length list of identical values (\"5, 5\") MAY "
                   "either reject the message as invalid or replace the duplicated field "
                   "values with a single valid Content-Length.",
       conforming="400, or the body read as 5 octets (the next request answered too)")
def content_length_list_same(ctx):
    ex = open_exchange(ctx)
    ex.send(_post(ctx, [("Content-Length", "5, 5")], b"hello") + request(ctx=ctx))
    got = answers(ex, 2)
    if isinstance(got[0], Response) and got[0].status == 400:
        return Verdict.passed(describe(got[0]))
    if len(got) == 2 and all(success(g) for g in got):
        return Verdict.passed("processed as Content-Length: 5")
    return Verdict.failed(statuses(got))


@probe("rfc9110/8.6/2", level=Level.MUST, transports=H1,
       requirement="A recipient MUST anticipate potentially large decimal numerals and "
                   "prevent parsing errors due to integer conversion overflows.",
       conforming="400/413 or closed, or waiting for the huge body; a 2xx after 5 octets "
                  "means 2^64+5 wrapped to 5")
def content_length_overflow(ctx):
    ex, got = send_one(ctx, _post(ctx, [("Content-Length", str(2**64 + 5))], b"hello"),
                       timeout=min(ctx.timeout, 1.5))
    if success(got):
        return Verdict.failed(f"{describe(got)} after 5 body octets: the length overflowed")
    return Verdict.passed(describe(got))


@probe("rfc9112/6.2/1", level=Level.MUST_NOT, transports=H1,
       requirement="A sender MUST NOT send a Content-Length header field in any message that "
                   "contains a Transfer-Encoding header field.",
       conforming="no answer to GET or POST carries both")
def response_not_both_cl_and_te(ctx):
    for raw in (request(ctx=ctx), request("POST", ctx=ctx, body=b"hello")):
        _, got = send_one(ctx, raw)
        if not isinstance(got, Response):
            return Verdict.undecided(f"no answer: {got}")
        if got.get("content-length") is not None and got.get("transfer-encoding") is not None:
            return Verdict.failed(f"{describe(got)} with both Content-Length and Transfer-Encoding")
    return Verdict.passed()


@probe("rfc9112/6.3/10", level=Level.MUST, transports=H1,
       requirement="A request with neither Transfer-Encoding nor Content-Length has a message "
                   "body length of zero: the server answers it without waiting for a body.",
       conforming="an answer (2xx, or 411 Length Required) without the client sending more")
def no_length_means_no_body(ctx):
    _, got = send_one(ctx, request("POST", ctx=ctx))
    if isinstance(got, Response) and (success(got) or got.status == 411):
        return Verdict.passed(describe(got))
    if got is SILENT:
        return Verdict.failed("silent: waiting for a body the request does not have")
    return Verdict.failed(describe(got))


@probe("rfc9112/6.3/11", level=Level.MUST, transports=H1,
       requirement="If the sender closes the connection before the indicated number of octets "
                   "are received, the recipient MUST consider the message to be incomplete and "
                   "close the connection.",
       conforming="no 2xx, and the connection closed")
def incomplete_body_then_half_close(ctx):
    ex = open_exchange(ctx)
    ex.send(_post(ctx, [("Content-Length", "10")], b""))
    early = ex.read(timeout=min(ctx.timeout, 0.5))
    if isinstance(early, Response):
        return Verdict.not_applicable(f"the route answers before reading the body "
                                      f"({describe(early)}): completeness is not visible")
    ex.send(b"hello")
    try:
        ex.wire.sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    got = ex.read()
    if success(got):
        return Verdict.failed(f"{describe(got)}: an incomplete request was processed")
    if got is CLOSED or (isinstance(got, Response) and ex.closed_after(2.0)):
        return Verdict.passed(describe(got))
    return Verdict.failed(f"{describe(got)}; the connection was not closed")


@probe("rfc9112/6.3/12", level=Level.MUST, transports=H1,
       requirement="A Content-Length on a GET frames its body like any other (RFC 9112 §6.3): "
                   "the body is read, never parsed as the next request.",
       conforming="two answers (the GET and the request after it) — or a 4xx and the "
                  "connection closed; never an answer to the request inside the body")
def get_body_is_not_a_request(ctx):
    hidden = _smuggled(ctx)
    ex = open_exchange(ctx)
    ex.send(request(ctx=ctx, headers=[("Content-Length", str(len(hidden)))]) + hidden
            + request(ctx=ctx))
    got = answers(ex, 3, last_timeout=min(ctx.timeout, 1.0))
    if isinstance(got[0], Response) and got[0].status >= 400:
        return Verdict.passed(f"rejected: {describe(got[0])}") if len(got) == 1 or \
            not isinstance(got[1], Response) else Verdict.failed(statuses(got))
    ok = [g for g in got if isinstance(g, Response)]
    if len(ok) == 3:
        return Verdict.failed(f"three answers ({statuses(got)}): the body was taken as a request")
    if len(ok) == 2 and all(success(g) for g in ok):
        return Verdict.passed("two answers")
    return Verdict.failed(statuses(got))


@probe("rfc9112/6.3/13", level=Level.MUST, transports=H1,
       requirement="A valid Content-Length gives the body length; the bytes after it are the "
                   "next request (a POST followed by a pipelined GET).",
       conforming="two 2xx answers")
def content_length_body_then_next(ctx):
    ex = open_exchange(ctx)
    ex.send(request("POST", ctx=ctx, body=b"hello") + request(ctx=ctx))
    got = answers(ex, 2)
    if len(got) == 2 and all(success(g) for g in got):
        return Verdict.passed()
    return Verdict.failed(statuses(got))




@probe("rfc9112/6.1/5", level=Level.MUST, transports=H1,
       requirement="A server that receives an HTTP/1.0 message containing a Transfer-Encoding "
                   "header field MUST treat the message as if the framing is faulty, even if a "
                   "Content-Length is present, and close the connection after processing it.",
       conforming="an answer (or none), then the connection closed; the request pipelined "
                  "after it never answered")
def transfer_encoding_in_http10(ctx):
    raw = request("POST", ctx=ctx, version="HTTP/1.0",
                  headers=[("Transfer-Encoding", "chunked"), ("Connection", "keep-alive")],
                  body=b"5\r\nhello\r\n0\r\n\r\n", content_length=False)
    ex = open_exchange(ctx)
    ex.send(raw + request(ctx=ctx))
    got = answers(ex, 2, last_timeout=min(ctx.timeout, 1.5))
    if len(got) == 2 and isinstance(got[1], Response):
        return Verdict.failed(f"the connection carried on: {statuses(got)}")
    if isinstance(got[0], Response) and not ex.closed_after(min(ctx.timeout, 2.0)):
        return Verdict.failed(f"{describe(got[0])}, and the connection stayed open")
    return Verdict.passed(describe(got[0]))


@probe("rfc9112/7/1", level=Level.MUST, transports=H1,
       requirement="Transfer-coding names are case-insensitive (RFC 9110 §10.1.4, RFC 9112 §7): "
                   "\"Transfer-Encoding: CHUNKED\" frames the body as chunked.",
       conforming="two 2xx answers (the chunked body read, the next request answered)",
       anchor="section-7")
def chunked_is_case_insensitive(ctx):
    ex = open_exchange(ctx)
    ex.send(_post(ctx, [("Transfer-Encoding", "CHUNKED")], b"5\r\nhello\r\n0\r\n\r\n")
            + request(ctx=ctx))
    got = answers(ex, 2)
    if len(got) == 2 and all(success(g) for g in got):
        return Verdict.passed()
    return Verdict.failed(statuses(got))


@probe("rfc9112/5.1/3", level=Level.SHOULD, transports=H1,
       requirement="A field value might be preceded and/or followed by optional whitespace "
                   "(OWS = SP / HTAB), which a parser excludes before evaluating the value: "
                   "\"Content-Length:\\t 5 \\t\" is the length 5 (the grammar, stated "
                   "without a keyword; strict parsers refuse tabs here, hence SHOULD).",
       conforming="two 2xx answers (a 5-octet body, then the next request)", anchor="section-5.1")
def content_length_with_ows(ctx):
    ex = open_exchange(ctx)
    ex.send(_post(ctx, [("Content-Length", "\t 5 \t")], b"hello") + request(ctx=ctx))
    got = answers(ex, 2)
    if len(got) == 2 and all(success(g) for g in got):
        return Verdict.passed()
    return Verdict.failed(statuses(got))
