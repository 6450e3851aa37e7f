"""WebSocket attacks on bytes and time (issue 20; RFC 6455 §10.4, RFC 7692 §8.1):
permessage-deflate bombs queued for an app that is behind (memory bounded in bytes, not
messages), bombs inflated flat out and bombs echoed (the loop's fairness), a peer that never reads what
the server sends (the write timeout), and memory that must come back after the attack.

Every bomb is 15 MiB of zeros, ~15 kB on the wire: under the default
BB_WS_MAX_MESSAGE_SIZE (16 MiB), so no size limit ends it — the byte budgets must."""
from __future__ import annotations

import asyncio
import functools
import socket
import struct
from collections import Counter

from tests.hostile.checks import check_attack
from tests.hostile.conftest import HostileCase
from tests.hostile.harness import measure
from tests.hostile.wsraw import BINARY, CLOSE, WsAttacker, deflate_message, ws_frame

MiB = 1024 * 1024
BOMB_SIZE = 15 * MiB
#: Held by the server at most: the queue budget (BB_WS_MAX_QUEUE_BYTES, 16 MiB) while
#: the app is behind, one message in the app's hands, and the copy made when the next
#: message's slices are joined (each ≤ BB_WS_MAX_MESSAGE_SIZE, 16 MiB); 16 MB of slack
#: for the allocator. Before the budgets: ~15 MiB per queued bomb (256 allowed).
BOMB_MEMORY_MB = 64.0
_TCP_ESTABLISHED = 1


@functools.cache
def _bomb() -> bytes:
    return ws_frame(BINARY, deflate_message(b"\0" * BOMB_SIZE), rsv1=True)


def _describe(case: HostileCase, section: str, description: str, bound: str,
              memory_mb: float) -> None:
    case.rfc, case.section = "RFC 7692", section
    case.description, case.bound, case.memory_bound_mb = description, bound, memory_mb


async def _bombs_then_close(port: int, path: str, count: int, answers: Counter,
                            timeout: float) -> None:
    """One connection: ``count`` bombs, then our Close; the server's Close answers it
    once everything before it was taken (RFC 6455 §5.5.1)."""
    peer = await WsAttacker.open(port, deflate=True, path=path)
    try:
        for _ in range(count):
            peer.send(_bomb())
        peer.send(ws_frame(CLOSE, b"\x03\xe8"))
        await peer.drain(timeout)
        await peer.read_close(timeout)
        answers[peer.answer()] += 1
    finally:
        peer.close()


async def test_deflate_bombs_queued_for_an_app_that_is_behind(
        hostile_server, hostile_case) -> None:
    """RFC 7692 §8.1, RFC 6455 §10.4: ten 15 MiB bombs (~150 kB on the wire) to an app
    that takes one message per 0.2 s: the server holds at most BB_WS_MAX_QUEUE_BYTES of
    them and stops reading meanwhile (back-pressure), instead of queueing 256 messages
    of any size; every message still reaches the app and the Close is answered."""
    _describe(hostile_case, "8.1", "10 × 15 MiB deflate bombs (~15 kB each) to a slow app",
              "BB_WS_MAX_QUEUE_BYTES=16 MiB, BB_WS_MAX_WORKER_BYTES=256 MiB (defaults): "
              "reading stops when spent → close 1000 after the queue drained",
              BOMB_MEMORY_MB)
    server = hostile_server({})

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        await _bombs_then_close(server.port, "/ws-slow?0.2", 10, answers, 8.0)

    m = await measure(server, attack)
    check_attack(hostile_case, server, m, "close 1000")


async def test_deflate_bombs_inflated_flat_out(hostile_server, hostile_case) -> None:
    """RFC 7692 §8.1, RFC 6455 §10.4: sixteen 15 MiB bombs in one burst to an app that
    takes them as fast as they come: inflation goes in BB_WS_BYTES_PER_TURN slices, one
    per loop turn, so the honest client keeps its rate while 240 MiB are inflated."""
    _describe(hostile_case, "8.1", "16 × 15 MiB deflate bombs in a burst, app keeps up",
              "BB_WS_BYTES_PER_TURN=128 KiB (default) inflated per loop turn → close 1000",
              BOMB_MEMORY_MB)
    server = hostile_server({})

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        await _bombs_then_close(server.port, "/ws-slow?0", 16, answers, 8.0)

    m = await measure(server, attack)
    check_attack(hostile_case, server, m, "close 1000")


