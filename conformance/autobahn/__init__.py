"""Autobahn|Testsuite harness: RFC 6455 / RFC 7692 conformance of WebSocket servers and clients.

``python -m conformance.autobahn --target NAME [--tls] [--cases '1.*,2.*']
[--runner docker|python2.7|python3-port] [--mode server|client] [--out FILE]``
writes one result file in the common schema (conformance/RESULTS.md).
"""
