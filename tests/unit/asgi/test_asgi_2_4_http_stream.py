"""The transport-neutral ASGI HTTP stream (``blackbull.server.http_stream``), in memory.

The ASGI HTTP rules live once in :class:`HTTPStream`; HTTP/1.1 and HTTP/2 only carry
the bytes, as its subclasses. These tests drive it through a recording carrier, so each
rule is shown without a socket; the end-to-end tests beside this file show the same rules over
HTTP/1.1, TLS and HTTP/2 with real clients.
"""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from blackbull.server.asgi import ClientDisconnected
from blackbull.server.http_stream import Headers, HTTPStream, Message


class Recorder(HTTPStream):
    """A carrier that records what the stream asks of it."""

    disconnect_log_key = "test-after-disconnect"

    def __init__(self, scope: dict[str, Any], body_complete: bool, expect: bool,
                 wait: bool) -> None:
        super().__init__(scope, asyncio.get_running_loop(), body_complete, expect)
        self.calls: list[tuple[Any, ...]] = []
        self.wait = wait
        self.drained = asyncio.Event()

    def where(self) -> str:
        return "the test client"

    def log_interval(self) -> float:
        return 0.0

    def gone(self) -> bool:
        return False

    def consumed(self, credit: int) -> None:
        self.calls.append(("consumed", credit))

    def send_continue(self) -> None:
        self.calls.append(("continue",))

    def on_start(self, start: Message) -> bool:
        return bool(start.get("trailers", False))

    def send_head(self, start: Message, body: bytes, end: bool) -> bool:
        self.calls.append(("head", start["status"], body, end))
        return self.wait

    def send_body(self, body: bytes, end: bool) -> bool:
        self.calls.append(("body", body, end))
        return self.wait

    def send_trailers(self, trailers: Headers) -> bool:
        self.calls.append(("trailers", trailers))
        return False

    async def drain(self) -> None:
        self.calls.append(("drain",))
        await self.drained.wait()

    def push(self, message: Message) -> None:
        self.calls.append(("push", message["path"]))

    def send_error(self) -> None:
        self.calls.append(("error",))

    def abort(self) -> None:
        self.calls.append(("abort",))

    def finished(self) -> None:
        self.calls.append(("finished",))


def _stream(method: str = "GET", *, body_complete: bool = True, expect: bool = False,
            wait: bool = False) -> tuple[Recorder, Recorder]:
    stream = Recorder({"type": "http", "method": method, "headers": []}, body_complete,
                      expect, wait)
    return stream, stream


async def test_app_returning_without_a_response_gets_500() -> None:
    """ASGI HTTP spec: an app that returns before ``http.response.start`` → the server
    answers 500 itself."""
    stream, carrier = _stream()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        pass

    await stream.run(app)
    assert carrier.calls == [("error",), ("finished",)]


async def test_app_failing_after_its_head_is_cut_off_not_answered_twice() -> None:
    """ASGI HTTP spec: a failure once the response started cannot become a 500; the
    carrier closes or resets what carries it."""
    stream, carrier = _stream()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        raise ValueError("boom")

    await stream.run(app)
    assert carrier.calls[-2:] == [("abort",), ("finished",)]


async def test_app_failing_after_a_complete_response_changes_nothing() -> None:
    """ASGI HTTP spec: once the whole response was handed over, a later app exception
    neither answers 500 nor cuts the response off."""
    stream, carrier = _stream()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"done"})
        raise ValueError("late")

    await stream.run(app)
    assert carrier.calls == [("head", 200, b"done", True), ("finished",)]


async def test_response_start_twice_is_an_error() -> None:
    """ASGI HTTP spec: ``http.response.start`` is sent once."""
    stream, _ = _stream()
    await stream.send({"type": "http.response.start", "status": 200})
    with pytest.raises(RuntimeError, match="twice"):
        await stream.send({"type": "http.response.start", "status": 200})


async def test_body_before_start_is_an_error() -> None:
    """ASGI HTTP spec: ``http.response.body`` follows ``http.response.start``."""
    stream, _ = _stream()
    with pytest.raises(RuntimeError, match="before http.response.start"):
        await stream.send({"type": "http.response.body", "body": b"x"})


async def test_send_after_disconnect_raises_client_disconnected() -> None:
    """ASGI spec 2.4: ``send()`` once the client is gone raises an ``OSError``
    subclass, and the app sees ``http.disconnect`` on ``receive()``."""
    stream, _ = _stream()
    stream.disconnect()
    assert await stream.receive() == {"type": "http.disconnect"}
    with pytest.raises(ClientDisconnected) as info:
        await stream.send({"type": "http.response.start", "status": 200})
    assert isinstance(info.value, OSError)


