"""HTTP/2 reset attacks: Rapid Reset (CVE-2023-44487) and MadeYouReset (CVE-2025-8671).

Both make the server start and tear down streams for almost no cost to the attacker.
The guard is one token bucket per connection (``BB_H2_MAX_RESET_BURST`` tokens,
refilled at ``BB_H2_MAX_RESET_RATE`` per second) that both peer RST_STREAMs and the
server's own resets provoked by the peer draw from; when it is empty the connection
ends with GOAWAY ENHANCE_YOUR_CALM (RFC 9113 §5.4.1, §10.5).
"""
from __future__ import annotations

import asyncio
from collections import Counter

from tests.hostile.checks import check_attack
from tests.hostile.conftest import HostileCase
from tests.hostile.h2raw import DATA, END_STREAM, H2Attacker, flood, frame, rst, window_update
from tests.hostile.harness import measure

ENV = {"BB_H2_MAX_RESET_BURST": "200", "BB_H2_MAX_RESET_RATE": "33"}
MEMORY_BOUND_MB = 30.0


def _rapid_reset(peer: H2Attacker, sid: int) -> None:
    peer.headers(sid, "/", end_stream=True)
    peer.send(rst(sid, 8))


async def test_rapid_reset_cve_2023_44487(hostile_server, hostile_case: HostileCase) -> None:
    """RFC 9113 §10.5: HEADERS + RST_STREAM(CANCEL) at once, stream after stream
    (Rapid Reset) → GOAWAY ENHANCE_YOUR_CALM once the reset bucket is empty."""
    case = hostile_case
    case.rfc, case.section = "RFC 9113", "10.5"
    case.description = "Rapid Reset: HEADERS then RST_STREAM, repeated (CVE-2023-44487)"
    case.bound = "BB_H2_MAX_RESET_BURST=200 resets, refilled 33/s, then GOAWAY ENHANCE_YOUR_CALM"
    case.memory_bound_mb = MEMORY_BOUND_MB
    server = hostile_server(ENV)

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        await flood(server.port, stop, answers, _rapid_reset)

    m = await measure(server, attack)
    check_attack(case, server, m, "GOAWAY ENHANCE_YOUR_CALM")


def _zero_window_update(peer: H2Attacker, sid: int) -> None:
    # §6.9: a zero increment on a stream is a stream error: the server resets it.
    peer.headers(sid, "/hold", end_stream=False)
    peer.send(window_update(sid, 0))


def _data_after_end_stream(peer: H2Attacker, sid: int) -> None:
    # §5.1: DATA on a half-closed (remote) stream → stream error STREAM_CLOSED.
    peer.headers(sid, "/hold", end_stream=True)
    peer.send(frame(DATA, END_STREAM, sid, b"x"))


def _window_overflow(peer: H2Attacker, sid: int) -> None:
    # §6.9.1: a stream window beyond 2^31-1 → stream error FLOW_CONTROL_ERROR.
    peer.headers(sid, "/hold", end_stream=True)
    peer.send(window_update(sid, 0x7FFFFFFF))


async def _made_you_reset(hostile_server, case: HostileCase, per_stream: object,
                          how: str) -> None:
    case.rfc, case.section = "RFC 9113", "10.5"
    case.description = f"MadeYouReset (CVE-2025-8671): {how}, stream after stream"
    case.bound = ("server-sent resets draw from the BB_H2_MAX_RESET_BURST=200 bucket "
                  "(33/s), then GOAWAY ENHANCE_YOUR_CALM")
    case.memory_bound_mb = MEMORY_BOUND_MB
    server = hostile_server(ENV)

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        await flood(server.port, stop, answers, per_stream)

    m = await measure(server, attack)
    check_attack(case, server, m, "GOAWAY ENHANCE_YOUR_CALM")


async def test_made_you_reset_zero_window_update(hostile_server, hostile_case) -> None:
    """RFC 9113 §6.9: WINDOW_UPDATE 0 on each new stream makes the server reset it;
    those resets are counted → GOAWAY ENHANCE_YOUR_CALM."""
    await _made_you_reset(hostile_server, hostile_case, _zero_window_update,
                          "WINDOW_UPDATE with increment 0")


async def test_made_you_reset_data_on_half_closed(hostile_server, hostile_case) -> None:
    """RFC 9113 §5.1: DATA after END_STREAM makes the server reset the stream
    (STREAM_CLOSED); those resets are counted → GOAWAY ENHANCE_YOUR_CALM."""
    await _made_you_reset(hostile_server, hostile_case, _data_after_end_stream,
                          "DATA on a half-closed (remote) stream")


async def test_made_you_reset_window_overflow(hostile_server, hostile_case) -> None:
    """RFC 9113 §6.9.1: a stream WINDOW_UPDATE past 2^31-1 makes the server reset the
    stream (FLOW_CONTROL_ERROR); counted → GOAWAY ENHANCE_YOUR_CALM."""
    await _made_you_reset(hostile_server, hostile_case, _window_overflow,
                          "WINDOW_UPDATE overflowing the stream window")
