"""The timers of one HTTP/2 connection (RFC 9113 §6.5.3, §9.1, §10.5).

* SETTINGS acknowledgement: our SETTINGS still unacknowledged after
  ``BB_H2_SETTINGS_TIMEOUT`` seconds is a connection error SETTINGS_TIMEOUT (§6.5.3);
* idleness, one timer per connection every ``BB_H2_IDLE_TIMEOUT`` seconds: with no
  stream open and no byte received over the period, the connection ends with a GOAWAY
  (§9.1); otherwise the period's response progress is judged by
  :class:`~blackbull.server.http2_guard.SlowReaderJudge` (§10.5) and the timer re-armed.
"""
from __future__ import annotations

import asyncio
import logging
import weakref
from typing import TYPE_CHECKING

from ..protocol.http2 import ErrorCode, SettingsAcknowledged
from .http2_guard import SlowReaderJudge

if TYPE_CHECKING:
    from .http2 import HTTP2Handler

log = logging.getLogger("blackbull.server")


class ConnectionTimers:
    """The SETTINGS-ACK and idle timers of one connection, owned by its handler."""

    __slots__ = ("_handler", "last_active", "_idle", "_settings", "_judge")

    def __init__(self, handler: HTTP2Handler) -> None:
        # Weak: the handler owns this object, and a closed connection must be freed by
        # reference counting at once, with no cycle left for the GC.
        self._handler: HTTP2Handler = weakref.proxy(handler)
        #: Loop time of the last read; the handler sets it on every read.
        self.last_active = 0.0
        self._idle: asyncio.TimerHandle | None = None
        self._settings: asyncio.TimerHandle | None = None
        self._judge = SlowReaderJudge()

    def start(self) -> None:
        """Our SETTINGS are sent: both timers run from now."""
        handler = self._handler
        self._arm_idle()
        self._settings = handler.loop.call_later(
            handler.conn.state.settings.h2_settings_timeout, self._on_settings_timeout)

    def cancel(self) -> None:
        """The connection is gone: no timer of ours may fire."""
        for timer in (self._idle, self._settings):
            if timer is not None:
                timer.cancel()
        self._idle = self._settings = None

    # --- §6.5.3 ------------------------------------------------------------------------
    def settings_acknowledged(self, event: SettingsAcknowledged) -> None:
        if self._settings is not None and not self._handler.h2.awaiting_settings_ack:
            self._settings.cancel()
            self._settings = None

    def _on_settings_timeout(self) -> None:
        """§6.5.3: our SETTINGS were never acknowledged: connection error SETTINGS_TIMEOUT."""
        self._settings = None
        handler = self._handler
        h2 = handler.h2
        if h2.awaiting_settings_ack and not h2.terminated and not handler.conn.closed:
            log.info("HTTP/2 peer %s never acknowledged our SETTINGS", handler.conn.client)
            h2.close_connection(ErrorCode.SETTINGS_TIMEOUT)
            handler.disconnect_streams()
            handler.flush()

    # --- §9.1, §10.5 -------------------------------------------------------------------
    def _arm_idle(self) -> None:
        handler = self._handler
        timeout = handler.conn.state.settings.h2_idle_timeout
        if timeout > 0 and self._idle is None and not handler.conn.closed:
            self._idle = handler.loop.call_later(timeout, self._on_idle)

    def _on_idle(self) -> None:
        """§9.1: an idle connection may be closed, announced by GOAWAY. Re-armed while
        streams are open or bytes arrived recently, unless response data progressed too
        slowly over the period (see :meth:`_on_slow_reader`)."""
        self._idle = None
        handler = self._handler
        conn = handler.conn
        if conn.closed:
            return
        settings = conn.state.settings
        timeout = settings.h2_idle_timeout
        if handler.streams or handler.loop.time() - self.last_active < timeout:
            rate = settings.h2_min_send_rate
            slow, slow_streams = self._judge.judge(handler.h2, handler.sender.active,
                                                   timeout, rate)
            if slow:
                self._on_slow_reader(timeout, rate)
                return
            if slow_streams:
                self._reset_slow_streams(slow_streams, rate)
            self._arm_idle()
            return
        # Nothing in flight: one GOAWAY naming the last stream (§6.8); a request racing
        # it is above that id, so the client knows it can retry it elsewhere.
        if handler.h2.goaway_sent is None and not handler.h2.terminated:
            handler.closer.final_goaway()
        else:
            handler.flush()

    def _on_slow_reader(self, timeout: float, rate: int) -> None:
        """Responses wait for a peer that barely opens its flow-control windows or does
        not read its socket (zero-window / slow-reader attack, §10.5): over a whole
        BB_H2_IDLE_TIMEOUT it took less than BB_H2_MIN_SEND_RATE."""
        handler = self._handler
        log.info("HTTP/2 peer %s took response data slower than %d octets/s for %.0f s: "
                 "closing", handler.conn.client, rate, timeout)
        handler.closer.calm(b"slow reader")

    def _reset_slow_streams(self, sids: list[int], rate: int) -> None:
        """Streams held back by their own window (the connection's would let them
        send) that took less than BB_H2_MIN_SEND_RATE: RST_STREAM ENHANCE_YOUR_CALM."""
        handler = self._handler
        if not handler.stream_error_logged:
            handler.stream_error_logged = True
            log.info("HTTP/2 peer %s took data slower than %d octets/s on stream %d: reset "
                     "(further ones not logged)", handler.conn.client, rate, sids[0])
        for sid in sids:
            handler.reset(sid, ErrorCode.ENHANCE_YOUR_CALM)
            stream = handler.streams.get(sid)
            if stream is not None:
                stream.disconnect()
