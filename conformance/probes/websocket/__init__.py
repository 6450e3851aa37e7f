"""WebSocket probes: the RFC 6455 §4 opening handshake (and the RFC 9110 §7.8 Upgrade rules
it rests on), RFC 7692 §5–§7 permessage-deflate negotiation and what negotiated parameters
oblige the server to do, and a few post-handshake rules Autobahn|Testsuite does not check
(§5.1 masking, §5.5.1 / §7.1.1 the end of the close handshake).

Transports ``ws`` and ``wss``; the URL's path must be an echo endpoint.  Handshakes are
raw HTTP/1.1 through :mod:`conformance.probes.http1._wire`, frames through
:mod:`conformance.probes.websocket._ws`.
"""

from __future__ import annotations

#: Requirements of RFC 6455 §4 and RFC 7692 that a client cannot check from the wire.
UNTESTABLE: tuple[tuple[str, str, str, str], ...] = (
    ("rfc6455/4.2.2", "MUST",
     "If the server does not wish to accept this connection (from the client's /origin/), it "
     "MUST return an appropriate HTTP error code (e.g., a 403 Forbidden) and abort the "
     "WebSocket handshake.",
     "which origins a server accepts is its policy; the probes send no Origin"),
    ("rfc6455/4.2.2", "MUST",
     "If the requested service (resource name) is not available, the server MUST send an "
     "appropriate HTTP error code (such as 404 Not Found) and abort the handshake.",
     "which resource names a server offers is not known to the probes (the echo routes "
     "under test accept any path)"),
    ("rfc6455/4.2.2", "MAY",
     "The server MAY ... perform additional client authentication, for example by returning "
     "a 401 status code.",
     "optional, policy-driven"),
    ("rfc6455/10.2", "SHOULD",
     "Servers that are not intended to process input from any web page but only for certain "
     "sites SHOULD verify the Origin field.",
     "deployment policy, invisible without knowing the intended sites"),
    ("rfc7692/7.1.2.2", "MUST NOT",
     "When client_max_window_bits is negotiated the client MUST NOT use a larger window; the "
     "server's inflater must accept windows up to the negotiated size.",
     "a client obligation; the server side (inflating what the client sends) is covered by "
     "rfc7692/6/1 at the default window"),
)
