"""Where a matrix cell connects: one running server (TLS, ALPN h2) and, when the server
can run without RFC 8441, a second instance that does not advertise it."""
from __future__ import annotations

import ssl
from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoint:
    """A server under test on loopback; ``no_setting_port`` is the instance started
    without SETTINGS_ENABLE_CONNECT_PROTOCOL (None: the server has no such switch)."""

    name: str
    port: int
    ca_file: str
    host: str = "127.0.0.1"
    no_setting_port: int | None = None
    no_setting_reason: str = ""
    insecure: bool = False   # a --url server with a certificate we cannot verify

    def client_context(self) -> ssl.SSLContext:
        """A TLS client context trusting the test CA with ALPN ``h2`` (RFC 9113 §3.2)."""
        if self.insecure or not self.ca_file:
            ctx = ssl.create_default_context()
            if self.insecure:
                ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        else:
            ctx = ssl.create_default_context(cafile=self.ca_file)
        ctx.set_alpn_protocols(["h2"])
        return ctx
