"""RFC 9113 §8.2: the field section of a response as the server sends it, the same
for the first response of a given head and for every repeat (the converted head is
memoised per distinct status and fields)."""
from __future__ import annotations

from blackbull.server import http2_stream
from blackbull.server.http2_stream import response_fields


def test_a_repeated_head_gives_the_same_field_section() -> None:
    """§8.2.1 lower-case names, §8.2.2 no connection-specific fields, RFC 9110 §6.6.1 a
    Date added once: identical for a head seen before."""
    fields = [(b"Content-Type", b"text/plain"), (b"Connection", b"close"),
              (b"X-A", b"1")]
    first, second = response_fields(200, fields), response_fields(200, fields)
    assert first == second
    assert [name for name, _ in first] == [b":status", b"content-type", b"x-a", b"date"]
    first.append((b"x-changed", b"by the caller"))
    assert response_fields(200, fields) == second  # callers get their own list


def test_the_memo_keeps_the_rules_per_status_and_length() -> None:
    """RFC 9110 §8.6: no Content-Length in a 204, whatever was memoised for a 200; with
    ``length`` exactly that one; an app's own Date is kept, not doubled."""
    fields = [(b"content-length", b"5"), (b"date", b"Sun, 06 Nov 1994 08:49:37 GMT")]
    assert (b"content-length", b"5") in response_fields(200, fields)
    assert not any(n == b"content-length" for n, _ in response_fields(204, fields))
    sized = response_fields(200, fields, length=3)
    assert [v for n, v in sized if n == b"content-length"] == [b"3"]
    assert [n for n, _ in response_fields(200, fields)].count(b"date") == 1


def test_fields_given_as_lists_are_converted_too() -> None:
    """ASGI allows ``[name, value]`` lists: not hashable, so converted without the memo."""
    fields = [[b"X-List", b"v"]]
    assert response_fields(200, fields)[1] == (b"x-list", b"v")  # type: ignore[arg-type]


def test_the_memo_is_bounded() -> None:
    """§10.5: heads with per-response values churn the memo but never grow it past its
    bound, and heads of many fields are not kept."""
    for i in range(1000):
        response_fields(200, [(b"etag", b"%d" % i)])
    assert len(http2_stream._HEADS) <= http2_stream._HEADS_MAX
    big = [(b"x-%d" % i, b"v") for i in range(http2_stream._HEAD_MAX_FIELDS + 1)]
    response_fields(200, big)
    assert not any(len(key[1]) > http2_stream._HEAD_MAX_FIELDS for key in http2_stream._HEADS)
