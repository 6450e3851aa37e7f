"""How to start a server under test, shared by every conformance harness.

A :class:`Target` knows how to launch one server implementation (ours or a peer)
on a loopback port, which protocols it speaks, and how to install it.  Each one is
a TOML target file (``conformance/targets/peers/``, schema in the README there); an
:class:`ExternalTarget` is a server someone else started, given by URL
(``--url h2c://HOST:PORT/``).  Harnesses use it like::

    from conformance.targets import Protocol, get_target, make_tls_cert

    target = get_target("hypercorn")
    if not target.supports(Protocol.H2_TLS):
        ...  # report every case as "not-supported", never as a failure
    cert = make_tls_cert()
    with target.start("conformance.autobahn.echo_app:app", 0,
                      tls_cert=cert.cert, tls_key=cert.key) as server:
        run_tool_against(server.host, server.port)

``start()`` picks a free port when given port 0, waits until the port accepts
TCP connections (or the process dies), and the handle's ``stop()`` ends exactly
the process group it started (SIGTERM, then SIGKILL after a grace period).

``start(..., protocol=...)`` says which protocol the suite will speak, so a target file's
``[launch_for]`` entry or an external target's URL for it is used. An external target's
handle has no process: ``stop()`` leaves the server alone.

Stable API (other harnesses depend on it): :class:`Protocol`, :class:`Target`,
:class:`ExternalTarget`, :class:`ServerHandle`, :class:`TargetUnavailable`, :class:`TlsCert`,
:class:`Command`, :data:`TARGETS`, :func:`get_target`, :func:`register`,
:func:`load_target_file`, :func:`external_target`, :func:`parse_url`, :func:`free_port`,
:func:`make_tls_cert`, :data:`REPO_ROOT`.
"""

from __future__ import annotations

from conformance.targets.base import (
    REPO_ROOT,
    Command,
    Protocol,
    ServerHandle,
    Target,
    TargetUnavailable,
    TlsCert,
    free_port,
    make_tls_cert,
)
from conformance.targets.external import ExternalTarget, UrlError, external_target, parse_url
from conformance.targets.files import TargetFileError, load_target_file
from conformance.targets.registry import TARGETS, get_target, register

__all__ = [
    "REPO_ROOT",
    "TARGETS",
    "Command",
    "ExternalTarget",
    "Protocol",
    "ServerHandle",
    "Target",
    "TargetFileError",
    "TargetUnavailable",
    "TlsCert",
    "UrlError",
    "external_target",
    "free_port",
    "get_target",
    "load_target_file",
    "make_tls_cert",
    "parse_url",
    "register",
]
