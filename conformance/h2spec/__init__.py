"""h2spec harness: HTTP/2 (RFC 9113) and HPACK (RFC 7541) conformance of a target server.

``python -m conformance.h2spec --target hypercorn`` runs the four variants (h2c, tls,
each normal and strict) and writes schema-1 results into ``reports/raw/``.
"""
