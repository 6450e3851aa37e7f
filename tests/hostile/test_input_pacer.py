"""The HTTP/2 input pacer (RFC 9113 §10.5): costly input is handled over several
event-loop turns, cheap input in growing pieces, every byte exactly once, in order."""
from __future__ import annotations

import asyncio
import time

from blackbull.server.http2_input import CHUNK, MAX_CHUNK, InputPacer


async def _run(data: bytes, cost: float) -> tuple[list[bytes], int, list[str]]:
    loop = asyncio.get_running_loop()
    pieces: list[bytes] = []
    reading: list[str] = []
    turns = 0

    def process(piece: bytes) -> None:
        pieces.append(piece)
        end = time.perf_counter() + cost
        while time.perf_counter() < end:
            pass

    pacer = InputPacer(loop, process, pause=lambda: reading.append("pause"),
                       resume=lambda: reading.append("resume"), closed=lambda: False)
    pacer.feed(data)
    while pacer.pending:
        turns += 1
        await asyncio.sleep(0)
    return pieces, turns, reading


async def test_costly_input_is_spread_over_turns_with_reading_paused() -> None:
    """RFC 9113 §10.5: 64 KiB whose every piece costs 0.3 ms takes many loop turns
    (about 1 ms each); reading is paused meanwhile and resumed at the end."""
    data = bytes(range(256)) * 256
    pieces, turns, reading = await _run(data, 0.0003)
    assert b"".join(pieces) == data
    assert turns >= 10
    assert max(len(p) for p in pieces) == CHUNK  # costly: never grew
    assert reading[0] == "pause" and reading[-1] == "resume"


async def test_cheap_input_grows_its_pieces() -> None:
    """RFC 9113 §10.5: bulk input (cheap per byte) goes in pieces growing to MAX_CHUNK."""
    data = b"x" * (1 << 20)
    pieces, _, _ = await _run(data, 0.0)
    assert b"".join(pieces) == data
    assert max(len(p) for p in pieces) == MAX_CHUNK


async def test_small_reads_pass_straight_through() -> None:
    """RFC 9113 §10.5: a read no larger than one piece is processed at once, unpaused."""
    pieces, turns, reading = await _run(b"abc", 0.0)
    assert pieces == [b"abc"] and turns == 0 and reading == []