async def test_deflate_bombs_echoed(hostile_server, hostile_case) -> None:
    """RFC 7692 §7.2.1, RFC 6455 §10.4: eight 15 MiB bombs to the echo app, whose
    replies the peer reads: each is inflated and deflated again in BB_WS_BYTES_PER_TURN
    steps, one per loop turn (a 15 MiB deflate in one call holds the loop ~0.1 s)."""
    _describe(hostile_case, "7.2.1", "8 × 15 MiB deflate bombs to the echo app",
              "BB_WS_BYTES_PER_TURN=128 KiB (default) inflated and deflated per loop turn "
              "→ echoes, then close 1000", BOMB_MEMORY_MB)
    server = hostile_server({})

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        await _bombs_then_close(server.port, "/ws", 8, answers, 8.0)

    m = await measure(server, attack)
    check_attack(hostile_case, server, m, "close 1000")


def _tcp_alive(peer: WsAttacker) -> bool:
    """Is our side still ESTABLISHED (Linux TCP_INFO's first octet)? Read without
    reading the socket, which would relieve the server."""
    if peer.writer.transport.is_closing():
        return False
    sock = peer.writer.get_extra_info("socket")
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
    except OSError:
        return False
    return struct.unpack_from("B", info)[0] == _TCP_ESTABLISHED


async def test_peer_that_never_reads(hostile_server, hostile_case) -> None:
    """RFC 6455 §10.4: the peer sends 1 MiB messages to the echo app and never reads
    the echoes: once the server's write buffer stays full for BB_WS_SEND_TIMEOUT (1 s
    here) the connection is dropped (its Close could not be written) and logged once,
    instead of holding the app's task and its buffers forever."""
    _describe(hostile_case, "10.4", "peer never reads: 16 × 1 MiB echoed messages",
              "BB_WS_SEND_TIMEOUT=1 s here, then the connection is aborted", 40.0)
    hostile_case.rfc = "RFC 6455"
    server = hostile_server({"BB_WS_SEND_TIMEOUT": "1", "BB_WS_MAX_MESSAGE_SIZE": str(MiB),
                             "BB_WS_MAX_FRAME_SIZE": str(MiB)})
    message = ws_frame(BINARY, b"m" * MiB)

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        peer = await WsAttacker.open(server.port, rcvbuf=65536)
        loop = asyncio.get_running_loop()
        start = loop.time()
        try:
            for _ in range(16):
                peer.send(message)
            await peer.drain(1.0)
            while _tcp_alive(peer) and loop.time() - start < 6.0:
                await asyncio.sleep(0.05)
            waited = loop.time() - start
            answers["dropped after send timeout" if not _tcp_alive(peer) and waited < 5.0
                    else f"still open after {waited:.1f} s"] += 1
        finally:
            peer.close()

    m = await measure(server, attack, rounds=3)
    check_attack(hostile_case, server, m, "dropped after send timeout")


