"""``python -m conformance.probe_launch --target NAME --out-dir DIR``: the probes against a
target the run launches.

The probe suite (``python -m conformance.probes``) only takes URLs of running servers.
This starts the target once per launch it needs (cleartext, TLS, and any ``launch_for``
protocol), serving the echo app (``GET``/``POST`` answer 200 with a body, WebSocket
echoes), hands the URLs to the probes, and stops what it started. Exit status is the
probes' (0: no MUST failed, 1: one did, 2: could not run); a launch that fails writes an
``error`` result for its transports and makes the exit 2.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from conformance.report.schema import error_result
from conformance.targets import Protocol, TargetUnavailable, get_target, make_tls_cert
from conformance.targets.base import ServerHandle, Target
from conformance.targets.cli import add_target_arguments, resolve_targets

ECHO_APP = "conformance.autobahn.echo_app:app"
P = Protocol
TLS = frozenset({P.H1_TLS, P.H2_TLS, P.WSS, P.WS_OVER_H2})
#: The probes' transport names per protocol (conformance/probes/target.py).
TRANSPORTS = {P.H1: "h1", P.H2C: "h2c", P.H1_TLS: "h1-tls", P.H2_TLS: "h2", P.WS: "ws",
              P.WSS: "wss"}


def launch_groups(target: Target) -> dict[str, list[Protocol]]:
    """Protocols grouped by the launch that serves them (one server per group)."""
    per_protocol = getattr(target.build_argv, "per_protocol", {})
    groups: dict[str, list[Protocol]] = {}
    for protocol in sorted(target.protocols - {P.WS_OVER_H2}):
        key = f"for-{protocol.value}" if protocol in per_protocol else (
            "tls" if protocol in TLS else "plain")
        groups.setdefault(key, []).append(protocol)
    return groups


def urls_for(handle: ServerHandle, protocols: list[Protocol]) -> list[str]:
    """The probe URLs of one running launch: https when it speaks h1 and h2 over TLS."""
    base = f"{handle.host}:{handle.port}"
    http, ws = handle.path("http"), handle.path("ws_echo")
    have = set(protocols)
    out = []
    if P.H1 in have:
        out.append(f"http://{base}{http}")
    if P.H2C in have:
        out.append(f"h2c://{base}{http}")
    if {P.H1_TLS, P.H2_TLS} <= have:
        out.append(f"https://{base}{http}")
    elif P.H2_TLS in have:
        out.append(f"h2://{base}{http}")
    elif P.H1_TLS in have:
        out.append(f"https://{base}{http}")
    if P.WS in have:
        out.append(f"ws://{base}{ws}")
    if P.WSS in have:
        out.append(f"wss://{base}{ws}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.probe_launch",
                                     description=__doc__.split("\n\n")[0])
    add_target_arguments(parser)
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--only", action="append", default=[], help="passed to the probes")
    args = parser.parse_args(argv)
    target = get_target(resolve_targets(parser, args)[0])
    app = target.app_for("probes", ECHO_APP)
    urls: list[str] = []
    failed = False
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="probes-tls-") as certdir:
        cert = make_tls_cert(Path(certdir))
        for key, protocols in launch_groups(target).items():
            tls = key == "tls" or protocols[0] in TLS
            env = dict(target.rfc8441.on) if tls else {}
            try:
                handle = stack.enter_context(target.start(
                    app, 0, cert.cert if tls else None, cert.key if tls else None,
                    env=env, protocol=protocols[0]))
            except (TargetUnavailable, OSError) as exc:
                failed = True
                print(f"probes: {target.name} {key}: COULD NOT RUN: {exc}", flush=True)
                for protocol in protocols:
                    if protocol in TRANSPORTS:
                        error_result("probes", TRANSPORTS[protocol], target.name,
                                     {"name": "blackbull-probes", "version": "1"},
                                     f"{target.name} could not start: {exc}"[:2000]).write(
                            args.out_dir, f"probes-{target.name}-{TRANSPORTS[protocol]}")
                continue
            urls += urls_for(handle, protocols)
        code = 0
        if urls:
            cmd = [sys.executable, "-m", "conformance.probes", "--insecure",
                   "--out-dir", str(args.out_dir)]
            for url in urls:
                cmd += ["--url", url, "--name", target.name]
            for only in args.only:
                cmd += ["--only", only]
            code = subprocess.run(cmd, check=False).returncode
    return 2 if failed and code == 0 else code


if __name__ == "__main__":
    sys.exit(main())
