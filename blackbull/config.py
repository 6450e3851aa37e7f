"""Settings: every limit and switch of the server in one object.

Values come from ``BB_*`` environment variables, read once by :meth:`Settings.from_env`,
and the object is passed down explicitly (never a hidden global). Each field documents
its variable; the README lists them all (``Settings.describe()`` prints the table).
"""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


#: Fields validated as ``>= 0`` (the over-capacity block).
_NON_NEGATIVE = frozenset({"limit_concurrency", "max_refusals", "retry_after",
                           "h1_write_timeout", "log_repeat_interval",
                           # HTTP/2 resource guards
                           "h2_encoder_table_size", "h2_min_send_rate",
                           "h2_max_buffered_response"})


def _setting(default: Any, env: str, doc: str) -> Any:
    return field(default=default, metadata={"env": env, "doc": doc})


@dataclass(frozen=True, slots=True)
class Settings:
    # --- server -------------------------------------------------------------------
    graceful_timeout: float = _setting(
        10.0, "BB_GRACEFUL_TIMEOUT",
        "Seconds in-flight requests get to finish on shutdown before connections are closed.")
    backlog: int = _setting(2048, "BB_BACKLOG", "listen() backlog of each listening socket.")
    max_connections: int = _setting(
        10000, "BB_MAX_CONNECTIONS",
        "Open connections per worker; one beyond it is answered HTTP/1.1 503 (or GOAWAY on "
        "h2, see BB_MAX_REFUSALS) and closed.")
    access_log: bool = _setting(
        False, "BB_ACCESS_LOG",
        "Log one line per request and WebSocket handshake on logger 'blackbull.access' "
        "(client, request line, status, bytes, duration).")
    log_level: str = _setting(
        "info", "BB_LOG_LEVEL",
        "Level of the 'blackbull' loggers: critical, error, warning, info, debug, trace.")
    loop: str = _setting(
        "auto", "BB_LOOP", "Event loop: 'auto' (uvloop when installed), 'uvloop', 'asyncio'.")
    lifespan: str = _setting(
        "auto", "BB_LIFESPAN",
        "ASGI lifespan protocol: 'auto' (run it, tolerate apps without it), 'on', 'off'.")
    malloc_threshold: int = _setting(
        16 * 1024 * 1024, "BB_MALLOC_THRESHOLD",
        "Bytes (glibc only, per worker): allocations up to this size come from the heap, "
        "and up to this much free heap is kept for reuse instead of being returned to the "
        "OS after each large message (mallopt M_MMAP_THRESHOLD, M_TRIM_THRESHOLD; at most "
        "32 MiB). 0 leaves the C library's adaptive default.")

    # --- deployment: addresses, workers, TLS files, proxies, logs (the command line) --
    bind: str = _setting(
        "127.0.0.1:8000", "BB_BIND",
        "Addresses to listen on, comma-separated: HOST:PORT, [IPv6]:PORT, unix:PATH, fd://N "
        "(port 0: one the OS picks, logged at startup).")
    workers: int = _setting(1, "BB_WORKERS", "Worker processes sharing the listening sockets.")
    root_path: str = _setting(
        "", "BB_ROOT_PATH", "ASGI root_path: the prefix a proxy mounts the app under.")
    proxy_headers: bool = _setting(
        False, "BB_PROXY_HEADERS",
        "Take the client address and scheme from Forwarded (RFC 7239) or X-Forwarded-For/"
        "-Proto, when the peer is in BB_FORWARDED_ALLOW_IPS.")
    forwarded_allow_ips: str = _setting(
        "127.0.0.1,::1", "BB_FORWARDED_ALLOW_IPS",
        "Proxies trusted for proxy headers: comma-separated addresses or networks, '*' for "
        "any peer.")
    server_header: bool = _setting(
        False, "BB_SERVER_HEADER", "Send 'server: blackbull' in responses (RFC 9110 §10.2.4).")
    headers: str = _setting(
        "", "BB_HEADERS",
        "Extra response fields, 'Name: value', several separated by newlines.")
    log_config: str = _setting(
        "", "BB_LOG_CONFIG",
        "A logging.config file (.json/.yaml/.yml: dictConfig, else INI fileConfig) used "
        "instead of BB_LOG_LEVEL's basic setup.")
    ssl_certfile: str = _setting("", "BB_SSL_CERTFILE", "TLS certificate chain (PEM); enables TLS.")
    ssl_keyfile: str = _setting("", "BB_SSL_KEYFILE", "TLS private key (PEM).")
    ssl_keyfile_password: str = _setting(
        "", "BB_SSL_KEYFILE_PASSWORD", "Password of an encrypted BB_SSL_KEYFILE.")
    ssl_ca_certs: str = _setting(
        "", "BB_SSL_CA_CERTS", "CA bundle (PEM) to verify client certificates with.")
    ssl_cert_reqs: int = _setting(
        0, "BB_SSL_CERT_REQS",
        "Client certificates: 0 not asked, 1 optional, 2 required (ssl.CERT_*).")
    ssl_ciphers: str = _setting(
        "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20", "BB_SSL_CIPHERS",
        "OpenSSL cipher list for TLS 1.2 (RFC 9113 §9.2.2: ephemeral key exchange, AEAD).")
    limit_max_requests: int = _setting(
        0, "BB_LIMIT_MAX_REQUESTS",
        "Requests (and WebSockets) a worker serves before it shuts down gracefully; with "
        "BB_WORKERS > 1 a fresh worker replaces it at once (a leak's bound). 0: no limit.")

    # --- workers: how new connections reach them -----------------------------------
    reuse_port: bool = _setting(
        True, "BB_REUSE_PORT",
        "With BB_WORKERS > 1, each worker listens on its own socket of each TCP address "
        "(SO_REUSEPORT): the kernel spreads new connections over the workers; off: they "
        "share one socket and whichever wakes first accepts a whole burst.")

    # --- the garbage collector of a worker -----------------------------------------
    gc_freeze: bool = _setting(
        True, "BB_GC_FREEZE",
        "After the app's lifespan startup, move every object so far to the collector's "
        "permanent generation (gc.freeze()): later collections do not walk the app's "
        "modules and startup state.")
    gc_threshold: int = _setting(
        0, "BB_GC_THRESHOLD",
        "Allocations (minus deallocations) of tracked objects that start a young-"
        "generation collection (gc.set_threshold's first value); 0 keeps Python's 700.")

    # --- TLS handshakes: when TLS state is made, how long a handshake may take -------
    tls_handshake_timeout: float = _setting(
        10.0, "BB_TLS_HANDSHAKE_TIMEOUT",
        "Seconds from accepting a TLS connection until its handshake is complete (the "
        "client's first bytes included); then it is closed.")
    tls_defer: bool = _setting(
        True, "BB_TLS_DEFER",
        "Create a TLS connection's state (~50 KiB: the SSL object, its buffers) only when "
        "the client's first bytes arrive, so a silent connection costs ~1 KiB; off: at "
        "accept, by the event loop's own TLS server.")

    # --- HTTP/1.1 (RFC 9112) -------------------------------------------------------
    h1_max_request_line: int = _setting(
        8192, "BB_H1_MAX_REQUEST_LINE", "Bytes of the request line; longer → 414.")
    h1_max_header_bytes: int = _setting(
        65536, "BB_H1_MAX_HEADER_BYTES", "Bytes of the whole request head; larger → 431.")
    h1_max_headers: int = _setting(
        100, "BB_H1_MAX_HEADERS", "Number of header fields in a request; more → 431.")
    h1_max_body: int = _setting(
        16 * 1024 * 1024, "BB_H1_MAX_BODY", "Bytes of a request body; larger → 413.")
    h1_header_timeout: float = _setting(
        10.0, "BB_H1_HEADER_TIMEOUT",
        "Seconds a client has to send a complete request head, and the most allowed between "
        "two pieces of a request body; then 408 and close.")
    h1_keepalive_timeout: float = _setting(
        5.0, "BB_H1_KEEPALIVE_TIMEOUT", "Seconds an idle keep-alive connection is kept open.")
    h1_max_pipeline: int = _setting(
        64, "BB_H1_MAX_PIPELINE",
        "Pipelined requests buffered per connection before the server stops reading.")
    h1_write_buffer: int = _setting(
        256 * 1024, "BB_H1_WRITE_BUFFER",
        "Bytes of unsent response data before the app's send() waits (back-pressure).")

    # --- over capacity, slow readers, log volume (issues 16 and 20) -------------------
    limit_concurrency: int = _setting(
        0, "BB_LIMIT_CONCURRENCY",
        "Open connections or running app tasks per worker beyond which a new request is "
        "answered 503 with Retry-After instead of reaching the app (uvicorn's "
        "--limit-concurrency); 0 disables.")
    max_refusals: int = _setting(
        100, "BB_MAX_REFUSALS",
        "Connections over BB_MAX_CONNECTIONS being answered at once (HTTP/1.1 503, or "
        "SETTINGS + GOAWAY on h2); beyond it a new one is reset.")
    retry_after: int = _setting(
        1, "BB_RETRY_AFTER", "Seconds in the Retry-After field of the server's own 503s.")
    h1_write_timeout: float = _setting(
        60.0, "BB_H1_WRITE_TIMEOUT",
        "Seconds an HTTP/1.1 response may wait for the client to read (the write buffer "
        "above BB_H1_WRITE_BUFFER and not draining to a quarter of it); then the "
        "connection is closed. 0 disables.")
    log_repeat_interval: float = _setting(
        10.0, "BB_LOG_REPEAT_INTERVAL",
        "Seconds over which repeats of a log line a peer can cause (refusals, bad "
        "requests, timeouts) are folded into one line with a count; 0 logs every one.")

    # --- HTTP/2 (RFC 9113) ---------------------------------------------------------
    h2_max_concurrent_streams: int = _setting(
        100, "BB_H2_MAX_CONCURRENT_STREAMS", "SETTINGS_MAX_CONCURRENT_STREAMS we advertise.")
    h2_initial_window_size: int = _setting(
        65535, "BB_H2_INITIAL_WINDOW_SIZE", "SETTINGS_INITIAL_WINDOW_SIZE we advertise.")
    h2_connection_window_size: int = _setting(
        1 << 20, "BB_H2_CONNECTION_WINDOW_SIZE",
        "Connection-level receive window we open with a WINDOW_UPDATE after the preface.")
    h2_max_frame_size: int = _setting(
        16384, "BB_H2_MAX_FRAME_SIZE", "SETTINGS_MAX_FRAME_SIZE we advertise.")
    h2_max_header_list_size: int = _setting(
        65536, "BB_H2_MAX_HEADER_LIST_SIZE", "SETTINGS_MAX_HEADER_LIST_SIZE we advertise.")
    h2_header_table_size: int = _setting(
        4096, "BB_H2_HEADER_TABLE_SIZE", "SETTINGS_HEADER_TABLE_SIZE (HPACK decoder table).")
    h2_enable_push: bool = _setting(
        True, "BB_H2_ENABLE_PUSH", "Allow server push when the client allows it.")
    h2_enable_websocket: bool = _setting(
        False, "BB_H2_ENABLE_WEBSOCKET",
        "Advertise SETTINGS_ENABLE_CONNECT_PROTOCOL and serve WebSocket over HTTP/2 (RFC 8441).")
    h2_max_websocket_streams: int = _setting(
        100, "BB_H2_MAX_WEBSOCKET_STREAMS", "RFC 8441 WebSocket streams per HTTP/2 connection.")
    h2_max_closed_streams: int = _setting(
        1000, "BB_H2_MAX_CLOSED_STREAMS", "Closed stream ids remembered per connection.")
    h2_max_reset_burst: int = _setting(
        1000, "BB_H2_MAX_RESET_BURST", "Peer RST_STREAM token bucket size (Rapid Reset guard).")
    h2_max_reset_rate: float = _setting(
        33.0, "BB_H2_MAX_RESET_RATE", "Peer RST_STREAM tokens refilled per second.")
    h2_max_flood_burst: int = _setting(
        1000, "BB_H2_MAX_FLOOD_BURST",
        "Token bucket size for PING, SETTINGS, PRIORITY(_UPDATE) and empty DATA frames "
        "(CVE-2019-9512/9513/9515/9518); empty bucket → GOAWAY ENHANCE_YOUR_CALM.")
    h2_max_flood_rate: float = _setting(
        100.0, "BB_H2_MAX_FLOOD_RATE", "Flood tokens refilled per second.")
    h2_max_continuation_frames: int = _setting(
        64, "BB_H2_MAX_CONTINUATION_FRAMES", "CONTINUATION frames in one header block.")
    h2_settings_timeout: float = _setting(
        10.0, "BB_H2_SETTINGS_TIMEOUT",
        "Seconds the peer has to acknowledge our SETTINGS; then GOAWAY SETTINGS_TIMEOUT.")
    h2_idle_timeout: float = _setting(
        60.0, "BB_H2_IDLE_TIMEOUT", "Seconds an HTTP/2 connection with no open stream is kept; also the most a "
        "connection's responses may send no DATA (peer window closed or socket not read) "
        "before GOAWAY ENHANCE_YOUR_CALM; the period over which BB_H2_MIN_SEND_RATE is judged.")

    # --- HTTP/2 resource guards (issue 20: encoder cost, slow readers, buffers) ------
    h2_encoder_table_size: int = _setting(
        4096, "BB_H2_ENCODER_TABLE_SIZE",
        "Most octets of HPACK dynamic table our encoder uses, whatever larger "
        "SETTINGS_HEADER_TABLE_SIZE the peer allows (RFC 7541 §4.2): a table search costs "
        "time linear in its entries.")
    h2_min_send_rate: int = _setting(
        1024, "BB_H2_MIN_SEND_RATE",
        "Octets per second of response DATA a connection, and each of its streams held "
        "back by its own window, must average over every BB_H2_IDLE_TIMEOUT while response "
        "data waits for the peer; slower → GOAWAY / RST_STREAM ENHANCE_YOUR_CALM (a window "
        "of one octet per period is no progress). 0 only requires one octet per period.")
    h2_max_buffered_response: int = _setting(
        128 * 1024 * 1024, "BB_H2_MAX_BUFFERED_RESPONSE",
        "Octets of HTTP/2 response data one worker holds for peers' windows; beyond it the "
        "connections that progressed least (then holding most) are closed, GOAWAY "
        "ENHANCE_YOUR_CALM. 0 disables the bound.")
    h2_streams_per_turn: int = _setting(
        16, "BB_H2_STREAMS_PER_TURN",
        "Requests of one HTTP/2 connection whose app tasks start per event-loop turn; the "
        "others wait for later turns (fairness between connections).")

    # --- WebSocket (RFC 6455, RFC 7692) ----------------------------------------------
    ws_max_frame_size: int = _setting(
        16 * 1024 * 1024, "BB_WS_MAX_FRAME_SIZE", "Bytes of one WebSocket frame; larger → 1009.")
    ws_max_message_size: int = _setting(
        16 * 1024 * 1024, "BB_WS_MAX_MESSAGE_SIZE",
        "Bytes of one (reassembled, inflated) message; larger → 1009.")
    ws_max_fragments: int = _setting(
        131072, "BB_WS_MAX_FRAGMENTS",
        "Frames in one fragmented WebSocket message; more → 1009 (Autobahn 9.3.1 sends "
        "65536).")
    ws_max_empty_fragments: int = _setting(
        1024, "BB_WS_MAX_EMPTY_FRAGMENTS",
        "Frames without payload in one WebSocket message; more → 1008.")
    ws_max_ping_burst: int = _setting(
        100, "BB_WS_MAX_PING_BURST",
        "Token bucket size for received PINGs and unsolicited PONGs per WebSocket; empty "
        "bucket → close 1008.")
    ws_max_ping_rate: float = _setting(
        10.0, "BB_WS_MAX_PING_RATE", "PING/PONG tokens refilled per second.")
    ws_frames_per_turn: int = _setting(
        128, "BB_WS_FRAMES_PER_TURN",
        "WebSocket frame pieces parsed per event-loop turn; the rest of a read waits, "
        "reading paused (fairness under floods).")
    ws_queue_depth: int = _setting(
        256, "BB_WS_QUEUE_DEPTH",
        "Inbound messages queued for the app before the server stops reading the socket.")
    ws_permessage_deflate: bool = _setting(
        True, "BB_WS_PERMESSAGE_DEFLATE", "Negotiate permessage-deflate (RFC 7692).")
    ws_deflate_window_bits: int = _setting(
        12, "BB_WS_DEFLATE_WINDOW_BITS",
        "LZ77 window of our permessage-deflate compressor, 8..15 (a client's "
        "server_max_window_bits can only lower it): 12 takes ~32 KiB per connection and "
        "compresses chat-like JSON ~30 % faster than 15 (~144 KiB), for ~10 % more bytes.")
    ws_ping_interval: float = _setting(
        0.0, "BB_WS_PING_INTERVAL", "Seconds between keep-alive pings (0 disables).")
    ws_close_timeout: float = _setting(
        5.0, "BB_WS_CLOSE_TIMEOUT", "Seconds to wait for the peer's close frame.")

    # --- WebSocket: inbound bytes held, inflation pacing, write timeout (issue 20) -------
    ws_max_queue_bytes: int = _setting(
        16 * 1024 * 1024, "BB_WS_MAX_QUEUE_BYTES",
        "Received message bytes (inflated) one WebSocket may hold while its app is behind "
        "(queued messages plus the one being assembled) before the server stops reading it.")
    ws_max_worker_bytes: int = _setting(
        256 * 1024 * 1024, "BB_WS_MAX_WORKER_BYTES",
        "Received message bytes all WebSockets of one worker may hold together; past it "
        "each WebSocket that needs more stops reading until bytes are given back.")
    ws_bytes_per_turn: int = _setting(
        128 * 1024, "BB_WS_BYTES_PER_TURN",
        "Message bytes (inflated) one WebSocket produces per event-loop turn: a "
        "permessage-deflate bomb is inflated in slices of this size, and a larger outgoing "
        "message deflated in steps of this size (fairness).")
    ws_send_timeout: float = _setting(
        30.0, "BB_WS_SEND_TIMEOUT",
        "Seconds an app's send may wait for a WebSocket peer that does not read (write "
        "buffer full) before the connection is dropped (0 disables).")

    # --- WebSocket: a received message that stalls half-sent (issue 17) ---------------
    ws_message_stall_timeout: float = _setting(
        30.0, "BB_WS_MESSAGE_STALL_TIMEOUT",
        "Seconds a WebSocket may hold part of a received message that does not grow, "
        "while the server reads it, before it is closed with 1008 (0 disables).")

    def __post_init__(self) -> None:
        if self.h2_streams_per_turn < 1:
            raise ValueError("BB_H2_STREAMS_PER_TURN must be at least 1")
        for f in fields(self):
            if f.name in _NON_NEGATIVE and getattr(self, f.name) < 0:
                raise ValueError(f"{f.metadata['env']}={getattr(self, f.name)} is negative")
        if not 8 <= self.ws_deflate_window_bits <= 15:  # RFC 7692 §7.1.2: 8..15
            raise ValueError(f"BB_WS_DEFLATE_WINDOW_BITS={self.ws_deflate_window_bits} "
                             "is not 8..15")
        for name, allowed in _CHOICES.items():
            value = getattr(self, name)
            if isinstance(value, str):
                value = value.lower()
                object.__setattr__(self, name, value)  # 'INFO' and 'info' alike
            if value not in allowed:
                raise ValueError(f"{_ENV[name]}={value!r} is not one of "
                                 f"{', '.join(map(str, allowed))}")
        if self.limit_max_requests < 0:
            raise ValueError(f"BB_LIMIT_MAX_REQUESTS={self.limit_max_requests} is negative")
        if self.workers < 1:
            raise ValueError(f"BB_WORKERS={self.workers} is not at least 1")
        if self.ssl_keyfile and not self.ssl_certfile:
            raise ValueError("BB_SSL_KEYFILE is set without BB_SSL_CERTFILE")
        from .binds import parse_binds  # pure parsing, no I/O

        try:
            parse_binds(self.bind)
        except ValueError as exc:
            raise ValueError(f"BB_BIND: {exc}") from None
        for name in ("ws_max_queue_bytes", "ws_max_worker_bytes", "ws_bytes_per_turn"):
            if getattr(self, name) < 1:
                raise ValueError(f"{_ENV[name]}={getattr(self, name)} must be at least 1 byte")
        if self.ws_send_timeout < 0:
            raise ValueError("BB_WS_SEND_TIMEOUT must not be negative")
        if self.ws_message_stall_timeout < 0:
            raise ValueError("BB_WS_MESSAGE_STALL_TIMEOUT must not be negative")
        if self.gc_threshold < 0:
            raise ValueError(f"BB_GC_THRESHOLD={self.gc_threshold} is negative")

    # -------------------------------------------------------------------------------
    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``BB_*`` variables (``os.environ`` by default); keyword
        overrides win over the environment."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = f.metadata["env"]
            if name in environ:
                values[f.name] = _convert(f, environ[name])
        values.update(overrides)
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @classmethod
    def describe(cls) -> list[tuple[str, str, str]]:
        """(variable, default, meaning) for every setting, for documentation."""
        return [(f.metadata["env"], repr(f.default), f.metadata["doc"]) for f in fields(cls)]


#: Settings whose value must be one of a few words.
_CHOICES: dict[str, tuple[Any, ...]] = {
    "loop": ("auto", "uvloop", "asyncio"),
    "lifespan": ("auto", "on", "off"),
    "log_level": ("critical", "error", "warning", "info", "debug", "trace"),
    "ssl_cert_reqs": (0, 1, 2),
}
_ENV = {f.name: f.metadata["env"] for f in fields(Settings)}


def _convert(f: dataclasses.Field[Any], raw: str) -> Any:
    kind: type[object] = type(f.default)  # every field has a default (a bool, int, float or str)
    name = f.metadata["env"]
    raw = raw.strip()
    try:
        if kind is bool:
            low = raw.lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError(raw)
        if kind is int:
            return int(raw, 0)
        if kind is float:
            return float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a valid {kind.__name__}") from None
    return raw
