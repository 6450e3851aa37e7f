"""A WebSocket echo load client built to stay out of the way of the server it measures.

Each connection is a bare uvloop ``asyncio.Protocol``: the RFC 6455 §4.1 handshake, then
a closed loop of ``depth`` messages in flight. The client frame is built once per
connection (masked with that connection's random key, §5.3), so sending costs one
``write``; echoed frames are parsed only as far as needed: header, length, FIN.
With ``--deflate`` it offers permessage-deflate (RFC 7692 §5) with
``client_no_context_takeover``, so one pre-compressed payload is valid for every message,
and it inflates and length-checks each echoed message (§7.2.2). Every echoed message is
length-checked; a mismatch, a refused handshake or a deflate the server did not take is
reported as an error, never silently counted.

CLI: ``python -m bench.wsclient --port P --conns 32 --size 64 --duration 10`` prints one
JSON object (see :class:`WsLoadResult`).
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import random
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import cast

_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_DEFLATE_TAIL = b"\x00\x00\xff\xff"
_WORDS = (b"alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike "
          b"november oscar papa quebec romeo sierra tango uniform victor whiskey xray").split()


def make_payload(size: int, seed: int = 7) -> bytes:
    """Deterministic text-like bytes (compressible, like real chat/JSON traffic)."""
    rng = random.Random(seed)
    out = bytearray()
    while len(out) < size:
        out += rng.choice(_WORDS) + b" "
    return bytes(out[:size])


def mask_bytes(payload: bytes, key: bytes) -> bytes:
    """RFC 6455 §5.3 masking: XOR with the repeating 4-byte key."""
    n = len(payload)
    if n == 0:
        return payload
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


def client_frame(payload: bytes, opcode: int, rsv1: bool, key: bytes) -> bytes:
    """One complete masked client frame with FIN set (RFC 6455 §5.2)."""
    b0 = 0x80 | (0x40 if rsv1 else 0) | opcode
    n = len(payload)
    if n < 126:
        head = bytes((b0, 0x80 | n))
    elif n < 65536:
        head = bytes((b0, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((b0, 0x80 | 127)) + n.to_bytes(8, "big")
    return head + key + mask_bytes(payload, key)


def deflate_message(payload: bytes) -> bytes:
    """RFC 7692 §7.2.1: raw DEFLATE, sync-flushed, with the trailing 00 00 ff ff removed."""
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    data = comp.compress(payload) + comp.flush(zlib.Z_SYNC_FLUSH)
    return data[:-4] if data.endswith(_DEFLATE_TAIL) else data


@dataclass(slots=True)
class Stats:
    """Counters shared by all connections of one run."""

    messages: int = 0
    received_bytes: int = 0
    handshakes: int = 0
    deflate_negotiated: int = 0
    errors: list[str] = field(default_factory=list)

    def error(self, text: str) -> None:
        if len(self.errors) < 20:  # keep the report readable; the count is what matters
            self.errors.append(text)


@dataclass(frozen=True, slots=True)
class WsLoadConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    path: str = "/"
    conns: int = 32
    size: int = 64
    depth: int = 1
    duration: float = 10.0
    warmup: float = 2.0
    deflate: bool = False
    text: bool = False


@dataclass(slots=True)
class WsLoadResult:
    connected: int
    messages: int
    seconds: float
    msg_per_s: float
    mib_per_s: float
    deflate_negotiated: int
    errors: list[str]
    client_cpu_s: float = 0.0  # our own CPU over the window: ~seconds means we saturate


class EchoClient(asyncio.Protocol):
    """One WebSocket connection running a closed echo loop."""

    def __init__(self, cfg: WsLoadConfig, stats: Stats, payload: bytes) -> None:
        self.cfg, self.stats, self.payload = cfg, stats, payload
        self.key = base64.b64encode(os.urandom(16))
        self.ready: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.head = bytearray()
        self.buf = bytearray()
        self.frame = b""
        self.open = False
        self.running = False
        self.compressed = False
        self.inflater: zlib._Decompress | None = None
        self.server_resets = False
        self._reset_frame_state()
        self.msg_len = 0
        self.msg_parts: list[bytes] = []

    def _reset_frame_state(self) -> None:
        self.skip = 0
        self.fin = True
        self.frame_op = 0
        self.msg_rsv1 = False
        self.collect: bytearray | None = None

    # --- handshake (RFC 6455 §4.1) ----------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass
        cfg = self.cfg
        lines = [f"GET {cfg.path} HTTP/1.1", f"Host: {cfg.host}:{cfg.port}",
                 "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {self.key.decode()}", "Sec-WebSocket-Version: 13"]
        if cfg.deflate:
            lines.append("Sec-WebSocket-Extensions: permessage-deflate; "
                         "client_no_context_takeover")
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    def _finish_handshake(self) -> bytes | None:
        end = self.head.find(b"\r\n\r\n")
        if end < 0:
            return None
        head, rest = bytes(self.head[:end]).decode("latin-1"), bytes(self.head[end + 4:])
        lines = head.split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        expected = base64.b64encode(hashlib.sha1(self.key + _WS_GUID).digest()).decode()
        if " 101" not in lines[0] or headers.get("sec-websocket-accept") != expected:
            self._fail(f"handshake refused: {lines[0]!r}")
            return None
        self._take_extensions(headers.get("sec-websocket-extensions", ""))
        self.open = True
        self.stats.handshakes += 1
        self.ready.set_result(True)
        return rest

    def _take_extensions(self, value: str) -> None:
        """RFC 7692 §5: the server's answer decides whether messages are compressed."""
        params = [p.strip().lower() for p in value.split(";")]
        if params and params[0] == "permessage-deflate":
            self.compressed = True
            self.server_resets = "server_no_context_takeover" in params
            self.stats.deflate_negotiated += 1
            self.inflater = zlib.decompressobj(-15)
        elif self.cfg.deflate:
            self.stats.error("permessage-deflate offered but not negotiated")
        body = deflate_message(self.payload) if self.compressed else self.payload
        opcode = 0x1 if self.cfg.text else 0x2
        self.frame = client_frame(body, opcode, self.compressed, os.urandom(4))

    def start(self) -> None:
        """Begin the closed loop: ``depth`` messages in flight."""
        assert self.transport is not None
        self.running = True
        self.transport.write(self.frame * self.cfg.depth)

    def _fail(self, text: str) -> None:
        self.stats.error(text)
        if not self.ready.done():
            self.ready.set_result(False)
        if self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.running:
            self.stats.error(f"connection lost during the run: {exc!r}")
        self.running = False
        if not self.ready.done():
            head = bytes(self.head[:80])
            self.stats.error(f"closed before the handshake completed: {exc!r} {head!r}")
            self.ready.set_result(False)

    # --- frames from the server (RFC 6455 §5.2) ---------------------------------------
    def data_received(self, data: bytes) -> None:
        if not self.open:
            self.head += data
            rest = self._finish_handshake()
            if not rest:
                return
            data = rest
        self.stats.received_bytes += len(data)
        if self.skip:
            data = self._consume_payload(data)
        if data:
            self.buf += data
            self._parse_frames()

    def _consume_payload(self, data: bytes) -> bytes:
        n = min(self.skip, len(data))
        if self.collect is not None:
            self.collect += data[:n]
        self.skip -= n
        if self.skip == 0:
            self._frame_done()
        return data[n:]

    def _parse_frames(self) -> None:
        buf = self.buf
        while self.skip == 0 and len(buf) >= 2:
            b0, b1 = buf[0], buf[1]
            length, pos = b1 & 0x7F, 2
            if length == 126:
                if len(buf) < 4:
                    return
                length, pos = int.from_bytes(buf[2:4], "big"), 4
            elif length == 127:
                if len(buf) < 10:
                    return
                length, pos = int.from_bytes(buf[2:10], "big"), 10
            self._frame_start(b0, length)
            take = min(length, len(buf) - pos)
            if self.collect is not None:
                self.collect += buf[pos:pos + take]
            del buf[:pos + take]
            self.skip = length - take
            if self.skip == 0:
                self._frame_done()

    def _frame_start(self, b0: int, length: int) -> None:
        self.fin = bool(b0 & 0x80)
        self.frame_op = b0 & 0x0F
        if self.frame_op >= 0x8:  # control frames may arrive between fragments (§5.4)
            self.collect = bytearray()
            return
        if self.frame_op != 0:  # a continuation keeps its message's RSV1 (RFC 7692 §6.1)
            self.msg_rsv1 = bool(b0 & 0x40)
        if self.msg_rsv1:
            self.collect = bytearray()
        else:
            self.collect = None
            self.msg_len += length

    def _frame_done(self) -> None:
        if self.frame_op >= 0x8:
            self._control(self.frame_op, bytes(self.collect or b""))
        else:
            if self.collect is not None:
                self.msg_parts.append(bytes(self.collect))
            if self.fin:
                self._message_done()
        self.collect = None

    def _message_done(self) -> None:
        size = self.msg_len
        if self.msg_parts:
            size = len(self._inflate(b"".join(self.msg_parts)))
        self.msg_len, self.msg_parts = 0, []
        if size != self.cfg.size:
            self.stats.error(f"echo of {size} bytes, expected {self.cfg.size}")
        self.stats.messages += 1
        if self.running and self.transport is not None:
            self.transport.write(self.frame)

    def _inflate(self, data: bytes) -> bytes:
        """RFC 7692 §7.2.2: append 00 00 ff ff and inflate (a fresh context if the server
        resets its own, §7.1.1.1)."""
        if self.inflater is None or self.server_resets:
            self.inflater = zlib.decompressobj(-15)
        return self.inflater.decompress(data + _DEFLATE_TAIL)

    def _control(self, opcode: int, payload: bytes) -> None:
        assert self.transport is not None
        if opcode == 0x9:  # ping → pong with the same payload (§5.5.2–5.5.3)
            self.transport.write(client_frame(payload, 0xA, False, os.urandom(4)))
        elif opcode == 0x8:
            self.running = False
            self.stats.error(f"server closed the connection: {payload[:2].hex()}")
            self.transport.close()


