"""The Autobahn harness's ``h2-bridge`` variant: the server under test runs with RFC 8441
enabled and the fuzzing client reaches it through the bridge (RFC 8441 §4–§5)."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from conformance.h2bridge.process import start_bridge

VARIANT = "h2-bridge"
#: Environment that makes a target advertise SETTINGS_ENABLE_CONNECT_PROTOCOL (§3).
SERVER_ENV = {"BB_H2_ENABLE_WEBSOCKET": "1"}


def variant(tls: bool) -> str:
    return f"{VARIANT}-tls" if tls else VARIANT


@contextlib.contextmanager
def fuzz_url(server: Any, cert: Any, workdir: Path) -> Iterator[str]:
    """The ws:// URL of a bridge in front of ``server`` (h2c, or TLS when ``cert``)."""
    with start_bridge(server.port, ca_file=cert.ca if cert is not None else None,
                      log=workdir / "h2bridge.log") as bridge:
        yield bridge.url