async def test_head_and_204_304_later_pieces_carry_no_content() -> None:
    """RFC 9110 §9.3.2 and §6.4.1: HEAD, 204 and 304 responses have no content; the
    first piece still reaches the carrier whole (HEAD may announce its length)."""
    for method, status in (("HEAD", 200), ("GET", 204), ("GET", 304)):
        stream, carrier = _stream(method)
        await stream.send({"type": "http.response.start", "status": status})
        await stream.send({"type": "http.response.body", "body": b"abc", "more_body": True})
        await stream.send({"type": "http.response.body", "body": b"def"})
        assert stream.no_content
        assert carrier.calls == [("head", status, b"abc", False), ("body", b"", True)]


async def test_request_body_is_joined_and_its_credit_returned_when_read() -> None:
    """ASGI HTTP spec ``http.request``: pieces that arrived meanwhile come as one
    message; their flow-control credit (RFC 9113 §6.9) goes back when the app reads."""
    stream, carrier = _stream("POST", body_complete=False)
    assert stream.add_body(b"ab", 12)
    assert stream.add_body(b"cd", 2)
    stream.end_body()
    assert await stream.receive() == {"type": "http.request", "body": b"abcd",
                                      "more_body": False}
    assert carrier.calls == [("consumed", 14)]
    stream.response_complete = True
    assert await stream.receive() == {"type": "http.disconnect"}
    assert not stream.add_body(b"late", 4)  # nobody reads it: the credit is the caller's


async def test_empty_body_end_is_reported_once() -> None:
    """ASGI HTTP spec: a request without a body is one ``http.request`` with
    ``more_body`` False; later ``receive()`` calls wait for the disconnect."""
    stream, _ = _stream()
    assert await stream.receive() == {"type": "http.request", "body": b"",
                                      "more_body": False}
    later = asyncio.ensure_future(stream.receive())
    await asyncio.sleep(0)
    assert not later.done()
    stream.disconnect()
    assert await later == {"type": "http.disconnect"}


async def test_expect_continue_is_sent_only_when_the_app_reads_first() -> None:
    """RFC 9110 §10.1.1: ``100 (Continue)`` goes out when the app asks for the body
    before it answers, once."""
    stream, carrier = _stream("POST", body_complete=False, expect=True)
    reading = asyncio.ensure_future(stream.receive())
    await asyncio.sleep(0)
    assert carrier.calls == [("continue",)]
    stream.add_body(b"x", 1)
    stream.end_body()
    assert (await reading)["body"] == b"x"
    assert carrier.calls == [("continue",), ("consumed", 1)]

    answered, carrier2 = _stream("POST", body_complete=False, expect=True)
    await answered.send({"type": "http.response.start", "status": 417})
    await answered.send({"type": "http.response.body", "body": b""})
    assert ("continue",) not in carrier2.calls


async def test_trailers_are_collected_and_sent_once_with_the_end() -> None:
    """ASGI HTTP trailers extension: ``more_trailers`` sections are joined and handed
    to the carrier once, which ends the response."""
    stream, carrier = _stream()
    await stream.send({"type": "http.response.start", "status": 200, "trailers": True})
    await stream.send({"type": "http.response.body", "body": b"x"})
    assert carrier.calls == [("head", 200, b"x", False)]  # not the end: trailers follow
    await stream.send({"type": "http.response.trailers", "headers": [(b"A", b"1")],
                       "more_trailers": True})
    await stream.send({"type": "http.response.trailers", "headers": [(b"b", b"2")]})
    assert carrier.calls[1:] == [("trailers", [(b"a", b"1"), (b"b", b"2")])]


async def test_forgotten_trailers_cut_the_response_off() -> None:
    """ASGI HTTP trailers extension: a response that announced trailers and returned
    without them cannot end normally (RFC 9113 §8.1): the carrier aborts it."""
    stream, carrier = _stream()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "trailers": True})
        await send({"type": "http.response.body", "body": b"x"})

    await stream.run(app)
    assert carrier.calls[-2:] == [("abort",), ("finished",)]


async def test_send_waits_for_the_carrier_and_raises_if_the_client_left_meanwhile() -> None:
    """ASGI spec 2.4: ``send()`` applies back-pressure; if the client goes away while
    it waits, the app learns it from ``ClientDisconnected``."""
    stream, carrier = _stream(wait=True)
    await stream.send({"type": "http.response.start", "status": 200})
    sending = asyncio.ensure_future(
        stream.send({"type": "http.response.body", "body": b"x", "more_body": True}))
    await asyncio.sleep(0)
    assert not sending.done() and carrier.calls[-1] == ("drain",)
    stream.disconnect()
    carrier.drained.set()
    with pytest.raises(ClientDisconnected):
        await sending
