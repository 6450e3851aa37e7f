"""The one ASGI 3 app every benchmarked server runs (``bench_apps:app``).

It is :data:`conformance.apps.bench_app`: ``GET``/``POST`` anything → ``200``
``text/plain`` ``Hello, world!`` with a ``content-length`` (the request body is read and
dropped); WebSocket messages are echoed with their opcode; lifespan is acknowledged.

The peers import this file from their own venvs with ``bench/apps`` and a directory
holding only ``conformance/`` on ``PYTHONPATH`` (bench/servers.py), so nothing from
``bench`` or ``blackbull`` is imported here.
"""
from __future__ import annotations

from conformance.apps import bench_app as app

__all__ = ["app"]
