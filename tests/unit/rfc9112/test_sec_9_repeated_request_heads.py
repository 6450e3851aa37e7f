"""RFC 9112 §9.3: a keep-alive client that sends the same head again gets the same
request again. The parser remembers the last read that was exactly one whole bodiless
keep-alive request and repeats its event for an equal read; every other read goes
through llhttp as before, and the repeat means exactly what parsing would have meant."""
from __future__ import annotations

from blackbull.protocol.http1.events import Data, EndOfMessage, Request, RequestRejected
from blackbull.protocol.http1.parser import RequestParser

_GET = b"GET /a%20b?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n"


def _fresh(data: bytes) -> list[object]:
    return RequestParser().feed(data)


def test_a_repeated_head_gives_the_same_request_as_parsing_it() -> None:
    parser = RequestParser()
    first = parser.feed(_GET)
    for _ in range(3):
        again = parser.feed(_GET)
        assert again == first == _fresh(_GET)
        assert type(again[0]) is Request and type(again[1]) is EndOfMessage
        assert not parser.in_message


def test_each_repeat_has_its_own_field_list() -> None:
    """The app may change its scope's headers: the next request must not see that."""
    parser = RequestParser()
    first = parser.feed(_GET)[0]
    first.headers.append((b"x-added", b"by the app"))
    again = parser.feed(_GET)[0]
    assert again.headers is not first.headers
    assert again.headers == [(b"host", b"example.com"), (b"user-agent", b"t")]


def test_a_different_head_after_a_repeat_is_parsed() -> None:
    parser = RequestParser()
    parser.feed(_GET)
    parser.feed(_GET)
    other = parser.feed(b"GET /other HTTP/1.1\r\nHost: h\r\n\r\n")
    assert other[0].path == "/other"
    assert parser.feed(_GET)[0].path == "/a b"


def test_what_cannot_simply_repeat_is_parsed_each_time() -> None:
    """Connection: close (llhttp refuses what follows), a body, an upgrade, a read
    holding two requests or part of one: each time through llhttp."""
    close = b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
    parser = RequestParser()
    assert parser.feed(close)[0].keep_alive is False
    again = parser.feed(close)
    assert len(again) == 1 and type(again[0]) is RequestRejected

    post = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi"
    parser = RequestParser()
    for _ in range(2):
        events = parser.feed(post)
        assert [type(e) for e in events] == [Request, Data, EndOfMessage]

    two = _GET + _GET
    parser = RequestParser()
    for _ in range(2):
        assert len(parser.feed(two)) == 4

    parser = RequestParser()
    half = len(_GET) // 2
    for _ in range(2):
        assert parser.feed(_GET[:half]) == []
        assert parser.in_message
        events = parser.feed(_GET[half:])
        assert events == _fresh(_GET)


def test_a_repeat_in_the_middle_of_a_message_is_not_taken_for_a_new_one() -> None:
    """An equal read while a message is under way belongs to that message."""
    parser = RequestParser()
    parser.feed(_GET)
    post = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n" % len(_GET)
    assert [type(e) for e in parser.feed(post)] == [Request]
    events = parser.feed(_GET)
    assert events == [Data(_GET), EndOfMessage()]
    assert parser.feed(_GET) == _fresh(_GET)


def test_the_limits_still_apply_to_an_equal_head_on_another_connection() -> None:
    """The memo is the connection's own parser's: other limits parse afresh."""
    RequestParser().feed(_GET)
    small = RequestParser(max_header_bytes=10)
    events = small.feed(_GET)
    assert type(events[0]) is RequestRejected and events[0].status == 431


def test_no_repeat_after_a_request_that_closes_the_connection() -> None:
    """RFC 9112 §9.6: nothing after a Connection: close request is a request, even a
    head equal to an earlier one."""
    parser = RequestParser()
    parser.feed(_GET)
    parser.feed(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    events = parser.feed(_GET)
    assert len(events) == 1 and type(events[0]) is RequestRejected
