"""HTTP/1.1 and connection-level attacks of issue 20: a connection flood over
BB_MAX_CONNECTIONS, a client that never reads a 50 MB response, Upgrade requests whose
body comes in later reads (a desynchronisation if answered twice), and a pipelined flood
of refused h2c upgrades — each answered by the protocol and logged once per cause."""
from __future__ import annotations

import asyncio
from collections import Counter

from tests.hostile.checks import check_attack
from tests.hostile.conftest import HostileCase
from tests.hostile.h1raw import read_all, statuses
from tests.hostile.harness import measure

MEMORY_BOUND_MB = 30.0
#: BB_LOG_REPEAT_INTERVAL=10 s: one line per cause when it starts, one count per 10 s.
MAX_LINES_PER_CAUSE = 4


def _describe(case: HostileCase, rfc: str, section: str, description: str,
              bound: str) -> None:
    case.rfc, case.section = rfc, section
    case.description, case.bound, case.memory_bound_mb = description, bound, MEMORY_BOUND_MB


def _lines(server, needle: str) -> list[str]:
    return [ln for ln in server.log().splitlines() if needle in ln]


async def test_connection_flood_over_max_connections_gets_503(hostile_server, hostile_case):
    """RFC 9110 §15.6.4, §10.2.3 (issue 20): waves of 60 connections against
    BB_MAX_CONNECTIONS=20: each is served or answered ``503`` + Retry-After and closed —
    never reset — and the refusals are logged once per interval, not once each."""
    _describe(hostile_case, "RFC 9110", "15.6.4",
              "waves of 60 connections (GET /slow?0.2) over BB_MAX_CONNECTIONS=20",
              "each connection served or 503 + Retry-After + close; ≤ 4 log lines")
    server = hostile_server({"BB_MAX_CONNECTIONS": "20"})

    async def one(answers: Counter) -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        except OSError:
            answers["connect failed"] += 1
            return
        try:
            writer.write(b"GET /slow?0.2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            answer = await read_all(reader, 5.0)
        except ConnectionError:
            answer = b"<reset>"
        finally:
            writer.close()
        head = answer.split(b"\r\n\r\n")[0].lower()
        closed = not answer.endswith(b"<no close>")
        if statuses(answer) == ["200"] and closed:
            answers["served"] += 1
        elif (statuses(answer) == ["503"] and b"retry-after:" in head
              and b"connection: close" in head and closed):
            answers["503 + close"] += 1
        else:
            answers[f"other: {answer[:40]!r}"] += 1

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        while not stop.is_set():
            await asyncio.gather(*(one(answers) for _ in range(60)))

    m = await measure(server, attack, rounds=3)
    refused = _lines(server, "BB_MAX_CONNECTIONS")
    check_attack(hostile_case, server, m, ("served", "503 + close"))
    assert m.answers["503 + close"] >= 1, dict(m.answers)
    assert 1 <= len(refused) <= MAX_LINES_PER_CAUSE, refused[:10]


async def test_client_never_reading_50mb_is_closed_by_write_timeout(hostile_server,
                                                                   hostile_case):
    """Issue 20 (write timeouts; nginx's send_timeout): 10 clients ask for 50 MB and
    read nothing for 3 s; with BB_H1_WRITE_TIMEOUT=1 the server has closed them by
    then (before, they were held for as long as they liked), logged once per interval."""
    _describe(hostile_case, "RFC 9112", "9.6",
              "10 connections GET /big?50000000, nothing read for 3 s",
              "BB_H1_WRITE_TIMEOUT=1 s → closed before the body is sent; ≤ 4 log lines")
    server = hostile_server({"BB_H1_WRITE_TIMEOUT": "1"})
    size = 50_000_000

    async def one(answers: Counter) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /big?%d HTTP/1.1\r\nHost: a\r\n\r\n" % size)
        await asyncio.sleep(3.0)
        got = 0
        try:
            while chunk := await asyncio.wait_for(reader.read(1 << 20), 10):
                got += len(chunk)
        except (ConnectionError, TimeoutError):
            pass
        writer.close()
        answers["closed by the server" if got < size else "held to the end"] += 1

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        await asyncio.gather(*(one(answers) for _ in range(10)))

    m = await measure(server, attack, rounds=2)
    check_attack(hostile_case, server, m, "closed by the server")
    assert 1 <= len(_lines(server, "BB_H1_WRITE_TIMEOUT")) <= MAX_LINES_PER_CAUSE


async def test_upgrade_with_body_in_later_reads_is_answered_once(hostile_server,
                                                                 hostile_case):
    """RFC 9110 §7.8, RFC 9113 §3.2 (issue 20 problem 4): ``Upgrade: h2c`` with a
    300 000-byte body sent after the head, in three writes, then a second request: the
    first is answered once with its whole body counted, the second is the second
    answer (before: ``200 "0"``, then a 400 on the same connection)."""
    _describe(hostile_case, "RFC 9110", "7.8",
              "Upgrade: h2c + Content-Length 300000, body in 3 later writes, then a GET",
              "two answers: 200 '300000' then 200 'ok' (no 400, no 101)")
    server = hostile_server()
    size = 300_000
    head = (b"POST / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n"
            b"Connection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA"
            b"\r\nContent-Length: %d\r\n\r\n" % size)
    tail = b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"

    async def one(answers: Counter) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(head)
        await writer.drain()
        for _ in range(3):
            await asyncio.sleep(0.02)
            writer.write(b"u" * (size // 3))
            await writer.drain()
        writer.write(tail)
        answer = await read_all(reader, 5.0)
        writer.close()
        parts = answer.split(b"HTTP/1.1 ")
        ok = (statuses(answer) == ["200", "200"] and parts[1].endswith(b"300000")
              and parts[2].endswith(b"ok"))
        answers["answered once" if ok else f"other: {statuses(answer)}"] += 1

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        while not stop.is_set():
            await asyncio.gather(*(one(answers) for _ in range(5)))

    m = await measure(server, attack)
    check_attack(hostile_case, server, m, "answered once")


async def test_pipelined_refused_h2c_upgrades_log_once(hostile_server, hostile_case):
    """Issue 20 (one log line per cause): 500 pipelined requests per connection, each
    with ``Upgrade: h2c`` and an HTTP2-Settings value that is no SETTINGS payload (4
    bytes): each is served over HTTP/1.1 (RFC 9110 §7.8), and "h2c upgrade refused" is
    logged once per interval (before: one INFO line per request)."""
    _describe(hostile_case, "RFC 9113", "3.2",
              "500 pipelined GETs with Upgrade: h2c and a bad HTTP2-Settings, per connection",
              "every request served over HTTP/1.1; ≤ 4 'h2c upgrade refused' lines")
    server = hostile_server()
    count = 500
    request = (b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n"
               b"Connection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAA\r\n\r\n")

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        while not stop.is_set():
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(request * count
                         + b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            answer = await read_all(reader, 10.0)
            writer.close()
            got = statuses(answer)
            answers["all served" if got == ["200"] * (count + 1)
                    else f"{len(got)} answered"] += 1

    m = await measure(server, attack, rounds=3)
    check_attack(hostile_case, server, m, "all served")
    assert 1 <= len(_lines(server, "h2c upgrade refused")) <= MAX_LINES_PER_CAUSE
