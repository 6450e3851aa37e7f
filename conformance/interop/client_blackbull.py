"""Matrix client ``blackbull``: our :class:`~blackbull.client.h2.WebSocketH2Client`."""
from __future__ import annotations

import asyncio
import os
import struct
from collections.abc import Awaitable, Callable

from blackbull.client.h2 import HandshakeError, WebSocketH2Client, WebSocketH2Session
from blackbull.protocol.websocket import Opcode, encode_frame
from conformance.interop.endpoint import Endpoint
from conformance.interop.scenarios import NotApplicable, check, judge_stream_end

NAME = "blackbull"
TIMEOUT = 15.0


def _client(ep: Endpoint, port: int | None = None) -> WebSocketH2Client:
    return WebSocketH2Client(ep.server_name, port or ep.port, ssl=ep.client_context())


async def _expect(ws: WebSocketH2Session, opcode: Opcode, payload: object, what: str) -> None:
    got_op, got = await ws.receive(timeout=TIMEOUT)
    check(got_op is opcode and got == payload,
          f"{what}: expected {opcode.name} {str(payload)[:40]!r}, got {got_op.name} "
          f"{str(got)[:60]!r}")


def _ended_cleanly(ws: WebSocketH2Session) -> None:
    judge_stream_end(ws.end_stream_received, ws.reset_code, ws.connection_lost)


async def _one(ep: Endpoint, body: Callable[[WebSocketH2Session], Awaitable[None]], *,
               subprotocols: list[str] | None = None, compress: bool = False) -> None:
    async with _client(ep) as client:
        ws = await client.connect(ep.ws_path, subprotocols, compress=compress,
                                  response_timeout=TIMEOUT)
        await body(ws)
        await ws.close()


async def handshake(ep: Endpoint) -> None:
    async with _client(ep) as client:
        check(client.connect_protocol_enabled, "no SETTINGS_ENABLE_CONNECT_PROTOCOL=1")
        ws = await client.connect(ep.ws_path, compress=False, response_timeout=TIMEOUT)
        check(client.connect_status == 200, f":status {client.connect_status}")
        await ws.send_text("?version")
        await _expect(ws, Opcode.TEXT, "version:2", "the app's http_version")
        await ws.close()


async def text_echo(ep: Endpoint) -> None:
    async def body(ws: WebSocketH2Session) -> None:
        await ws.send_text("héllo over h2")
        await _expect(ws, Opcode.TEXT, "héllo over h2", "text echo")
    await _one(ep, body)


async def binary_echo(ep: Endpoint) -> None:
    async def body(ws: WebSocketH2Session) -> None:
        await ws.send_bytes(b"\x00\x01\xfe\xff" * 16)
        await _expect(ws, Opcode.BINARY, b"\x00\x01\xfe\xff" * 16, "binary echo")
    await _one(ep, body)


async def one_mib(ep: Endpoint) -> None:
    data = os.urandom(1024 * 1024)

    async def body(ws: WebSocketH2Session) -> None:
        await ws.send_bytes(data)
        await _expect(ws, Opcode.BINARY, data, "1 MiB echo")
    await _one(ep, body)


async def fragmented(ep: Endpoint) -> None:
    async def body(ws: WebSocketH2Session) -> None:
        # RFC 6455 §5.4: three fragments, masked as a client must (§5.3).
        for opcode, part, fin in ((Opcode.TEXT, b"frag", False),
                                  (Opcode.CONTINUATION, b"men", False),
                                  (Opcode.CONTINUATION, b"ted", True)):
            ws.channel.write(encode_frame(opcode, part, fin=fin, mask=os.urandom(4)))
        await ws.channel.drain()
        await _expect(ws, Opcode.TEXT, "fragmented", "reassembled echo")
    await _one(ep, body)


async def ping_pong(ep: Endpoint) -> None:
    async def body(ws: WebSocketH2Session) -> None:
        await ws.ping(b"are-you-there")
        await _expect(ws, Opcode.PONG, b"are-you-there", "pong")
    await _one(ep, body)


async def close_client_code(ep: Endpoint) -> None:
    async with _client(ep) as client:
        ws = await client.connect(ep.ws_path, compress=False, response_timeout=TIMEOUT)
        await ws.close(4001)
        check(ws.close_code == 4001, f"server's Close echoed {ws.close_code}, not 4001")
        _ended_cleanly(ws)


async def close_server_code(ep: Endpoint) -> None:
    async with _client(ep) as client:
        ws = await client.connect(ep.ws_path, compress=False, response_timeout=TIMEOUT)
        await ws.send_text("close:4002")
        await _expect(ws, Opcode.CLOSE, struct.pack("!H", 4002), "server Close")
        await ws.close()
        _ended_cleanly(ws)


async def subprotocol(ep: Endpoint) -> None:
    async def body(ws: WebSocketH2Session) -> None:
        check(ws.subprotocol == "chat", f"negotiated {ws.subprotocol!r}, not 'chat'")
        await ws.send_text("?subprotocol")
        await _expect(ws, Opcode.TEXT, "chat", "app's view of the subprotocol")
    await _one(ep, body, subprotocols=["chat", "other"])


async def permessage_deflate(ep: Endpoint) -> None:
    async with _client(ep) as client:
        ws = await client.connect(ep.ws_path, compress=True, response_timeout=TIMEOUT)
        if ws.core.deflate is None:
            await ws.close()
            raise NotApplicable(f"{ep.name} did not accept permessage-deflate "
                                f"(answered {ws.extensions!r})")
        text = "compress me " * 2000
        await ws.send_text(text)
        await _expect(ws, Opcode.TEXT, text, "deflated echo")
        await ws.close()


async def fifty_streams(ep: Endpoint) -> None:
    async with _client(ep) as client:
        sessions = await asyncio.gather(*(
            client.connect(ep.ws_path, compress=False, response_timeout=TIMEOUT)
            for _ in range(50)))
        check(len({ws.stream_id for ws in sessions}) == 50, "streams were not distinct")

        async def echo(i: int, ws: WebSocketH2Session) -> None:
            await ws.send_text(f"stream {i}")
            await _expect(ws, Opcode.TEXT, f"stream {i}", f"echo on stream {ws.stream_id}")
        await asyncio.gather(*(echo(i, ws) for i, ws in enumerate(sessions)))
        await asyncio.gather(*(ws.close() for ws in sessions))


async def no_setting_refused(ep: Endpoint) -> None:
    if ep.no_setting_port is None:
        raise NotApplicable(ep.no_setting_reason)
    async with _client(ep, ep.no_setting_port) as client:
        check(not client.connect_protocol_enabled,
              "the server advertised SETTINGS_ENABLE_CONNECT_PROTOCOL though told not to")
        try:
            await client.connect(ep.ws_path, response_timeout=TIMEOUT)
        except HandshakeError:
            assert client.conn is not None
            check(not client.conn.streams and client.conn.highest_local_id == 0,
                  "a stream was opened before the refusal")
            return
        check(False, "connect() succeeded without the setting")


SCENARIOS: dict[str, Callable[[Endpoint], Awaitable[None]]] = {
    "handshake": handshake, "text-echo": text_echo, "binary-echo": binary_echo,
    "1mib-message": one_mib, "fragmented-message": fragmented, "ping-pong": ping_pong,
    "close-client-code": close_client_code, "close-server-code": close_server_code,
    "subprotocol": subprotocol, "permessage-deflate": permessage_deflate,
    "50-streams": fifty_streams, "no-setting-refused": no_setting_refused,
}
