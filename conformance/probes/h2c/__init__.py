"""h2c probes: HTTP/2 over cleartext TCP — the prior-knowledge preface on a port shared with
HTTP/1.1 (RFC 7540 §3.4 / RFC 9113 §3.3) and the ``Upgrade: h2c`` mechanism (RFC 7540
§3.2), which RFC 9113 deprecated: a cleartext port that does not speak HTTP/1.1 at all is
``not-applicable`` for the Upgrade probes, never a failure.
"""

from __future__ import annotations

UNTESTABLE: tuple[tuple[str, str, str, str], ...] = ()
