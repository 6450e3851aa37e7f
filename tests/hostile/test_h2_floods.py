"""HTTP/2 frame floods (CVE-2019-9512/9513/9515/9516/9518), CONTINUATION floods and
HPACK abuse (RFC 9113 §10.5, RFC 7541 §7.3).

Frames that give the application nothing (PING, SETTINGS, PRIORITY, PRIORITY_UPDATE,
empty DATA) draw from a per-connection token bucket (``BB_H2_MAX_FLOOD_BURST`` tokens,
refilled at ``BB_H2_MAX_FLOOD_RATE`` per second); CONTINUATION is capped per header block (``BB_H2_MAX_CONTINUATION_FRAMES``
frames, 2 × ``BB_H2_MAX_HEADER_LIST_SIZE`` + 16 KiB bytes); the decoded field section is
capped by ``BB_H2_MAX_HEADER_LIST_SIZE`` (431) and hard-stopped at twice that (the
HPACK decoder gives up: COMPRESSION_ERROR).
"""
from __future__ import annotations

import asyncio
import struct
from collections import Counter

from tests.hostile.checks import check_attack
from tests.hostile.conftest import HostileCase
from tests.hostile.h2raw import (
    CONTINUATION,
    DATA,
    END_HEADERS,
    END_STREAM,
    HEADERS,
    PING,
    PRIORITY,
    H2Attacker,
    flood,
    frame,
    settings,
)
from tests.hostile.harness import measure

MEMORY_BOUND_MB = 30.0
CALM = "GOAWAY ENHANCE_YOUR_CALM"
FLOOD_BOUND = ("BB_H2_MAX_FLOOD_BURST=1000 frames, refilled BB_H2_MAX_FLOOD_RATE=100/s, per "
               "connection, then GOAWAY ENHANCE_YOUR_CALM")


async def _run(hostile_server, case: HostileCase, *, description: str, bound: str,
               step, expected: str | tuple[str, ...] = CALM, section: str = "10.5",
               env: dict[str, str] | None = None, **flood_kw) -> None:
    case.rfc, case.section = "RFC 9113", section
    case.description = description
    case.bound = bound
    case.memory_bound_mb = MEMORY_BOUND_MB
    server = hostile_server(env)

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        await flood(server.port, stop, answers, step, **flood_kw)

    m = await measure(server, attack)
    check_attack(case, server, m, expected)


async def test_ping_flood_cve_2019_9512(hostile_server, hostile_case) -> None:
    """RFC 9113 §6.7, §10.5: endless PINGs (each demands an ACK) → ENHANCE_YOUR_CALM."""
    await _run(hostile_server, hostile_case, description="PING flood (CVE-2019-9512)",
               bound=FLOOD_BOUND,
               step=lambda p, n: p.send(frame(PING, 0, 0, struct.pack(">Q", n))))


async def test_settings_flood_cve_2019_9515(hostile_server, hostile_case) -> None:
    """RFC 9113 §6.5, §10.5: endless SETTINGS (each demands an ACK) → ENHANCE_YOUR_CALM."""
    await _run(hostile_server, hostile_case, description="SETTINGS flood (CVE-2019-9515)",
               bound=FLOOD_BOUND, step=lambda p, n: p.send(settings({0x3: 100})))


async def test_priority_flood_cve_2019_9513(hostile_server, hostile_case) -> None:
    """RFC 9113 §6.3, §10.5: PRIORITY frames shuffling idle streams' dependencies
    (resource loop) → ENHANCE_YOUR_CALM."""
    def step(peer: H2Attacker, n: int) -> None:
        peer.send(frame(PRIORITY, 0, n, struct.pack(">IB", (n + 2) | 1 << 31, 255)))

    await _run(hostile_server, hostile_case,
               description="PRIORITY flood / dependency shuffling (CVE-2019-9513)",
               bound=FLOOD_BOUND, step=step)


async def test_empty_data_flood_cve_2019_9518(hostile_server, hostile_case) -> None:
    """RFC 9113 §6.1, §10.5: empty DATA frames without END_STREAM on an open stream
    → ENHANCE_YOUR_CALM."""
    await _run(hostile_server, hostile_case,
               description="empty DATA frame flood (CVE-2019-9518)", bound=FLOOD_BOUND,
               setup=lambda p: p.headers(1, "/hold", end_stream=False),
               step=lambda p, n: p.send(frame(DATA, 0, 1)))


async def test_zero_length_headers_cve_2019_9516(hostile_server, hostile_case) -> None:
    """RFC 9113 §8.2.1, §5.4.1, §10.5: requests full of empty header names are malformed;
    HPACK decoding stops at the first empty name, which loses the compression context
    (RFC 7541 §2.2), so the connection ends at once → GOAWAY PROTOCOL_ERROR."""
    def step(peer: H2Attacker, sid: int) -> None:
        block = peer.encoder.encode([(":method", "GET"), (":scheme", "http"),
                                     (":authority", "x"), (":path", "/")])
        block += b"\x00\x00\x00" * 200  # literal, new name: empty name, empty value
        peer.send(frame(HEADERS, END_HEADERS | END_STREAM, sid, block))

    await _run(hostile_server, hostile_case,
               description="0-length header names (CVE-2019-9516)",
               bound="decoding stops at the first empty field name; GOAWAY PROTOCOL_ERROR "
                     "on that request",
               expected="GOAWAY PROTOCOL_ERROR", step=step, section="8.2.1")


