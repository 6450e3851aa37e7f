"""Autobahn over RFC 8441: an HTTP/1.1 WebSocket → HTTP/2 extended CONNECT bridge.

``python -m conformance.h2bridge --upstream HOST:PORT [--tls --ca FILE] [--listen H:P]``
runs it; :mod:`conformance.h2bridge.process` starts it as a child process for the
Autobahn harness (variant ``h2-bridge``).
"""
