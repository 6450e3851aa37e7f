"""Start the matrix's servers (conformance/targets) on loopback with TLS and the interop app.

The matrix's servers are the registry's targets that list ``ws-over-h2``. Each runs twice
where it can: with RFC 8441 switched on (the cells' scenarios) and without it
(``no-setting-refused``, RFC 8441 §3), as its target file's ``[rfc8441]`` table says. A
server given by ``--url`` is used as found: its cells run when it advertises
SETTINGS_ENABLE_CONNECT_PROTOCOL and are ``not-supported`` when it does not. Every process
is one this module started; ``stop_all`` ends exactly those.
"""
from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from conformance.interop.endpoint import Endpoint
from conformance.targets import base
from conformance.targets.base import Protocol
from conformance.targets.external import ExternalTarget
from conformance.targets.registry import TARGETS, get_target

APP = "conformance.interop.app:app"


def matrix_servers() -> tuple[str, ...]:
    """Registry targets that serve WebSocket over HTTP/2 (launched ones, not --url)."""
    return tuple(name for name, t in TARGETS.items()
                 if t.supports(Protocol.WS_OVER_H2) and not t.external)


SERVERS = matrix_servers()
_NO_SWITCH = ("{name} always sends SETTINGS_ENABLE_CONNECT_PROTOCOL=1 (no option to "
              "withhold it), so there is no server without the setting to refuse")
_EXTERNAL = ("{name} was started outside the suite (--url): the run cannot start it "
             "without SETTINGS_ENABLE_CONNECT_PROTOCOL")


@dataclass
class Running:
    """Servers started for a matrix run, plus why any could not start or take part."""

    tls: base.TlsCert
    report_dir: Path
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    not_supported: dict[str, str] = field(default_factory=dict)
    handles: list[base.ServerHandle] = field(default_factory=list)

    def stop_all(self) -> None:
        for handle in self.handles:
            handle.stop()
        self.handles.clear()


def _start(name: str, tls: base.TlsCert, env: dict[str, str]) -> base.ServerHandle:
    target = get_target(name)
    return target.start(target.app_for("rfc8441", APP), 0, tls.cert, tls.key, env=env,
                        timeout=60, protocol=Protocol.WS_OVER_H2)


def advertises_connect_protocol(host: str, port: int, insecure: bool,
                                timeout: float = 10.0, ca: str = "") -> bool:
    """Whether the server's first SETTINGS has SETTINGS_ENABLE_CONNECT_PROTOCOL=1
    (RFC 8441 §3), read with the ``h2`` library over TLS + ALPN h2 (verified against
    the system store and *ca*, unless *insecure*)."""
    import h2.config
    import h2.connection
    import h2.events
    import h2.settings

    ctx = ssl.create_default_context()
    if insecure:
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    elif ca:
        ctx.load_verify_locations(cafile=ca)
    ctx.set_alpn_protocols(["h2"])
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    with socket.create_connection((host, port), timeout=timeout) as raw, \
            ctx.wrap_socket(raw, server_hostname=host) as sock:
        if sock.selected_alpn_protocol() != "h2":
            return False
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        while True:
            data = sock.recv(65536)
            if not data:
                return False
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.RemoteSettingsChanged):
                    setting = event.changed_settings.get(
                        h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL)
                    return bool(setting and setting.new_value == 1)


def _external(name: str, target: ExternalTarget, running: Running) -> None:
    try:
        handle = target.start(APP, protocol=Protocol.WS_OVER_H2)
        enabled = advertises_connect_protocol(handle.host, handle.port, target.insecure,
                                              ca=target.ca)
    except (base.TargetUnavailable, OSError, ssl.SSLError) as exc:
        running.unavailable[name] = f"{name} could not be reached: {exc}"[:2000]
        return
    if not enabled:
        running.not_supported[name] = (f"{name} does not advertise "
                                       "SETTINGS_ENABLE_CONNECT_PROTOCOL=1 (RFC 8441 §3)")
        return
    running.endpoints[name] = Endpoint(name, handle.port, target.ca, host=handle.host,
                                       no_setting_reason=_EXTERNAL.format(name=name),
                                       insecure=target.insecure, external=True,
                                       ws_path=handle.paths.get("rfc8441_echo", "/ws"))


def start_servers(names: tuple[str, ...], workdir: Path) -> Running:
    """Start each named server (and its no-setting twin); failures are recorded, not raised."""
    workdir.mkdir(parents=True, exist_ok=True)
    tls = base.make_tls_cert(workdir / "tls")
    running = Running(tls, workdir / "reports")
    running.report_dir.mkdir(exist_ok=True)
    common = {"INTEROP_REPORT_DIR": str(running.report_dir)}
    for name in names:
        try:
            target = get_target(name)
        except KeyError as exc:
            running.unavailable[name] = str(exc)
            continue
        if isinstance(target, ExternalTarget):
            _external(name, target, running)
            continue
        if not target.supports(Protocol.WS_OVER_H2):
            running.not_supported[name] = f"{name} does not list ws-over-h2 in its protocols"
            continue
        try:
            on = _start(name, tls, {**common, **target.rfc8441.on})
        except (base.TargetUnavailable, OSError) as exc:
            running.unavailable[name] = f"{name} could not start: {exc}"[:2000]
            continue
        running.handles.append(on)
        off_env = target.rfc8441.off
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
