"""WebSocket client over HTTP/2 (RFC 8441), on TLS with ALPN ``h2`` or h2c prior knowledge.

:class:`WebSocketH2Client` owns one HTTP/2 connection (the sans-I/O
:class:`~blackbull.protocol.http2.H2Connection` in the client role) and opens any number
of WebSockets on it, each an extended CONNECT stream (RFC 8441 §4). Every stream is a
:class:`WebSocketH2Session`: the same session (and the same sans-I/O WebSocket core) as
the HTTP/1.1 client, writing its frames into the stream's DATA frames instead of TCP.

Sketch::

    async with WebSocketH2Client("localhost", 8443, ssl=ctx) as client:   # ALPN ["h2"]
        ws = await client.connect("/ws")
        await ws.send_bytes(b"hello")
        opcode, payload = await ws.receive()
        await ws.close()
"""
from __future__ import annotations

import asyncio
import ssl as ssl_module
from collections.abc import Iterable
from dataclasses import dataclass

from ..protocol import http2 as h2p
from ..protocol.http2.scheduler import OutboundScheduler, StreamOutput
from ..protocol.websocket import (
    CLIENT_OFFER,
    PerMessageDeflate,
    Role,
    WebSocketConnection,
    negotiate_client,
)
from ..protocol.websocket.deflate import NegotiationError
from ..protocol.websocket.handshake import HandshakeFailed, header_tokens, header_values
from .websocket import WebSocketSession

Headers = list[tuple[bytes, bytes]]

#: RFC 9113 §6.9.2: our per-stream receive window (SETTINGS_INITIAL_WINDOW_SIZE).
DEFAULT_STREAM_WINDOW = 1024 * 1024
#: RFC 9113 §6.9.1: our connection receive window (raised by WINDOW_UPDATE on stream 0).
DEFAULT_CONNECTION_WINDOW = 8 * 1024 * 1024
_READ_SIZE = 256 * 1024


class HandshakeError(HandshakeFailed):
    """The extended CONNECT did not open a WebSocket (RFC 8441 §5): a non-2xx answer,
    a bad answer, or a server that never advertised SETTINGS_ENABLE_CONNECT_PROTOCOL.
    ``status`` and ``headers`` (of :class:`HandshakeFailed`) are the answer's, if any."""


@dataclass
class _PendingConnect:
    """An extended CONNECT waiting for its answer, with what the answer is checked against."""

    future: asyncio.Future[WebSocketH2Session]
    offered: list[str]
    compress: bool


class _StreamOut(StreamOutput):
    """Octets a session wrote that the flow-control windows have not let out yet;
    ``drained`` is set while nothing waits (RFC 9113 §6.9)."""

    __slots__ = ("drained",)

    def __init__(self, stream_id: int) -> None:
        super().__init__(stream_id)
        self.drained = asyncio.Event()
        self.drained.set()

    def on_output_drained(self) -> None:
        super().on_output_drained()
        self.drained.set()

    def void(self) -> None:
        super().void()
        self.drained.set()


class _H2StreamChannel:
    """The session's :class:`~blackbull.client.websocket.ByteChannel` on one stream."""

    def __init__(self, client: WebSocketH2Client, stream_id: int) -> None:
        self.client = client
        self.stream_id = stream_id

    def write(self, data: bytes) -> None:
        self.client._queue(self.stream_id, data)

    async def drain(self) -> None:
        await self.client._drain(self.stream_id)

    def close(self) -> None:
        """RFC 8441 §5: END_STREAM plays the part of the TCP FIN (after queued data)."""
        self.client._end(self.stream_id)


