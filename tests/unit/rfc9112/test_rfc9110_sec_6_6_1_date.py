"""RFC 9110 §6.6.1: an origin server with a clock sends ``Date`` in its responses."""
from __future__ import annotations

import asyncio
import time
from email.utils import parsedate_to_datetime

import httpx

from tests.apps.basic import hello
from tests.conftest import raw_exchange


def _date_fields(head: bytes) -> list[bytes]:
    return [line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")[1:]
            if line.lower().startswith(b"date:")]


async def test_app_response_carries_one_current_imf_fixdate(serve):
    """RFC 9110 §6.6.1, §5.6.7: a 200 from the app gets exactly one Date, an
    IMF-fixdate in GMT within a few seconds of now (seen by httpx, an independent client)."""
    srv = await serve(hello)
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{srv.bound_port}/")
    assert response.status_code == 200
    values = response.headers.get_list("date")
    assert len(values) == 1 and values[0].endswith(" GMT")
    assert abs(parsedate_to_datetime(values[0]).timestamp() - time.time()) < 5


async def test_error_answers_from_the_server_carry_date(serve):
    """RFC 9110 §6.6.1: the server's own 4xx answers (here 400 for a missing Host,
    RFC 9112 §3.2) carry Date as well."""
    srv = await serve(hello)
    data = await raw_exchange(srv.bound_port, b"GET / HTTP/1.1\r\n\r\n")
    head = data.split(b"\r\n\r\n", 1)[0]
    assert head.startswith(b"HTTP/1.1 400")
    assert len(_date_fields(head)) == 1


async def test_date_set_by_the_app_is_not_duplicated(serve):
    """RFC 9110 §6.6.1, §5.3: an app that sends its own Date keeps it, and no second
    Date field is added."""
    fixed = b"Sun, 06 Nov 1994 08:49:37 GMT"

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"Date", fixed)]})
        await send({"type": "http.response.body", "body": b"ok"})

    srv = await serve(app)
    data = await raw_exchange(srv.bound_port,
                              b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert _date_fields(data.split(b"\r\n\r\n", 1)[0]) == [fixed]


def test_http_date_is_formatted_once_per_second(monkeypatch):
    """RFC 9110 §5.6.7: the value has one-second resolution, so the responses of one
    second share one formatted value, and the next second gets a new one."""
    from blackbull.server import clock

    now = [784111777.2]
    monkeypatch.setattr(clock.time, "time", lambda: now[0])
    first = clock.http_date()
    now[0] = 784111777.9
    assert clock.http_date() is first
    assert first == b"Sun, 06 Nov 1994 08:49:37 GMT"
    now[0] = 784111778.0
    assert clock.http_date() == b"Sun, 06 Nov 1994 08:49:38 GMT"


async def test_http2_response_carries_date(serve):
    """RFC 9110 §6.6.1 (any HTTP version): an h2c response seen by the `h2` library as a
    raw HTTP/2 client carries one current Date."""
    from tests.conftest_h2 import get_response_headers

    srv = await serve(hello)
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
    headers = await get_response_headers(reader, writer, "http", "x")
    writer.close()
    dates = [v for k, v in headers if k == b"date"]
    assert len(dates) == 1
    assert abs(parsedate_to_datetime(dates[0].decode()).timestamp() - time.time()) < 5
