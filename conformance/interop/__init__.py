"""RFC 8441 interop matrix: WebSocket-over-HTTP/2 clients × servers on loopback.

Clients: our :class:`~blackbull.client.WebSocketH2Client` (``blackbull``), a raw client on
the python-hyper ``h2`` library with ``wsproto`` frames (``h2-raw``) and headless
Chromium (``chromium``). Servers: this repository's (``blackbull``), ``hypercorn`` and the
published ``blackbull081``. ``python -m conformance.interop`` runs it and writes
``reports/raw/rfc8441-matrix.json`` (suite ``rfc8441-matrix``, conformance/RESULTS.md).
"""
