"""Helpers shared by the HTTP/2 tests (RFC 9113, RFC 7541, RFC 9218).

Two kinds of peers: for the sans-I/O core, a python-hyper ``h2`` client connection
(an independent implementation) or raw frames built with ``hyperframe``/``hpack``; for
the running server, :class:`H2Client`, the ``h2`` state machine over a loopback socket.
"""
from __future__ import annotations

import asyncio
import ssl
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.settings
from hpack import Encoder
from hyperframe import frame as hf

from blackbull.protocol.http2 import H2Connection, SettingCode

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
REQUEST = [(":method", "GET"), (":scheme", "https"), (":path", "/"),
           (":authority", "example.com")]


def server_core(settings: dict[int, int] | None = None, discard: bool = True,
                **kw: Any) -> H2Connection:
    """Our core as a server; its SETTINGS preface is discarded unless ``discard`` is
    false (then the peer gets to see it)."""
    local = {SettingCode.MAX_CONCURRENT_STREAMS: 100}
    local.update(settings or {})
    conn = H2Connection("server", local, **kw)
    conn.initiate_connection()
    if discard:
        conn.data_to_send()
    return conn


def h2_client(settings: dict[int, int] | None = None) -> h2.connection.H2Connection:
    """A python-hyper h2 client with its preface queued; ``settings`` by numeric code."""
    client = h2.connection.H2Connection(h2.config.H2Configuration(
        client_side=True, header_encoding=None))
    client.initiate_connection()
    if settings:
        client.update_settings(settings)
    return client


def handshake(server: H2Connection, client: h2.connection.H2Connection) -> list:
    """Run preface + SETTINGS both ways; return the server's events."""
    events = server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    events += server.receive_data(client.data_to_send())
    return events


def connected_pair(settings: dict[int, int] | None = None, **kw: Any,
                   ) -> tuple[H2Connection, h2.connection.H2Connection]:
    server = server_core(settings, discard=False, **kw)
    client = h2_client()
    handshake(server, client)
    return server, client


class Raw:
    """Raw frames for a peer that misbehaves on purpose (hyperframe + hpack)."""

    def __init__(self) -> None:
        self.encoder = Encoder()

    def block(self, headers: list[tuple[str, str]] = REQUEST) -> bytes:
        return self.encoder.encode(headers)

    @staticmethod
    def preface(settings: dict[int, int] | None = None) -> bytes:
        f = hf.SettingsFrame(0)
        f.settings = settings or {}
        return PREFACE + f.serialize()

    def headers(self, sid: int, headers: list[tuple[str, str]] = REQUEST,
                flags: tuple[str, ...] = ("END_HEADERS", "END_STREAM"), **kw: Any) -> bytes:
        f = hf.HeadersFrame(sid, self.block(headers), **kw)
        f.flags = set(flags)
        return f.serialize()

    @staticmethod
    def data(sid: int, payload: bytes, end: bool = False, pad: int = 0) -> bytes:
        f = hf.DataFrame(sid, payload)
        if end:
            f.flags.add("END_STREAM")
        if pad:
            f.flags.add("PADDED")
            f.pad_length = pad
        return f.serialize()

    @staticmethod
    def frame(ftype: int, flags: int, sid: int, payload: bytes) -> bytes:
        return (len(payload).to_bytes(3, "big") + bytes((ftype, flags))
                + sid.to_bytes(4, "big") + payload)


def parse_frames(data: bytes) -> list[hf.Frame]:
    """Cut bytes the server sent into hyperframe frames (unknown types included)."""
    frames = []
    pos = 0
    while pos + 9 <= len(data):
        f, length = hf.Frame.parse_frame_header(memoryview(data[pos:pos + 9]))
        if pos + 9 + length > len(data):
            break  # incomplete: the rest has not arrived yet
        f.parse_body(memoryview(data[pos + 9:pos + 9 + length]))
        frames.append(f)
        pos += 9 + length
    return frames


