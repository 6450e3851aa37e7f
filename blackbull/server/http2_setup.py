"""How a server connection's HTTP/2 core starts (RFC 9113 §3.4, §6.5; RFC 7540 §3.2).

* :func:`local_settings`: the ``BB_H2_*`` fields that are HTTP/2 SETTINGS, as our first
  SETTINGS frame sends them (§6.5.2), with ENABLE_CONNECT_PROTOCOL when RFC 8441 is
  served (RFC 8441 §3);
* :func:`open_core`: the sans-I/O core with the server's other limits (§10.5; the HPACK
  encoder's table, RFC 7541 §4.2), its preface sent, after a prior-knowledge preface
  or an h2c Upgrade, and the connection receive window opened (§6.9.2);
* :class:`H2cUpgrade`: the HTTP/1.1 request of an h2c Upgrade, which becomes stream 1.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..protocol.http2 import H2Connection
from ..protocol.http2.settings import (
    ENABLE_CONNECT_PROTOCOL,
    HEADER_TABLE_SIZE,
    INITIAL_WINDOW_SIZE,
    MAX_CONCURRENT_STREAMS,
    MAX_FRAME_SIZE,
    MAX_HEADER_LIST_SIZE,
    decode_settings_header,
)

if TYPE_CHECKING:
    from ..config import Settings

Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class H2cUpgrade:
    """RFC 7540 §3.2: an HTTP/1.1 request with ``Upgrade: h2c``, served as stream 1."""

    http2_settings: bytes
    headers: Headers
    method: str
    target: bytes
    body: bytes

    @classmethod
    def of(cls, http2_settings: bytes, headers: Headers, method: str | bytes,
           target: bytes, body: bytes) -> H2cUpgrade:
        """Raises :class:`~blackbull.protocol.http2.ProtocolError` for an invalid
        HTTP2-Settings value (§3.2.1), before anything is sent, so the caller can stay
        on HTTP/1.1."""
        decode_settings_header(http2_settings)
        if isinstance(method, str):
            method = method.encode("ascii")
        return cls(http2_settings.strip(), headers, method.decode("ascii"), target, body)

    def request_fields(self, secure: bool) -> Headers:
        """Stream 1's field section: the request's Host becomes ``:authority``."""
        headers = self.headers
        authority = next((v for k, v in headers if k == b"host"), b"")
        fields = [(b":method", self.method.encode()),
                  (b":scheme", b"https" if secure else b"http"),
                  (b":authority", authority), (b":path", self.target or b"/")]
        fields += [(k, v) for k, v in headers if k != b"host"]
        return fields


def local_settings(settings: Settings) -> dict[int, int]:
    local = {
        HEADER_TABLE_SIZE: settings.h2_header_table_size,
        MAX_CONCURRENT_STREAMS: settings.h2_max_concurrent_streams,
        INITIAL_WINDOW_SIZE: settings.h2_initial_window_size,
        MAX_FRAME_SIZE: settings.h2_max_frame_size,
        MAX_HEADER_LIST_SIZE: settings.h2_max_header_list_size,
    }
    if settings.h2_enable_websocket:
        local[ENABLE_CONNECT_PROTOCOL] = 1
    return local


def open_core(settings: Settings, clock: Callable[[], float],
              upgrade: H2cUpgrade | None = None) -> H2Connection:
    h2 = H2Connection(
        "server", local_settings(settings), max_closed_streams=settings.h2_max_closed_streams,
        max_continuation_frames=settings.h2_max_continuation_frames,
        reset_burst=settings.h2_max_reset_burst, reset_rate=settings.h2_max_reset_rate,
        flood_burst=settings.h2_max_flood_burst, flood_rate=settings.h2_max_flood_rate,
        encoder_table_size=settings.h2_encoder_table_size, clock=clock)
    if upgrade is not None:
        h2.initiate_upgrade_connection(upgrade.http2_settings or None)
    else:
        h2.initiate_connection()
    h2.increment_connection_window(settings.h2_connection_window_size)
    return h2
