"""HTTP/2 work that costs the server far more than the peer (RFC 9113 §10.5, RFC 7541
§4.2): one connection must not take the event loop from everyone else.

Each test runs an attack that is cheap to send and was costly to serve, and checks the
honest HTTP/1.1 client keeps ≥ 90 % of its quiet rate (tests/hostile/README.md).
"""
from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from tests.hostile.checks import check_attack
from tests.hostile.conftest import HostileCase
from tests.hostile.h2raw import H2Attacker, window_update
from tests.hostile.harness import measure

MEMORY_BOUND_MB = 40.0
#: What SETTINGS_HEADER_TABLE_SIZE the peers below allow (RFC 9113 §6.5.2: 2^32-1).
_HUGE_TABLE = 0xFFFFFFFF


def _describe(case: HostileCase, rfc: str, section: str, description: str,
              bound: str) -> None:
    case.rfc, case.section = rfc, section
    case.description, case.bound, case.memory_bound_mb = description, bound, MEMORY_BOUND_MB


async def test_hpack_encoder_table_capped_against_huge_peer_table(hostile_server,
                                                                  hostile_case) -> None:
    """RFC 7541 §4.2, RFC 9113 §6.5.2: three long-lived connections allow a 2^32-1
    octet table and fetch ~320 responses per second each, every one carrying a
    distinct ``x-request-id``. The
    encoder may use any size up to the peer's; ours stays at BB_H2_ENCODER_TABLE_SIZE,
    so the per-response encoding cost does not grow with the connection's age (the
    peers' own decoders see the table never pass 4096 octets)."""
    _describe(hostile_case, "RFC 7541", "4.2",
              "3 connections with SETTINGS_HEADER_TABLE_SIZE=2^32-1, ~320 req/s each with a "
              "distinct response header, kept across all windows",
              "BB_H2_ENCODER_TABLE_SIZE=4096: the encoder's table (seen by the peer's "
              "decoder) stays ≤ 4096 octets")
    server = hostile_server()
    peers: list[H2Attacker] = []
    next_sid: dict[H2Attacker, int] = {}

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        if not peers:
            for _ in range(3):
                peer = await H2Attacker.open(server.port, {0x1: _HUGE_TABLE})
                peer.decoder.max_allowed_table_size = _HUGE_TABLE
                await peer.wait_for(lambda r: r.frames >= 2, 2.0)
                peers.append(peer)
                next_sid[peer] = 1

        async def fetch(peer: H2Attacker) -> None:
            # Paced like a busy but ordinary client: 16 requests every 50 ms (~320/s).
            loop = asyncio.get_running_loop()
            tick = loop.time()
            while not stop.is_set() and not peer.finished:
                first = next_sid[peer]
                for sid in range(first, first + 32, 2):
                    peer.headers(sid, "/id")
                next_sid[peer] = first + 32
                await peer.drain()
                want = (first + 31) // 2  # responses so far
                await peer.wait_for(lambda r, n=want: sum(r.statuses.values()) >= n, 5.0)
                tick += 0.05
                await asyncio.sleep(max(0.0, tick - loop.time()))

        await asyncio.gather(*(fetch(p) for p in peers))
        for peer in peers:
            size = peer.decoder.header_table._current_size
            answers["table ≤ 4096" if size <= 4096 and not peer.finished
                    else f"table {size}{' (closed)' if peer.finished else ''}"] += 1

    try:
        m = await measure(server, attack)
    finally:
        for peer in peers:
            peer.close()
    check_attack(hostile_case, server, m, "table ≤ 4096")


def _hundred_waiting_streams(peer: H2Attacker) -> None:
    # SETTINGS_INITIAL_WINDOW_SIZE 0: every /big response waits with data queued.
    for sid in range(1, 201, 2):
        peer.headers(sid, "/big")


@pytest.mark.parametrize("target", ["connection", "stream"])
async def test_window_update_storm_with_100_waiting_streams(hostile_server, hostile_case,
                                                             target: str) -> None:
    """RFC 9113 §6.9, §10.5: 100 responses wait for window, and the peer sends
    WINDOW_UPDATEs of one octet without end (on the connection, or round the streams).
    A pump per WINDOW_UPDATE would re-scan every waiting stream: the sender pumps once
    per read, and increments under 1 KiB draw from the flood bucket → ENHANCE_YOUR_CALM."""
    _describe(hostile_case, "RFC 9113", "6.9",
              f"WINDOW_UPDATE(+1) storm on the {target}, 100 streams waiting for window",
              "one sender pump per read; increments < 1024 draw BB_H2_MAX_FLOOD_BURST=1000 "
              "/ BB_H2_MAX_FLOOD_RATE=100/s → GOAWAY ENHANCE_YOUR_CALM")
    server = hostile_server()

    def step(peer: H2Attacker, n: int) -> None:
        peer.send(window_update(0 if target == "connection" else 1 + 2 * (n % 100), 1))

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        # One storming connection per window, not reconnecting after its answer: the
        # cost judged is the storm's, not that of opening 100 streams again and again.
        peer = await H2Attacker.open(server.port, {0x4: 0})
        _hundred_waiting_streams(peer)
        n = 0
        while not peer.finished and not stop.is_set():
            for _ in range(50):
                step(peer, n)
                n += 1
            if not await peer.drain(1.0):
                break
            await asyncio.sleep(0)
        received = await peer.wait_goaway(2.0)
        peer.close()
        answers[f"GOAWAY {received.goaway}" if received.goaway else "no answer"] += 1

    m = await measure(server, attack)
    check_attack(hostile_case, server, m, "GOAWAY ENHANCE_YOUR_CALM")