def goaway_of(data: bytes) -> hf.GoAwayFrame | None:
    return next((f for f in parse_frames(data) if isinstance(f, hf.GoAwayFrame)), None)


def rst_of(data: bytes, sid: int | None = None) -> hf.RstStreamFrame | None:
    return next((f for f in parse_frames(data) if isinstance(f, hf.RstStreamFrame)
                 and (sid is None or f.stream_id == sid)), None)


async def get_response_headers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                               scheme: str, authority: str,
                               timeout: float = 5) -> list[tuple[bytes, bytes]]:
    """One GET / over an open connection, the ``h2`` library as the client (RFC 9113
    §8.3.1): the response's header fields, read until ``ResponseReceived``."""
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    conn.send_headers(1, [(":method", "GET"), (":path", "/"), (":scheme", scheme),
                          (":authority", authority)], end_stream=True)
    writer.write(conn.data_to_send())
    while True:
        chunk = await asyncio.wait_for(reader.read(65536), timeout)
        assert chunk, "the server closed before its response"
        for event in conn.receive_data(chunk):
            if isinstance(event, h2.events.ResponseReceived):
                return list(event.headers)


def client_tls_context(ca_path: str) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=ca_path)
    ctx.set_alpn_protocols(["h2"])
    return ctx


class H2Client:
    """The ``h2`` library driving a real socket to our server."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 conn: h2.connection.H2Connection) -> None:
        self.reader = reader
        self.writer = writer
        self.conn = conn
        self.events: list[h2.events.Event] = []
        self.raw = b""

    @classmethod
    async def connect(cls, port: int, ssl_context: ssl.SSLContext | None = None,
                      settings: dict[int, int] | None = None) -> H2Client:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=ssl_context,
            server_hostname="localhost" if ssl_context else None)
        conn = h2_client(settings)
        client = cls(reader, writer, conn)
        client.flush()
        return client

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.writer.write(data)

    async def read_once(self, timeout: float = 5.0) -> list[h2.events.Event]:
        data = await asyncio.wait_for(self.reader.read(65536), timeout)
        if not data:
            raise ConnectionError("server closed the connection")
        self.raw += data
        events = self.conn.receive_data(data)
        self.events += events
        self.flush()
        return events

    async def wait_for(self, predicate: Any, timeout: float = 5.0) -> h2.events.Event:
        """Read until an event satisfying ``predicate`` arrives (already-seen included)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen = 0
        while True:
            for event in self.events[seen:]:
                if predicate(event):
                    return event
            seen = len(self.events)
            await self.read_once(max(0.01, deadline - loop.time()))

    async def request(self, headers: list[tuple[str, str]] | None = None, body: bytes = b"",
                      timeout: float = 5.0) -> tuple[dict[bytes, bytes], bytes, int]:
        """One request; returns (response headers, body, stream id). Credit is returned
        for every DATA frame so large bodies flow."""
        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, headers or REQUEST, end_stream=not body)
        if body:
            self.conn.send_data(sid, body, end_stream=True)
        self.flush()
        return await self.response(sid, timeout)

    async def response(self, sid: int, timeout: float = 5.0,
                       ) -> tuple[dict[bytes, bytes], bytes, int]:
        chunks: list[bytes] = []
        headers: dict[bytes, bytes] = {}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen = 0
        while True:
            for event in self.events[seen:]:
                if getattr(event, "stream_id", None) != sid:
                    continue
                if isinstance(event, h2.events.ResponseReceived):
                    headers = dict(event.headers)
                elif isinstance(event, h2.events.DataReceived):
                    chunks.append(event.data)
                    self.conn.acknowledge_received_data(event.flow_controlled_length, sid)
                    self.flush()
                elif isinstance(event, h2.events.StreamEnded):
                    return headers, b"".join(chunks), sid
                elif isinstance(event, h2.events.StreamReset):
                    raise ConnectionResetError(f"stream {sid} reset: {event.error_code!r}")
            seen = len(self.events)
            await self.read_once(max(0.01, deadline - loop.time()))

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, ssl.SSLError):
            pass