class WebSocketH2Session(WebSocketSession):
    """One WebSocket on one HTTP/2 stream (RFC 8441 §5); see :class:`WebSocketSession`.

    ``send_text``/``send_bytes``/``ping``/``receive``/``close`` behave as over HTTP/1.1;
    ``close`` ends with our END_STREAM and waits for the server's.
    """

    def __init__(self, client: WebSocketH2Client, stream_id: int, core: WebSocketConnection,
                 *, subprotocol: str | None, response_headers: Headers) -> None:
        super().__init__(_H2StreamChannel(client, stream_id), core, subprotocol=subprotocol,
                         response_headers=response_headers)
        self.client = client
        self.stream_id = stream_id
        #: Set when the stream ended by RST_STREAM (its error code) rather than END_STREAM.
        self.reset_code: int | None = None
        #: True once the server ended its side with END_STREAM (RFC 8441 §5).
        self.end_stream_received = False
        #: True when the whole HTTP/2 connection went away under the stream.
        self.connection_lost = False

    async def close(self, code: int = 1000, reason: str = "", timeout: float = 5.0) -> None:
        """The closing handshake (RFC 6455 §7.1.2), then our END_STREAM (RFC 8441 §5);
        idempotent. HTTP/2 streams half-close, so unlike TCP (§7.1.1) neither side has
        to end first: we end ours once the Close frames crossed, wait up to ``timeout``
        for the server's END_STREAM, and cancel the stream (RST_STREAM) after that."""
        if self.core.close_received is not None or self.core.failure is not None:
            self._answer_close()
        elif not self.core.close_sent and not self.closed:
            self.core.send_close(code, reason)
            await self._send()
        try:
            await asyncio.wait_for(self._peer_closed.wait(), timeout)
        except TimeoutError:
            pass
        self.channel.close()
        try:
            await asyncio.wait_for(self._closed.wait(), timeout)
        except TimeoutError:
            self.client._abandon(self.stream_id)
            self.feed_eof()


