"""HTTP/2 attacks on held resources: oversized field sections, zero-window / slow
readers, stream exhaustion (RFC 9113 §5.1.2, §6.5.2, §10.5, §10.5.1) and RFC 8441
WebSocket streams held open.
"""
from __future__ import annotations

import asyncio
from collections import Counter

from tests.hostile.checks import check_attack
from tests.hostile.conftest import HostileCase
from tests.hostile.h2raw import (
    CONTINUATION,
    END_HEADERS,
    END_STREAM,
    HEADERS,
    H2Attacker,
    frame,
    request_block,
)
from tests.hostile.harness import measure

MEMORY_BOUND_MB = 40.0


def _describe(case: HostileCase, section: str, description: str, bound: str,
              memory_mb: float = MEMORY_BOUND_MB) -> None:
    case.rfc, case.section = "RFC 9113", section
    case.description, case.bound, case.memory_bound_mb = description, bound, memory_mb


async def test_header_list_beyond_max_header_list_size(hostile_server, hostile_case) -> None:
    """RFC 9113 §6.5.2, §10.5.1: a 100 kB field section (over our 64 KiB
    SETTINGS_MAX_HEADER_LIST_SIZE, within the decoder's hard stop) is answered 431
    without running the app; request after request."""
    _describe(hostile_case, "10.5.1", "field sections of 100 kB (HEADERS + CONTINUATION)",
              "BB_H2_MAX_HEADER_LIST_SIZE=65536 → 431 per request")
    server = hostile_server()

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        while not stop.is_set():
            peer = await H2Attacker.open(server.port)
            # Our SETTINGS ACKed first: before it the server's decoder applies HPACK's
            # default list limit (a connection error, tested elsewhere).
            await peer.wait_for(lambda r: r.frames >= 2, 2.0)
            sid = 1
            while not stop.is_set() and sid < 41 and not peer.finished:
                block = request_block(peer.encoder, extra=[("x-big", "v" * 100_000)])
                pieces = [block[i:i + 16384] for i in range(0, len(block), 16384)]
                peer.send(frame(HEADERS, END_STREAM, sid, pieces[0]))
                for i, piece in enumerate(pieces[1:], 2):
                    peer.send(frame(CONTINUATION, END_HEADERS if i == len(pieces) else 0,
                                    sid, piece))
                await peer.drain()
                sid += 2
                await asyncio.sleep(0)
            sent = sid // 2
            await peer.wait_for(lambda r, n=sent: sum(r.statuses.values()) >= n, 2.0)
            statuses = peer.received.statuses
            peer.close()
            answers["431" if set(statuses) == {"431"} else f"statuses {dict(statuses)}"] += 1

    m = await measure(server, attack)
    check_attack(hostile_case, server, m, "431")


async def test_zero_window_slow_reader(hostile_server, hostile_case) -> None:
    """RFC 9113 §6.9, §10.5: a peer that asks for 1 MB responses on 50 streams with
    SETTINGS_INITIAL_WINDOW_SIZE 0 and never opens a window holds them only for one
    BB_H2_IDLE_TIMEOUT; then GOAWAY ENHANCE_YOUR_CALM and the connection is dropped."""
    _describe(hostile_case, "6.9", "zero-window slow reader: 50 × 1 MB responses, window 0",
              "one 64 kB app chunk held per stream (back-pressure); BB_H2_IDLE_TIMEOUT=1 s "
              "without DATA progress → GOAWAY ENHANCE_YOUR_CALM")
    server = hostile_server({"BB_H2_IDLE_TIMEOUT": "1"})

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        peer = await H2Attacker.open(server.port, {0x4: 0})
        for sid in range(1, 101, 2):
            peer.headers(sid, "/big", extra=[])
        await peer.drain()
        received = await peer.wait_goaway(6.0)
        peer.close()
        answers[f"GOAWAY {received.goaway}" if received.goaway else "no answer"] += 1

    m = await measure(server, attack)
    check_attack(hostile_case, server, m, "GOAWAY ENHANCE_YOUR_CALM")


