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
    #: A server the run did not start (``--url``): the clients name it by its URL's host,
    #: and the Chromium cells cannot load the interop page from it.
    external: bool = False
    ws_path: str = "/ws"     # the RFC 8441 echo route (the target's [paths] rfc8441_echo)

    @property
    def server_name(self) -> str:
        """The TLS server name and ``:authority`` host: the run's own certificates are
        issued for ``localhost``; a ``--url`` server is named as its URL names it."""
        return self.host if self.external else "localhost"

    def client_context(self) -> ssl.SSLContext:
        """A TLS client context with ALPN ``h2`` (RFC 9113 §3.2) trusting ``ca_file`` (the
        run's test CA, or the ``--ca`` of a ``--url`` server) besides the system store;
        none at all with ``insecure``."""
        if self.insecure or not self.ca_file:
            ctx = ssl.create_default_context()
            if self.insecure:
                ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        else:
            ctx = ssl.create_default_context()
            ctx.load_verify_locations(cafile=self.ca_file)
        ctx.set_alpn_protocols(["h2"])
        return ctx
