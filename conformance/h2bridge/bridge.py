"""A byte-transparent HTTP/1.1-WebSocket → RFC 8441 bridge, so Autobahn (which speaks
only HTTP/1.1) can test a server's WebSocket over HTTP/2.

Per accepted TCP connection:

1. read the client's RFC 6455 §4.1 opening handshake (validated with our handshake
   helpers);
2. open one HTTP/2 connection to the upstream server (h2c prior knowledge, or TLS with
   ALPN h2) and send an extended CONNECT (RFC 8441 §4) carrying the offered
   Sec-WebSocket-Version/Protocol/Extensions unchanged;
3. answer the client: a 2xx becomes ``101`` with the Sec-WebSocket-Accept for its key
   (RFC 6455 §4.2.2) plus the server's Protocol/Extensions; anything else is relayed as
   that status and the connection closes;
4. relay the WebSocket frame bytes unchanged both ways: TCP → DATA (within the flow-
   control windows, RFC 9113 §6.9), DATA → TCP (credit returned once written, so a slow
   reader slows the server). END_STREAM ↔ TCP FIN (RFC 8441 §5); RST_STREAM or a lost
   upstream aborts the TCP connection.

The HTTP/2 side is our sans-I/O core in the client role; no WebSocket frame is parsed.
"""
from __future__ import annotations

import asyncio
import contextlib
import ssl as ssl_module
from dataclasses import dataclass

from blackbull.protocol import http2 as h2p
from blackbull.protocol.http1.events import RequestRejected
from blackbull.protocol.http1.head import parse_request_head
from blackbull.protocol.http2.scheduler import OutboundScheduler, StreamOutput
from blackbull.protocol.websocket.handshake import (
    HandshakeRejection,
    accept_key,
    header_values,
    render_http1_response,
    validate_upgrade_request,
)

Headers = list[tuple[bytes, bytes]]
_MAX_HEAD = 64 * 1024
_READ = 64 * 1024
#: Our receive windows toward the upstream server (RFC 9113 §6.9.2).
STREAM_WINDOW = 1024 * 1024
CONNECTION_WINDOW = 4 * 1024 * 1024


@dataclass(frozen=True)
class Upstream:
    """The server under test: host, port, TLS context (None = h2c prior knowledge)."""

    host: str
    port: int
    ssl: ssl_module.SSLContext | None = None
    authority: str = ""

    @property
    def scheme(self) -> bytes:
        return b"https" if self.ssl else b"http"


