"""Helpers of the WebSocket tests: frames built by hand, the core fed bytes, ASGI apps."""
from __future__ import annotations

import os
import struct
from typing import Any

from blackbull.protocol.websocket import (
    ConnectionFailed,
    Event,
    Opcode,
    Role,
    WebSocketConnection,
    encode_frame,
)
from blackbull.protocol.websocket.frames import FrameParser


def client_frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv1: bool = False,
                 rsv2: bool = False, rsv3: bool = False, masked: bool = True) -> bytes:
    """A frame as a client would send it; any bits may be set (for invalid frames)."""
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | (0x20 if rsv2 else 0) | \
        (0x10 if rsv3 else 0) | opcode
    n = len(payload)
    mbit = 0x80 if masked else 0
    if n < 126:
        head = bytes((first, mbit | n))
    elif n < 65536:
        head = bytes((first, mbit | 126)) + struct.pack("!H", n)
    else:
        head = bytes((first, mbit | 127)) + struct.pack("!Q", n)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def server_core(**kw: Any) -> WebSocketConnection:
    return WebSocketConnection(Role.SERVER, **kw)


def feed(core: WebSocketConnection, *frames: bytes) -> list[Event]:
    events: list[Event] = []
    for frame in frames:
        events += core.receive_data(frame)
    return events


def failure(events: list[Event]) -> ConnectionFailed | None:
    for event in events:
        if isinstance(event, ConnectionFailed):
            return event
    return None


def sent_frames(core: WebSocketConnection) -> list[tuple[Opcode, bytes]]:
    """Decode what a server core queued (unmasked frames)."""
    parser = FrameParser(expect_masked=core.role is Role.CLIENT, allow_rsv1=True)
    parser.feed(core.data_to_send())
    frames: list[tuple[Opcode, bytes]] = []
    pieces: dict[int, list[bytes]] = {}
    for chunk in parser.chunks():
        key = id(chunk.header)
        pieces.setdefault(key, []).append(chunk.data)
        if chunk.last:
            frames.append((chunk.header.opcode, b"".join(pieces.pop(key))))
    return frames


def close_code_of(frames: list[tuple[Opcode, bytes]]) -> int | None:
    for opcode, payload in frames:
        if opcode is Opcode.CLOSE:
            return struct.unpack("!H", payload[:2])[0] if payload else 1005
    return None


async def echo_app(scope: dict, receive: Any, send: Any) -> None:
    """Accept, echo every message, record the disconnect in ``scope['state']``."""
    if scope["type"] != "websocket":
        return
    message = await receive()
    assert message["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            echo_app.disconnects.append(message)  # type: ignore[attr-defined]
            return
        reply = {"type": "websocket.send"}
        if message.get("text") is not None:
            reply["text"] = message["text"]
        else:
            reply["bytes"] = message["bytes"]
        await send(reply)


echo_app.disconnects = []  # type: ignore[attr-defined]

__all__ = ["client_frame", "close_code_of", "echo_app", "encode_frame", "failure", "feed",
           "sent_frames", "server_core"]
