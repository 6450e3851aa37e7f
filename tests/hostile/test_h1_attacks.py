"""HTTP/1.1 attacks (RFC 9112): slowloris, slow bodies, header floods, request
smuggling and pipelining floods."""
from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from tests.hostile.checks import check_attack
from tests.hostile.conftest import HostileCase
from tests.hostile.h1raw import exchange, read_all, statuses
from tests.hostile.harness import ServerProcess, measure

MEMORY_BOUND_MB = 30.0

SMUGGLING = {
    "cl-te": b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked"
             b"\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
    "te-cl": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3"
             b"\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
    "duplicate-cl": b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 40"
                    b"\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
    "cl-list": b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0, 40\r\n\r\n"
               b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
    "obs-fold": b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n",
    "obs-fold-te": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n"
                   b"Content-Length: 3\r\n\r\nabc",
    "bare-lf": b"GET / HTTP/1.1\nHost: a\n\nGET /smuggled HTTP/1.1\nHost: a\n\n",
    "bare-lf-in-fields": b"GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n",
    "te-space-before-colon": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n"
                             b"\r\n0\r\n\r\n",
    "te-chunked-not-last": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity"
                           b"\r\n\r\n0\r\n\r\n",
    "te-unknown": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
    "chunk-size-bare-lf": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                          b"3\nabc\r\n0\r\n\r\n",
    "chunk-size-overflow": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                           b"FFFFFFFFFFFFFFFFFFFF\r\n",
    "two-hosts": b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
}


@pytest.fixture(scope="module")
def shared_server():
    server = ServerProcess()
    yield server
    server.stop()


@pytest.mark.parametrize("variant", sorted(SMUGGLING))
async def test_smuggling_variant_is_refused_and_closed(shared_server, variant: str) -> None:
    """RFC 9112 §6.1, §6.3, §5.2, §2.2: an ambiguous or invalid framing gets one 4xx/5xx
    answer and the connection is closed, so nothing after it can be taken as a second
    request."""
    answer = await exchange(shared_server.port, SMUGGLING[variant])
    assert statuses(answer) in (["400"], ["501"]), answer
    assert not answer.endswith(b"<no close>"), "connection left open"
    assert b"smuggled" not in answer.lower()


def _describe(case: HostileCase, section: str, description: str, bound: str) -> None:
    case.rfc, case.section = "RFC 9112", section
    case.description, case.bound, case.memory_bound_mb = description, bound, MEMORY_BOUND_MB


async def test_smuggling_mix_flood(hostile_server, hostile_case) -> None:
    """RFC 9112 §6.1/§6.3: every smuggling variant, connection after connection: each is
    answered 400/501 and closed."""
    _describe(hostile_case, "6.3", f"{len(SMUGGLING)} request smuggling variants in a loop",
              "one 400/501 per connection, then close")
    server = hostile_server()
    payloads = list(SMUGGLING.values())

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        i = 0
        while not stop.is_set():
            answer = await exchange(server.port, payloads[i % len(payloads)])
            ok = statuses(answer) in (["400"], ["501"]) and not answer.endswith(b"<no close>")
            answers["refused+closed" if ok else f"other: {answer[:60]!r}"] += 1
            i += 1

    m = await measure(server, attack)
    check_attack(hostile_case, server, m, "refused+closed")


async def test_slowloris_headers_a_byte_at_a_time(hostile_server, hostile_case) -> None:
    """RFC 9112 §9.5, RFC 9110 §15.5.9: 100 connections dribbling a request head one
    byte every 50 ms get 408 when BB_H1_HEADER_TIMEOUT (2 s here) runs out."""
    _describe(hostile_case, "9.5", "slowloris: 100 connections, head one byte per 50 ms",
              "BB_H1_HEADER_TIMEOUT=2 s for the whole head, then 408 and close")
    server = hostile_server()
    head = b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X-Slow: " + b"a" * 1000

    async def one(answers: Counter) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            for byte in head:
                writer.write(bytes([byte]))
                await asyncio.sleep(0.05)
                if reader.at_eof() or writer.is_closing():
                    break
                if len(reader._buffer):  # type: ignore[attr-defined]  # answered already
                    break
        except ConnectionError:
            pass
        answer = await read_all(reader, 3.0)
        writer.close()
        answers["408" if statuses(answer) == ["408"] else f"other: {answer[:40]!r}"] += 1

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        await asyncio.gather(*(one(answers) for _ in range(100)))

    m = await measure(server, attack, rounds=2)
    check_attack(hostile_case, server, m, "408")


