"""What carries a WebSocket under :class:`~blackbull.server.ws_bridge.WebSocketBridge`.

An HTTP/1.1 connection after ``Upgrade`` (RFC 6455 §4, :mod:`blackbull.server.websocket`)
and an HTTP/2 stream after an extended CONNECT (RFC 8441,
:mod:`blackbull.server.http2_websocket`) carry the same frames; they differ only in how
they accept, refuse and end the session, which is what this protocol names.
"""
from __future__ import annotations

from typing import Protocol

Headers = list[tuple[bytes, bytes]]


class WebSocketCarrier(Protocol):
    """What the bridge needs from the transport under it."""

    @property
    def closed(self) -> bool: ...

    def send_accept(self, headers: Headers) -> None:
        """Accept the handshake with these fields (101 on HTTP/1.1, 200 on HTTP/2)."""

    def send_refusal(self, status: int, headers: Headers, body: bytes) -> None:
        """Answer the handshake with an HTTP response instead, then end."""

    def write(self, data: bytes) -> None:
        """WebSocket frame bytes."""

    def writelines(self, parts: list[bytes]) -> None:
        """Several pieces of frame bytes, in order (a vectored write where possible)."""

    def end(self) -> None:
        """The closing handshake is complete: close the underlying connection/stream."""

    def end_after_failure(self, timeout: float) -> None:
        """We failed the connection (§7.1.7): stop reading, end soon."""

    def abort(self) -> None: ...

    def discard(self) -> None:
        """End now and drop what is still unsent (a peer that does not read it)."""

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...
