"""WebSocket client over HTTP/1.1, ws and wss (RFC 6455 §4.1, §5, §7).

:class:`WebSocketSession` speaks frames over any :class:`ByteChannel` (so an RFC 8441
HTTP/2 stream can carry it too); :class:`WebSocketClient` opens TCP/TLS connections and
performs the HTTP/1.1 opening handshake.
"""
from __future__ import annotations

import asyncio
import ssl as ssl_module
import struct
from collections.abc import Iterable
from typing import Protocol

from ..protocol.http1.events import ResponseRejected
from ..protocol.http1.head import parse_response_head
from ..protocol.websocket import (
    CLIENT_OFFER,
    BytesMessage,
    CloseCode,
    CloseReceived,
    ConnectionFailed,
    PerMessageDeflate,
    Pong,
    Role,
    TextMessage,
    WebSocketConnection,
    negotiate_client,
)
from ..protocol.websocket.deflate import NegotiationError
from ..protocol.websocket.errors import WebSocketError
from ..protocol.websocket.frames import Opcode as WSOpcode
from ..protocol.websocket.handshake import (
    HandshakeFailed,
    client_request,
    generate_key,
    header_values,
    validate_server_response,
)

_MAX_RESPONSE_HEAD = 64 * 1024
#: Seconds a received Close waits for the caller to ``receive`` it before we answer.
ANSWER_GRACE = 1.0


class WebSocketClosed(WebSocketError, ConnectionError):
    """The session is closed: nothing more can be sent."""


class ByteChannel(Protocol):
    """Where a session writes its frames (a TCP stream, an HTTP/2 stream, ...)."""

    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...

    def close(self) -> None: ...