class Tunnel:
    """One bridged WebSocket: the client's TCP connection and one upstream HTTP/2 stream."""

    def __init__(self, upstream: Upstream, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.upstream = upstream
        self.reader, self.writer = reader, writer
        self.conn = h2p.H2Connection("client", {
            h2p.SettingCode.ENABLE_PUSH: 0,
            h2p.SettingCode.INITIAL_WINDOW_SIZE: STREAM_WINDOW,
        })
        self.scheduler = OutboundScheduler(self.conn)
        self.up_writer: asyncio.StreamWriter | None = None
        self.sid = 0
        self.out = StreamOutput(0)  # the stream's write queue, once the stream is open
        self.settings = asyncio.Event()
        self.answer: asyncio.Future[h2p.ResponseReceived] | None = None
        self.window = asyncio.Event()
        self.done = asyncio.Event()
        self.opened = asyncio.Event()   # the 101 is out: upstream bytes may follow it
        self.reset = False

    async def run(self) -> None:
        try:
            await self._run()
        except (ConnectionError, OSError, asyncio.IncompleteReadError, TimeoutError,
                asyncio.LimitOverrunError, HandshakeRejection, ssl_module.SSLError):
            self.writer.transport.abort()
        finally:
            self.opened.set()
            if self.up_writer is not None:
                self.up_writer.close()

    async def _run(self) -> None:
        head = await self.reader.readuntil(b"\r\n\r\n")
        try:
            parsed = parse_request_head(head[:_MAX_HEAD])
            if isinstance(parsed, RequestRejected):
                raise HandshakeRejection(parsed.status, parsed.reason)
            target = parsed.target.decode("latin-1")
            headers = parsed.headers
            request = validate_upgrade_request(parsed.method, parsed.http_version, headers)
        except HandshakeRejection as rejection:
            self.writer.write(render_http1_response(
                rejection.status, "Bad Request", [*rejection.headers,
                                                  (b"connection", b"close")]))
            await self.writer.drain()
            self.writer.close()
            return
        status, fields = await self._open_stream(target, headers)
        if not 200 <= status < 300:
            self.writer.write(render_http1_response(
                status, "Refused", [(b"content-length", b"0"), (b"connection", b"close")]))
            await self.writer.drain()
            self.writer.close()
            return
        assert request.key is not None
        answer: Headers = [(b"upgrade", b"websocket"), (b"connection", b"Upgrade"),
                           (b"sec-websocket-accept", accept_key(request.key).encode())]
        answer += [(k, v) for k, v in fields
                   if k in (b"sec-websocket-protocol", b"sec-websocket-extensions")]
        self.writer.write(render_http1_response(101, "Switching Protocols", answer))
        self.opened.set()
        await self.writer.drain()
        await self._relay_client()

    async def _open_stream(self, target: str, headers: Headers) -> tuple[int, Headers]:
        up = self.upstream
        reader, self.up_writer = await asyncio.wait_for(asyncio.open_connection(
            up.host, up.port, ssl=up.ssl, server_hostname=up.host if up.ssl else None), 10)
        self.conn.initiate_connection()
        self.conn.increment_connection_window(CONNECTION_WINDOW)
        self._flush()
        asyncio.get_running_loop().create_task(self._relay_upstream(reader))
        await asyncio.wait_for(self.settings.wait(), 10)
        if not self.conn.remote.enable_connect_protocol:
            return 502, []  # RFC 8441 §3: never send :protocol to such a server
        authority = up.authority or f"{up.host}:{up.port}"
        request: Headers = [(b":method", b"CONNECT"), (b":protocol", b"websocket"),
                            (b":scheme", up.scheme), (b":path", target.encode("latin-1")),
                            (b":authority", authority.encode())]
        for name in (b"sec-websocket-version", b"sec-websocket-protocol",
                     b"sec-websocket-extensions"):
            request += [(name, v) for v in header_values(headers, name)]
        self.sid = self.conn.get_next_available_stream_id()
        self.out = StreamOutput(self.sid)
        self.answer = asyncio.get_running_loop().create_future()
        self.conn.send_headers(self.sid, request)
        self._flush()
        response = await asyncio.wait_for(self.answer, 10)
        fields = [(k.lower(), v) for k, v in response.headers]
        raw = dict(fields).get(b":status", b"502")
        return (int(raw) if raw.isdigit() else 502), fields

    # --- client TCP → upstream DATA -------------------------------------------------------
    async def _relay_client(self) -> None:
        while not self.done.is_set():
            data = await self.reader.read(_READ)
            if not data:
                break
            await self._send(data)
        if not self.done.is_set() and self._stream_writable() and self.out.finish():
            self.scheduler.enqueue(self.out)  # RFC 8441 §5: FIN → END_STREAM
            self._pump()
        await self.done.wait()

    def _stream_writable(self) -> bool:
        stream = self.conn.streams.get(self.sid)
        return stream is not None and stream.state in (h2p.StreamState.OPEN,
                                                       h2p.StreamState.HALF_CLOSED_REMOTE)

    async def _send(self, data: bytes) -> None:
        """Queue ``data`` on the stream and wait until the windows let all of it out
        (RFC 9113 §6.9): the client is not read further meanwhile."""
        out = self.out
        if not self._stream_writable() or not out.write(data):
            return
        self.scheduler.enqueue(out)
        self._pump()
        while out.out_size and self._stream_writable():
            self.window.clear()
            await asyncio.wait_for(self.window.wait(), 30)
            self._pump()
        if self.up_writer is not None:
            await self.up_writer.drain()

    # --- upstream → client TCP ------------------------------------------------------------
    async def _relay_upstream(self, reader: asyncio.StreamReader) -> None:
        try:
            while data := await reader.read(_READ):
                for event in self.conn.receive_data(data):
                    await self._on_event(event)
                self._pump()
        except (ConnectionError, OSError, ssl_module.SSLError):
            pass
        finally:
            self._finish(abort=not self.done.is_set())

    async def _on_event(self, event: h2p.Event) -> None:
        if isinstance(event, h2p.RemoteSettingsChanged):
            self.settings.set()
            self.window.set()
        elif isinstance(event, h2p.WindowUpdated):
            self.window.set()
        elif isinstance(event, h2p.InformationalResponseReceived):
            return
        elif isinstance(event, h2p.ResponseReceived) and event.stream_id == self.sid:
            if self.answer is not None and not self.answer.done():
                self.answer.set_result(event)
        elif isinstance(event, h2p.DataReceived) and event.stream_id == self.sid:
            await self.opened.wait()
            if event.data and not self.writer.is_closing():
                self.writer.write(event.data)
                with contextlib.suppress(ConnectionError):
                    await self.writer.drain()
            self.conn.acknowledge_received_data(event.flow_controlled_length, self.sid)
            if event.end_stream:
                self._finish(abort=False)
        elif isinstance(event, h2p.StreamEnded) and event.stream_id == self.sid:
            self._finish(abort=False)
        elif isinstance(event, h2p.StreamReset) and event.stream_id == self.sid:
            self._finish(abort=True)
        elif isinstance(event, h2p.ConnectionTerminated):
            if not event.remote or event.error_code != h2p.ErrorCode.NO_ERROR \
                    or self.sid > event.last_stream_id:
                self._finish(abort=True)

    def _finish(self, abort: bool) -> None:
        """END_STREAM → close TCP after the relayed bytes (the server's FIN, RFC 6455
        §7.1.1); RST_STREAM or a lost upstream → abort."""
        if self.done.is_set():
            return
        self.done.set()
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(ConnectionError("upstream ended before answering"))
        self.settings.set()
        self.window.set()
        if not self.opened.is_set():
            return  # still in the handshake: _run answers the client (or aborts)
        if abort:
            self.reset = True
            self.writer.transport.abort()
        else:
            self.writer.close()

    def _pump(self) -> None:
        """Send what the windows allow (the shared :class:`OutboundScheduler`), then flush."""
        self.scheduler.pump()
        self._flush()

    def _flush(self) -> None:
        data = self.conn.data_to_send()
        if data and self.up_writer is not None and not self.up_writer.is_closing():
            self.up_writer.write(data)


async def serve(listen_host: str, listen_port: int, upstream: Upstream
                ) -> asyncio.AbstractServer:
    """Listen for HTTP/1.1 WebSocket clients and bridge each to ``upstream``."""
    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await Tunnel(upstream, reader, writer).run()

    return await asyncio.start_server(on_client, listen_host, listen_port)