async def open_clients(cfg: WsLoadConfig, stats: Stats, payload: bytes,
                       timeout: float = 15.0) -> list[EchoClient]:
    """Connect and handshake ``cfg.conns`` clients; returns those that opened."""
    loop = asyncio.get_running_loop()

    async def one() -> EchoClient | None:
        try:
            _, proto = await loop.create_connection(
                lambda: EchoClient(cfg, stats, payload), cfg.host, cfg.port)
            ok = await asyncio.wait_for(proto.ready, timeout)
        except (TimeoutError, OSError) as exc:
            stats.error(f"connect/handshake failed: {exc!r}")
            return None
        return proto if ok else None

    clients: list[EchoClient] = []
    for start in range(0, cfg.conns, 256):  # batches: don't overflow the listen backlog
        batch = await asyncio.gather(*(one() for _ in range(start, min(cfg.conns,
                                                                       start + 256))))
        clients += [c for c in batch if c is not None]
    return clients


async def run_load(cfg: WsLoadConfig,
                   on_phase: Callable[[str], None] | None = None) -> WsLoadResult:
    """Connect, warm up, then count echoed messages for ``cfg.duration`` seconds.

    ``on_phase("measuring")`` and ``on_phase("done")`` mark the measured window, so a
    caller can read the server's CPU time exactly at its edges."""
    stats = Stats()
    clients = await open_clients(cfg, stats, make_payload(cfg.size))
    for client in clients:
        client.start()
    await asyncio.sleep(cfg.warmup)
    if on_phase is not None:
        on_phase("measuring")
    first, first_bytes, t0 = stats.messages, stats.received_bytes, time.perf_counter()
    cpu0 = time.process_time()
    await asyncio.sleep(cfg.duration)
    count, nbytes = stats.messages - first, stats.received_bytes - first_bytes
    seconds = time.perf_counter() - t0
    client_cpu = time.process_time() - cpu0
    if on_phase is not None:
        on_phase("done")
    for client in clients:
        client.running = False
        if client.transport is not None:
            client.transport.abort()
    return WsLoadResult(
        connected=len(clients), messages=count, seconds=round(seconds, 3),
        msg_per_s=round(count / seconds, 1) if seconds else 0.0,
        mib_per_s=round(nbytes / seconds / 2**20, 2) if seconds else 0.0,
        deflate_negotiated=stats.deflate_negotiated, errors=stats.errors,
        client_cpu_s=round(client_cpu, 3))


