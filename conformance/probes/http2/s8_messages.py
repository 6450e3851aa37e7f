"""RFC 9113 §8.1: HTTP message framing — trailers, content-length against DATA (§8.1.1),
and ordinary GET / HEAD / POST exchanges (the h2spec ``generic/4`` cases)."""

from __future__ import annotations

from conformance.probes.http2._wire import PROTOCOL_ERROR, data, h2_probe, started
from conformance.probes.model import Level, Verdict
from conformance.probes.target import ProbeContext

_MALFORMED = ("RST_STREAM PROTOCOL_ERROR (a response before it is allowed, §8.1.1), or GOAWAY "
              "PROTOCOL_ERROR, or the connection closed")


@h2_probe("rfc9113/8.1/1", level=Level.MUST,
          requirement="An endpoint that receives a HEADERS frame without the END_STREAM flag "
                      "set after receiving the HEADERS frame that opens a request MUST treat "
                      "the request as malformed.",
          conforming=_MALFORMED, h2spec=("http2/8.1/1",))
def second_headers_without_end_stream(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(1, "POST", end_stream=False)
    h2.send(data(1, b"test"))
    h2.send(h2.headers_frame(1, h2.block([("x-trailer", "1")]), end_stream=False))
    return h2.expect_stream_error(1, PROTOCOL_ERROR, malformed=True)


def _exchange(pid: str, requirement: str, method: str, frames, *, h2spec=(), head=False,
              level: Level = Level.MUST) -> None:
    @h2_probe(pid, level=level, requirement=requirement,
              conforming="a complete 2xx response" + (" without content" if head else ""),
              h2spec=tuple(h2spec))
    def run(ctx: ProbeContext) -> Verdict:
        h2 = started(ctx)
        has_body = frames is not None
        h2.send_request(1, method, end_stream=not has_body)
        if has_body:
            h2.send(frames(h2))
        verdict = h2.expect_response(1, ok_below=300)
        if verdict.outcome.value == "pass" and head and h2.response(1).body:
            return Verdict.failed(f"{len(h2.response(1).body)} octets of content in a response "
                                  "to HEAD", h2.seen())
        return verdict


_exchange("rfc9113/8.1/2", "A GET request in one HEADERS frame with END_STREAM is answered "
          "with a complete response ending in END_STREAM.", "GET", None, h2spec=("generic/4/1",))
_exchange("rfc9113/8.1/3", "A response to HEAD carries no content (RFC 9110 §9.3.2: the server "
          "MUST NOT send content in the response to HEAD).", "HEAD", None, head=True,
          h2spec=("generic/4/2",))
_exchange("rfc9113/8.1/4", "A POST request with its body in DATA frames is answered.", "POST",
          lambda h2: data(1, b"test", end_stream=True), h2spec=("generic/4/3",))
_exchange("rfc9113/8.1/5", "A request may end with a trailer section: a HEADERS frame with "
          "END_STREAM after the DATA frames.", "POST",
          lambda h2: data(1, b"test") + h2.headers_frame(1, h2.block([("x-trailer", "ok")])),
          h2spec=("generic/4/4",))


def _content_length(pid: str, requirement: str, length: str, bodies: list[bytes], *,
                    h2spec=(), method: str = "POST") -> None:
    @h2_probe(pid, level=Level.MUST, requirement=requirement, conforming=_MALFORMED,
              h2spec=tuple(h2spec), anchor="section-8.1.1")
    def run(ctx: ProbeContext) -> Verdict:
        h2 = started(ctx)
        h2.send_request(1, method, end_stream=not bodies, extra=[("content-length", length)])
        for i, body in enumerate(bodies):
            h2.send(data(1, body, end_stream=i == len(bodies) - 1))
        return h2.expect_stream_error(1, PROTOCOL_ERROR, malformed=True)


_CL = ("A request is malformed if the value of a content-length header field does not equal "
       "the sum of the DATA frame payload lengths that form the content")
_content_length("rfc9113/8.1.1/1", f"{_CL} (content-length 5, one DATA frame of 4).", "5",
                [b"test"], h2spec=("http2/8.1.2.6/1",))
_content_length("rfc9113/8.1.1/2", f"{_CL} (content-length 8, DATA frames of 4+3).", "8",
                [b"test", b"abc"], h2spec=("http2/8.1.2.6/2",))
_content_length("rfc9113/8.1.1/3", f"{_CL} (content-length 2, DATA of 4: more content than "
                "declared).", "2", [b"test"])
_content_length("rfc9113/8.1.1/4", f"{_CL} (content-length 3 on a request ended by its "
                "HEADERS frame: no DATA at all).", "3", [])
_content_length("rfc9113/8.1.1/5", f"{_CL} (a content-length that is not a number).", "abc",
                [b"abc"])


@h2_probe("rfc9113/8.1.1/6", level=Level.MUST,
          requirement="A content-length that matches the DATA frames is valid, even when the "
                      "content is split over several frames.",
          conforming="a complete 2xx response", anchor="section-8.1.1")
def content_length_matches(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(1, "POST", end_stream=False, extra=[("content-length", "7")])
    h2.send(data(1, b"test") + data(1, b"abc", end_stream=True))
    return h2.expect_response(1, ok_below=300)


@h2_probe("rfc9113/8.1.1/7", level=Level.MUST,
          requirement="The server's own response must be well-formed: a content-length it sends "
                      "equals the sum of its DATA frame payloads.",
          conforming="no content-length, or one equal to the octets of content received",
          anchor="section-8.1.1")
def response_content_length(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    h2.send_request(1)
    resp = h2.wait_response(1)
    if not resp.ended:
        return h2._no_response(1)
    declared = dict(resp.headers).get("content-length")
    if declared is None or declared == str(len(resp.body)):
        return Verdict.passed(f"content-length {declared}, {len(resp.body)} octets")
    return Verdict.failed(f"content-length {declared} but {len(resp.body)} octets", h2.seen())
