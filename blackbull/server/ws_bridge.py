"""The ASGI ``websocket`` bridge, independent of what carries the WebSocket.

:class:`WebSocketBridge` runs the app for one WebSocket and drives the sans-I/O core
(:class:`~blackbull.protocol.websocket.WebSocketConnection`). What carries the bytes is
a :class:`~.ws_carrier.WebSocketCarrier`: an HTTP/1.1 connection after ``Upgrade``
(RFC 6455 §4, :mod:`blackbull.server.websocket`) or an HTTP/2 stream after an extended
CONNECT (RFC 8441), which differ only in how they accept, refuse and end the session.
The handshake's answers are built in :mod:`.ws_accept`, received bytes are counted by
an :class:`~.ws_budget.InboundAccount` and the app's sends are paced by a
:class:`~.ws_send.SendPacer`.
"""
from __future__ import annotations

import asyncio
import logging
from enum import Enum
from typing import Any

from ..protocol.websocket import (
    BytesMessage,
    CloseCode,
    CloseReceived,
    ConnectionFailed,
    DeflateParams,
    TextMessage,
    WebSocketConnection,
)
from ..protocol.websocket.handshake import HandshakeRequest, server_response_headers
from .asgi import ClientDisconnected
from .state import ServerState
from .ws_accept import Denial, pick_subprotocol, server_core
from .ws_budget import InboundAccount, InboundBudget
from .ws_carrier import Headers, WebSocketCarrier
from .ws_send import SendPacer

# Headers, WebSocketCarrier and pick_subprotocol are imported from here by the carriers.
__all__ = ["Headers", "Phase", "WebSocketBridge", "WebSocketCarrier", "pick_subprotocol"]

log = logging.getLogger("blackbull.server")

#: Seconds the app gets to answer messages that arrived before a Close (see
#: ``WebSocketBridge._close_pending``) before our Close goes out anyway.
CLOSE_REPLY_GRACE = 1.0
_CLOSE_MARK: dict[str, Any] = {"type": "blackbull.close-mark"}
#: Bytes a client may send before the app accepts; past this we stop reading.
_PENDING_HIGH = 256 * 1024
#: Close codes of our limits (BB_WS_MAX_*): 1009 sizes and fragment count, 1008 floods.
_LIMIT_CODES = frozenset((CloseCode.MESSAGE_TOO_BIG, CloseCode.POLICY_VIOLATION))


class Phase(Enum):
    HANDSHAKE = "handshake"   # waiting for the app's accept/close
    OPEN = "open"             # accepted; frames flow
    CLOSED = "closed"         # disconnect reached the app's queue (or never opened)


#: Bound once for the per-message checks: each ``Phase.CLOSED`` read on the class goes
#: through ``EnumType.__getattr__`` on Python 3.11 (several hundred instructions).
_HANDSHAKE, _CLOSED = Phase.HANDSHAKE, Phase.CLOSED


