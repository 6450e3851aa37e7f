"""Targets named by URL, and the connections probes open to them.

URL schemes and the transports they offer::

    http://HOST:PORT/    h1      HTTP/1.1 over TCP
    h2c://HOST:PORT/     h2c     HTTP/2 with prior knowledge over TCP (RFC 9113 §3.3)
    https://HOST:PORT/   h1-tls, h2   HTTP/1.1 and HTTP/2 by ALPN (RFC 9113 §3.2)
    h2://HOST:PORT/      h2      HTTP/2 by ALPN only
    ws://HOST:PORT/PATH  ws      WebSocket opening handshake over HTTP/1.1 (RFC 6455 §4)
    wss://HOST:PORT/PATH wss     the same over TLS

The URL's path is the route the probes use (``/`` unless given): for HTTP it must answer
``GET`` and ``POST`` with 200 and a body; for WebSocket it must be an echo endpoint.
"""

from __future__ import annotations

import functools
import socket
import ssl
import time
from dataclasses import dataclass, field

from conformance.targets.external import UrlError, parse_url

SCHEME_TRANSPORTS: dict[str, tuple[str, ...]] = {
    "http": ("h1",),
    "h2c": ("h2c",),
    "https": ("h1-tls", "h2"),
    "h2": ("h2",),
    "ws": ("ws",),
    "wss": ("wss",),
}
TLS_TRANSPORTS = frozenset({"h1-tls", "h2", "wss"})
ALPN = {"h1-tls": ["http/1.1"], "h2": ["h2"], "wss": ["http/1.1"]}


class TargetError(ValueError):
    """A URL the probes cannot use."""


@dataclass(frozen=True)
class Target:
    """A server under test, reachable on a socket; the probes never start it."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    name: str
    insecure: bool = False
    ca: str = ""   # PEM file of the CA that signed the server's certificate ("": system)

    @classmethod
    def parse(cls, url: str, *, name: str = "", insecure: bool = False,
              ca: str = "") -> Target:
        """The same URL rules as the harness's ``--url`` (conformance.targets.external)."""
        try:
            parsed = parse_url(url)
        except UrlError as exc:
            raise TargetError(str(exc)) from None
        return cls(url=url, scheme=parsed.scheme, host=parsed.host, port=parsed.port,
                   path=parsed.path, name=name or f"{parsed.host}:{parsed.port}",
                   insecure=insecure, ca=ca)

    @property
    def transports(self) -> tuple[str, ...]:
        return SCHEME_TRANSPORTS[self.scheme]

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


class Wire:
    """One connection of one probe: bytes out, bytes in, and a transcript of both.

    ``recv`` returns the bytes that arrived within *timeout*, ``b""`` once the peer has
    closed (a reset counts as closed: ``closed_by`` says which), or ``None`` when
    nothing arrived in time — so a probe can tell "closed" from "silent".
    """

    def __init__(self, sock: socket.socket, transcript: list[str]) -> None:
        self.sock = sock
        self.transcript = transcript
        self.closed_by: str = ""  # "" while open, then "fin" or "reset"
        self.alpn: str | None = None
        if isinstance(sock, ssl.SSLSocket):
            self.alpn = sock.selected_alpn_protocol()

    def send(self, data: bytes, note: str = "") -> bool:
        """Send all of *data*; ``False`` when the peer has already gone."""
        self.transcript.append(f">> {note or _preview(data)}")
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError) as exc:
            self.closed_by = self.closed_by or "reset"
            self.transcript.append(f"!! send failed: {exc.__class__.__name__}")
            return False

    def recv(self, timeout: float) -> bytes | None:
        if self.closed_by:
            return b""
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return None
        except ssl.SSLWantReadError:
            return None
        except (ConnectionResetError, ssl.SSLError, OSError) as exc:
            self.closed_by = "reset"
            self.transcript.append(f"<< connection reset ({exc.__class__.__name__})")
            return b""
        if not data:
            self.closed_by = "fin"
            self.transcript.append("<< connection closed")
        return data

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def _preview(data: bytes, limit: int = 80) -> str:
    text = repr(data[:limit])
    return text + (f" … (+{len(data) - limit} bytes)" if len(data) > limit else "")


@functools.cache
def _client_context(insecure: bool, alpn: tuple[str, ...], ca: str = "") -> ssl.SSLContext:
    """One client context per (verification, ALPN, CA) triple: building a default context
    loads the system CA store (tens of ms), which hundreds of probe connections would repeat."""
    context = ssl.create_default_context()
    if ca:
        context.load_verify_locations(cafile=ca)
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(list(alpn))
    return context


@dataclass
class ProbeContext:
    """What a probe gets: the target, the transport it runs over, time limits, wires."""

    target: Target
    transport: str
    timeout: float = 3.0
    transcript: list[str] = field(default_factory=list)
    wires: list[Wire] = field(default_factory=list)

    @property
    def tls(self) -> bool:
        return self.transport in TLS_TRANSPORTS

    def connect(self, alpn: list[str] | None = None) -> Wire:
        """A new TCP (and TLS, with the transport's ALPN unless *alpn* is given) connection."""
        deadline = time.monotonic() + self.timeout
        sock = socket.create_connection((self.target.host, self.target.port),
                                        timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls:
            context = _client_context(self.target.insecure,
                                      tuple(alpn if alpn is not None else ALPN[self.transport]),
                                      self.target.ca)
            sock.settimeout(max(deadline - time.monotonic(), 0.1))
            sock = context.wrap_socket(sock, server_hostname=self.target.host)
        wire = Wire(sock, self.transcript)
        self.wires.append(wire)
        if self.tls:
            self.transcript.append(f"-- TLS up, ALPN {wire.alpn!r}")
        return wire

    def close(self) -> None:
        for wire in self.wires:
            wire.close()
        self.wires.clear()
