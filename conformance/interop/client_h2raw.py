"""Matrix client ``h2-raw``: python-hyper ``h2`` for HTTP/2 and ``wsproto``'s frame layer
(with its own permessage-deflate) for WebSocket — an implementation independent of ours."""
from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import FrameProtocol, Opcode

from conformance.interop.endpoint import Endpoint
from conformance.interop.scenarios import NotApplicable, check, judge_stream_end

NAME = "h2-raw"
TIMEOUT = 15.0


@dataclass
class RawStream:
    """One extended CONNECT stream and its WebSocket frames (client role: masked)."""

    conn: RawConnection
    stream_id: int
    status: int = 0
    headers: dict[bytes, bytes] = field(default_factory=dict)
    frames: FrameProtocol | None = None
    messages: asyncio.Queue = field(default_factory=asyncio.Queue)
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    end_stream: bool = False    # the server's END_STREAM arrived
    reset_code: int | None = None
    lost: bool = False          # the connection dropped before the stream ended
    _parts: list = field(default_factory=list)
    _opcode: Opcode | None = None

    async def send(self, data: bytes, end: bool = False) -> None:
        await self.conn.send(self.stream_id, data, end)

    async def message(self) -> tuple[Opcode, Any]:
        return await asyncio.wait_for(self.messages.get(), TIMEOUT)

    def on_data(self, data: bytes) -> None:
        if self.frames is None:
            return
        self.frames.receive_bytes(data)
        for frame in self.frames.received_frames():
            if frame.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONTINUATION):
                if self._opcode is None:
                    self._opcode, self._parts = frame.opcode, []
                self._parts.append(frame.payload)
                if frame.message_finished:
                    empty = "" if self._opcode is Opcode.TEXT else b""
                    self.messages.put_nowait((self._opcode, empty.join(self._parts)))
                    self._opcode = None
            else:
                self.messages.put_nowait((frame.opcode, frame.payload))


class RawConnection:
    """h2 client connection over TLS (ALPN h2) driven by a reader task."""

    def __init__(self) -> None:
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=True, header_encoding=None))
        self.streams: dict[int, RawStream] = {}
        self.settings = asyncio.Event()
        self.window = asyncio.Event()
        self.writer: asyncio.StreamWriter | None = None
        self.authority = b"localhost"
        self.task: asyncio.Task | None = None

    @classmethod
    async def open(cls, ep: Endpoint, port: int) -> RawConnection:
        self = cls()
        self.authority = ep.server_name.encode()
        reader, self.writer = await asyncio.wait_for(asyncio.open_connection(
            ep.host, port, ssl=ep.client_context(), server_hostname=ep.server_name), TIMEOUT)
        self.conn.initiate_connection()
        self.conn.increment_flow_control_window(4 * 1024 * 1024)
        self.flush()
        self.task = asyncio.get_running_loop().create_task(self._read(reader))
        await asyncio.wait_for(self.settings.wait(), TIMEOUT)
        return self

    def flush(self) -> None:
        if self.writer is not None and not self.writer.is_closing():
            self.writer.write(self.conn.data_to_send())

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while data := await reader.read(65536):
                for event in self.conn.receive_data(data):
                    self._on_event(event)
                self.flush()
        finally:
            for stream in self.streams.values():
                stream.lost = stream.lost or not stream.ended.is_set()
                stream.answered.set()
                stream.ended.set()
            self.settings.set()

    def _on_event(self, event: h2.events.Event) -> None:
        if isinstance(event, h2.events.RemoteSettingsChanged):
            self.settings.set()
            self.window.set()
        elif isinstance(event, h2.events.ResponseReceived):
            stream = self.streams[event.stream_id]
            stream.headers = dict(event.headers)
            stream.status = int(stream.headers.get(b":status", b"0"))
            stream.answered.set()
        elif isinstance(event, h2.events.DataReceived):
            self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            self.streams[event.stream_id].on_data(event.data)
        elif isinstance(event, h2.events.StreamEnded):
            self.streams[event.stream_id].end_stream = True
            self.streams[event.stream_id].ended.set()
        elif isinstance(event, h2.events.StreamReset):
            stream = self.streams[event.stream_id]
            stream.reset_code = int(event.error_code)
            stream.answered.set()
            stream.ended.set()
        elif isinstance(event, h2.events.WindowUpdated):
            self.window.set()

    async def connect(self, path: str, subprotocols: list[str] | None = None,
                      deflate: bool = False) -> RawStream:
        sid = self.conn.get_next_available_stream_id()
        headers = [(b":method", b"CONNECT"), (b":protocol", b"websocket"),
                   (b":scheme", b"https"), (b":path", path.encode()),
                   (b":authority", self.authority), (b"sec-websocket-version", b"13")]
        if subprotocols:
            headers.append((b"sec-websocket-protocol", ", ".join(subprotocols).encode()))
        pmd = PerMessageDeflate() if deflate else None
        if pmd is not None:
            headers.append((b"sec-websocket-extensions", f"{pmd.name}; {pmd.offer()}".encode()))
        stream = RawStream(self, sid)
        self.streams[sid] = stream
        self.conn.send_headers(sid, headers)
        self.flush()
        await asyncio.wait_for(stream.answered.wait(), TIMEOUT)
        extensions = []
        accepted = stream.headers.get(b"sec-websocket-extensions", b"").decode()
        if pmd is not None and accepted.startswith("permessage-deflate"):
            pmd.finalize(accepted.partition(";")[2].strip())
            extensions.append(pmd)
        stream.frames = FrameProtocol(client=True, extensions=extensions)
        return stream

    async def send(self, sid: int, data: bytes, end: bool = False) -> None:
        """DATA within both windows and the peer's frame size (RFC 9113 §6.9). Nothing is
        sent on a stream the server has reset: the scenarios judge the reset, not the send."""
        if self.streams[sid].reset_code is not None:
            return
        while True:
            while data:
                room = min(self.conn.local_flow_control_window(sid),
                           self.conn.max_outbound_frame_size)
                if room <= 0:
                    break
                self.conn.send_data(sid, data[:room])
                data = data[room:]
            self.flush()
            if not data:
                break
            self.window.clear()
            await asyncio.wait_for(self.window.wait(), TIMEOUT)
            if self.streams[sid].reset_code is not None:
                return
        if end:
            try:
                self.conn.end_stream(sid)
            except h2.exceptions.StreamClosedError:
                # The server already closed the stream (END_STREAM then RST_STREAM, legal
                # by RFC 9113 §8.1, or a reset the close scenarios judge): nothing to end.
                if self.streams[sid].reset_code is None:
                    raise
                return
            self.flush()

    async def close(self) -> None:
        if self.writer is not None:
            try:
                self.conn.close_connection()
                self.flush()
            except h2.exceptions.ProtocolError:
                pass
            self.writer.close()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


