"""An independent RFC 8441 server peer for client tests: python-hyper ``h2`` (server side)
plus ``wsproto``'s frame layer (which insists that client frames are masked)."""
from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
from hyperframe.frame import GoAwayFrame
from wsproto.frame_protocol import CloseReason, FrameProtocol, Opcode


@dataclass
class PeerStream:
    stream_id: int
    headers: dict[bytes, bytes]
    frames: FrameProtocol = field(default_factory=lambda: FrameProtocol(client=False,
                                                                        extensions=[]))
    messages: list[tuple[Opcode, bytes | str]] = field(default_factory=list)
    data_sizes: list[int] = field(default_factory=list)
    raw: bytearray = field(default_factory=bytearray)
    ended: bool = False
    current: tuple = (None, [])
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class H2Peer:
    """``await peer.start()`` → port. Accepts every extended CONNECT with ``status`` and
    echoes messages; the text ``send:<n>`` makes it send an n-octet binary message while
    honouring the client's flow-control windows (so it stalls unless the client sends
    WINDOW_UPDATE).

    ``stream_end`` is how it ends a stream after the client's Close: ``"end"`` (END_STREAM,
    RFC 8441 §5), ``"end+reset"`` (END_STREAM then RST_STREAM(NO_ERROR), legal by RFC 9113
    §8.1) or ``"reset"`` (RST_STREAM(NO_ERROR) without END_STREAM). ``tls`` serves TLS."""

    def __init__(self, *, enable_connect: bool = True, status: int = 200,
                 answer: bool = True, max_frame_size: int = 16384,
                 response_headers: list[tuple[bytes, bytes]] | None = None,
                 stream_end: str = "end", tls: ssl.SSLContext | None = None) -> None:
        self.response_headers = response_headers or []
        self.stream_end = stream_end
        self.tls = tls
        self.enable_connect = enable_connect
        self.status = status
        self.answer = answer
        self.max_frame_size = max_frame_size
        self.streams: dict[int, PeerStream] = {}
        self.conn: h2.connection.H2Connection | None = None
        self.window_updates_received = 0
        self.connections = 0
        self._server: asyncio.AbstractServer | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._window = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        return self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in self._tasks:
            task.cancel()

    def flush(self) -> None:
        if self.conn is not None and self._writer is not None:
            self._writer.write(self.conn.data_to_send())

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        conn = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=False, header_encoding=None))
        conn.local_settings = h2.settings.Settings(client=False, initial_values={
            h2.settings.SettingCodes.MAX_FRAME_SIZE: self.max_frame_size,
            h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL: int(self.enable_connect)})
        conn.initiate_connection()
        self.conn, self._writer = conn, writer
        self.flush()
        while data := await reader.read(65536):
            for event in conn.receive_data(data):
                self._on_event(event)
            self.flush()
        writer.close()

    def _on_event(self, event: h2.events.Event) -> None:
        assert self.conn is not None
        if isinstance(event, h2.events.RequestReceived):
            stream = PeerStream(event.stream_id, dict(event.headers))
            self.streams[event.stream_id] = stream
            if self.answer:
                fields = [(b":status", str(self.status).encode()), *self.response_headers]
                self.conn.send_headers(event.stream_id, fields, end_stream=self.status != 200)
        elif isinstance(event, h2.events.DataReceived):
            self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            stream = self.streams[event.stream_id]
            stream.data_sizes.append(len(event.data))
            stream.raw += event.data
            stream.frames.receive_bytes(event.data)
            for frame in stream.frames.received_frames():
                self._on_frame(stream, frame)
        elif isinstance(event, h2.events.StreamEnded):
            self.streams[event.stream_id].ended = True
        elif isinstance(event, h2.events.WindowUpdated):
            self.window_updates_received += 1
            self._window.set()

    def _on_frame(self, stream: PeerStream, frame) -> None:
        assert self.conn is not None
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONTINUATION):
            # wsproto hands out frames in pieces as DATA arrives: assemble the message.
            if stream.current[0] is None:
                stream.current = (frame.opcode, [])
            stream.current[1].append(frame.payload)
            if not frame.message_finished:
                return
            opcode, parts = stream.current
            stream.current = (None, [])
            payload = ("" if opcode is Opcode.TEXT else b"").join(parts)
            stream.messages.append((opcode, payload))
            if opcode is Opcode.TEXT and payload.startswith("send:"):
                payload = b"x" * int(payload[5:])
            self._spawn(self._send(stream, stream.frames.send_data(payload)))
            return
        stream.messages.append((frame.opcode, frame.payload))
        if frame.opcode is Opcode.PING:
            self._spawn(self._send(stream, stream.frames.pong(frame.payload)))
        elif frame.opcode is Opcode.CLOSE:
            self._spawn(self._send(stream, stream.frames.close(
                frame.payload[0] if frame.payload else CloseReason.NO_STATUS_RCVD)))
            self._spawn(self._end(stream.stream_id))

    async def _end(self, stream_id: int) -> None:
        """RFC 8441 §5: answer the client's END_STREAM with ours, after queued data."""
        assert self.conn is not None
        async with self.streams[stream_id].lock:
            stream = self.conn.streams.get(stream_id)
            if stream is None or stream.closed or stream.state_machine.state.name in (
                    "HALF_CLOSED_LOCAL", "CLOSED"):
                return
            try:
                if self.stream_end != "reset":
                    self.conn.end_stream(stream_id)
                if self.stream_end != "end":
                    self.conn.reset_stream(stream_id, 0)
            except h2.exceptions.H2Error:
                return  # already closed (reset or connection gone)
            self.flush()

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)

    async def _send(self, stream: PeerStream, data: bytes) -> None:
        """Send within the client's windows (RFC 9113 §6.9), in order per stream."""
        assert self.conn is not None
        async with stream.lock:
            while data:
                room = min(self.conn.local_flow_control_window(stream.stream_id),
                           self.conn.max_outbound_frame_size)
                if room <= 0:
                    self._window.clear()
                    await asyncio.wait_for(self._window.wait(), 5)
                    continue
                self.conn.send_data(stream.stream_id, data[:room])
                data = data[room:]
                self.flush()

    def reset(self, stream_id: int, code: int = 8) -> None:
        assert self.conn is not None
        self.conn.reset_stream(stream_id, code)
        self.flush()

    def goaway(self, code: int = 0, last_stream_id: int = 0) -> None:
        """A raw GOAWAY (hyperframe): h2 itself would refuse all further frames."""
        assert self._writer is not None
        frame = GoAwayFrame(0)
        frame.last_stream_id, frame.error_code = last_stream_id, code
        self._writer.write(frame.serialize())
