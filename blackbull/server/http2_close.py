"""How one HTTP/2 connection ends (RFC 9113 §5.4.1, §6.8).

* graceful shutdown in two steps: GOAWAY with 2^31-1 and a PING, then, after the PING's
  ACK, the final GOAWAY naming the last stream processed (§6.8);
* after our last frame, a half-close and a short linger that keeps reading, so unread
  input does not turn the close into a TCP reset that destroys the GOAWAY (§5.4.1);
* a peer that must go at once (too slow, over a budget): GOAWAY ENHANCE_YOUR_CALM and
  the connection dropped (§10.5).
"""
from __future__ import annotations

import asyncio
import weakref
from typing import TYPE_CHECKING

from ..protocol.http2 import ErrorCode, PingAckReceived
from ..protocol.http2.frames import MAX_STREAM_ID

if TYPE_CHECKING:
    from .http2 import HTTP2Handler

#: Seconds a finished connection keeps draining input before it closes; also the
#: longest wait for the PING ACK between the two GOAWAYs of a graceful shutdown.
_LINGER = 1.0
_DRAIN_PING = b"bb-drain"


class ConnectionCloser:
    """The closing state of one connection, owned by its :class:`HTTP2Handler`."""

    __slots__ = ("_handler", "closing", "_drain_timer", "_linger")

    def __init__(self, handler: HTTP2Handler) -> None:
        # Weak: the handler owns this object, and a closed connection must be freed by
        # reference counting at once, with no cycle left for the GC.
        self._handler: HTTP2Handler = weakref.proxy(handler)
        #: The final GOAWAY is sent: the connection closes once its streams are done.
        self.closing = False
        self._drain_timer: asyncio.TimerHandle | None = None
        self._linger: asyncio.TimerHandle | None = None

    def cancel(self) -> None:
        """The connection is gone: no timer of ours may fire."""
        for timer in (self._drain_timer, self._linger):
            if timer is not None:
                timer.cancel()

    def shutdown(self) -> None:
        """§6.8 graceful shutdown, first step: GOAWAY with 2^31-1 and a PING, so requests
        already in flight are still taken; after the PING's ACK (one round trip, or
        _LINGER seconds) :meth:`final_goaway` names the last stream we process."""
        handler = self._handler
        h2 = handler.h2
        if h2.goaway_sent is None and not h2.terminated:
            h2.close_connection(ErrorCode.NO_ERROR, last_stream_id=MAX_STREAM_ID)
            h2.ping(_DRAIN_PING)
            self._drain_timer = handler.loop.call_later(_LINGER, self.final_goaway)

    def ping_acked(self, event: PingAckReceived) -> None:
        if event.data == _DRAIN_PING and self._handler.h2.goaway_sent is not None:
            self.final_goaway()

    def final_goaway(self) -> None:
        """GOAWAY NO_ERROR naming the highest stream processed: those streams finish,
        then the connection closes."""
        if self._drain_timer is not None:
            self._drain_timer.cancel()
            self._drain_timer = None
        handler = self._handler
        if self.closing or handler.h2.terminated:
            return
        self.closing = True
        handler.h2.close_connection(ErrorCode.NO_ERROR)
        handler.flush()

    def finish(self) -> None:
        """Close after our last frame (GOAWAY): half-close where the transport can, keep
        reading (and discarding) briefly so unread input does not turn the close into
        a TCP reset that could destroy the GOAWAY in flight (§5.4.1)."""
        conn = self._handler.conn
        if self._linger is not None or conn.closed:
            return
        transport = conn.transport
        if transport is not None and transport.can_write_eof():
            try:
                transport.write_eof()
            except OSError:  # the peer is already gone
                conn.close()
                return
        self._linger = self._handler.loop.call_later(_LINGER, conn.close)

    def calm(self, why: bytes) -> None:
        """GOAWAY ENHANCE_YOUR_CALM and drop the connection (a peer that does not read
        would keep a graceful close waiting forever)."""
        handler = self._handler
        if handler.conn.closed:
            return
        if not handler.h2.terminated:
            handler.h2.close_connection(ErrorCode.ENHANCE_YOUR_CALM, additional_data=why)
        handler.disconnect_streams()
        handler.sender.clear()  # what they queued is void
        handler.flush()
        handler.loop.call_later(_LINGER, handler.conn.abort)