def _marker(phase: str) -> None:
    print(f"# {phase}", flush=True)


def _parse_args(argv: list[str] | None) -> tuple[WsLoadConfig, bool]:
    p = argparse.ArgumentParser(prog="python -m bench.wsclient", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", default="/")
    p.add_argument("--conns", type=int, default=32)
    p.add_argument("--size", type=int, default=64, help="message size in bytes")
    p.add_argument("--depth", type=int, default=1, help="messages in flight per connection")
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--deflate", action="store_true", help="offer permessage-deflate")
    p.add_argument("--text", action="store_true", help="text messages instead of binary")
    p.add_argument("--markers", action="store_true",
                   help="print '# measuring' / '# done' lines at the window's edges")
    a = p.parse_args(argv)
    cfg = WsLoadConfig(host=a.host, port=a.port, path=a.path, conns=a.conns, size=a.size,
                       depth=a.depth, duration=a.duration, warmup=a.warmup,
                       deflate=a.deflate, text=a.text)
    return cfg, a.markers


def main(argv: list[str] | None = None) -> int:
    cfg, markers = _parse_args(argv)
    phase = _marker if markers else None
    try:
        import uvloop

        result = uvloop.run(run_load(cfg, phase))
    except ImportError:
        result = asyncio.run(run_load(cfg, phase))
    json.dump(asdict(result), sys.stdout)
    sys.stdout.write("\n")
    return 0 if result.connected == cfg.conns and not result.errors else 1


if __name__ == "__main__":
    raise SystemExit(main())
