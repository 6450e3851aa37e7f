"""RFC 9112 §6, §9.3 and RFC 9110 §6.4.1, §8.6: a response whose whole body comes with
its start is framed by ``complete_response`` exactly as the streaming ``ResponseWriter``
frames it (Content-Length, no content for HEAD/204/304, Connection, Date, keep-alive)."""
from __future__ import annotations

import itertools

import pytest

from blackbull.protocol.http1.response import (
    ResponseError,
    ResponseWriter,
    complete_response,
)

_DATE = b"Wed, 02 Dec 2026 06:00:00 GMT"
_HEADER_SETS = [
    [],
    [(b"content-type", b"text/plain")],
    [(b"content-length", b"5")],
    [(b"content-length", b"9")],  # longer than the body: the connection must close
    [(b"Connection", b"close"), (b"content-type", b"x/y")],
    [(b"date", b"Thu, 01 Jan 1970 00:00:00 GMT")],
    [(b"transfer-encoding", b"chunked")],  # dropped: the server frames the body
    [[b"x-list", b"header given as a list"]],
]


def _streaming(status, headers, body, head_request, version, keep_alive):
    writer = ResponseWriter(status, headers, head_request=head_request, version=version,
                            keep_alive=keep_alive, date=_DATE)
    return writer.body(body, False), writer.keep_alive


@pytest.mark.parametrize("status", [200, 204, 304, 404])
def test_complete_response_frames_like_the_streaming_writer(status):
    """RFC 9112 §6.2/§6.3, RFC 9110 §6.4.1: the one-shot path sends the bytes, and keeps
    or closes the connection, exactly as the writer that frames streamed bodies."""
    for headers, body, head, version, keep in itertools.product(
            _HEADER_SETS, [b"", b"hello"], [False, True], ["1.1", "1.0"], [True, False]):
        expected = _streaming(status, headers, body, head, version, keep)
        got = complete_response(status, headers, body, head_request=head, version=version,
                                keep_alive=keep, date=_DATE)
        assert got == expected, (status, headers, body, head, version, keep)


def test_complete_response_refuses_what_http1_cannot_express():
    """RFC 9110 §15: an interim or out-of-range status, a body longer than its
    Content-Length and a field with CR/LF are refused (the server answers 500)."""
    for status in (99, 101, 1000):
        with pytest.raises(ResponseError):
            complete_response(status, [], b"", head_request=False, version="1.1",
                              keep_alive=True)
    with pytest.raises(ResponseError):
        complete_response(200, [(b"content-length", b"2")], b"hello", head_request=False,
                          version="1.1", keep_alive=True)
    with pytest.raises(ResponseError):
        complete_response(200, [(b"x", b"a\r\nb")], b"", head_request=False,
                          version="1.1", keep_alive=True)


def test_repeated_responses_frame_like_the_first() -> None:
    """The encoded head and the last response are remembered: the same response again
    gives the same bytes, and a changed body, date or keep-alive is framed anew (a
    mutable body is never taken for the same body)."""
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"5")]

    def frame(body, date=_DATE, keep=True):
        return complete_response(200, headers, body, head_request=False, version="1.1",
                                 keep_alive=keep, date=date)

    body = b"hello"
    first = frame(body)
    assert frame(body) == first == _streaming(200, headers, body, False, "1.1", True)
    later = b"Wed, 02 Dec 2026 06:00:01 GMT"
    assert frame(body, later) == (first[0].replace(_DATE, later), True)
    assert frame(body, keep=False) == _streaming(200, headers, body, False, "1.1", False)
    mutable = bytearray(b"hello")
    assert frame(mutable)[0].endswith(b"hello")
    mutable[:] = b"world"
    assert frame(mutable)[0].endswith(b"world")
    assert frame(b"hel") == (first[0][:-5] + b"hel", False)  # short of its length
