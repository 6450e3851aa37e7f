"""Client-mode run: ``wstest -m fuzzingserver`` listens, our client driver connects.

The suite grades the *client* (RFC 6455 §5.3 masking, §5.5 control frames,
§7 closing as the client, RFC 7692 as the offering side).  The report lands in
``reports/clients/index.json`` of the run directory, keyed by the agent name
the driver passes to ``/runCase``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.autobahn.fuzz import (
    WSTEST_TIMEOUT,
    expected_cases,
    not_supported,
    server_spec,
)
from conformance.autobahn.results import RunInfo, base_document, convert
from conformance.autobahn.runners import Runner
from conformance.targets import REPO_ROOT, TargetUnavailable, free_port
from conformance.targets.base import make_tls_cert, wait_for_port

if TYPE_CHECKING:
    from conformance.autobahn.fuzz import RunOptions

CLIENT_DRIVERS = ("blackbull", "websockets")


def run_client_mode(opts: RunOptions, runner: Runner, workdir: Path,
                    info: RunInfo) -> dict[str, Any]:
    """Start the fuzzingserver, drive the client through every case, convert the report."""
    expected = expected_cases(runner, opts)
    if opts.target not in CLIENT_DRIVERS:
        return not_supported(info, expected, f"no WebSocket client driver for {opts.target!r}")
    port = free_port()
    scheme = "wss" if opts.tls else "ws"
    spec = server_spec(f"{scheme}://127.0.0.1:{port}", opts.cases, opts.exclude)
    driver_args: list[str] = []
    if opts.tls:
        cert = make_tls_cert(workdir / "tls")
        # Relative paths: wstest runs in workdir (mounted as /work for docker).
        spec["key"], spec["cert"] = "tls/server.key", "tls/server.pem"
        driver_args = ["--cafile", str(cert.ca)]
    (workdir / "fuzzingserver.json").write_text(json.dumps(spec, indent=2))
    log = open(workdir / "wstest.log", "wb")  # noqa: SIM115 - closed in finally
    server = subprocess.Popen(runner.argv("fuzzingserver", "fuzzingserver.json", "-u", "0"),
                              cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_port("127.0.0.1", port, server, 60)
        opts.log(f"fuzzingserver at {scheme}://127.0.0.1:{port} (pid {server.pid}); driving {opts.target}")
        driver = subprocess.run(
            [sys.executable, "-m", "conformance.autobahn.client_driver", "--url",
             f"{scheme}://127.0.0.1:{port}", "--agent", opts.target, "--client", opts.target,
             *driver_args],
            cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            capture_output=True, text=True, timeout=WSTEST_TIMEOUT)
        (workdir / "driver.log").write_text(driver.stdout + driver.stderr)
    except TargetUnavailable as exc:
        return base_document(info, status="error", message=f"fuzzingserver did not start: {exc}")
    finally:
        _stop(server)
        log.close()
    index = workdir / "reports" / "clients" / "index.json"
    if not index.exists():
        return base_document(info, status="error",
                             message=f"no {index} (driver exit {driver.returncode}); see {workdir}")
    doc = convert(index, opts.target, expected, info)
    if driver.returncode != 0:
        doc["message"] = f"client driver exited {driver.returncode}: {driver.stderr[-500:]}"
    doc["workdir"] = str(workdir)
    return doc


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End the fuzzingserver we started (its own process group), politely first."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        except ProcessLookupError:
            pass
