"""RFC 9113 §3.4 (the connection preface) and §9.2 (TLS for HTTP/2)."""

from __future__ import annotations

import ssl
import time
import warnings

from conformance.probes.http2._wire import (
    H2,
    PREFACE,
    PROTOCOL_ERROR,
    SETTINGS,
    code_name,
    h2_probe,
    ping,
    started,
)
from conformance.probes.model import Level, Verdict
from conformance.probes.target import ProbeContext


@h2_probe("rfc9113/3.4/1", level=Level.MUST,
          requirement="The server connection preface consists of a SETTINGS frame that MUST be "
                      "the first frame the server sends in the HTTP/2 connection.",
          conforming="the first frame from the server is a SETTINGS frame (not an ACK), on "
                     "stream 0",
          h2spec=("http2/3.5/1", "generic/1/1"))
def server_preface_is_settings(ctx: ProbeContext) -> Verdict:
    h2 = H2(ctx)
    h2.send(PREFACE + b"\0\0\0\x04\0\0\0\0\0", "client preface + SETTINGS {}")
    got = h2.read(ctx.timeout)
    if got is None:
        return Verdict.failed("no frame arrived" + (" (connection closed)" if h2.closed else ""),
                              h2.seen())
    if got.type == SETTINGS and not got.flags & 1 and got.stream == 0:
        return Verdict.passed(got.describe())
    return Verdict.failed(f"first frame was {got.describe()}", h2.seen())


@h2_probe("rfc9113/3.4/2", level=Level.MUST,
          requirement="Clients and servers MUST treat an invalid connection preface as a "
                      "connection error of type PROTOCOL_ERROR.",
          conforming="GOAWAY PROTOCOL_ERROR, or the connection closed (on a cleartext port "
                     "shared with HTTP/1.1, an HTTP/1.1 error answer followed by closing)",
          h2spec=("http2/3.5/2",))
def invalid_preface(ctx: ProbeContext) -> Verdict:
    wire = ctx.connect()
    if ctx.tls and wire.alpn != "h2":
        return Verdict.undecided(f"ALPN selected {wire.alpn!r}, not 'h2'")
    wire.send(b"INVALID CONNECTION PREFACE\r\n\r\n")
    received = b""
    deadline = time.monotonic() + ctx.timeout
    while time.monotonic() < deadline:
        chunk = wire.recv(deadline - time.monotonic())
        if chunk is None:
            break
        if chunk == b"":
            break
        received += chunk
    seen = list(ctx.transcript[-10:]) + [f"received {received[:120]!r}"]
    if received.startswith(b"HTTP/1."):
        if wire.closed_by:
            return Verdict.passed("answered as HTTP/1.1 and closed: " + received.split(b"\r\n")[0]
                                  .decode("latin-1"))
        return Verdict.failed("answered as HTTP/1.1 but kept the connection open", seen)
    # An HTTP/2 server may send its SETTINGS first, then GOAWAY.
    pos = 0
    while len(received) - pos >= 9:
        length = int.from_bytes(received[pos:pos + 3], "big")
        ftype = received[pos + 3]
        if ftype == 7 and length >= 8:
            code = int.from_bytes(received[pos + 13:pos + 17], "big")
            if code == PROTOCOL_ERROR:
                return Verdict.passed("GOAWAY PROTOCOL_ERROR")
            return Verdict.failed(f"GOAWAY {code_name(code)}, expected PROTOCOL_ERROR", seen)
        pos += 9 + length
    if wire.closed_by:
        return Verdict.passed(f"connection {wire.closed_by} without GOAWAY")
    return Verdict.failed("the connection stayed open after an invalid preface", seen)


@h2_probe("rfc9113/3.4/3", level=Level.MUST,
          requirement="The client connection preface MUST be followed by a SETTINGS frame; a "
                      "preface followed by any other frame is invalid, a connection error of "
                      "type PROTOCOL_ERROR.",
          conforming="GOAWAY PROTOCOL_ERROR, or the connection closed")
def preface_not_followed_by_settings(ctx: ProbeContext) -> Verdict:
    h2 = H2(ctx)
    h2.send(PREFACE + ping(), "client preface + PING (no SETTINGS)")
    return h2.expect_connection_error(PROTOCOL_ERROR, ping=False)