class WebSocketBridge:
    """One WebSocket between a carrier and an ASGI app."""

    def __init__(self, state: ServerState, carrier: WebSocketCarrier,
                 handshake: HandshakeRequest, deflate: DeflateParams | None) -> None:
        self.state = state
        self.settings = state.settings
        self._loop = asyncio.get_running_loop()  # once: each lookup costs a getpid()
        self.carrier = carrier
        self.handshake = handshake
        self.deflate_params = deflate
        self.phase = Phase.HANDSHAKE
        self.ws: WebSocketConnection | None = None
        # a list: an empty deque holds a 64-slot block, 0.6 KiB per idle WebSocket
        self.inbox: list[dict[str, Any]] = []
        self.disconnect: dict[str, Any] | None = None
        self.task: asyncio.Task[None] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._pacer = SendPacer()  # the carrier's writability, deflating in steps
        #: The carrier's buffer is full (pause_writing): what the pacer's gate says,
        #: as a plain attribute for the per-message check.
        self._write_paused = False
        self._pending = bytearray()
        self._backlogged = False  # frames wait in the core for the next turn
        self._queue_full = False  # reading paused because the app is behind
        budget = state.ws_inbound
        if budget is None:
            settings = self.settings
            budget = state.ws_inbound = InboundBudget(
                settings.ws_max_worker_bytes, settings.ws_max_message_size, self._loop,
                settings.malloc_threshold)
        # received bytes held (RFC 6455 §10.4), against this WebSocket's and the worker's
        # budgets
        self._inbound = InboundAccount(budget, self.settings, self.inbox, self, self._loop)
        self._connect_delivered = False
        #: Bytes of the message the app took last: still held (by the app) until it asks
        #: for the next one, so they stay on the budgets until then (RFC 6455 §10.4).
        self._app_holds = 0
        self._denial: Denial | None = None
        self._close_timer: asyncio.TimerHandle | None = None
        self._ping_timer: asyncio.TimerHandle | None = None
        self._client: tuple[str, int] | None = None  # ASGI scope['client']

    def start(self, scope: dict[str, Any]) -> None:
        """Run the app on ``scope`` (the carrier built it, ASGI ``websocket`` scope)."""
        self._client = scope.get("client")
        scope["subprotocols"] = list(self.handshake.subprotocols)
        scope["extensions"]["websocket.http.response"] = {}
        self.task = self.state.spawn(self._run_app(scope))

    # --- fed by the carrier -----------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """Received bytes: kept until the app accepts (RFC 6455 §4.1: frames may follow
        the handshake at once), then handed to the core, at most BB_WS_FRAMES_PER_TURN
        frame pieces and BB_WS_BYTES_PER_TURN message bytes (inflated) per loop turn
        (RFC 6455 §10.4, RFC 7692 §7.2.2): the rest of a read full of small frames, or
        of a compressed message that inflates to megabytes, waits for the next turns
        with reading paused, so one flooding peer cannot hold the loop. With no byte
        budget left (this WebSocket's while its app is behind, or the worker's) nothing
        is parsed and reading stays paused until bytes are given back.

        This runs for every read: the per-message steps are written out here, the rare
        ones are calls."""
        if self.phase is _HANDSHAKE:
            self._keep_pending(data)
            return
        ws = self.ws
        if ws is None:
            return
        inbound = self._inbound
        inbox = self.inbox
        budget = inbound.budget
        room = self.settings.ws_bytes_per_turn
        if inbox or budget.limit - budget.used < room:
            room = inbound.room()  # else what room() would say: a turn's whole slice
        if room <= 0:
            if data:
                ws.receive_data(data, max_bytes=0)  # kept, parsed once there is room
            inbound.report()
            inbound.starve()
            return
        payload = ws.receive_message(data)  # the common case: one whole message
        if payload is None:
            if self._parse_events(ws, data, room):
                return  # a Close, or a failure: input ends here
            inbound.report()
        else:
            # _deliver, written out: this runs for every message
            inbox.append({"type": "websocket.receive", "bytes": payload}
                         if type(payload) is bytes
                         else {"type": "websocket.receive", "text": payload})
            inbound.took(len(payload))  # counted, and reported
            if len(inbox) >= self.settings.ws_queue_depth:
                self._queue_full = True
                self.carrier.pause_reading()  # back-pressure: the app is behind
            waiter = self._waiter  # _wake
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        if ws.input_backlog or self._backlogged or budget.owner is inbound:
            self._pace_input(ws)

    def _parse_events(self, ws: WebSocketConnection, data: bytes, room: int) -> bool:
        """The general way of :meth:`feed`: the core's events for ``data``, within the
        turn's budgets. True when a Close or a failure ended the input (the closing
        handshake is under way)."""
        answered = False  # the core queued output (a Pong): only then is there any
        for event in ws.receive_data(data, self.settings.ws_frames_per_turn, room):
            if isinstance(event, BytesMessage):
                self._deliver({"type": "websocket.receive", "bytes": event.data},
                              len(event.data))
            elif isinstance(event, TextMessage):
                self._deliver({"type": "websocket.receive", "text": event.data},
                              len(event.data))
            elif isinstance(event, CloseReceived | ConnectionFailed):
                self._backlogged = False
                self._flush()
                self._inbound.report()
                self._close_pending()
                return True
            else:
                answered = True
        if answered:
            self._flush()
        return False

    def _keep_pending(self, data: bytes) -> None:
        """Bytes before the accept wait for it; past _PENDING_HIGH we stop reading."""
        self._pending += data
        if len(self._pending) > _PENDING_HIGH:
            self.carrier.pause_reading()

    def _pace_input(self, ws: WebSocketConnection) -> None:
        """After a turn's parsing: go on next turn with reading paused while the core
        has a backlog, resume reading once it is gone."""
        inbound = self._inbound
        budget = inbound.budget
        if not ws.input_backlog and budget.owner is inbound:
            # All it received is parsed: it waits for its peer now, and a peer that
            # stalls mid-message must not keep the others waiting (ws_budget.py).
            budget.end_overdraw(inbound)
        if ws.input_backlog:
            if not self._backlogged:
                self._backlogged = True
                self.carrier.pause_reading()
            if inbound.room() > 0:
                self._loop.call_soon(self._continue_input)
            else:
                inbound.starve()
        elif self._backlogged:
            self._backlogged = False
            if self.wants_input:
                self.carrier.resume_reading()

    def _continue_input(self) -> None:
        if self.ws is None or self.phase is Phase.CLOSED or self.carrier.closed:
            self._backlogged = False
            return
        self.feed(b"")

    # --- InboundHost (ws_budget.py) -------------------------------------------------
    def pause_for_room(self) -> None:
        self.carrier.pause_reading()

    def room_came_back(self) -> None:
        self._backlogged = True  # resumed by feed once the core's backlog is gone
        self._loop.call_soon(self._continue_input)

    def stalled(self, idle: float) -> None:
        """RFC 6455 §10.4, §7.4.1: part of a message, then nothing for ``idle`` seconds
        (BB_WS_MESSAGE_STALL_TIMEOUT) while we read: fail with 1008, which gives back
        what it held."""
        ws = self.ws
        if ws is None or self.phase is not Phase.OPEN or ws.failure is not None \
                or ws.close_received is not None:
            return
        ws.fail(CloseCode.POLICY_VIOLATION, f"message stalled: nothing for {idle:.1f}s")
        self._backlogged = False
        self._inbound.report()
        self._close_pending()

    @property
    def wants_input(self) -> bool:
        """False while back-pressure holds reading paused: the app is behind, or too much
        arrived before it accepted. A carrier that paused reading for its own reasons
        resumes only when this is True."""
        if self.phase is Phase.HANDSHAKE:
            return len(self._pending) <= _PENDING_HIGH
        return len(self.inbox) < self.settings.ws_queue_depth and not self._backlogged \
            and not self._inbound.starved

    def lost(self) -> None:
        """The carrier is gone (TCP closed, stream reset)."""
        self._cancel_timers()
        self._write_paused = False
        self._pacer.writable.set()
        ws = self.ws
        if ws is not None and ws.failure is not None:
            self._finish(ws.failure.code, ws.failure.reason)
        elif ws is not None and ws.close_received is not None:
            self._finish(ws.close_received.code, ws.close_received.reason)
        else:
            self._finish(CloseCode.ABNORMAL, "")  # §7.1.5: no Close frame was received

    def pause_writing(self) -> None:
        self._write_paused = True
        self._pacer.writable.clear()

    def resume_writing(self) -> None:
        self._write_paused = False
        self._pacer.writable.set()

    def shutdown(self) -> None:
        """Graceful shutdown: 1001 Going Away (RFC 6455 §7.4.1)."""
        if self.phase is Phase.OPEN and self.ws is not None and not self.ws.close_sent:
            self._start_close(CloseCode.GOING_AWAY, "server shutting down")
        elif self.phase is not Phase.OPEN:
            self.carrier.end()

    # --- ASGI receive/send ------------------------------------------------------------
    async def receive(self) -> dict[str, Any]:
        inbound = self._inbound
        if self._app_holds:
            # the app is done with the message it took last: its bytes leave the budgets
            inbound.give_back(self._app_holds)
            self._app_holds = 0
        elif not self._connect_delivered:  # (a message taken: the connect came first)
            self._connect_delivered = True
            return {"type": "websocket.connect"}
        while not self.inbox:
            if self.disconnect is not None:
                return self.disconnect
            waiter = self._waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        message = self.inbox.pop(0)
        if message is _CLOSE_MARK:
            self._complete_close()
            assert self.disconnect is not None
            return self.disconnect
        data = message.get("bytes")  # what it held: bytes, or characters for text
        if data is None:
            data = message.get("text")
        if data:
            # counted until the app's next receive (above): an app that holds one
            # message while the next ones inflate holds them all
            self._app_holds = len(data)
        if self._queue_full and len(self.inbox) < self.settings.ws_queue_depth \
                and not self._backlogged and not inbound.starved:
            self._queue_full = False
            self.carrier.resume_reading()
        if inbound.starved:
            inbound.feed_again()
        return message

    def _closed_for_sending(self, ws: WebSocketConnection) -> bool:
        """ASGI spec 2.4: ``send`` after the close (ours, the peer's, or the carrier's)
        raises; read afresh after every await."""
        return self.phase is _CLOSED or ws.close_sent or self.carrier.closed

    async def send(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if self.phase is _HANDSHAKE:
            self._send_handshake(kind, message)
            return
        ws = self.ws
        # _closed_for_sending, written out: it runs for every message
        if ws is None or self.phase is _CLOSED or ws.close_sent or self.carrier.closed:
            raise ClientDisconnected("the WebSocket is closed")
        if kind == "websocket.send":
            data: bytes | None = message.get("bytes")
            if data is not None and ws.deflate is None:
                # the common binary message: nothing to pace (no deflate, so nothing is
                # being compressed in steps either), _flush written out
                parts = ws.send_bytes_and_take(data)
            else:
                await self._send_message(ws, message.get("text"), data)
                parts = ws.output_parts()
            if len(parts) == 1:
                self.carrier.write(parts[0])
            elif parts:
                self.carrier.writelines(parts)
            if self._write_paused:
                await self._wait_writable()  # the carrier's buffer is full: back-pressure
        elif kind == "websocket.close":
            self._start_close(message.get("code", CloseCode.NORMAL),
                              message.get("reason") or "")
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} on an open WebSocket")

    async def _send_message(self, ws: WebSocketConnection, text: str | None,
                            data: bytes | None) -> None:
        """Queue one ``websocket.send`` in the core: after a message being compressed
        in steps (order is kept), itself in steps when long and compressed (RFC 7692
        §7.2.1, :class:`~.ws_send.SendPacer`)."""
        if data is None and text is None:
            raise ValueError("websocket.send needs 'bytes' or 'text'")
        pacer = self._pacer
        lock = pacer.lock
        if lock is not None and lock.locked():
            async with lock:  # a large message is being compressed
                pass
            if self._closed_for_sending(ws):
                raise ClientDisconnected("the WebSocket is closed")
        step = self.settings.ws_bytes_per_turn
        if data is not None:
            if ws.deflate is not None and len(data) > step:
                await pacer.deflate_in_steps(ws, bytes(data), False, step,
                                             lambda: self._closed_for_sending(ws))
            else:
                ws.send_bytes(data)
        elif text is not None:
            if ws.deflate is not None and len(text) > step:
                await pacer.deflate_in_steps(ws, text.encode("utf-8"), True, step,
                                             lambda: self._closed_for_sending(ws))
            else:
                ws.send_text(text)

    async def _wait_writable(self) -> None:
        """Wait until the carrier takes more output, at most BB_WS_SEND_TIMEOUT: a peer
        that reads nothing for that long while we have data for it is dropped (RFC 6455
        §10.4: its connection holds memory and an app task forever otherwise). Our Close
        would wait behind the unread bytes, so the carrier is aborted."""
        timeout = self.settings.ws_send_timeout
        if await self._pacer.drained(timeout):
            return
        if self.phase is Phase.CLOSED or self.carrier.closed:
            raise ClientDisconnected("the WebSocket is closed")
        log.info("WebSocket from %s not reading: nothing written for %gs, dropped",
                 self._client, timeout)
        self._finish(CloseCode.POLICY_VIOLATION, "the peer did not read")
        self.carrier.discard()
        raise ClientDisconnected("the peer did not read")

    def _send_handshake(self, kind: Any, message: dict[str, Any]) -> None:
        if kind == "websocket.accept":
            self._accept(message)
        elif kind == "websocket.close":
            self.refuse(403, b"the application refused the WebSocket")
        elif kind == "websocket.http.response.start":
            self._denial = Denial(message)
        elif kind == "websocket.http.response.body" and self._denial is not None:
            response = self._denial.add(message)
            if response is not None:
                self.refuse(*response)
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} before accept")

    # --- handshake outcomes -----------------------------------------------------------
    def _accept(self, message: dict[str, Any]) -> None:
        """RFC 6455 §4.2.2 item 5 / RFC 8441 §5: accept, then the frames begin."""
        subprotocol = message.get("subprotocol") or pick_subprotocol(
            self.state.app, self.handshake.subprotocols)
        params = self.deflate_params
        self.carrier.send_accept(server_response_headers(
            self.handshake, subprotocol, params.render() if params else None,
            message.get("headers") or ()))
        self.ws = self._inbound.core = server_core(self.settings, params, self._loop.time)
        self.phase = Phase.OPEN
        if self.settings.ws_ping_interval > 0:
            self._schedule_ping()
        pending = bytes(self._pending)
        self._pending.clear()
        self.carrier.resume_reading()
        if pending:
            self.feed(pending)

    def refuse(self, status: int, body: bytes, headers: Headers | None = None) -> None:
        """Answer the handshake with an HTTP response (denial, error) and end."""
        self.phase = Phase.CLOSED
        self.disconnect = {"type": "websocket.disconnect", "code": CloseCode.ABNORMAL,
                           "reason": ""}
        self.carrier.send_refusal(status, list(headers or []), body)

    # --- closing ----------------------------------------------------------------------
    def _close_pending(self) -> None:
        """A Close arrived or the peer broke the protocol. Messages that came before it are
        still queued for the app: the answering Close goes out once the app has taken them
        (its next ``receive``), so their replies precede it (§5.5.1 "as soon as
        practical"), or after a short grace period."""
        assert self.ws is not None
        if self.ws.close_sent or (not self.inbox and self._waiter is not None):
            self._complete_close()  # nothing left the app could still answer
            return
        self.inbox.append(_CLOSE_MARK)
        if self._close_timer is not None:
            self._close_timer.cancel()
        self._close_timer = self._loop.call_later(
            CLOSE_REPLY_GRACE, self._complete_close)
        self._wake()

    def _complete_close(self) -> None:
        """Send our Close (echo, or the failure's code) and end the carrier."""
        ws = self.ws
        if ws is None or self.phase is Phase.CLOSED:
            return
        self._cancel_timers()
        ws.answer_close()
        self._flush()
        if ws.failure is not None:
            if ws.failure.code in _LIMIT_CODES:  # a limit hit: once per connection (here)
                log.info("WebSocket from %s over a limit: close %d %s", self._client,
                         ws.failure.code, ws.failure.reason)
            else:
                log.debug("websocket failed: %d %s", ws.failure.code, ws.failure.reason)
            self._finish(ws.failure.code, ws.failure.reason)
            # §7.1.7: no more input is processed (the core ignores it); end soon
            self.carrier.end_after_failure(self.settings.ws_close_timeout)
        else:
            received = ws.close_received
            assert received is not None
            self._finish(received.code, received.reason)
            self.carrier.end()  # §7.1.1: the server closes the TCP connection first

    def _start_close(self, code: int, reason: str) -> None:
        """We start the closing handshake (§7.1.2) and wait for the peer's Close."""
        assert self.ws is not None
        try:
            self.ws.send_close(code, reason)
        except ValueError:
            self.ws.send_close(CloseCode.INTERNAL_ERROR, "invalid close code from the app")
        self._flush()
        if self.ws.close_received is not None:
            self._complete_close()
            return
        if self._close_timer is not None:
            self._close_timer.cancel()
        self._close_timer = self._loop.call_later(
            self.settings.ws_close_timeout, self.carrier.abort)

    def _finish(self, code: int, reason: str) -> None:
        """Queue ``websocket.disconnect`` once (ASGI)."""
        if self.disconnect is None:
            self.disconnect = {"type": "websocket.disconnect", "code": int(code),
                               "reason": reason}
        self.phase = Phase.CLOSED
        self._inbound.close()  # what the core held is given back
        if self.ws is not None and self.ws.deflate is not None:
            # RFC 7692: the zlib streams are native memory the cyclic GC cannot see;
            # give them back now, not when the connection's objects are collected
            self.ws.deflate.close()
        self._wake()

    # --- plumbing ---------------------------------------------------------------------
    def _deliver(self, message: dict[str, Any], size: int) -> None:
        """Queue ``message`` (``size``: its bytes, characters for text) for the app."""
        self.inbox.append(message)
        self._inbound.queued += size
        if len(self.inbox) >= self.settings.ws_queue_depth:
            self._queue_full = True
            self.carrier.pause_reading()  # back-pressure: the app is behind
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _flush(self) -> None:
        if self.ws is not None:
            parts = self.ws.output_parts()
            if len(parts) == 1:
                self.carrier.write(parts[0])
            elif parts:
                self.carrier.writelines(parts)  # no join: a large payload is not copied

    def _schedule_ping(self) -> None:
        self._ping_timer = self._loop.call_later(
            self.settings.ws_ping_interval, self._ping)

    def _ping(self) -> None:
        if self.phase is Phase.OPEN and self.ws is not None and not self.ws.close_sent:
            self.ws.send_ping(b"blackbull")
            self._flush()
            self._schedule_ping()

    def _cancel_timers(self) -> None:
        for timer in (self._close_timer, self._ping_timer):
            if timer is not None:
                timer.cancel()
        self._close_timer = self._ping_timer = None

    async def _run_app(self, scope: dict[str, Any]) -> None:
        try:
            await self.state.app(scope, self.receive, self.send)
        except ClientDisconnected:
            pass
        except Exception as exc:  # the app's bug must not take the server down
            log.exception("exception in ASGI application (websocket): %s", exc)
            self._after_app(error=True)
        else:
            self._after_app(error=False)
        finally:
            # Messages the app will never take give their bytes back to the worker.
            self.inbox.clear()
            inbound = self._inbound
            inbound.queued = self._app_holds = 0
            inbound.report()
            inbound.feed_again()  # input waiting for that room is parsed (a Close, say)

    def _after_app(self, *, error: bool) -> None:
        """ASGI: an app that ends before accepting gets 500; one that ends while open has
        its connection closed (1011 after an error, else 1000)."""
        if self.phase is Phase.HANDSHAKE:
            self.refuse(500, b"the application did not accept the WebSocket")
        elif self.phase is Phase.OPEN and self.ws is not None and not self.ws.close_sent:
            self._start_close(CloseCode.INTERNAL_ERROR if error else CloseCode.NORMAL, "")