class WebSocketH2Client:
    """Opens WebSockets over one HTTP/2 connection (RFC 8441).

    ``ssl``: an :class:`ssl.SSLContext` (its ALPN must offer ``h2``), True for a default
    context with ALPN ``h2``, or None for cleartext h2c with prior knowledge (RFC 9113
    §3.3). ``connect_status`` holds the last ``:status`` answered to a CONNECT.
    """

    def __init__(self, host: str, port: int, ssl: ssl_module.SSLContext | bool | None = None,
                 *, authority: str | None = None, settings_timeout: float = 5.0,
                 stream_window: int = DEFAULT_STREAM_WINDOW,
                 connection_window: int = DEFAULT_CONNECTION_WINDOW,
                 max_frame_size: int = 16 * 1024 * 1024,
                 max_message_size: int = 16 * 1024 * 1024) -> None:
        self.host = host
        self.port = port
        self.ssl = ssl
        self.authority = authority or (f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
        self.settings_timeout = settings_timeout
        self.stream_window = stream_window
        self.connection_window = connection_window
        self.max_frame_size = max_frame_size
        self.max_message_size = max_message_size
        self.connect_status: int | None = None
        self.conn: h2p.H2Connection | None = None
        self.sessions: dict[int, WebSocketH2Session] = {}
        self._pending: dict[int, _PendingConnect] = {}
        self._out: dict[int, _StreamOut] = {}
        self._scheduler: OutboundScheduler | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._settings_seen: asyncio.Event | None = None
        self._lost: BaseException | None = None
        self._open_lock = asyncio.Lock()

    # --- the connection ---------------------------------------------------------------
    async def open(self) -> None:
        """Connect, exchange prefaces and wait for the server's first SETTINGS (§3.4)."""
        async with self._open_lock:
            if self.conn is not None:
                return
            reader, writer = await asyncio.wait_for(asyncio.open_connection(
                self.host, self.port, ssl=self._ssl_context(),
                server_hostname=self.host if self.ssl else None), self.settings_timeout)
            if self.ssl:
                alpn = writer.get_extra_info("ssl_object").selected_alpn_protocol()
                if alpn != "h2":
                    writer.close()
                    raise HandshakeError(f"TLS ALPN chose {alpn!r}, not h2 (RFC 9113 §3.2)")
            conn = h2p.H2Connection("client", {
                h2p.SettingCode.ENABLE_PUSH: 0,
                h2p.SettingCode.INITIAL_WINDOW_SIZE: self.stream_window,
                h2p.SettingCode.MAX_CONCURRENT_STREAMS: 0,
            })
            conn.initiate_connection()
            conn.increment_connection_window(self.connection_window)
            self.conn, self._writer = conn, writer
            self._scheduler = OutboundScheduler(conn)
            self._settings_seen = asyncio.Event()
            self._flush()
            self._reader_task = asyncio.get_running_loop().create_task(self._read_loop(reader))
            try:
                await asyncio.wait_for(self._settings_seen.wait(), self.settings_timeout)
            except TimeoutError:
                await self.aclose()
                raise
            if self._lost is not None:
                raise ConnectionError(f"HTTP/2 connection lost: {self._lost}")

    def _ssl_context(self) -> ssl_module.SSLContext | None:
        if self.ssl is True:
            ctx = ssl_module.create_default_context()
            ctx.set_alpn_protocols(["h2"])
            return ctx
        return self.ssl or None

    @property
    def connect_protocol_enabled(self) -> bool:
        """RFC 8441 §3: the server sent SETTINGS_ENABLE_CONNECT_PROTOCOL=1."""
        return self.conn is not None and self.conn.remote.enable_connect_protocol

    # --- opening a WebSocket ----------------------------------------------------------
    async def connect(self, path: str = "/", subprotocols: Iterable[str] | None = None, *,
                      headers: Iterable[tuple[bytes, bytes]] = (), compress: bool = True,
                      response_timeout: float = 5.0) -> WebSocketH2Session:
        """RFC 8441 §4–§5: an extended CONNECT stream that becomes a WebSocket.

        Raises :class:`HandshakeError` for a non-200 answer (``connect_status`` keeps
        it) or when the server did not advertise the setting (nothing is sent then),
        and :class:`TimeoutError` when no answer comes within ``response_timeout``.
        """
        await self.open()
        conn = self.conn
        assert conn is not None
        if not conn.remote.enable_connect_protocol:
            raise HandshakeError("the server did not send SETTINGS_ENABLE_CONNECT_PROTOCOL=1"
                                 " (RFC 8441 §3): no extended CONNECT")
        if self._lost is not None or conn.goaway_received is not None:
            raise ConnectionError("the HTTP/2 connection is closing or gone")
        offered = list(subprotocols or ())
        sid = conn.get_next_available_stream_id()
        conn.send_headers(sid, self._request_headers(path, offered, compress, headers))
        future: asyncio.Future[WebSocketH2Session] = \
            asyncio.get_running_loop().create_future()
        self._pending[sid] = _PendingConnect(future, offered, compress)
        self._out[sid] = _StreamOut(sid)
        self._flush()
        try:
            return await asyncio.wait_for(future, response_timeout)
        except BaseException:
            self.sessions.pop(sid, None)  # opened, but the caller will never have it
            self._abandon(sid)
            raise
        finally:
            self._pending.pop(sid, None)

    def _request_headers(self, path: str, offered: list[str], compress: bool,
                         extra: Iterable[tuple[bytes, bytes]]) -> Headers:
        """RFC 8441 §4: :protocol plus :scheme, :path, :authority; RFC 8441 §5 keeps
        Sec-WebSocket-Version/Protocol/Extensions (no key)."""
        fields: Headers = [
            (b":method", b"CONNECT"), (b":protocol", b"websocket"),
            (b":scheme", b"https" if self.ssl else b"http"), (b":path", path.encode()),
            (b":authority", self.authority.encode()), (b"sec-websocket-version", b"13"),
        ]
        if offered:
            fields.append((b"sec-websocket-protocol", ", ".join(offered).encode()))
        if compress:
            fields.append((b"sec-websocket-extensions", CLIENT_OFFER.encode()))
        fields += [(k.lower(), v) for k, v in extra]
        return fields

    def _open_session(self, sid: int, response: h2p.ResponseReceived, offered: list[str],
                      compress: bool) -> WebSocketH2Session:
        fields = [(k.lower(), v) for k, v in response.headers]
        status_raw = dict(fields).get(b":status", b"0")
        status = int(status_raw) if status_raw.isdigit() else 0
        self.connect_status = status
        if not 200 <= status < 300:
            raise HandshakeError(f"the server answered the extended CONNECT with {status}"
                                 " (RFC 8441 §5)", status, fields)
        if response.end_stream:
            raise HandshakeError("the 2xx answer ended the stream", status, fields)
        chosen = header_tokens(fields, b"sec-websocket-protocol")
        if chosen and (len(chosen) != 1 or chosen[0] not in offered):
            raise HandshakeError(f"server chose a subprotocol we did not offer: {chosen}",
                                 status, fields)
        ext_values = header_values(fields, b"sec-websocket-extensions")
        try:
            params = negotiate_client(ext_values) if compress else None
        except NegotiationError as exc:
            raise HandshakeError(str(exc), status, fields) from exc
        if params is None and ext_values:
            raise HandshakeError("server accepted an extension we did not offer",
                                 status, fields)
        core = WebSocketConnection(
            Role.CLIENT, deflate=PerMessageDeflate(params, is_server=False) if params else None,
            max_frame_size=self.max_frame_size, max_message_size=self.max_message_size,
            auto_close=False)
        session = WebSocketH2Session(self, sid, core, subprotocol=chosen[0] if chosen else None,
                                     response_headers=fields)
        self.sessions[sid] = session
        return session

    def _abandon(self, sid: int) -> None:
        """A stream that will not become a WebSocket: cancel it (RFC 9113 §8.1)."""
        out = self._out.pop(sid, None)
        if out is not None:
            self._void(out)
        if self.conn is not None and self._lost is None:
            self.conn.reset_stream(sid, h2p.ErrorCode.CANCEL)
            self._flush()

    # --- sending (flow control, RFC 9113 §6.9) ----------------------------------------
    def _queue(self, sid: int, data: bytes) -> None:
        out = self._out.get(sid)
        if out is None or self._scheduler is None or not out.write(bytes(data)):
            return
        out.drained.clear()
        self._scheduler.enqueue(out)
        self._pump()

    def _end(self, sid: int) -> None:
        out = self._out.get(sid)
        if out is None or self._scheduler is None or not out.finish():
            return
        self._scheduler.enqueue(out)
        self._pump()

    def _void(self, out: _StreamOut) -> None:
        """The stream is gone: what it queued will never be sent."""
        out.void()
        if self._scheduler is not None:
            self._scheduler.discard(out.stream_id)

    async def _drain(self, sid: int) -> None:
        out = self._out.get(sid)
        if out is not None:
            await out.drained.wait()
        if self._writer is not None and not self._writer.is_closing():
            try:
                await self._writer.drain()
            except ConnectionError:
                pass

    def _pump(self) -> None:
        """Move queued octets into DATA frames as far as both windows allow, streams in
        id order (the shared :class:`OutboundScheduler`); the core cuts them at the
        peer's SETTINGS_MAX_FRAME_SIZE (§4.2)."""
        if self._scheduler is None:
            return
        self._scheduler.pump()
        self._flush()

    def _flush(self) -> None:
        if self.conn is None or self._writer is None:
            return
        data = self.conn.data_to_send()
        if data and not self._writer.is_closing():
            self._writer.write(data)

    # --- receiving --------------------------------------------------------------------
    async def _read_loop(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                data = await reader.read(_READ_SIZE)
                if not data:
                    break
                assert self.conn is not None
                for event in self.conn.receive_data(data):
                    self._on_event(event)
                self._pump()
        except (ConnectionError, ssl_module.SSLError, OSError) as exc:
            self._lost = exc
        finally:
            self._on_connection_lost()

    def _on_event(self, event: h2p.Event) -> None:
        if isinstance(event, h2p.RemoteSettingsChanged):
            if self._settings_seen is not None:
                self._settings_seen.set()
        elif isinstance(event, h2p.InformationalResponseReceived):
            return  # §8.1: 1xx precede the final answer
        elif isinstance(event, h2p.ResponseReceived):
            self._on_response(event)
        elif isinstance(event, h2p.DataReceived):
            self._on_data(event)
        elif isinstance(event, h2p.StreamEnded):
            self._stream_ended(event.stream_id)
        elif isinstance(event, h2p.StreamReset):
            self._stream_gone(event.stream_id, int(event.error_code))
        elif isinstance(event, h2p.ConnectionTerminated):
            self._on_goaway(event)

    def _on_response(self, event: h2p.ResponseReceived) -> None:
        """RFC 8441 §5: the session exists as soon as the 2xx is parsed, so DATA that the
        server sends right after its accept (often in the same read) already has a home;
        :meth:`connect`'s caller gets the session when its task next runs."""
        pending = self._pending.get(event.stream_id)
        if pending is None or pending.future.done():
            return
        try:
            session = self._open_session(event.stream_id, event, pending.offered,
                                         pending.compress)
        except HandshakeError as exc:
            pending.future.set_exception(exc)
        else:
            pending.future.set_result(session)

    def _on_data(self, event: h2p.DataReceived) -> None:
        """Feed the session; the credit goes back at once (the session buffers messages),
        and the core sends WINDOW_UPDATE once half a window accumulates (§6.9)."""
        assert self.conn is not None
        self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        session = self.sessions.get(event.stream_id)
        if session is not None and event.data:
            session.feed_data(event.data)
        if event.end_stream:
            self._stream_ended(event.stream_id)

    def _stream_ended(self, sid: int) -> None:
        session = self.sessions.get(sid)
        if session is not None:
            session.end_stream_received = True
        self._stream_gone(sid, None)

    def _stream_gone(self, sid: int, reset_code: int | None, *, lost: bool = False) -> None:
        """The stream ended (END_STREAM, RST_STREAM, GOAWAY or a lost connection)."""
        pending = self._pending.get(sid)
        if pending is not None and not pending.future.done():
            pending.future.set_exception(
                ConnectionError("the HTTP/2 connection was lost before an answer") if lost
                else HandshakeError(f"stream {sid} ended before an answer "
                                    f"(RST_STREAM {reset_code})"))
        if reset_code is not None or lost:
            out = self._out.get(sid)
            if out is not None:
                self._void(out)
        session = self.sessions.get(sid)
        if session is not None and not session.closed:
            session.reset_code = reset_code
            session.connection_lost = lost
            session.feed_eof()

    def _on_goaway(self, event: h2p.ConnectionTerminated) -> None:
        """RFC 9113 §6.8: streams above ``last_stream_id`` were never processed; with an
        error code (or a GOAWAY we sent) the whole connection is over."""
        fatal = not event.remote or event.error_code != h2p.ErrorCode.NO_ERROR
        for sid in list(self._pending) + list(self.sessions):
            if fatal or sid > event.last_stream_id:
                self._stream_gone(sid, int(event.error_code))
        if not event.remote and self._writer is not None:
            # We failed the connection (a connection error, §5.4.1): our GOAWAY goes
            # out, then the TCP connection closes.
            self._flush()
            self._writer.close()

    def _on_connection_lost(self) -> None:
        for sid in list(self._pending) + list(self.sessions):
            self._stream_gone(sid, None, lost=True)
        if self._settings_seen is not None:
            self._settings_seen.set()
        if self._lost is None:
            self._lost = ConnectionResetError("the server closed the connection")

    # --- shutdown ---------------------------------------------------------------------
    async def aclose(self) -> None:
        """Close every session (closing handshake + END_STREAM), then GOAWAY and TCP."""
        for session in list(self.sessions.values()):
            if not session.closed:
                await session.close()
        if self.conn is not None and self._lost is None and self._writer is not None:
            self.conn.close_connection()
            self._flush()
        if self._writer is not None:
            self._writer.close()
            try:
                await asyncio.wait_for(self._writer.wait_closed(), 2.0)
            except (TimeoutError, ConnectionError, ssl_module.SSLError, OSError):
                pass
        if self._reader_task is not None and not self._reader_task.done():
            self._reader_task.cancel()
            try:
                await self._reader_task
            except (asyncio.CancelledError, Exception):
                pass

    async def __aenter__(self) -> WebSocketH2Client:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
