"""The ASGI 3 application h2spec talks to (``conformance.h2spec.app:app``).

It is :data:`conformance.apps.h2spec_app`: ``GET /`` and ``POST /`` answer 200 with a
non-empty body, as h2spec's cases need (RFC 9113 §8.1, e.g. generic/4).
"""
from __future__ import annotations

from conformance.apps import h2spec_app as app

__all__ = ["app"]