def _no_ack(peer: H2Attacker) -> None:
    # A SETTINGS ACK inside the open header block would end the test early with a
    # PROTOCOL_ERROR (§6.10): this peer never ACKs.
    peer.auto_ack = False


def _continuation_flood(payload: bytes):
    def step(peer: H2Attacker, n: int) -> None:
        if n == 1:
            block = peer.encoder.encode([(":method", "GET"), (":scheme", "http"),
                                         (":authority", "x"), (":path", "/")])
            peer.send(frame(HEADERS, END_STREAM, 1, block))  # no END_HEADERS
        peer.send(frame(CONTINUATION, 0, 1, payload))
    return step


async def test_continuation_flood(hostile_server, hostile_case) -> None:
    """RFC 9113 §6.10, §10.5: endless CONTINUATION frames of 16 KiB without END_HEADERS
    → ENHANCE_YOUR_CALM once the header block's byte cap is passed."""
    await _run(hostile_server, hostile_case, section="6.10",
               description="CONTINUATION flood, 16 KiB frames, no END_HEADERS",
               bound="header block ≤ 2×BB_H2_MAX_HEADER_LIST_SIZE+16 KiB and ≤ "
                     "BB_H2_MAX_CONTINUATION_FRAMES=64 frames, then GOAWAY ENHANCE_YOUR_CALM",
               step=_continuation_flood(b"\x00" * 16384), stride=1, batch=4,
               setup=_no_ack)


async def test_zero_length_continuation_flood(hostile_server, hostile_case) -> None:
    """RFC 9113 §6.10, §10.5: endless empty CONTINUATION frames (no bytes to cap)
    → ENHANCE_YOUR_CALM once the frame-count cap is passed."""
    await _run(hostile_server, hostile_case, section="6.10",
               description="CONTINUATION flood, zero-length frames, no END_HEADERS",
               bound="BB_H2_MAX_CONTINUATION_FRAMES=64 frames per header block, then GOAWAY "
                     "ENHANCE_YOUR_CALM",
               step=_continuation_flood(b""), stride=1, batch=50, setup=_no_ack)


def _hpack_bomb(peer: H2Attacker, sid: int) -> None:
    # RFC 7541 §7.3: one 4 000-octet entry in the dynamic table, then 1-octet
    # references to it: 16 KiB of block would decode to ~64 MB of fields.
    if sid == 1:
        block = peer.encoder.encode([(":method", "GET"), (":scheme", "http"),
                                     (":authority", "x"), (":path", "/")])
        block += b"\x40\x01a\x7f\x81\x1f" + b"b" * 4000  # literal with incremental indexing
        peer.send(frame(HEADERS, END_HEADERS | END_STREAM, 1, block))
        return
    block = peer.encoder.encode([(":method", "GET"), (":scheme", "http"),
                                 (":authority", "x"), (":path", "/")])
    peer.send(frame(HEADERS, END_HEADERS | END_STREAM, sid, block + b"\xbe" * 16000))


async def test_hpack_bomb(hostile_server, hostile_case) -> None:
    """RFC 7541 §7.3, RFC 9113 §10.5.1: a block of 1-octet references to a 4 kB table
    entry is stopped while decoding → the connection ends (COMPRESSION_ERROR), memory
    stays flat."""
    await _run(hostile_server, hostile_case, section="10.5.1",
               description="HPACK bomb: 16 000 references to a 4 kB dynamic-table entry",
               bound="decoding stops at 2×BB_H2_MAX_HEADER_LIST_SIZE; GOAWAY COMPRESSION_ERROR",
               expected=("GOAWAY COMPRESSION_ERROR", CALM), step=_hpack_bomb, batch=1)


def _table_size_update_over_limit(peer: H2Attacker, sid: int) -> None:
    # RFC 7541 §6.3: a dynamic table size update above SETTINGS_HEADER_TABLE_SIZE.
    block = b"\x3f\xe1\xff\x03" + peer.encoder.encode(
        [(":method", "GET"), (":scheme", "http"), (":authority", "x"), (":path", "/")])
    peer.send(frame(HEADERS, END_HEADERS | END_STREAM, sid, block))


async def test_hpack_table_size_update_over_limit(hostile_server, hostile_case) -> None:
    """RFC 7541 §4.2, §6.3: a table size update larger than the SETTINGS_HEADER_TABLE_SIZE
    we advertised is a decoding error → GOAWAY COMPRESSION_ERROR."""
    await _run(hostile_server, hostile_case, section="4.2",
               description="HPACK dynamic table size update beyond our limit",
               bound="BB_H2_HEADER_TABLE_SIZE=4096; GOAWAY COMPRESSION_ERROR",
               expected="GOAWAY COMPRESSION_ERROR", step=_table_size_update_over_limit,
               batch=1)
    hostile_case.rfc = "RFC 7541"
