"""Pacing an ASGI app's sends on one WebSocket (RFC 7692 §7.2.1, RFC 6455 §10.4).

A message longer than one turn's slice (BB_WS_BYTES_PER_TURN) is deflated in steps, one
per event-loop turn, so that echoing a message that inflated to megabytes does not hold
the loop; a send that comes meanwhile waits for it (messages keep their order). While
the carrier's buffer is full a send waits for it to drain, at most BB_WS_SEND_TIMEOUT
(what happens to a peer that reads nothing is the bridge's decision).
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..protocol.websocket import WebSocketConnection
from .asgi import ClientDisconnected
from .gate import Gate


class SendPacer:
    """The writability of one WebSocket's carrier and the message being deflated."""

    __slots__ = ("writable", "lock")

    def __init__(self) -> None:
        #: Open while the carrier takes more output (its ``pause_writing`` shuts it).
        self.writable = Gate()
        #: Held while a message is deflated in steps; None until the first one.
        self.lock: asyncio.Lock | None = None

    async def deflate_in_steps(self, ws: WebSocketConnection, payload: bytes, text: bool,
                               step: int, closed: Callable[[], bool]) -> None:
        """Queue ``payload`` compressed ``step`` input octets per loop turn (RFC 7692
        §7.2.1); raise :class:`ClientDisconnected` once ``closed()`` between steps."""
        if self.lock is None:
            self.lock = asyncio.Lock()
        async with self.lock:
            for _ in ws.send_message_in_steps(payload, text=text, step=step):
                await asyncio.sleep(0)
                if closed():
                    raise ClientDisconnected("the WebSocket is closed")

    async def drained(self, timeout: float) -> bool:
        """Wait until the carrier takes more output; False when ``timeout`` seconds
        (when positive) passed first."""
        if timeout <= 0:
            await self.writable.wait()
            return True
        try:
            await asyncio.wait_for(self.writable.wait(), timeout)
        except TimeoutError:
            return False
        return True
