"""WebSocket attacks (RFC 6455, RFC 7692): decompression bombs, lying frame lengths,
endless fragments, ping floods, unmasked frames and peers that never close."""
from __future__ import annotations

import asyncio
from collections import Counter

from tests.hostile.checks import check_attack
from tests.hostile.conftest import HostileCase
from tests.hostile.harness import measure
from tests.hostile.wsraw import (
    BINARY,
    CLOSE,
    CONT,
    PING,
    TEXT,
    WsAttacker,
    deflate_message,
    ws_frame,
)

MEMORY_BOUND_MB = 40.0
ENV = {"BB_WS_MAX_MESSAGE_SIZE": "1048576", "BB_WS_MAX_FRAME_SIZE": "1048576",
       "BB_WS_CLOSE_TIMEOUT": "1"}
LIMITS = "BB_WS_MAX_FRAME_SIZE=BB_WS_MAX_MESSAGE_SIZE=1 MiB here"


def _describe(case: HostileCase, rfc: str, section: str, description: str, bound: str) -> None:
    case.rfc, case.section = rfc, section
    case.description, case.bound, case.memory_bound_mb = description, bound, MEMORY_BOUND_MB


async def _loop(port: int, stop: asyncio.Event, answers: Counter, act, *,
                deflate: bool = False, path: str = "/ws", timeout: float = 3.0) -> None:
    while not stop.is_set():
        peer = await WsAttacker.open(port, deflate, path)
        await act(peer)
        await peer.read_close(timeout)
        answers[peer.answer()] += 1
        peer.close()


async def _measured(hostile_server, case: HostileCase, act, expected: str, **kw) -> None:
    server = hostile_server(ENV)

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        await _loop(server.port, stop, answers, act, **kw)

    m = await measure(server, attack)
    check_attack(case, server, m, expected)


async def test_permessage_deflate_bomb(hostile_server, hostile_case) -> None:
    """RFC 7692 §8.1, RFC 6455 §7.4.1: 50 MB of zeros deflated to ~50 kB; inflating
    stops at BB_WS_MAX_MESSAGE_SIZE → close 1009."""
    _describe(hostile_case, "RFC 7692", "8.1", "permessage-deflate bomb: 50 MB → 49 kB",
              f"{LIMITS}; inflation stops there → close 1009")
    bomb = ws_frame(BINARY, deflate_message(b"\0" * 50_000_000), rsv1=True)

    async def act(peer: WsAttacker) -> None:
        peer.send(bomb)

    await _measured(hostile_server, hostile_case, act, "close 1009", deflate=True)


async def test_giant_declared_frame_length(hostile_server, hostile_case) -> None:
    """RFC 6455 §5.2, §7.4.1: a frame header declaring 2^62 octets is refused from the
    header alone → close 1009, nothing allocated."""
    _describe(hostile_case, "RFC 6455", "5.2", "frame header declaring 2^62 payload octets",
              f"{LIMITS} → close 1009 on the header")

    async def act(peer: WsAttacker) -> None:
        peer.send(ws_frame(BINARY, b"x" * 100, length=1 << 62))

    await _measured(hostile_server, hostile_case, act, "close 1009")


async def test_endless_fragments_of_data(hostile_server, hostile_case) -> None:
    """RFC 6455 §5.4, §7.4.1: a message continued by 10 kB fragments forever → close
    1009 once it passes BB_WS_MAX_MESSAGE_SIZE."""
    _describe(hostile_case, "RFC 6455", "5.4", "endless 10 kB continuation fragments",
              f"{LIMITS} per reassembled message → close 1009")

    async def act(peer: WsAttacker) -> None:
        peer.send(ws_frame(TEXT, b"a", fin=False))
        for _ in range(150):
            peer.send(ws_frame(CONT, b"a" * 10_000, fin=False))
        await peer.drain()

    await _measured(hostile_server, hostile_case, act, "close 1009")


async def test_endless_empty_fragments(hostile_server, hostile_case) -> None:
    """RFC 6455 §5.4, §10.4: a message continued by empty fragments forever adds no
    bytes, so no size limit ends it; the empty-fragment cap does → close 1008."""
    _describe(hostile_case, "RFC 6455", "10.4", "endless zero-length continuation fragments",
              "BB_WS_MAX_EMPTY_FRAGMENTS=1024 (default) per message → close 1008")

    async def act(peer: WsAttacker) -> None:
        peer.send(ws_frame(TEXT, b"a", fin=False))
        empty = ws_frame(CONT, b"", fin=False)
        for _ in range(20):
            peer.send(empty * 1000)
            await peer.drain()

    await _measured(hostile_server, hostile_case, act, "close 1008")