async def _settled_rss(server, before_kb: int, within_s: float = 5.0) -> int:
    """The server's resident size once a round's memory has gone back: sampled every
    0.25 s for up to ``within_s`` seconds (the heap is trimmed in a thread a moment after
    the release, later on a loaded machine), the smallest sample; it stops early once
    within 4 MB of the size before the first round."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    await asyncio.sleep(0.5)
    low = server.rss_kb()
    while low > before_kb + 4096 and loop.time() < deadline:
        await asyncio.sleep(0.25)
        low = min(low, server.rss_kb())
    return low


async def test_memory_comes_back_after_deflate_bombs(hostile_server, hostile_case) -> None:
    """RFC 6455 §10.4: three rounds of bombs to a slow app, four connections at a time,
    on one server whose worker budget (32 MiB here) is below what the four connections'
    own budgets allow together (4 × 16 MiB): the worker's budget holds them, and what
    they held is given back (resident size within 5 s after each round within 16 MB of the
    size before the first, and no growth per round: round 3 within 8 MB of round 1)."""
    _describe(hostile_case, "8.1", "3 rounds × 4 connections × 5 bombs, slow app",
              "BB_WS_MAX_WORKER_BYTES=32 MiB here; RSS after each round ≤ before + 16 MB, "
              "round 3 ≤ round 1 + 8 MB",
              BOMB_MEMORY_MB)
    server = hostile_server({"BB_WS_MAX_WORKER_BYTES": str(32 * MiB)})

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        await asyncio.gather(*(_bombs_then_close(server.port, "/ws-slow?0.05", 5,
                                                 answers, 15.0) for _ in range(4)))

    after: list[int] = []
    total = Counter()
    m = None
    cpu = 0.0
    before = 0
    for _ in range(3):
        m = await measure(server, attack, rounds=2)
        before = before or m.rss_start_kb
        total.update(m.answers)
        cpu += m.server_cpu_s
        after.append(await _settled_rss(server, before))
    assert m is not None
    m.answers, m.server_cpu_s = total, cpu
    rounds = f"RSS after each round: {[round(kb / 1024, 1) for kb in after]} MB"
    try:
        check_attack(hostile_case, server, m, "close 1000")
    finally:
        hostile_case.message = rounds + "; " + hostile_case.message
    growth = (after[2] - after[0]) / 1024
    assert growth <= 8.0, f"resident size grew {growth:.1f} MB from round 1 to round 3: {after}"
    # What a round held goes back to the OS (ws_budget.py trims the heap), not only
    # back to the allocator: within 16 MB of the size before the first round.
    kept = (max(after) - before) / 1024
    assert kept <= 16.0, f"{kept:.1f} MB more resident after the rounds: {after}"


async def test_half_sent_messages_that_stall(hostile_server, hostile_case) -> None:
    """RFC 6455 §10.4: peers that send 12 MiB of a 15 MiB message (a deflate bomb's first
    fragment, ~12 kB on the wire) and then nothing, more than the worker's budget
    (32 MiB here) holds: each is closed with 1008 once BB_WS_MESSAGE_STALL_TIMEOUT
    (0.5 s here) has passed, which gives back what it held; afterwards a bomb to the
    echo app is still read and answered. Without the timeout such peers hold the
    budget for as long as they stay connected (~17 spend the default 256 MiB), and every
    WebSocket of the worker that needs room stops reading."""
    _describe(hostile_case, "10.4", "4 × 12 MiB half-sent messages, then silence",
              "BB_WS_MESSAGE_STALL_TIMEOUT=0.5 s, BB_WS_MAX_WORKER_BYTES=32 MiB here "
              "→ close 1008", BOMB_MEMORY_MB)
    hostile_case.rfc = "RFC 6455"
    server = hostile_server({"BB_WS_MESSAGE_STALL_TIMEOUT": "0.5",
                             "BB_WS_MAX_WORKER_BYTES": str(32 * MiB)})
    first = ws_frame(BINARY, deflate_message(b"\0" * 12 * MiB), fin=False, rsv1=True)

    async def stall(answers: Counter) -> None:
        peer = await WsAttacker.open(server.port, deflate=True)
        try:
            peer.send(first)
            await peer.drain(2.0)
            await peer.read_close(5.0)
            answers[peer.answer()] += 1
        finally:
            peer.close()

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        await asyncio.gather(*(stall(answers) for _ in range(4)))

    m = await measure(server, attack, rounds=2)
    check_attack(hostile_case, server, m, "close 1008")
    after: Counter = Counter()
    await _bombs_then_close(server.port, "/ws", 1, after, 8.0)
    assert after == Counter({"close 1000": 1}), f"after the stalls: {dict(after)}"