async def _open(ep: Endpoint, *, subprotocols: list[str] | None = None,
                deflate: bool = False) -> tuple[RawConnection, RawStream]:
    conn = await RawConnection.open(ep, ep.port)
    check(bool(conn.conn.remote_settings.enable_connect_protocol),
          "no SETTINGS_ENABLE_CONNECT_PROTOCOL=1")
    stream = await conn.connect(ep.ws_path, subprotocols, deflate)
    check(stream.status == 200, f"extended CONNECT answered {stream.status}")
    check(b"content-length" not in stream.headers, "content-length on the 200 (RFC 8441 §5)")
    return conn, stream


def _ended_cleanly(stream: RawStream) -> None:
    judge_stream_end(stream.end_stream, stream.reset_code, stream.lost)


async def _close(conn: RawConnection, stream: RawStream, code: int = 1000, *,
                 strict: bool = False) -> int | None:
    """Close handshake then END_STREAM both ways (RFC 8441 §5); the echoed code. Only
    the close scenarios (``strict``) judge how the stream ended."""
    assert stream.frames is not None
    await stream.send(stream.frames.close(code))
    echoed = None
    while True:
        opcode, payload = await stream.message()
        if opcode is Opcode.CLOSE:
            echoed = payload[0] if payload else None
            break
    await stream.send(b"", end=True)
    await asyncio.wait_for(stream.ended.wait(), TIMEOUT)
    if strict:
        _ended_cleanly(stream)
    await conn.close()
    return echoed


