"""Honest one-shot clients of the three protocols, for the soak and shutdown tests: each
opens a connection, does one exchange, and closes (real peers: raw HTTP/1.1, the ``h2``
library, the ``websockets`` library)."""
from __future__ import annotations

import asyncio

import h2.config
import h2.connection
import h2.events
import websockets


async def http1_get(port: int, path: str = "/") -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".encode())
        answer = await asyncio.wait_for(reader.read(), 10)
        return int(answer[9:12]) if answer.startswith(b"HTTP/1.1 ") else 0
    finally:
        writer.close()
        await writer.wait_closed()


class H2Client:
    """An h2-library client connection that can carry many streams."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        self.responses: dict[int, int] = {}
        self.bodies: dict[int, bytes] = {}
        self.done: set[int] = set()
        self.reset: set[int] = set()
        self.goaway_last: int | None = None
        self.closed = False

    @classmethod
    async def open(cls, port: int) -> H2Client:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = cls(reader, writer)
        client.flush()
        return client

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data and not self.writer.is_closing():
            self.writer.write(data)

    def request(self, path: str) -> int:
        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, [(":method", "GET"), (":scheme", "http"),
                                     (":authority", "a"), (":path", path)], end_stream=True)
        self.flush()
        return sid

    async def pump(self, until, timeout: float = 10.0) -> None:
        """Read and handle frames until ``until()`` or the connection ends."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not until() and not self.closed and loop.time() < deadline:
            try:
                data = await asyncio.wait_for(self.reader.read(65536), deadline - loop.time())
            except (TimeoutError, ConnectionError):
                break
            if not data:
                self.closed = True
                break
            for event in self.conn.receive_data(data):
                sid = getattr(event, "stream_id", None)
                if isinstance(event, h2.events.ResponseReceived):
                    self.responses[sid] = int(dict(event.headers)[b":status"])
                elif isinstance(event, h2.events.DataReceived):
                    self.bodies[sid] = self.bodies.get(sid, b"") + event.data
                    self.conn.acknowledge_received_data(event.flow_controlled_length, sid)
                elif isinstance(event, h2.events.StreamEnded):
                    self.done.add(sid)
                elif isinstance(event, h2.events.StreamReset):
                    self.reset.add(sid)
                elif isinstance(event, h2.events.ConnectionTerminated):
                    self.goaway_last = event.last_stream_id
            self.flush()

    async def close(self) -> None:
        if not self.writer.is_closing():
            self.conn.close_connection()
            self.flush()
            self.writer.close()
        try:
            await self.writer.wait_closed()
        except ConnectionError:
            pass


async def h2_get(port: int, path: str = "/") -> int:
    client = await H2Client.open(port)
    try:
        sid = client.request(path)
        await client.pump(lambda: sid in client.done or sid in client.reset)
        return client.responses.get(sid, 0) if sid in client.done else 0
    finally:
        await client.close()


async def websocket_echo(port: int) -> bool:
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws", open_timeout=10,
                                  close_timeout=5) as ws:
        await ws.send("soak")
        return await asyncio.wait_for(ws.recv(), 10) == "soak"
