"""Server-agnostic wire-level probes: each checks one testable requirement of an RFC.

A probe opens its own connection to a target named by a URL, sends exactly the bytes it
needs (raw frames built with ``hyperframe`` and ``hpack``, or raw bytes where even those
would refuse) and judges what comes back.  No client library's state machine stands
between the probe and the wire, so a probe can send the violation it tests.

Layout: :mod:`.model` (probe, level, verdict, the registry), :mod:`.target` (URLs,
connections), :mod:`.runner` (running probes, the raw result files), :mod:`.coverage`
(the coverage document), and one package per protocol family whose modules register
probes when imported (:func:`load_all`).
"""

from __future__ import annotations

from conformance.probes.model import REGISTRY, Level, Outcome, Probe, Verdict, probe

__all__ = ["REGISTRY", "Level", "Outcome", "Probe", "Verdict", "probe", "load_all"]

#: The packages whose modules define probes; each is imported by :func:`load_all`.
FAMILIES = ("http2", "hpack", "priority", "rfc8441", "h2c", "http1", "websocket")


def load_all() -> dict[str, Probe]:
    """Import every probe module of every family and return the registry."""
    import importlib
    import pkgutil

    for family in FAMILIES:
        package = importlib.import_module(f"conformance.probes.{family}")
        for info in pkgutil.iter_modules(package.__path__):
            if not info.name.startswith("_"):
                importlib.import_module(f"{package.__name__}.{info.name}")
    return REGISTRY