@h2_probe("rfc9113/3.4/4", level=Level.MAY,
          requirement="Clients are permitted to send additional frames immediately after the "
                      "client connection preface, without waiting for the server's preface; "
                      "a server handles a request sent in the same packet as the preface.",
          conforming="a complete response to the GET sent with the preface")
def request_with_the_preface(ctx: ProbeContext) -> Verdict:
    h2 = H2(ctx)
    request = h2.headers_frame(1, h2.block(h2.request_headers()))
    h2.send(PREFACE + b"\0\0\0\x04\0\0\0\0\0" + request, "preface + SETTINGS + HEADERS (GET)")
    return h2.expect_response(1)


@h2_probe("rfc9113/3.4/5", level=Level.MUST,
          requirement="The SETTINGS frames received as part of the connection preface MUST be "
                      "acknowledged after sending the connection preface.",
          conforming="a SETTINGS frame with ACK follows the server's SETTINGS",
          h2spec=("generic/3.5/1",))
def preface_settings_acknowledged(ctx: ProbeContext) -> Verdict:
    h2 = H2(ctx).start(((0x3, 100), (0x4, 65535)), wait_ack=True)
    if h2.settings_acked:
        return Verdict.passed("SETTINGS ACK received")
    return Verdict.failed("the client's SETTINGS were not acknowledged", h2.seen())


@h2_probe("rfc9113/9.2/1", level=Level.MUST,
          requirement="Implementations of HTTP/2 MUST use TLS version 1.2 or higher for HTTP/2 "
                      "over TLS: a client offering only TLS 1.0/1.1 with ALPN h2 gets no h2.",
          conforming="the handshake fails, or it completes without selecting ALPN h2",
          transports=frozenset({"h2"}))
def no_h2_below_tls12(ctx: ProbeContext) -> Verdict:
    import socket
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with warnings.catch_warnings():  # offering TLS 1.1 is the point of the probe
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = ssl.TLSVersion.TLSv1_1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    except (ValueError, ssl.SSLError) as exc:
        return Verdict.undecided(f"this client's OpenSSL cannot offer TLS 1.1: {exc}")
    context.set_alpn_protocols(["h2"])
    sock = socket.create_connection((ctx.target.host, ctx.target.port), timeout=ctx.timeout)
    try:
        tls = context.wrap_socket(sock, server_hostname=ctx.target.host)
    except ssl.SSLError as exc:
        reason = str(exc)
        if "no protocols available" in reason or "NO_PROTOCOLS_AVAILABLE" in reason:
            return Verdict.undecided(f"this client's OpenSSL refused to offer TLS 1.1: {reason}")
        return Verdict.passed(f"TLS 1.1 handshake refused ({exc.__class__.__name__})")
    except OSError as exc:
        return Verdict.passed(f"TLS 1.1 handshake refused ({exc.__class__.__name__})")
    try:
        version, alpn = tls.version(), tls.selected_alpn_protocol()
    finally:
        tls.close()
    if alpn == "h2":
        return Verdict.failed(f"{version} negotiated with ALPN h2")
    return Verdict.passed(f"{version} without h2 (ALPN {alpn!r})")


@h2_probe("rfc9113/6.5.3/2", level=Level.MUST,
          requirement="A SETTINGS frame the client sends later in the connection is also "
                      "acknowledged: upon receiving a SETTINGS frame without ACK the "
                      "recipient MUST immediately emit a SETTINGS frame with ACK.",
          conforming="SETTINGS with ACK (length 0, stream 0) after the second SETTINGS",
          h2spec=("http2/6.5.3/2",))
def later_settings_acknowledged(ctx: ProbeContext) -> Verdict:
    h2 = started(ctx)
    before = h2.settings_acked
    h2.send(b"\0\0\x06\x04\0\0\0\0\0" + b"\0\x04\0\0\xff\xff")
    got = h2.wait_for(lambda g: g.type == SETTINGS and bool(g.flags & 1))
    if got is not None and h2.settings_acked > before:
        if got.payload or got.stream:
            return Verdict.failed(f"ACK is malformed: {got.describe()}", h2.seen())
        return Verdict.passed(got.describe())
    return Verdict.failed("no SETTINGS ACK", h2.seen())