class _StreamChannel:
    """:class:`ByteChannel` over an asyncio stream pair (HTTP/1.1, §4.1)."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer

    def write(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)

    async def drain(self) -> None:
        try:
            await self.writer.drain()
        except ConnectionError:
            pass

    def close(self) -> None:
        self.writer.close()


class WebSocketSession:
    """An open WebSocket (client role: our frames are masked, §5.3).

    Feed it bytes with :meth:`feed_data` / :meth:`feed_eof` (the HTTP/1.1 client does
    this from its reader task). ``receive`` returns ``(WSOpcode, payload)``: ``str`` for
    TEXT, ``bytes`` for BINARY and PONG, and for CLOSE the Close body (code + reason,
    empty when the peer sent no code); Pings are answered by the core and not returned.
    """

    def __init__(self, channel: ByteChannel, core: WebSocketConnection, *,
                 subprotocol: str | None = None,
                 response_headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.channel = channel
        self.core = core
        self.subprotocol = subprotocol
        self.response_headers = response_headers or []
        self.close_code: int | None = None
        self.close_reason = ""
        self._events: asyncio.Queue[tuple[WSOpcode, str | bytes]] = asyncio.Queue()
        self._close_event: tuple[WSOpcode, bytes] | None = None
        self._closed = asyncio.Event()          # the byte stream has ended
        self._peer_closed = asyncio.Event()     # the peer's Close arrived (or the stream ended)
        self.reader_task: asyncio.Task[None] | None = None
        self._answer_timer: asyncio.TimerHandle | None = None

    @property
    def extensions(self) -> list[bytes]:
        return header_values(self.response_headers, b"sec-websocket-extensions")

    # --- fed by the transport ---------------------------------------------------------
    def feed_data(self, data: bytes) -> None:
        for event in self.core.receive_data(data):
            if isinstance(event, TextMessage):
                self._events.put_nowait((WSOpcode.TEXT, event.data))
            elif isinstance(event, BytesMessage):
                self._events.put_nowait((WSOpcode.BINARY, event.data))
            elif isinstance(event, Pong):
                self._events.put_nowait((WSOpcode.PONG, event.payload))
            elif isinstance(event, CloseReceived | ConnectionFailed):
                self._on_close(event.code, event.reason)
                if not self.core.auto_close:
                    # Answered when the caller receives the CLOSE, so replies to the
                    # messages before it go first (§5.5.1), or after a grace period.
                    self._answer_timer = asyncio.get_running_loop().call_later(
                        ANSWER_GRACE, self._answer_close)
        self._flush()
        if self.core.failure is not None and self.core.close_sent:
            self.channel.close()  # §7.1.7: fail the connection

    def _answer_close(self) -> None:
        """Send the Close a received Close or a failure calls for (idempotent)."""
        if self._answer_timer is not None:
            self._answer_timer.cancel()
            self._answer_timer = None
        if self.core.close_sent or self._closed.is_set():
            return
        self.core.answer_close()
        self._flush()
        if self.core.failure is not None:
            self.channel.close()  # §7.1.7: fail the connection

    def feed_eof(self) -> None:
        if self.close_code is None:
            self._on_close(CloseCode.ABNORMAL, "connection dropped")
        self._closed.set()
        if self._answer_timer is not None:
            self._answer_timer.cancel()
        self.channel.close()  # §7.1.1: the server closed TCP first; close our end too

    def _on_close(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
            body = b"" if code in (CloseCode.NO_STATUS, CloseCode.ABNORMAL) else \
                struct.pack("!H", code) + reason.encode("utf-8")
            self._close_event = (WSOpcode.CLOSE, body)
            self._events.put_nowait(self._close_event)
        self._peer_closed.set()

    def _flush(self) -> None:
        data = self.core.data_to_send()
        if data:
            self.channel.write(data)

    # --- API --------------------------------------------------------------------------
    async def _send(self) -> None:
        self._flush()
        await self.channel.drain()

    def _check_open(self) -> None:
        # Until our Close is sent, sending stays possible even after the peer's Close
        # arrived (the answer waits for the caller to receive it).
        if self.core.close_sent or self._closed.is_set():
            raise WebSocketClosed(f"session closed ({self.close_code})")

    async def send_text(self, text: str) -> None:
        self._check_open()
        self.core.send_text(text)
        await self._send()

    async def send_bytes(self, data: bytes) -> None:
        self._check_open()
        self.core.send_bytes(data)
        await self._send()

    async def ping(self, payload: bytes = b"") -> None:
        self._check_open()
        self.core.send_ping(payload)
        await self._send()

    async def receive(self, timeout: float | None = 5.0) -> tuple[WSOpcode, str | bytes]:
        """The next message, Pong or Close; raises TimeoutError after ``timeout``."""
        if self._events.empty() and self._close_event is not None:
            return self._close_event
        event = await asyncio.wait_for(self._events.get(), timeout)
        if event[0] is WSOpcode.CLOSE:
            self._answer_close()
        return event

    async def close(self, code: int = CloseCode.NORMAL, reason: str = "",
                    timeout: float = 5.0) -> None:
        """The closing handshake (§7.1.2); idempotent.

        Waits for the server's Close and then for the server to close TCP first
        (§7.1.1), up to ``timeout`` each, before closing our end.
        """
        if self.core.close_received is not None or self.core.failure is not None:
            self._answer_close()  # the peer closed first (or broke the protocol): answer
        elif not self.core.close_sent and not self._closed.is_set():
            self.core.send_close(code, reason)
            await self._send()
        try:
            await asyncio.wait_for(self._peer_closed.wait(), timeout)
            await asyncio.wait_for(self._closed.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            self.channel.close()
        if self.reader_task is not None and not self.reader_task.done():
            self.reader_task.cancel()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def __aenter__(self) -> WebSocketSession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


async def _read_loop(reader: asyncio.StreamReader, session: WebSocketSession) -> None:
    try:
        while True:
            data = await reader.read(256 * 1024)
            if not data:
                break
            session.feed_data(data)
    except (ConnectionError, ssl_module.SSLError):
        pass
    finally:
        session.feed_eof()


class WebSocketClient:
    """Opens WebSocket sessions to one origin over HTTP/1.1 (ws, or wss with ``ssl``).

    ``ssl`` is an :class:`ssl.SSLContext` (or True for the default context).
    """

    def __init__(self, host: str, port: int, ssl: ssl_module.SSLContext | bool | None = None,
                 *, max_frame_size: int = 16 * 1024 * 1024,
                 max_message_size: int = 16 * 1024 * 1024) -> None:
        self.host = host
        self.port = port
        self.ssl = ssl
        self.max_frame_size = max_frame_size
        self.max_message_size = max_message_size
        self.sessions: list[WebSocketSession] = []

    async def connect(self, path: str = "/", subprotocols: Iterable[str] | None = None, *,
                      headers: Iterable[tuple[bytes, bytes]] = (), compress: bool = True,
                      timeout: float = 10.0) -> WebSocketSession:
        """RFC 6455 §4.1: open the connection, send the handshake, check the answer."""
        ssl_ctx = self.ssl
        if ssl_ctx is True:
            ssl_ctx = ssl_module.create_default_context()
        reader, writer = await asyncio.wait_for(asyncio.open_connection(
            self.host, self.port, ssl=ssl_ctx or None,
            server_hostname=self.host if ssl_ctx else None), timeout)
        try:
            session = await asyncio.wait_for(
                self._handshake(reader, writer, path, list(subprotocols or ()),
                                list(headers), compress), timeout)
        except BaseException:
            writer.close()
            raise
        self.sessions.append(session)
        return session

    async def _handshake(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                         path: str, subprotocols: list[str],
                         headers: list[tuple[bytes, bytes]], compress: bool
                         ) -> WebSocketSession:
        key = generate_key()
        default_port = 443 if self.ssl else 80
        host = self.host if self.port == default_port else f"{self.host}:{self.port}"
        if ":" in self.host and not self.host.startswith("["):
            host = f"[{self.host}]:{self.port}"
        writer.write(client_request(host, path, key, subprotocols=subprotocols,
                                    extensions=CLIENT_OFFER if compress else None,
                                    extra=headers))
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            raise HandshakeFailed("connection closed during the handshake") from exc
        except asyncio.LimitOverrunError as exc:
            raise HandshakeFailed("response head too large") from exc
        response = parse_response_head(head[:_MAX_RESPONSE_HEAD])
        if isinstance(response, ResponseRejected):
            raise HandshakeFailed(f"not an HTTP/1.1 response: {response.reason}")
        resp_headers = response.headers
        subprotocol = validate_server_response(response.status, resp_headers, key,
                                               subprotocols)
        ext_values = header_values(resp_headers, b"sec-websocket-extensions")
        try:
            params = negotiate_client(ext_values) if compress else None
        except NegotiationError as exc:
            raise HandshakeFailed(str(exc)) from exc
        if params is None and ext_values:
            raise HandshakeFailed("server accepted an extension we did not offer")
        deflate = PerMessageDeflate(params, is_server=False) if params else None
        core = WebSocketConnection(Role.CLIENT, deflate=deflate,
                                   max_frame_size=self.max_frame_size,
                                   max_message_size=self.max_message_size,
                                   auto_close=False)
        session = WebSocketSession(_StreamChannel(writer), core, subprotocol=subprotocol,
                                   response_headers=resp_headers)
        session.reader_task = asyncio.get_running_loop().create_task(
            _read_loop(reader, session))
        return session

    async def aclose(self) -> None:
        for session in self.sessions:
            await session.close()
        self.sessions.clear()

    async def __aenter__(self) -> WebSocketClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
