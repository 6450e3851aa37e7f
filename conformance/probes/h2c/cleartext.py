"""RFC 7540 §3.2 (Upgrade: h2c), §3.2.1 (HTTP2-Settings) and §3.4 (prior knowledge)."""

from __future__ import annotations

import time

from conformance.probes.http2._wire import H2, PREFACE, SETTINGS, h2_probe, settings
from conformance.probes.model import Level, Verdict
from conformance.probes.target import ProbeContext

H2C = frozenset({"h2c"})
# SETTINGS_MAX_CONCURRENT_STREAMS=100, SETTINGS_INITIAL_WINDOW_SIZE=65535, base64url
HTTP2_SETTINGS = "AAMAAABkAAQAAP__"


def _upgrade_request(ctx: ProbeContext, extra: str = "", *, settings_lines: int = 1,
                     token: str = "h2c") -> bytes:
    host = ctx.target.authority
    lines = [f"GET {ctx.target.path} HTTP/1.1", f"Host: {host}",
             "Connection: Upgrade, HTTP2-Settings", f"Upgrade: {token}"]
    lines += [f"HTTP2-Settings: {HTTP2_SETTINGS}"] * settings_lines
    if extra:
        lines.append(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _http1_head(wire, timeout: float) -> tuple[bytes, bytes]:
    """(status line + headers, what followed) of an HTTP/1.1 answer; (b"", data) otherwise."""
    got = b""
    deadline = time.monotonic() + timeout
    while b"\r\n\r\n" not in got and time.monotonic() < deadline:
        chunk = wire.recv(deadline - time.monotonic())
        if not chunk:
            break
        got += chunk
        if len(got) >= 5 and not got.startswith(b"HTTP/"):
            break
    if not got.startswith(b"HTTP/1."):
        return b"", got
    head, _, rest = got.partition(b"\r\n\r\n")
    return head, rest


def _status(head: bytes) -> int:
    try:
        return int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def _try_upgrade(ctx: ProbeContext, **kw):
    wire = ctx.connect()
    wire.send(_upgrade_request(ctx, **kw))
    head, rest = _http1_head(wire, ctx.timeout)
    return wire, head, rest


def _not_http1(rest: bytes) -> Verdict:
    return Verdict.not_applicable("the cleartext port does not answer HTTP/1.1 (it speaks only "
                                  f"HTTP/2 with prior knowledge): got {rest[:40]!r}")


@h2_probe("rfc7540/3.2/1", level=Level.MUST,
          requirement="A server that upgrades answers 101 (Switching Protocols) and the first "
                      "HTTP/2 frame it sends MUST be a server connection preface (a SETTINGS "
                      "frame).",
          conforming="after 101, a SETTINGS frame first; not applicable when the server "
                     "declines the upgrade (it may) or does not speak HTTP/1.1",
          transports=H2C, anchor="section-3.2")
def upgrade_then_settings(ctx: ProbeContext) -> Verdict:
    wire, head, rest = _try_upgrade(ctx)
    if not head:
        return _not_http1(rest)
    if _status(head) != 101:
        return Verdict.not_applicable(f"upgrade declined: {head.splitlines()[0].decode('latin-1')}")
    h2 = H2(ctx, wire=wire)
    h2.buf = rest
    h2.send(PREFACE + settings(), "client preface + SETTINGS")
    got = h2.read(ctx.timeout)
    if got is None:
        return Verdict.failed("no HTTP/2 frame after 101", h2.seen())
    if got.type == SETTINGS and not got.flags & 1:
        return Verdict.passed("101, then SETTINGS")
    return Verdict.failed(f"first frame after 101: {got.describe()}", h2.seen())


@h2_probe("rfc7540/3.2/2", level=Level.MUST,
          requirement="The HTTP/1.1 request sent prior to upgrade is assigned stream "
                      "identifier 1; the server's response to it is sent on stream 1 over "
                      "HTTP/2.",
          conforming="a complete response on stream 1 after 101; not applicable when the "
                     "upgrade is declined", transports=H2C, anchor="section-3.2")
def upgraded_response_on_stream_1(ctx: ProbeContext) -> Verdict:
    wire, head, rest = _try_upgrade(ctx)
    if not head:
        return _not_http1(rest)
    if _status(head) != 101:
        return Verdict.not_applicable("upgrade declined")
    h2 = H2(ctx, wire=wire)
    h2.buf = rest
    h2.send(PREFACE + settings(), "client preface + SETTINGS")
    return h2.expect_response(1)


def _must_not_upgrade(pid: str, requirement: str, **kw) -> None:
    @h2_probe(pid, level=Level.MUST_NOT, requirement=requirement,
              conforming="any HTTP/1.1 answer other than 101; not applicable when the port "
                         "does not speak HTTP/1.1", transports=H2C, anchor="section-3.2")
    def run(ctx: ProbeContext) -> Verdict:
        wire, head, rest = _try_upgrade(ctx, **kw)
        if not head:
            return _not_http1(rest)
        line = head.splitlines()[0].decode("latin-1")
        if _status(head) == 101:
            return Verdict.failed(f"upgraded: {line}", list(ctx.transcript[-10:]))
        return Verdict.passed(line)


_must_not_upgrade("rfc7540/3.2/3", "A server MUST NOT upgrade the connection to HTTP/2 if the "
                  "HTTP2-Settings header field is not present.", settings_lines=0)
_must_not_upgrade("rfc7540/3.2/4", "A server MUST NOT upgrade the connection to HTTP/2 if more "
                  "than one HTTP2-Settings header field is present.", settings_lines=2)
_must_not_upgrade("rfc7540/3.2/5", "A server MUST ignore an \"h2\" token in an Upgrade header "
                  "field (h2 means HTTP/2 over TLS, negotiated by ALPN).", token="h2")


@h2_probe("rfc7540/3.4/1", level=Level.MUST,
          requirement="A client that knows the server supports HTTP/2 sends the connection "
                      "preface directly over cleartext TCP; the server answers with its own "
                      "preface (SETTINGS) on the same port it serves HTTP/1.1 on.",
          conforming="SETTINGS first, then a complete response to a GET on stream 1",
          transports=H2C, anchor="section-3.4")
def prior_knowledge(ctx: ProbeContext) -> Verdict:
    h2 = H2(ctx).start()
    h2.send_request(1)
    return h2.expect_response(1)


@h2_probe("rfc7540/3.4/2", level=Level.MAY,
          requirement="A cleartext port may serve both HTTP/1.1 and HTTP/2 with prior "
                      "knowledge (telling them apart by the preface).",
          conforming="an HTTP/1.1 GET on the h2c port gets an HTTP/1.1 answer (a port that "
                     "speaks only HTTP/2 is reported as a failed MAY)",
          transports=H2C, anchor="section-3.4")
def shared_port(ctx: ProbeContext) -> Verdict:
    wire = ctx.connect()
    wire.send(f"GET {ctx.target.path} HTTP/1.1\r\nHost: {ctx.target.authority}\r\n"
              "Connection: close\r\n\r\n".encode())
    head, rest = _http1_head(wire, ctx.timeout)
    if head:
        return Verdict.passed(head.splitlines()[0].decode("latin-1"))
    return Verdict.failed(f"no HTTP/1.1 answer: {rest[:40]!r}")
