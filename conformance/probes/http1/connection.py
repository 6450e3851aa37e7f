"""RFC 9112 §9: connection management — persistence, pipelining order, ``close``."""

from __future__ import annotations

from conformance.probes.http1._judge import H1, answers, statuses, success
from conformance.probes.http1._wire import Response, describe, open_exchange, request, send_one
from conformance.probes.model import Level, Verdict, probe


@probe("rfc9112/9.3/1", level=Level.SHOULD, transports=H1,
       requirement="HTTP/1.1 defaults to the use of persistent connections: without a "
                   "\"close\" option the connection persists after the response.",
       conforming="a second request on the same connection answered 2xx")
def http11_persists(ctx):
    ex = open_exchange(ctx)
    ex.send(request(ctx=ctx))
    first, _ = ex.final()
    if not success(first):
        return Verdict.undecided(f"first request: {describe(first)}")
    if isinstance(first, Response) and "close" in first.tokens("connection"):
        return Verdict.failed("the server announced close on a plain HTTP/1.1 request")
    ex.send(request(ctx=ctx))
    second, _ = ex.final()
    if success(second):
        return Verdict.passed()
    return Verdict.failed(f"second request on the connection: {describe(second)}")


@probe("rfc9112/9.3/2", level=Level.SHOULD, transports=H1,
       requirement="If the received protocol is HTTP/1.0 and no \"keep-alive\" option is "
                   "present, the connection will close after the current response.",
       conforming="the connection closed after the answer to an HTTP/1.0 request")
def http10_closes(ctx):
    ex, got = send_one(ctx, request(ctx=ctx, version="HTTP/1.0"))
    if not isinstance(got, Response):
        return Verdict.undecided(f"no answer: {got}")
    closed = ex.closed_after(timeout=min(ctx.timeout, 2.0))
    return Verdict.passed() if closed else Verdict.failed("the connection stayed open")


@probe("rfc9112/9.3.2/1", level=Level.MUST, transports=H1,
       requirement="A server MAY process pipelined requests in parallel, but it MUST send the "
                   "corresponding responses in the same order that the requests were received.",
       conforming="GET, HEAD, POST, GET pipelined: four answers that frame as those four, "
                  "in order")
def pipelined_in_order(ctx):
    ex = open_exchange(ctx)
    ex.send(request(ctx=ctx) + request("HEAD", ctx=ctx) + request("POST", ctx=ctx, body=b"hello")
            + request(ctx=ctx))
    got = answers(ex, 4, head_only=(1,))
    if len(got) == 4 and all(success(g) for g in got) and not any(g.problems for g in got):
        if got[1].body == b"" and got[0].body and got[2].body:
            return Verdict.passed()
    return Verdict.failed(f"answers: {statuses(got)}")


@probe("rfc9112/9.6/1", level=Level.MUST, transports=H1,
       requirement="A server that receives a \"close\" connection option MUST initiate closure "
                   "of the connection after it sends the final response to the request that "
                   "contained the \"close\" connection option.",
       conforming="the answer, then the connection closed")
def close_option_closes(ctx):
    ex, got = send_one(ctx, request(ctx=ctx, headers=[("Connection", "close")]))
    if not isinstance(got, Response):
        return Verdict.failed(f"no answer: {got}")
    closed = ex.closed_after(timeout=min(ctx.timeout, 2.0))
    return Verdict.passed() if closed else Verdict.failed("the connection stayed open")


@probe("rfc9112/9.6/2", level=Level.MUST_NOT, transports=H1,
       requirement="A server that receives a \"close\" connection option MUST NOT process any "
                   "further requests received on that connection.",
       conforming="one answer only, although a second request was pipelined")
def no_request_after_close(ctx):
    ex = open_exchange(ctx)
    ex.send(request(ctx=ctx, headers=[("Connection", "close")]) + request(ctx=ctx))
    got = answers(ex, 2)
    if not isinstance(got[0], Response):
        return Verdict.undecided(f"no answer: {describe(got[0])}")
    if len(got) == 2 and isinstance(got[1], Response):
        return Verdict.failed(f"the pipelined request was answered: {statuses(got)}")
    return Verdict.passed()


@probe("rfc9112/9.6/3", level=Level.SHOULD, transports=H1,
       requirement="The server SHOULD send a \"close\" connection option in its final response "
                   "on that connection.",
       conforming="Connection: close in the answer to a request with Connection: close")
def close_option_echoed(ctx):
    _, got = send_one(ctx, request(ctx=ctx, headers=[("Connection", "close")]))
    if not isinstance(got, Response):
        return Verdict.undecided(f"no answer: {got}")
    if "close" in got.tokens("connection"):
        return Verdict.passed()
    return Verdict.failed(f"Connection: {got.get('connection')!r}")


@probe("rfc9112/9.6/4", level=Level.MUST, transports=H1,
       requirement="A server that sends a \"close\" connection option MUST initiate closure of "
                   "the connection after it sends the response containing close.",
       conforming="after an answer with Connection: close (to a request without Host), the "
                  "connection closed")
def sent_close_then_closes(ctx):
    ex, got = send_one(ctx, request(ctx=ctx, host=None))
    if not isinstance(got, Response):
        return Verdict.undecided(f"no answer: {got}")
    if "close" not in got.tokens("connection"):
        return Verdict.not_applicable(f"the {got.status} answer carried no close option")
    closed = ex.closed_after(timeout=min(ctx.timeout, 2.0))
    return Verdict.passed() if closed else Verdict.failed("the connection stayed open")


@probe("rfc9112/9.3/3", level=Level.MUST, transports=H1,
       requirement="A request with \"Connection: keep-alive, close\" carries the close option "
                   "(connection options are a case-insensitive token list): the server closes "
                   "after answering it.",
       conforming="the answer, then the connection closed")
def close_in_a_token_list(ctx):
    ex, got = send_one(ctx, request(ctx=ctx, headers=[("Connection", "keep-alive, CLOSE")]))
    if not isinstance(got, Response):
        return Verdict.failed(f"no answer: {got}")
    closed = ex.closed_after(timeout=min(ctx.timeout, 2.0))
    return Verdict.passed() if closed else Verdict.failed("the connection stayed open")
