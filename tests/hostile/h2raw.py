"""A frame-level HTTP/2 attacker over a real loopback socket (RFC 9113 §4).

The ``h2`` library refuses to produce most hostile input (CONTINUATION without end,
DATA on closed streams, zero WINDOW_UPDATEs), so frames are written here by hand and
header blocks are encoded with the ``hpack`` library. What the server answers is read
back frame by frame.
"""
from __future__ import annotations

import asyncio
import struct
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import hpack

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, \
    WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
ERROR_NAMES = {0: "NO_ERROR", 1: "PROTOCOL_ERROR", 2: "INTERNAL_ERROR",
               3: "FLOW_CONTROL_ERROR", 4: "SETTINGS_TIMEOUT", 5: "STREAM_CLOSED",
               6: "FRAME_SIZE_ERROR", 7: "REFUSED_STREAM", 8: "CANCEL",
               9: "COMPRESSION_ERROR", 10: "CONNECT_ERROR", 11: "ENHANCE_YOUR_CALM",
               12: "INADEQUATE_SECURITY", 13: "HTTP_1_1_REQUIRED"}


def frame(ftype: int, flags: int, sid: int, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", sid) + payload


def settings(values: dict[int, int] | None = None, ack: bool = False) -> bytes:
    payload = b"".join(struct.pack(">HI", k, v) for k, v in (values or {}).items())
    return frame(SETTINGS, ACK if ack else 0, 0, payload)


def rst(sid: int, code: int = 8) -> bytes:
    return frame(RST_STREAM, 0, sid, struct.pack(">I", code))


def window_update(sid: int, increment: int) -> bytes:
    return frame(WINDOW_UPDATE, 0, sid, struct.pack(">I", increment))


def request_block(encoder: hpack.Encoder, path: str = "/", method: str = "GET",
                  extra: list[tuple[str, str]] | None = None) -> bytes:
    headers = [(":method", method), (":scheme", "http"), (":authority", "localhost"),
               (":path", path)] + (extra or [])
    return encoder.encode(headers)


@dataclass
class Received:
    """What the server sent on one attack connection."""

    goaway: str | None = None
    resets: int = 0
    frames: int = 0
    closed: bool = False
    reset_codes: Counter | None = None
    statuses: Counter | None = None
    goaway_last: int | None = None
    #: stream id → :status, and the streams the server ended (END_STREAM seen)
    stream_status: dict[int, int] | None = None
    ended: set[int] | None = None
    reset_ids: set[int] | None = None
    #: streams on which DATA arrived, and the DATA octets received in all
    data_ids: set[int] | None = None
    data_octets: int = 0


class H2Attacker:
    """One connection: preface + SETTINGS sent on open; frames written raw."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.encoder = hpack.Encoder()
        self.received = Received(reset_codes=Counter(), statuses=Counter(),
                                 stream_status={}, ended=set(), reset_ids=set(),
                                 data_ids=set())
        self.decoder = hpack.Decoder()
        self._buf = b""
        self._blocks: dict[tuple, bytes] = {}
        #: ACK the server's SETTINGS as they come (off while a header block is open).
        self.auto_ack = True
        self._goaway = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._read_loop())

    @classmethod
    async def open(cls, port: int, local: dict[int, int] | None = None) -> H2Attacker:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        peer = cls(reader, writer)
        writer.write(PREFACE + settings(local))
        return peer

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def drain(self, timeout: float = 2.0) -> bool:
        """Wait for the socket to take our bytes; False when the server stops reading
        (or went away) for ``timeout`` seconds."""
        try:
            await asyncio.wait_for(self.writer.drain(), timeout)
            return True
        except (TimeoutError, ConnectionError):
            return False

    def headers(self, sid: int, path: str = "/", end_stream: bool = True,
                extra: list[tuple[str, str]] | None = None, method: str = "GET") -> None:
        """A request's HEADERS; a repeated request reuses its encoded block (all fields
        indexed after the first one), which keeps the attacker's own CPU cost low."""
        flags = END_HEADERS | (END_STREAM if end_stream else 0)
        key = (path, method, tuple(extra or ()))
        block = self._blocks.get(key)
        if block is None:
            block = request_block(self.encoder, path, method, extra)
            again = request_block(self.encoder, path, method, extra)
            if again == request_block(self.encoder, path, method, extra):
                self._blocks[key] = again  # stable: safe to replay
        self.send(frame(HEADERS, flags, sid, block))

    def _parse(self) -> list[tuple[int, int, int, bytes]]:
        out = []
        buf = self._buf
        while len(buf) >= 9:
            length = int.from_bytes(buf[:3], "big")
            if len(buf) < 9 + length:
                break
            out.append((buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF,
                        buf[9:9 + length]))
            buf = buf[9 + length:]
        self._buf = buf
        return out

    def _note(self, ftype: int, flags: int, sid: int, payload: bytes) -> None:
        rec = self.received
        rec.frames += 1
        if ftype in (DATA, HEADERS) and flags & END_STREAM:
            rec.ended.add(sid)
        if ftype == DATA:
            rec.data_ids.add(sid)
            rec.data_octets += len(payload)
        if ftype == GOAWAY and len(payload) >= 8:
            rec.goaway = ERROR_NAMES.get(int.from_bytes(payload[4:8], "big"), "UNKNOWN")
            rec.goaway_last = int.from_bytes(payload[:4], "big") & 0x7FFFFFFF
        elif ftype == RST_STREAM and len(payload) == 4:
            rec.resets += 1
            rec.reset_ids.add(sid)
            rec.reset_codes[ERROR_NAMES.get(int.from_bytes(payload, "big"), "?")] += 1
        elif ftype == PING and not flags & ACK and self.auto_ack:
            self.send(frame(PING, ACK, 0, payload))
        elif ftype == HEADERS and flags & END_HEADERS:
            if flags & 0x8:  # PADDED
                payload = payload[1:len(payload) - payload[0]]
            if flags & 0x20:  # PRIORITY
                payload = payload[5:]
            for name, value in self.decoder.decode(payload, raw=True):
                if name == b":status":
                    rec.statuses[value.decode()] += 1
                    rec.stream_status[sid] = int(value)
        elif ftype == SETTINGS and not flags & ACK and self.auto_ack:
            self.send(settings(ack=True))

    async def _read_loop(self) -> None:
        try:
            while True:
                chunk = await self.reader.read(65536)
                if not chunk:
                    break
                self._buf += chunk
                for f in self._parse():
                    self._note(*f)
                    if self.received.goaway is not None:
                        self._goaway.set()
        except (ConnectionError, OSError):
            pass
        finally:
            self.received.closed = True
            self._goaway.set()

    @property
    def finished(self) -> bool:
        """The server sent GOAWAY or closed: flooding on is pointless."""
        return self._goaway.is_set()

    async def wait_goaway(self, timeout: float = 3.0) -> Received:
        """The server's GOAWAY (or its close), or what came within ``timeout``."""
        try:
            await asyncio.wait_for(self._goaway.wait(), timeout)
        except TimeoutError:
            pass
        return self.received

    async def wait_for(self, done: Callable[[Received], bool], timeout: float = 3.0) -> Received:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not done(self.received) and not self.received.closed and loop.time() < deadline:
            await asyncio.sleep(0.01)
        return self.received

    def close(self) -> None:
        self._task.cancel()
        self.writer.close()


Step = Callable[[H2Attacker, int], None]


async def flood(port: int, stop: asyncio.Event, answers: Counter, step: Step, *,
                batch: int = 50, first: int = 1, stride: int = 2,
                local: dict[int, int] | None = None,
                setup: Callable[[H2Attacker], None] | None = None) -> None:
    """Attack connection after attack connection: ``step(peer, n)`` for n = first,
    first+stride, ... (stream ids by default), in batches, reading all the while, until
    the server sends GOAWAY or closes. Each connection's answer is counted:
    ``GOAWAY <code>``, ``closed`` (no GOAWAY), or ``no answer``."""
    while not stop.is_set():
        peer = await H2Attacker.open(port, local)
        if setup is not None:
            setup(peer)
        n = first
        while not peer.finished and not stop.is_set() and n < 1 << 30:
            for _ in range(batch):
                step(peer, n)
                n += stride
            if not await peer.drain(1.0):
                break
            await asyncio.sleep(0)
        received = await peer.wait_goaway(2.0)
        peer.close()
        if received.goaway is not None:
            answers[f"GOAWAY {received.goaway}"] += 1
        elif received.closed:
            answers["closed"] += 1
        elif not stop.is_set():
            answers["no answer"] += 1
