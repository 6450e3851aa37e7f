"""RFC 9112 §7: the chunked transfer coding — chunk sizes, extensions and trailers."""

from __future__ import annotations

from conformance.probes.http1._judge import H1, answers, statuses, success
from conformance.probes.http1._wire import (
    CLOSED,
    Response,
    describe,
    open_exchange,
    request,
    send_one,
)
from conformance.probes.model import Level, Verdict, probe


def _chunked(ctx, body: bytes) -> bytes:
    return request("POST", ctx=ctx, headers=[("Transfer-Encoding", "chunked")], body=body,
                   content_length=False)


def _then_next(ctx, body: bytes) -> list:
    ex = open_exchange(ctx)
    ex.send(_chunked(ctx, body) + request(ctx=ctx))
    return answers(ex, 2)


@probe("rfc9112/7.1/1", level=Level.MUST, transports=H1,
       requirement="A recipient MUST be able to parse and decode the chunked transfer coding "
                   "(several chunks, then the last-chunk), and the next request follows it.",
       conforming="two 2xx answers")
def chunked_body_parsed(ctx):
    got = _then_next(ctx, b"5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n")
    if len(got) == 2 and all(success(g) for g in got):
        return Verdict.passed()
    return Verdict.failed(statuses(got))


@probe("rfc9112/7.1/2", level=Level.MUST, transports=H1,
       requirement="Recipients MUST anticipate potentially large hexadecimal numerals and "
                   "prevent parsing errors due to integer conversion overflows or precision "
                   "loss.",
       conforming="400/413 or closed (or waiting for the chunk); a 2xx means 2^64+5 wrapped to 5")
def chunk_size_overflow(ctx):
    _, got = send_one(ctx, _chunked(ctx, b"10000000000000005\r\nhello\r\n0\r\n\r\n"),
                      timeout=min(ctx.timeout, 1.5))
    if success(got):
        return Verdict.failed(f"{describe(got)}: the chunk size 0x10000000000000005 was read as 5")
    return Verdict.passed(describe(got))


@probe("rfc9112/7.1/3", level=Level.SHOULD, transports=H1,
       requirement="chunk-size is 1*HEXDIG; a chunk size that is not hexadecimal makes the "
                   "message invalid, which a server SHOULD answer with 400 (RFC 9112 §2.2).",
       conforming="400")
def chunk_size_not_hex(ctx):
    _, got = send_one(ctx, _chunked(ctx, b"zz\r\nhello\r\n0\r\n\r\n"))
    if isinstance(got, Response) and got.status == 400:
        return Verdict.passed(describe(got))
    return Verdict.failed(f"{describe(got)}, not 400")


@probe("rfc9112/7.1/4", level=Level.SHOULD, transports=H1,
       requirement="Chunk data is followed by CRLF; chunk data longer than its chunk-size "
                   "makes the message invalid, which a server SHOULD answer with 400.",
       conforming="400 (or closed); never a 2xx")
def chunk_data_longer_than_size(ctx):
    _, got = send_one(ctx, _chunked(ctx, b"3\r\nhello\r\n0\r\n\r\n"))
    if isinstance(got, Response) and got.status == 400:
        return Verdict.passed(describe(got))
    return Verdict.failed(f"{describe(got)}, not 400")


@probe("rfc9112/7.1.1/1", level=Level.MUST, transports=H1,
       requirement="A recipient MUST ignore unrecognized chunk extensions.",
       conforming="two 2xx answers (the extensions ignored)")
def chunk_extensions_ignored(ctx):
    got = _then_next(ctx, b"5;x-probe=1;flag\r\nhello\r\n5;q=\"a b\"\r\nworld\r\n0;end\r\n\r\n")
    if len(got) == 2 and all(success(g) for g in got):
        return Verdict.passed()
    return Verdict.failed(statuses(got))


@probe("rfc9112/7.1.1/2", level=Level.SHOULD, transports=H1,
       requirement="A server ought to limit the total length of chunk extensions received in a "
                   "request and generate an appropriate 4xx (Client Error) response if that "
                   "amount is exceeded.",
       conforming="a 4xx, or 2xx (a 256 KiB extension within its limit); never silence or 5xx")
def huge_chunk_extension(ctx):
    body = b"5;x=" + b"a" * 262_144 + b"\r\nhello\r\n0\r\n\r\n"
    _, got = send_one(ctx, _chunked(ctx, body))
    if isinstance(got, Response) and (400 <= got.status < 500 or success(got)):
        return Verdict.passed(describe(got))
    return Verdict.failed(describe(got))


@probe("rfc9112/7.1.2/1", level=Level.MUST, transports=H1,
       requirement="The chunked coding ends with a trailer section that a recipient MUST be "
                   "able to parse (fields after the last-chunk, then CRLF).",
       conforming="two 2xx answers")
def trailer_section_parsed(ctx):
    got = _then_next(ctx, b"5\r\nhello\r\n0\r\nX-Probe-Trailer: 1\r\nX-Other: two\r\n\r\n")
    if len(got) == 2 and all(success(g) for g in got):
        return Verdict.passed()
    return Verdict.failed(statuses(got))


@probe("rfc9110/6.5.1/1", level=Level.MUST_NOT, transports=H1,
       requirement="A recipient MUST NOT merge a trailer field into a header section unless the "
                   "recipient understands the corresponding header field definition and that "
                   "definition explicitly permits and defines how trailer field values can be "
                   "safely merged: trailers naming Content-Length, Transfer-Encoding and Host "
                   "never reframe the message.",
       conforming="two 2xx answers, or a 4xx and the connection closed", anchor="section-6.5.1")
def forbidden_trailer_fields(ctx):
    ex = open_exchange(ctx)
    ex.send(_chunked(ctx, b"5\r\nhello\r\n0\r\nContent-Length: 40\r\nTransfer-Encoding: chunked"
                          b"\r\nHost: other.example\r\n\r\n") + request(ctx=ctx))
    got = answers(ex, 2)
    if len(got) == 2 and all(success(g) for g in got):
        return Verdict.passed("ignored")
    first = got[0]
    if first is CLOSED or (isinstance(first, Response) and 400 <= first.status < 500
                           and (len(got) == 1 or not isinstance(got[1], Response))):
        return Verdict.passed(f"treated as an error: {describe(first)}")
    return Verdict.failed(statuses(got))
