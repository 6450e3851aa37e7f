"""Start the matrix's servers (conformance/targets) on loopback with TLS and the interop app.

Each server runs twice where it can: with RFC 8441 switched on (the cells' scenarios) and
without it (``no-setting-refused``, RFC 8441 §3). Every process is one this module
started; ``stop_all`` ends exactly those.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from conformance.interop.endpoint import Endpoint
from conformance.targets import base
from conformance.targets.registry import get_target

APP = "conformance.interop.app:app"
#: 0.81 serves WebSocket only to its own framework's routes (see app081.py).
_APPS = {"blackbull081": "conformance.interop.app081:app"}
SERVERS = ("blackbull", "hypercorn", "blackbull081")

#: Environment that switches RFC 8441 on / off per server; None: the server has no switch.
_ON: dict[str, dict[str, str]] = {
    "blackbull": {"BB_H2_ENABLE_WEBSOCKET": "1"},
    "hypercorn": {},
    "blackbull081": {"BB_H2_ENABLE_WEBSOCKET": "1"},
}
_OFF: dict[str, dict[str, str] | None] = {
    "blackbull": {"BB_H2_ENABLE_WEBSOCKET": "0"},
    "hypercorn": None,
    "blackbull081": {"BB_H2_ENABLE_WEBSOCKET": "0"},
}
_NO_SWITCH = ("{name} always sends SETTINGS_ENABLE_CONNECT_PROTOCOL=1 (no option to "
              "withhold it), so there is no server without the setting to refuse")


@dataclass
class Running:
    """Servers started for a matrix run, plus why any could not start."""

    tls: base.TlsCert
    report_dir: Path
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    handles: list[base.ServerHandle] = field(default_factory=list)

    def stop_all(self) -> None:
        for handle in self.handles:
            handle.stop()
        self.handles.clear()


def _start(name: str, tls: base.TlsCert, env: dict[str, str]) -> base.ServerHandle:
    target = get_target(name)
    return target.start(_APPS.get(name, APP), 0, tls.cert, tls.key, env=env, timeout=60)


def start_servers(names: tuple[str, ...], workdir: Path) -> Running:
    """Start each named server (and its no-setting twin); failures are recorded, not raised."""
    workdir.mkdir(parents=True, exist_ok=True)
    tls = base.make_tls_cert(workdir / "tls")
    running = Running(tls, workdir / "reports")
    running.report_dir.mkdir(exist_ok=True)
    common = {"INTEROP_REPORT_DIR": str(running.report_dir)}
    for name in names:
        try:
            on = _start(name, tls, {**common, **_ON[name]})
        except (base.TargetUnavailable, OSError, KeyError) as exc:
            running.unavailable[name] = f"{name} could not start: {exc}"[:2000]
            continue
        running.handles.append(on)
        off_env = _OFF.get(name)
        off_port, reason = None, _NO_SWITCH.format(name=name)
        if off_env is not None:
            try:
                off = _start(name, tls, {**common, **off_env})
                running.handles.append(off)
                off_port, reason = off.port, ""
            except (base.TargetUnavailable, OSError) as exc:
                reason = f"the no-setting instance could not start: {exc}"[:500]
        running.endpoints[name] = Endpoint(name, on.port, str(tls.ca),
                                           no_setting_port=off_port, no_setting_reason=reason)
    return running


@contextlib.contextmanager
def servers(names: tuple[str, ...], workdir: Path) -> Iterator[Running]:
    running = start_servers(names, workdir)
    try:
        yield running
    finally:
        running.stop_all()