async def test_stream_exhaustion_held_streams(hostile_server, hostile_case) -> None:
    """RFC 9113 §5.1.2: five connections each hold SETTINGS_MAX_CONCURRENT_STREAMS
    streams open forever; every stream beyond the limit gets RST_STREAM
    REFUSED_STREAM, and the held ones cost bounded memory."""
    _describe(hostile_case, "5.1.2",
              "5 connections × 110 never-ending requests (MAX_CONCURRENT_STREAMS held)",
              "BB_H2_MAX_CONCURRENT_STREAMS=100 per connection (REFUSED_STREAM beyond), "
              "BB_MAX_CONNECTIONS per worker")
    server = hostile_server()

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        peers = [await H2Attacker.open(server.port) for _ in range(5)]
        for peer in peers:
            await peer.wait_for(lambda r: r.frames >= 2, 2.0)  # our SETTINGS applied
            for sid in range(1, 221, 2):
                peer.headers(sid, "/hold", end_stream=False)
        await stop.wait()
        for peer in peers:
            refused = peer.received.reset_codes["REFUSED_STREAM"]
            answers["REFUSED_STREAM x10" if refused == 10 else f"refused {refused}"] += 1
            peer.close()

    m = await measure(server, attack)
    check_attack(hostile_case, server, m, "REFUSED_STREAM x10")


async def test_rfc8441_websocket_streams_held_open(hostile_server, hostile_case) -> None:
    """RFC 8441 §4, RFC 9113 §5.1.2: extended CONNECT WebSocket streams held open and
    silent; beyond BB_H2_MAX_WEBSOCKET_STREAMS each is refused."""
    _describe(hostile_case, "5.1.2",
              "RFC 8441 WebSocket streams opened and held silent, 60 per connection",
              "BB_H2_MAX_WEBSOCKET_STREAMS=50 here → REFUSED_STREAM beyond")
    hostile_case.rfc = "RFC 8441"
    server = hostile_server({"BB_H2_ENABLE_WEBSOCKET": "1", "BB_H2_MAX_WEBSOCKET_STREAMS": "50"})
    extra = [(":protocol", "websocket"), ("sec-websocket-version", "13")]

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        peers = [await H2Attacker.open(server.port) for _ in range(3)]
        for peer in peers:
            await peer.wait_for(lambda r: r.frames >= 2, 2.0)
            for sid in range(1, 121, 2):
                peer.headers(sid, "/ws", end_stream=False, method="CONNECT", extra=extra)
        await stop.wait()
        for peer in peers:
            refused = peer.received.reset_codes["REFUSED_STREAM"]
            answers["REFUSED_STREAM x10" if refused == 10 else f"refused {refused}"] += 1
            peer.close()

    m = await measure(server, attack)
    check_attack(hostile_case, server, m, "REFUSED_STREAM x10")


async def _trickle_reader(server_port: int, stop: asyncio.Event, answers: Counter,
                          connections: int) -> None:
    """``connections`` peers ask for 100 × 64 KiB each, let the connection window run
    out, then open it by one octet every 0.3 s; each waits (after ``stop`` too) up to
    5 s for the server's answer."""
    from tests.hostile.h2raw import window_update

    peers = [await H2Attacker.open(server_port) for _ in range(connections)]
    for peer in peers:
        for sid in range(1, 201, 2):
            peer.headers(sid, "/fresh?65536")
    loop = asyncio.get_running_loop()
    deadline = None
    while True:
        if stop.is_set() and deadline is None:
            deadline = loop.time() + 5.0
        if all(p.finished for p in peers) or (deadline and loop.time() > deadline):
            break
        for peer in peers:
            if not peer.finished:
                peer.send(window_update(0, 1))
        await asyncio.sleep(0.3)
    for peer in peers:
        got = peer.received.goaway
        answers[f"GOAWAY {got}" if got else "held"] += 1
        peer.close()


