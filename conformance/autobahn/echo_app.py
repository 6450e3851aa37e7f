"""The ASGI 3 echo application the Autobahn fuzzingclient talks to
(``conformance.autobahn.echo_app:app``, the path the Dockerfile and target files name).

It is :data:`conformance.apps.echo_app`: every WebSocket message is echoed with its
opcode (RFC 6455 §5.6), any HTTP request answers 200 with a short body.
"""
from __future__ import annotations

from conformance.apps import echo_app as app

__all__ = ["app"]
