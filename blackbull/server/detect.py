"""Which protocol a new connection speaks: ALPN on TLS, the h2c preface on cleartext.

RFC 9113 §3.3 (TLS: ALPN "h2") and §3.4 (prior knowledge: the client starts with the
connection preface). On a cleartext socket the first bytes decide: a prefix of
``PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n`` keeps us waiting for more, anything else is
HTTP/1.1 (which may still upgrade to h2c or WebSocket later).
"""
from __future__ import annotations

from . import websocket  # noqa: F401 - loaded before the first Upgrade, not during it
from .connection import H2_PREFACE, Connection, ProtocolHandler
from .http1 import HTTP1Handler
from .http2 import HTTP2Handler


def choose_handler(conn: Connection) -> ProtocolHandler:
    if conn.alpn == "h2":
        return HTTP2Handler()
    if conn.scheme_secure:
        return HTTP1Handler()
    return PrefaceDetector()


class PrefaceDetector(ProtocolHandler):
    """Cleartext: buffer until the bytes are, or cannot be, the HTTP/2 preface."""

    __slots__ = ("buffer",)

    def __init__(self) -> None:
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        n = min(len(buffer), len(H2_PREFACE))
        if buffer[:n] != H2_PREFACE[:n]:
            self.conn.switch(HTTP1Handler(), buffer)
        elif n == len(H2_PREFACE):
            self.conn.switch(HTTP2Handler(), buffer)
        else:
            self.buffer = buffer

    def eof_received(self) -> bool | None:
        return None
