"""BlackBull benchmark harness (``python -m bench``).

Starts BlackBull and its peers (uvicorn, hypercorn, granian, daphne, the ``websockets``
server, the published ``blackbull==0.81.0``, nginx as an informational C reference and
a bare uvloop ceiling) one after another on loopback with the same ASGI app, drives them
with ``wrk``, ``h2load`` and our own WebSocket and TLS load clients, and reports medians
and ratios side by side, as tables and SVG bar charts.

Nothing here is imported by the server: the harness only runs it as a subprocess.
"""
from __future__ import annotations

__version__ = "0.2.0"
