"""The sans-I/O server role of an HTTP/1.1 connection (RFC 9112 §9), driven in memory:
bytes in, events and decisions out; no socket, no event loop."""
from __future__ import annotations

from blackbull.protocol.http1.events import Data, EndOfMessage, Request, RequestRejected
from blackbull.protocol.http1.parser import RequestParser
from blackbull.protocol.http1.server import Next, Rejection, ServerConnection


class Exchange:
    """What a handler keeps per request (here: just the request)."""

    def __init__(self, request: Request) -> None:
        self.request = request


def _drive(core: ServerConnection[Exchange], data: bytes) -> list[Exchange]:
    """Feed bytes as the handler does; returns the exchanges started at once."""
    started = []
    for event in core.receive_data(data):
        if isinstance(event, Request):
            if core.hold_upgrade(event):
                continue
            exchange = Exchange(event)
            if core.add(exchange, not event.has_body):
                started.append(exchange)
        elif isinstance(event, EndOfMessage):
            core.body_ended()
    return started


def _core() -> ServerConnection[Exchange]:
    return ServerConnection(RequestParser())


GET = b"GET /%d HTTP/1.1\r\nHost: a\r\n\r\n"


def test_pipelined_requests_are_answered_in_order():
    """RFC 9112 §9.3.2: a server MUST send its responses in the order of the requests;
    only the first is answered at once, each completed response starts the next."""
    core = _core()
    started = _drive(core, b"".join(GET % i for i in range(3)))
    assert [e.request.path for e in started] == ["/0"]
    assert [e.request.path for e in core.queue] == ["/0", "/1", "/2"]
    second = core.queue[1]
    assert core.finished(second, True, False) is Next.NOTHING  # not its turn
    assert core.finished(started[0], True, False) is Next.START
    assert core.current is second
    assert core.finished(second, True, False) is Next.START
    assert core.finished(core.queue[0], True, False) is Next.IDLE
    assert not core.queue and not core.receiving_head


def test_connection_close_ends_the_connection_after_its_response():
    """RFC 9112 §9.6: a server that receives ``close`` MUST close after the response to
    that request and not process later requests: the bytes pipelined behind it are
    refused by the parser, and the close wins over answering that refusal."""
    core = _core()
    events = core.receive_data(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
                               + GET % 1)
    request, rejection = events[0], events[-1]
    assert isinstance(request, Request) and request.keep_alive is False
    assert isinstance(rejection, RequestRejected)
    first = Exchange(request)
    core.add(first, True)
    assert core.reject(rejection, answering=False) is Rejection.HOLD
    assert core.keep_alive(first, request.keep_alive, False) is False
    assert core.finished(first, False, False) is Next.CLOSE


def test_a_response_that_cannot_persist_drops_the_queued_requests():
    """RFC 9112 §9.3: when a response ends the connection (its own Connection: close, a
    body cut short), the requests pipelined behind it are dropped unanswered."""
    core = _core()
    _drive(core, GET % 0 + GET % 1 + GET % 2)
    assert core.finished(core.queue[0], False, False) is Next.CLOSE
    assert [e.request.path for e in core.drop_queued()] == ["/1", "/2"]
    assert not core.queue


