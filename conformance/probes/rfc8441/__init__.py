"""RFC 8441 probes: bootstrapping WebSockets with HTTP/2 (the extended CONNECT method).

Probes that need the extension say ``not-applicable`` when the server does not advertise
SETTINGS_ENABLE_CONNECT_PROTOCOL = 1; the probe of ``:protocol`` without the setting is
applicable only to such a server.  The target URL's path is the route used; a server that
refuses the WebSocket there (4xx) still answers the protocol questions.
"""

from __future__ import annotations

UNTESTABLE: tuple[tuple[str, str, str, str], ...] = (
    ("rfc8441/3", "MUST NOT",
     "A sender MUST NOT send a SETTINGS_ENABLE_CONNECT_PROTOCOL parameter with the value of 0 "
     "after previously sending a value of 1.",
     "A server sends SETTINGS again only when it chooses to; a probe cannot make it."),
)
