"""Which protocol handler speaks on a connection, and when that changes: the one place.

A new connection gets its first handler here: HTTP/2 for ALPN ``h2`` (RFC 9113 §3.3),
HTTP/1.1 for any other TLS connection, and on cleartext a :class:`PrefaceDetector` that
tells the HTTP/2 connection preface (prior knowledge, RFC 9113 §3.4) from HTTP/1.1 by
the first bytes. An HTTP/1.1 handler that parsed a request with ``Upgrade`` asks here
whether to switch (RFC 9110 §7.8): to WebSocket (RFC 6455 §4.2) or, on cleartext only, to
h2c (RFC 7540 §3.2, which RFC 9113 §3.1 deprecates but existing clients such as
``curl --http2`` still send). WebSocket over HTTP/2 (RFC 8441 extended CONNECT) is a
stream of an HTTP/2 connection, not a switch: it stays inside the HTTP/2 handler.

No handler module is imported here: ``serve.py`` builds the :class:`Negotiator` from
the handlers' constructors and gives it to every :class:`Connection`, so handlers never
import each other and ``blackbull`` has no import cycle (``scripts/import_cycles.py``).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..protocol.http1.server import ServerConnection
from ..protocol.http2 import ProtocolError
from ..protocol.http2.frames import starts_with_preface
from ..protocol.http2.settings import decode_settings_header
from .connection import ProtocolHandler
from .ratelog import log_limited

if TYPE_CHECKING:
    from ..protocol.http1.events import Request
    from .connection import Connection

log = logging.getLogger("blackbull.server")

Headers = list[tuple[bytes, bytes]]
#: ``HTTP2Handler.for_upgrade``: (HTTP2-Settings value, request fields, method, target,
#: body) → the HTTP/2 handler whose stream 1 is the upgraded request.
H2cFactory = Callable[[bytes, Headers, str, bytes, bytes], ProtocolHandler]

_H2C_SWITCHING = b"HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: h2c\r\n\r\n"
#: Fields of the HTTP/1.1 request that belong to the upgrade itself, not to stream 1
#: (RFC 9113 §8.2.2: connection-specific fields are not carried over into HTTP/2).
_UPGRADE_FIELDS = (b"connection", b"upgrade", b"http2-settings")


@dataclass(frozen=True, slots=True)
class Negotiator:
    """The protocols this server speaks, as constructors, and the rules between them.

    ``http1``/``http2``: a handler for a whole connection; ``h2c``: the HTTP/2 handler
    for an upgraded HTTP/1.1 request; ``websocket``: the RFC 6455 handler for a request
    with ``Upgrade: websocket`` (it checks the rest of the handshake itself, §4.2.1);
    ``refuse``: what a connection over BB_MAX_CONNECTIONS gets.
    """

    http1: Callable[[], ProtocolHandler]
    http2: Callable[[], ProtocolHandler]
    h2c: H2cFactory
    websocket: Callable[[Request], ProtocolHandler]
    refuse: Callable[[Connection], None]

    def first(self, conn: Connection) -> ProtocolHandler:
        """The handler a new connection starts with (RFC 9113 §3.3, §3.4)."""
        if conn.alpn == "h2":
            return self.http2()
        if conn.scheme_secure:
            return self.http1()
        return PrefaceDetector(self)

    def upgrade(self, request: Request, conn: Connection) -> ProtocolHandler | None:
        """The handler that takes ``conn`` over for ``request`` (its ``Upgrade`` token is
        set), or None: the request is then served over HTTP/1.1 (RFC 9110 §7.8 lets a
        server ignore Upgrade). For h2c the 101 has been written when this returns."""
        target = ServerConnection.upgrade_target(request, conn.scheme_secure)
        if target == b"websocket":
            return self.websocket(request)
        if target == b"h2c":
            return self._h2c(request, conn)
        return None

    def _h2c(self, request: Request, conn: Connection) -> ProtocolHandler | None:
        """RFC 7540 §3.2 / §3.2.1: the HTTP/1.1 core accepted the Upgrade's form (one
        HTTP2-Settings field, named in ``Connection``); its value must also be a valid
        SETTINGS payload in base64url, otherwise the server MUST NOT upgrade, and the
        request is answered over HTTP/1.1."""
        values = [v for k, v in request.headers if k == b"http2-settings"]
        try:
            decode_settings_header(values[0])
        except ProtocolError as exc:
            settings = conn.state.settings
            log_limited(log, logging.INFO, "h2c-upgrade-refused",
                        settings.log_repeat_interval, "h2c upgrade refused for %s: %s",
                        conn.client, exc)
            return None
        headers = [(k, v) for k, v in request.headers if k not in _UPGRADE_FIELDS]
        target = request.raw_path
        if request.query_string:
            target += b"?" + request.query_string
        handler = self.h2c(values[0], headers, request.method, target, b"")
        conn.write(_H2C_SWITCHING)
        return handler


class PrefaceDetector(ProtocolHandler):
    """Cleartext: buffer until the bytes are, or cannot be, the HTTP/2 preface.

    RFC 9113 §3.4: a client with prior knowledge starts with
    ``PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n``. A prefix of it keeps us waiting for more;
    anything else is HTTP/1.1 (which may still upgrade to h2c or WebSocket later).
    """

    __slots__ = ("buffer", "negotiator")

    def __init__(self, negotiator: Negotiator) -> None:
        self.negotiator = negotiator
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        h2 = starts_with_preface(buffer)
        if h2 is None:
            self.buffer = buffer
        else:
            self.conn.switch(self.negotiator.http2() if h2 else self.negotiator.http1(), buffer)

    def eof_received(self) -> bool | None:
        return None