async def test_endless_one_byte_fragments(hostile_server, hostile_case) -> None:
    """RFC 6455 §5.4, §10.4: one-byte fragments stay far below the byte limits for a
    long time while each costs a frame's work; the fragment cap ends the message →
    close 1009."""
    _describe(hostile_case, "RFC 6455", "10.4", "140 000 one-byte continuation fragments",
              "BB_WS_MAX_FRAGMENTS=131072 (default) per message → close 1009")
    frames = ws_frame(CONT, b"a", fin=False) * 10_000

    async def act(peer: WsAttacker) -> None:
        peer.send(ws_frame(BINARY, b"a", fin=False))
        for _ in range(14):
            peer.send(frames)
            await peer.drain()

    await _measured(hostile_server, hostile_case, act, "close 1009")


async def test_ping_flood(hostile_server, hostile_case) -> None:
    """RFC 6455 §5.5.2, §10.4: 20 000 PINGs in a burst → close 1008 (policy violation)
    once the ping budget is spent, instead of 20 000 PONGs."""
    _describe(hostile_case, "RFC 6455", "10.4", "20 000 pings in a burst, per connection",
              "BB_WS_MAX_PING_BURST=100, BB_WS_MAX_PING_RATE=10/s (defaults) → close 1008")
    ping = ws_frame(PING, b"12345678")

    async def act(peer: WsAttacker) -> None:
        for _ in range(20):
            peer.send(ping * 1000)
            await peer.drain()

    await _measured(hostile_server, hostile_case, act, "close 1008", timeout=1.0)


async def test_unmasked_client_frames(hostile_server, hostile_case) -> None:
    """RFC 6455 §5.1: a client frame without a mask → close 1002."""
    _describe(hostile_case, "RFC 6455", "5.1", "unmasked client frames",
              "first frame → close 1002")

    async def act(peer: WsAttacker) -> None:
        peer.send(ws_frame(TEXT, b"hello", mask=False))

    await _measured(hostile_server, hostile_case, act, "close 1002")


async def test_peer_that_never_closes(hostile_server, hostile_case) -> None:
    """RFC 6455 §7.1.1, §7.1.7: the server starts the closing handshake and the peer
    never answers nor closes TCP: after BB_WS_CLOSE_TIMEOUT (1 s here) the server drops
    the connection."""
    _describe(hostile_case, "RFC 6455", "7.1.1", "peer silent after the server's Close",
              "BB_WS_CLOSE_TIMEOUT=1 s, then the TCP connection is closed")
    server = hostile_server(ENV)

    async def one(answers: Counter) -> None:
        peer = await WsAttacker.open(server.port, path="/ws-close")
        await peer.read_close(3.0)  # the server's Close; we never answer it
        loop = asyncio.get_running_loop()
        start = loop.time()
        try:
            eof = await asyncio.wait_for(peer.reader.read(), 4.0) == b""
        except (TimeoutError, ConnectionError):
            eof = False
        waited = loop.time() - start
        answers["dropped after close timeout" if peer.close_code == 1000 and eof
                and waited < 3.0 else f"close {peer.close_code} eof {eof}"] += 1
        peer.close()

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        await asyncio.gather(*(one(answers) for _ in range(50)))

    m = await measure(server, attack, rounds=2)
    check_attack(hostile_case, server, m, "dropped after close timeout")


async def test_close_then_hold_tcp(hostile_server, hostile_case) -> None:
    """RFC 6455 §7.1.1: the peer sends Close and then keeps its TCP side open: the
    server answers Close and closes TCP itself."""
    _describe(hostile_case, "RFC 6455", "7.1.1", "peer sends Close, never closes TCP",
              "server's Close answer, then the server closes TCP")

    async def act(peer: WsAttacker) -> None:
        peer.send(ws_frame(CLOSE, b"\x03\xe8"))

    server = hostile_server(ENV)

    async def attack(stop: asyncio.Event, answers: Counter) -> None:
        while not stop.is_set():
            peer = await WsAttacker.open(server.port)
            await act(peer)
            await peer.read_close(3.0)
            try:
                eof = await asyncio.wait_for(peer.reader.read(), 3.0) == b""
            except (TimeoutError, ConnectionError):
                eof = False
            answers["close 1000 + TCP closed" if peer.close_code == 1000 and eof
                    else f"close {peer.close_code} eof {eof}"] += 1
            peer.close()

    m = await measure(server, attack)
    check_attack(hostile_case, server, m, "close 1000 + TCP closed")
