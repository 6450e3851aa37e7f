"""One Autobahn run: start the server under test, run ``wstest``, convert its report.

Server mode (``fuzzingclient``): the suite connects to our target and expects
every message echoed.  Client mode (``fuzzingserver``): the suite listens and a
driver script connects as the client under test (see ``client_driver.py``).
Every outcome, including "could not run", ends as a result file.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conformance.autobahn.results import RunInfo, base_document, convert, resolve_patterns
from conformance.autobahn.runners import (
    SUITE_VERSION,
    Runner,
    RunnerUnavailable,
    prepare_runner,
    select_runner,
)
from conformance.h2bridge import hook as h2bridge_hook  # the h2-bridge variant (RFC 8441)
from conformance.targets import REPO_ROOT, Protocol, TargetUnavailable, free_port, get_target
from conformance.targets.base import CACHE_DIR, ServerHandle, make_tls_cert

HERE = Path(__file__).resolve().parent
ECHO_APP = "conformance.autobahn.echo_app:app"
WSTEST_TIMEOUT = 3600.0   # all 517 cases take ~10 min on 2 cores; leave room for slow targets


@dataclass
class RunOptions:
    target: str
    tls: bool = False
    cases: Sequence[str] = ("*",)
    exclude: Sequence[str] = ()
    runner: str | None = None
    mode: str = "server"            # server: fuzzingclient vs our server; client: fuzzingserver
    app: str = ECHO_APP
    out: Path | None = None
    h2_bridge: bool = False         # reach the server through conformance/h2bridge (RFC 8441)
    log: Callable[[str], None] = field(default=lambda msg: print(msg, file=sys.stderr))

    @property
    def variant(self) -> str:
        if self.mode == "client":
            return "client"
        if self.h2_bridge:
            return h2bridge_hook.variant(self.tls)
        return "wss" if self.tls else "ws"

    def default_out(self) -> Path:
        return REPO_ROOT / "reports" / "raw" / f"autobahn-{self.target}-{self.variant}.json"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_workdir(opts: RunOptions) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    workdir = CACHE_DIR / "autobahn" / "runs" / f"{opts.target}-{opts.variant}-{stamp}-{time.monotonic_ns() % 10**6}"
    workdir.mkdir(parents=True)
    return workdir


def client_spec(agent: str, url: str, cases: Sequence[str], exclude: Sequence[str]) -> dict[str, Any]:
    """The fuzzingclient spec: our template with this run's server and cases."""
    spec = json.loads((HERE / "fuzzingclient.json").read_text())
    spec["servers"] = [{"agent": agent, "url": url}]
    spec["cases"] = list(cases)
    spec["exclude-cases"] = list(exclude)
    return spec


def server_spec(url: str, cases: Sequence[str], exclude: Sequence[str]) -> dict[str, Any]:
    """The fuzzingserver spec (client mode): listen on *url*."""
    spec = json.loads((HERE / "fuzzingserver.json").read_text())
    spec["url"] = url
    spec["cases"] = list(cases)
    spec["exclude-cases"] = list(exclude)
    return spec


def write_result(doc: dict[str, Any], out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    return out


def run(opts: RunOptions) -> dict[str, Any]:
    """Run the suite as *opts* says; always returns (and writes) a result document."""
    started, t0 = _now(), time.monotonic()
    info = RunInfo(opts.target, opts.variant, opts.runner or "", SUITE_VERSION, started, 0.0)
    try:
        selection = select_runner(opts.runner)
        for skipped, why in selection.reasons.items():
            opts.log(f"runner {skipped} skipped: {why}")
        opts.log(f"runner: {selection.name}")
        workdir = make_workdir(opts)
        runner = prepare_runner(selection.name, workdir)
        info = RunInfo(opts.target, opts.variant, runner.name, runner.version, started, 0.0)
        if opts.mode == "client":
            from conformance.autobahn.client_mode import run_client_mode

            doc = run_client_mode(opts, runner, workdir, info)
        else:
            doc = _run_server_mode(opts, runner, workdir, info)
    except (RunnerUnavailable, TargetUnavailable, OSError, subprocess.SubprocessError) as exc:
        doc = base_document(info, status="error", message=str(exc))
    doc["duration_s"] = round(time.monotonic() - t0, 3)
    write_result(doc, opts.out or opts.default_out())
    return doc


def expected_cases(runner: Runner, opts: RunOptions) -> list[str] | None:
    all_ids = runner.case_ids()
    if all_ids is None:
        return None
    return resolve_patterns(all_ids, opts.cases, opts.exclude)


def not_supported(info: RunInfo, ids: Sequence[str] | None, why: str) -> dict[str, Any]:
    """Every requested case as ``not-supported``: the target does not speak this protocol."""
    from conformance.autobahn.results import rfc_section, summarize

    doc = base_document(info, message=why)
    doc["cases"] = [{"id": i, "rfc": rfc_section(i)[0], "section": rfc_section(i)[1],
                     "group": i.split(".")[0], "description": "", "status": "not-supported",
                     "message": why} for i in (ids or [])]
    doc["summary"] = summarize(doc["cases"])
    return doc


def _run_server_mode(opts: RunOptions, runner: Runner, workdir: Path,
                     info: RunInfo) -> dict[str, Any]:
    target = get_target(opts.target)
    expected = expected_cases(runner, opts)
    protocol = Protocol.WSS if opts.tls else Protocol.WS
    if opts.h2_bridge:
        protocol = Protocol.WS_OVER_H2
    if not target.supports(protocol):
        return not_supported(info, expected, f"{target.name} does not serve {protocol.value}")
    cert = make_tls_cert(workdir / "tls") if opts.tls else None
    env = h2bridge_hook.SERVER_ENV if opts.h2_bridge else None
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(_start(target.name, opts.app, cert, env))
        url = stack.enter_context(h2bridge_hook.fuzz_url(server, cert, workdir)) \
            if opts.h2_bridge else server.url("ws")
        spec = client_spec(opts.target, url, opts.cases, opts.exclude)
        (workdir / "fuzzingclient.json").write_text(json.dumps(spec, indent=2))
        opts.log(f"{target.name} listening at {url} (pid {server.pid}); running wstest")
        code = run_wstest(runner, ["fuzzingclient", "fuzzingclient.json"], workdir)
        alive = server.running
    index = workdir / "reports" / "servers" / "index.json"
    if not index.exists():
        return base_document(info, status="error",
                             message=f"wstest exited {code} without writing {index}; see {workdir}/wstest.log")
    doc = convert(index, opts.target, expected, info)
    problems = []
    if code != 0:
        problems.append(f"wstest exited {code} (see {workdir}/wstest.log)")
    if not alive:
        problems.append("the server under test exited during the run")
    if problems:
        doc["message"] = "; ".join(problems)
    doc["workdir"] = str(workdir)
    return doc


def _start(name: str, app: str, cert: Any, env: dict[str, str] | None = None) -> ServerHandle:
    target = get_target(name)
    if cert is None:
        return target.start(app, free_port(), env=env)
    return target.start(app, free_port(), tls_cert=cert.cert, tls_key=cert.key, env=env)


def run_wstest(runner: Runner, mode_and_spec: Sequence[str], workdir: Path,
               extra: Sequence[str] = (), timeout: float = WSTEST_TIMEOUT) -> int:
    """Run wstest in *workdir* (its report paths are relative to it); output to wstest.log."""
    mode, spec = mode_and_spec
    with open(workdir / "wstest.log", "wb") as log:
        try:
            proc = subprocess.run(runner.argv(mode, spec, *extra), cwd=workdir, stdout=log,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return -1
    return proc.returncode