async def _echo(ep: Endpoint, opcode: Opcode, payload: Any, *, deflate: bool = False,
                fragments: int = 1) -> None:
    conn, stream = await _open(ep, deflate=deflate)
    assert stream.frames is not None
    if fragments == 1:
        await stream.send(stream.frames.send_data(payload))
    else:
        size = -(-len(payload) // fragments)
        pieces = [payload[i:i + size] for i in range(0, len(payload), size)]
        for i, piece in enumerate(pieces):
            await stream.send(stream.frames.send_data(piece, fin=i == len(pieces) - 1))
    got = await stream.message()
    check(got == (opcode, payload), f"echo mismatch: {got[0]} {str(got[1])[:60]!r}")
    await _close(conn, stream)


async def handshake(ep: Endpoint) -> None:
    conn, stream = await _open(ep)
    assert stream.frames is not None
    await stream.send(stream.frames.send_data("?version"))
    got = await stream.message()
    check(got == (Opcode.TEXT, "version:2"), f"app saw {got}")
    await _close(conn, stream)


async def text_echo(ep: Endpoint) -> None:
    await _echo(ep, Opcode.TEXT, "héllo over h2")


async def binary_echo(ep: Endpoint) -> None:
    await _echo(ep, Opcode.BINARY, b"\x00\x01\xfe\xff" * 16)


async def one_mib(ep: Endpoint) -> None:
    await _echo(ep, Opcode.BINARY, os.urandom(1024 * 1024))


async def fragmented(ep: Endpoint) -> None:
    await _echo(ep, Opcode.TEXT, "fragmented", fragments=3)


async def ping_pong(ep: Endpoint) -> None:
    conn, stream = await _open(ep)
    assert stream.frames is not None
    await stream.send(stream.frames.ping(b"are-you-there"))
    got = await stream.message()
    check(got == (Opcode.PONG, b"are-you-there"), f"got {got}")
    await _close(conn, stream)


async def close_client_code(ep: Endpoint) -> None:
    conn, stream = await _open(ep)
    echoed = await _close(conn, stream, 4001, strict=True)
    check(echoed == 4001, f"server echoed {echoed}, not 4001")


async def close_server_code(ep: Endpoint) -> None:
    conn, stream = await _open(ep)
    assert stream.frames is not None
    await stream.send(stream.frames.send_data("close:4002"))
    opcode, payload = await stream.message()
    check(opcode is Opcode.CLOSE and payload[0] == 4002, f"got {opcode} {payload}")
    await stream.send(stream.frames.close(4002), end=True)
    await asyncio.wait_for(stream.ended.wait(), TIMEOUT)
    _ended_cleanly(stream)
    await conn.close()


async def subprotocol(ep: Endpoint) -> None:
    conn, stream = await _open(ep, subprotocols=["chat", "other"])
    check(stream.headers.get(b"sec-websocket-protocol") == b"chat",
          f"negotiated {stream.headers.get(b'sec-websocket-protocol')!r}")
    await _close(conn, stream)


async def permessage_deflate(ep: Endpoint) -> None:
    conn, stream = await _open(ep, deflate=True)
    assert stream.frames is not None
    if not stream.frames.extensions:
        await _close(conn, stream)
        raise NotApplicable(f"{ep.name} did not accept permessage-deflate")
    text = "compress me " * 2000
    await stream.send(stream.frames.send_data(text))
    got = await stream.message()
    check(got == (Opcode.TEXT, text), "deflated echo mismatch")
    await _close(conn, stream)


async def fifty_streams(ep: Endpoint) -> None:
    conn = await RawConnection.open(ep, ep.port)
    streams = await asyncio.gather(*(conn.connect("/ws") for _ in range(50)))
    check(all(s.status == 200 for s in streams),
          f"statuses {sorted({s.status for s in streams})}")
    for i, s in enumerate(streams):
        assert s.frames is not None
        await s.send(s.frames.send_data(f"stream {i}"))
    for i, s in enumerate(streams):
        got = await s.message()
        check(got == (Opcode.TEXT, f"stream {i}"), f"stream {s.stream_id} got {got}")
    for s in streams:
        assert s.frames is not None
        await s.send(s.frames.close(1000))

    async def close_reply(s: RawStream) -> None:
        while (await s.message())[0] is not Opcode.CLOSE:
            pass
    await asyncio.gather(*(close_reply(s) for s in streams))
    for s in streams:
        await s.send(b"", end=True)
    await conn.close()


async def no_setting_refused(ep: Endpoint) -> None:
    """Send the :protocol anyway: RFC 8441 §3 makes it malformed (RFC 9113 §8.1.1)."""
    if ep.no_setting_port is None:
        raise NotApplicable(ep.no_setting_reason)
    conn = await RawConnection.open(ep, ep.no_setting_port)
    check(not conn.conn.remote_settings.enable_connect_protocol,
          "the server advertised SETTINGS_ENABLE_CONNECT_PROTOCOL though told not to")
    stream = await conn.connect("/ws")
    check(stream.status != 200, "an extended CONNECT was accepted without the setting")
    await conn.close()


SCENARIOS: dict[str, Callable[[Endpoint], Awaitable[None]]] = {
    "handshake": handshake, "text-echo": text_echo, "binary-echo": binary_echo,
    "1mib-message": one_mib, "fragmented-message": fragmented, "ping-pong": ping_pong,
    "close-client-code": close_client_code, "close-server-code": close_server_code,
    "subprotocol": subprotocol, "permessage-deflate": permessage_deflate,
    "50-streams": fifty_streams, "no-setting-refused": no_setting_refused,
}