async def test_trickle_reader_one_octet_per_period(hostile_server, hostile_case) -> None:
    """RFC 9113 §6.9, §10.5: peers that open their connection window by one octet
    every 0.3 s would count as progressing forever if any movement were progress,
    holding 100 buffered responses each. Progress is judged by rate (BB_H2_MIN_SEND_RATE over each BB_H2_IDLE_TIMEOUT)
    → GOAWAY ENHANCE_YOUR_CALM, and the worker's buffered response data is bounded
    (BB_H2_MAX_BUFFERED_RESPONSE, the least progressing connections closed first)."""
    _describe(hostile_case, "6.9",
              "2 connections per window × 100 streams of 64 KiB, connection window opened "
              "by 1 octet every 0.3 s",
              "BB_H2_MIN_SEND_RATE=1024 octets/s over BB_H2_IDLE_TIMEOUT=1 s, "
              "BB_H2_MAX_BUFFERED_RESPONSE=8 MiB here → GOAWAY ENHANCE_YOUR_CALM",
              memory_mb=25.0)
    server = hostile_server({"BB_H2_IDLE_TIMEOUT": "1",
                             "BB_H2_MAX_BUFFERED_RESPONSE": str(8 << 20)})

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        await _trickle_reader(server.port, stop, answers, 2)

    m = await measure(server, attack)
    check_attack(hostile_case, server, m, "GOAWAY ENHANCE_YOUR_CALM")


async def test_trickle_reader_rate_judge_alone(hostile_server, hostile_case) -> None:
    """RFC 9113 §6.9, §10.5: the same trickle with the worker's buffer bound off, so
    only the rate judge answers: under BB_H2_MIN_SEND_RATE for a BB_H2_IDLE_TIMEOUT
    period → GOAWAY ENHANCE_YOUR_CALM (a one-octet window per period is no progress)."""
    _describe(hostile_case, "6.9",
              "1 connection per window × 100 streams of 64 KiB, connection window opened "
              "by 1 octet every 0.3 s; BB_H2_MAX_BUFFERED_RESPONSE=0 (off)",
              "BB_H2_MIN_SEND_RATE=1024 octets/s over BB_H2_IDLE_TIMEOUT=1 s → GOAWAY "
              "ENHANCE_YOUR_CALM")
    server = hostile_server({"BB_H2_IDLE_TIMEOUT": "1", "BB_H2_MAX_BUFFERED_RESPONSE": "0"})

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        await _trickle_reader(server.port, stop, answers, 1)

    m = await measure(server, attack)
    check_attack(hostile_case, server, m, "GOAWAY ENHANCE_YOUR_CALM")



async def test_held_buffers_are_given_back_round_after_round(hostile_server,
                                                             hostile_case) -> None:
    """RFC 9113 §6.9, §10.5: three rounds of 20 zero-window connections, each holding
    100 responses of a fresh 64 KiB app buffer (~128 MB held) until the stall guard
    closes them. After each round the worker's resident size comes back (a closed
    connection leaves no reference cycle for a later GC, and the C heap is trimmed
    after a large release) instead of staying at its peak: no growth per round.
    Load-generator style (no honest client: it is the memory that is measured)."""
    from tests.hostile.harness import Measurement, machine_lock

    _describe(hostile_case, "10.5",
              "3 rounds × 20 zero-window connections × 100 responses of fresh 64 KiB "
              "buffers; resident size 2 s after each round",
              "BB_H2_IDLE_TIMEOUT=1 s → GOAWAY ENHANCE_YOUR_CALM; after every round RSS ≤ "
              "BB_MALLOC_THRESHOLD (16 MiB kept for reuse) + 8 MB over its start",
              memory_mb=200.0)
    server = hostile_server({"BB_H2_IDLE_TIMEOUT": "1"})
    m = Measurement()
    after: list[float] = []
    with machine_lock():
        await asyncio.sleep(0.5)
        m.rss_start_kb = server.rss_kb()
        for _ in range(3):
            peers = [await H2Attacker.open(server.port, {0x4: 0}) for _ in range(20)]
            for peer in peers:
                for sid in range(1, 201, 2):
                    peer.headers(sid, "/fresh?65536")
            await asyncio.gather(*(p.wait_goaway(6.0) for p in peers))
            for peer in peers:
                got = peer.received.goaway
                m.answers[f"GOAWAY {got}" if got else "held"] += 1
                peer.close()
            await asyncio.sleep(2.0)  # app tasks end, the heap trim follows
            after.append((server.rss_kb() - m.rss_start_kb) / 1024)
        m.hwm_kb, m.rss_end_kb = server.hwm_kb(), server.rss_kb()
    hostile_case.min_ratio = 0.0  # no honest client here
    hostile_case.record(m)
    hostile_case.message = (
        f"RSS {m.rss_start_kb // 1024} MB → peak {m.hwm_kb // 1024} MB; after each round +"
        + ", +".join(f"{a:.1f}" for a in after) + f" MB; answers {dict(m.answers)}")
    assert server.alive()
    assert set(m.answers) == {"GOAWAY ENHANCE_YOUR_CALM"}, dict(m.answers)
    assert m.growth_mb <= hostile_case.memory_bound_mb, f"peak +{m.growth_mb:.1f} MB"
    assert max(after) <= 24.0, f"resident size stayed above its start: {after} MB"