def test_http10_request_without_keep_alive_closes():
    """RFC 9112 §9.3: an HTTP/1.0 request without ``Connection: keep-alive`` does not
    persist; with it, it does."""
    core = _core()
    _drive(core, b"GET / HTTP/1.0\r\n\r\n")
    assert core.current is not None and core.current.request.keep_alive is False
    core = _core()
    _drive(core, b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    current = core.current
    assert current is not None and current.request.keep_alive is True
    assert core.keep_alive(current, True, False) is True


def test_expect_100_continue_is_reported_on_the_request():
    """RFC 9110 §10.1.1: ``Expect: 100-continue`` on an HTTP/1.1 request with a body; the
    body owner stays the request until its body ends."""
    core = _core()
    _drive(core, b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
                 b"Content-Length: 3\r\n\r\n")
    current = core.current
    assert current is not None and current.request.expect_continue
    assert core.body_owner is current and not core.receiving_head
    request = current.request
    assert ServerConnection.continue_needed(request, False, False, False)
    assert not ServerConnection.continue_needed(request, True, False, False)  # once
    assert not ServerConnection.continue_needed(request, False, True, False)  # answered
    events = core.receive_data(b"abc")
    assert events == [Data(b"abc"), EndOfMessage()]
    assert core.body_ended() is current and core.body_owner is None
    assert not ServerConnection.continue_needed(request, False, False, True)  # it came
    plain = _core().receive_data(b"POST / HTTP/1.0\r\nExpect: 100-continue\r\n"
                                 b"Content-Length: 1\r\n\r\n")[0]
    assert isinstance(plain, Request)  # §10.1.1: HTTP/1.0 clients get no 100
    assert not ServerConnection.continue_needed(plain, False, False, False)


def test_answering_before_a_held_back_body_closes():
    """RFC 9110 §10.1.1: a final response sent without reading the body the client
    held back for 100 Continue leaves the connection unframeable: it closes."""
    core = _core()
    _drive(core, b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
                 b"Content-Length: 3\r\n\r\n")
    current = core.current
    assert current is not None
    assert core.keep_alive(current, True, False, unread_body=True) is False
    assert core.keep_alive(current, True, False) is True


def test_half_close_answers_queued_requests_and_closes_after_the_last():
    """RFC 9112 §9.6: after the client's EOF, the complete requests received are still
    answered; the last response closes the connection."""
    core = _core()
    _drive(core, GET % 0 + GET % 1)
    assert core.end_of_input() is True
    first, last = core.queue
    assert core.keep_alive(first, True, False) is True
    assert core.keep_alive(last, True, False) is False
    assert core.finished(first, True, False) is Next.START
    assert core.finished(last, True, False) is Next.CLOSE


def test_eof_with_a_body_still_arriving_closes_at_once():
    """RFC 9112 §8: a request whose body can no longer arrive is incomplete: nothing
    is left to answer in order, the connection closes."""
    core = _core()
    _drive(core, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nabc")
    assert core.end_of_input() is False
    assert _core().end_of_input() is False  # nothing in flight either


def test_a_rejection_waits_for_the_earlier_responses():
    """RFC 9112 §9.3.2 and §2.2: a bad request behind a good one is answered (400) after
    the good one's response, then the connection closes."""
    core = _core()
    events = core.receive_data(GET % 0 + b"GET / HTTP/1.1\r\n\r\n")  # no Host: 400
    first = Exchange(events[0])  # type: ignore[arg-type]
    assert core.add(first, True)
    rejection = events[-1]
    assert rejection == RequestRejected(400, "missing or duplicate Host header")
    assert core.reject(rejection, answering=False) is Rejection.HOLD
    assert core.finished(first, True, False) is Next.REJECT
    assert core.rejection is rejection


def test_a_rejection_alone_is_answered_at_once():
    """RFC 9112 §2.2: with nothing in flight, the rejection is answered now."""
    core = _core()
    (rejection,) = core.receive_data(b"GET / HTTP/1.1\r\n\r\n")
    assert isinstance(rejection, RequestRejected)
    assert core.reject(rejection, answering=False) is Rejection.ANSWER


def test_a_body_error_answers_in_place_of_its_request():
    """RFC 9110 §15.5.14: a body past the limit (413) is answered instead of its
    request's response when the app has not begun one; held when it has."""
    for answering, expected in ((False, Rejection.ANSWER_INSTEAD), (True, Rejection.HOLD)):
        core = ServerConnection(RequestParser(max_body=4))
        _drive(core, b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
        (rejection,) = core.receive_data(b"5\r\nabcde\r\n")
        assert isinstance(rejection, RequestRejected) and rejection.status == 413
        assert core.reject(rejection, answering) is expected


def test_upgrade_waits_for_earlier_responses():
    """RFC 9110 §7.8 with RFC 9112 §9.3.2: an Upgrade pipelined behind a request takes
    effect only after that request's response; its trailing bytes are kept."""
    core = _core()
    upgrade = (b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n"
               b"Upgrade: websocket\r\n\r\n")
    started = _drive(core, GET % 0 + upgrade + b"\x81\x00")
    assert len(core.queue) == 1 and core.upgrade is not None
    assert core.take_upgrade() is None  # the first response is not out yet
    core.keep_for_upgrade(b"\x82\x00")  # a later read: the new protocol's too
    assert core.finished(started[0], True, False) is Next.SWITCH
    held = core.take_upgrade()
    assert held is not None
    request, trailing = held
    assert request.upgrade == b"websocket" and trailing == b"\x81\x00\x82\x00"
    assert ServerConnection.upgrade_target(request, secure=False) == b"websocket"


def test_h2c_upgrade_target_needs_cleartext_and_one_http2_settings():
    """RFC 7540 §3.2 / §3.2.1 (RFC 9113 §3.1 removed h2c upgrade): only on cleartext,
    with exactly one HTTP2-Settings field named by Connection; else served as 1.1."""
    def request(fields: bytes) -> Request:
        core = _core()
        event = core.receive_data(b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n"
                                  + fields + b"\r\n")[0]
        assert isinstance(event, Request) and core.hold_upgrade(event)
        return event

    good = request(b"Connection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABk\r\n")
    assert ServerConnection.upgrade_target(good, secure=False) == b"h2c"
    assert ServerConnection.upgrade_target(good, secure=True) is None
    two = request(b"Connection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABk\r\n"
                  b"HTTP2-Settings: AAMAAABk\r\n")
    assert ServerConnection.upgrade_target(two, secure=False) is None
    unnamed = request(b"Connection: Upgrade\r\nHTTP2-Settings: AAMAAABk\r\n")
    assert ServerConnection.upgrade_target(unnamed, secure=False) is None


def test_shutdown_makes_every_response_close():
    """RFC 9112 §9.6: a server shutting down closes after the response in progress;
    with nothing in flight it closes at once."""
    core = _core()
    _drive(core, GET % 0)
    assert core.shutdown() is False
    current = core.current
    assert current is not None
    assert core.keep_alive(current, True, False) is False
    assert core.finished(current, True, False) is Next.CLOSE
    assert _core().shutdown() is True


def test_receiving_head_tracks_a_head_in_progress():
    """RFC 9112 §9.5 timeouts need to know what is awaited: a head in progress (head
    timeout), a body (body owner), or nothing (keep-alive idle when nothing is queued)."""
    core = _core()
    assert not core.receiving_head and not core.queue
    core.receive_data(b"GET / HTTP/1.1\r\nHo")
    assert core.receiving_head
    _drive(core, b"st: a\r\n\r\n")
    assert not core.receiving_head and len(core.queue) == 1
    _drive(core, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n")
    assert not core.receiving_head and core.body_owner is core.queue[-1]