async def test_slow_body_that_stops(hostile_server, hostile_case) -> None:
    """RFC 9110 §15.5.9: 100 requests announce 1 MB bodies and send 10 bytes; after
    BB_H1_HEADER_TIMEOUT (2 s here) without a byte of body: 408 and close."""
    _describe(hostile_case, "9.5", "slow body: 100 × Content-Length 1 MB, 10 bytes sent",
              "BB_H1_HEADER_TIMEOUT=2 s between two pieces of body, then 408 and close")
    server = hostile_server()
    request = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n0123456789"

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        results = await asyncio.gather(*(exchange(server.port, request, timeout=5.0)
                                         for _ in range(100)))
        for answer in results:
            answers["408" if statuses(answer) == ["408"] else f"other: {answer[:40]!r}"] += 1

    m = await measure(server, attack, rounds=2)
    check_attack(hostile_case, server, m, "408")


async def test_huge_header_count(hostile_server, hostile_case) -> None:
    """RFC 9112 §5, RFC 6585 §5: requests with 5 000 header fields → 431 and close
    (BB_H1_MAX_HEADERS)."""
    _describe(hostile_case, "5", "5 000 header fields per request, in a loop",
              "BB_H1_MAX_HEADERS=100 → 431 and close")
    server = hostile_server()
    request = b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X: y\r\n" * 5000 + b"\r\n"

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        while not stop.is_set():
            answer = await exchange(server.port, request)
            answers["431" if statuses(answer) == ["431"] else f"other: {answer[:40]!r}"] += 1

    m = await measure(server, attack)
    check_attack(hostile_case, server, m, "431")


async def test_huge_header_bytes(hostile_server, hostile_case) -> None:
    """RFC 9112 §5, RFC 6585 §5: a 200 kB header field → 431 and close
    (BB_H1_MAX_HEADER_BYTES)."""
    _describe(hostile_case, "5", "one 200 kB header field per request, in a loop",
              "BB_H1_MAX_HEADER_BYTES=65536 → 431 and close")
    server = hostile_server()
    request = b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"v" * 200_000 + b"\r\n\r\n"

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        while not stop.is_set():
            answer = await exchange(server.port, request)
            answers["431" if statuses(answer) == ["431"] else f"other: {answer[:40]!r}"] += 1

    m = await measure(server, attack)
    check_attack(hostile_case, server, m, "431")


async def test_pipelining_flood_without_reading(hostile_server, hostile_case) -> None:
    """RFC 9112 §9.3.2: 20 000 pipelined requests written without reading: the server
    stops reading (BB_H1_MAX_PIPELINE, BB_H1_WRITE_BUFFER) instead of buffering them;
    when the client finally reads, every answer comes, in order."""
    _describe(hostile_case, "9.3.2", "20 000 pipelined GETs, responses not read until the end",
              "BB_H1_MAX_PIPELINE=64 queued requests, BB_H1_WRITE_BUFFER=256 KiB, then the "
              "socket is not read")
    server = hostile_server()
    count = 20_000
    request = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(request * count)
        await stop.wait()  # the attack window: nothing is read
        writer.write(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        answer = await read_all(reader, 20.0)
        writer.close()
        got = statuses(answer)
        answers["all answered" if got == ["200"] * (count + 1) else f"{len(got)} answered"] += 1

    m = await measure(server, attack, rounds=2)
    check_attack(hostile_case, server, m, "all answered")