async def test_rfc8441_websocket_reader_starving_its_stream(hostile_server,
                                                            hostile_case) -> None:
    """RFC 8441 §5, RFC 9113 §6.9.1, §10.5: a peer downloads briskly on one stream
    (so its connection progresses) while never opening the window of its RFC 8441
    WebSocket stream, whose echoes wait buffered. A stream held back by its own
    window below BB_H2_MIN_SEND_RATE is reset alone → RST_STREAM ENHANCE_YOUR_CALM,
    the connection goes on."""
    from tests.hostile.h2raw import DATA, window_update
    from tests.hostile.wsraw import ws_frame

    _describe(hostile_case, "6.9.1",
              "RFC 8441 WebSocket stream whose window stays 0 (48 KiB of echoes waiting) "
              "beside a download at ~160 KB/s on the same connection",
              "BB_H2_MIN_SEND_RATE=1024 octets/s per stream held by its own window over "
              "BB_H2_IDLE_TIMEOUT=1 s → RST_STREAM ENHANCE_YOUR_CALM on that stream only")
    hostile_case.rfc = "RFC 8441"
    server = hostile_server({"BB_H2_ENABLE_WEBSOCKET": "1", "BB_H2_IDLE_TIMEOUT": "1"})
    extra = [(":protocol", "websocket"), ("sec-websocket-version", "13")]

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        peer = await H2Attacker.open(server.port, {0x4: 0})
        await peer.wait_for(lambda r: r.frames >= 2, 2.0)  # ENABLE_CONNECT_PROTOCOL seen
        peer.headers(1, "/ws", end_stream=False, method="CONNECT", extra=extra)
        for _ in range(3):
            peer.send(frame(DATA, 0, 1, ws_frame(0x2, b"x" * 16000)))
        peer.headers(3, "/big")
        loop = asyncio.get_running_loop()
        deadline = None
        while not peer.finished and 1 not in peer.received.reset_ids:
            if stop.is_set() and deadline is None:
                deadline = loop.time() + 5.0
            if deadline is not None and loop.time() > deadline:
                break
            peer.send(window_update(3, 16384) + window_update(0, 16384))
            await asyncio.sleep(0.1)
        rec = peer.received
        if 1 in rec.reset_ids and rec.goaway is None:
            answers[f"RST_STREAM {'ENHANCE_YOUR_CALM' if rec.reset_codes['ENHANCE_YOUR_CALM'] else dict(rec.reset_codes)}"] += 1
        else:
            answers[f"GOAWAY {rec.goaway}" if rec.goaway else "held"] += 1
        peer.close()

    m = await measure(server, attack)
    check_attack(hostile_case, server, m, "RST_STREAM ENHANCE_YOUR_CALM")
