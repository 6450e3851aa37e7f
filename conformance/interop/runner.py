"""Run the RFC 8441 matrix (clients × servers × scenarios) and write its result file.

Every cell is real traffic on loopback. A scenario one end cannot perform is
``not-supported`` with the reason; one that could not run is ``error``; neither is ever
a pass. The results follow conformance/RESULTS.md (suite ``rfc8441-matrix``): one file per server
(``<out>-<server>.json``, target = that server), each case named
``<client>×<server>/<scenario>`` and carrying ``client``/``server`` for the report's
matrix table.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from conformance.interop import client_blackbull, client_chromium, client_h2raw, client_node
from conformance.interop.endpoint import Endpoint
from conformance.interop.scenarios import (
    BY_ID,
    SCENARIOS,
    NotApplicable,
    Outcome,
    ScenarioFailed,
)
from conformance.interop.servers import SERVERS, servers
from conformance.report.schema import CaseResult, SuiteResult, utc_now

SUITE = "rfc8441-matrix"
CLIENTS = ("blackbull", "h2-raw", "node", "chromium")
#: Clients that cannot test a --url server whose certificate the run did not make.
#: Clients that cannot test a server the run did not start (``--url``), and why.
EXTERNAL_UNSUPPORTED = {
    "chromium": "the Chromium scenarios load the interop app's page from the server "
                "(conformance/interop/app.py), which a --url server does not serve",
}
SCENARIO_TIMEOUT = 60.0
Verdicts = dict[str, tuple[Outcome, str]]
ScenarioFn = Callable[[Endpoint], Awaitable[None]]


async def run_scenario(fn: ScenarioFn, ep: Endpoint) -> tuple[Outcome, str]:
    """One scenario → its verdict; exceptions become fail (peer misbehaved) or error."""
    try:
        await asyncio.wait_for(fn(ep), SCENARIO_TIMEOUT)
    except NotApplicable as exc:
        return Outcome.NOT_APPLICABLE, str(exc)
    except ScenarioFailed as exc:
        return Outcome.FAIL, str(exc)
    except TimeoutError:
        return Outcome.FAIL, f"no progress within {SCENARIO_TIMEOUT:.0f}s (timeout)"
    except Exception as exc:  # a refused handshake, a reset, a dropped connection
        return Outcome.FAIL, f"{type(exc).__name__}: {exc}"
    return Outcome.PASS, ""


async def run_client(client: str, ep: Endpoint, report_dir: Path) -> Verdicts:
    if client == "chromium":
        return await client_chromium.run_cell(ep, report_dir)
    if client == "node":
        return await client_node.run_cell(ep, report_dir)
    table = {"blackbull": client_blackbull.SCENARIOS, "h2-raw": client_h2raw.SCENARIOS}[client]
    return {name: await run_scenario(fn, ep) for name, fn in table.items()}


def cases_for(client: str, server: str, verdicts: Verdicts) -> list[CaseResult]:
    out = []
    for scenario in SCENARIOS:
        outcome, message = verdicts.get(scenario.id, (Outcome.ERROR, "not run"))
        out.append(CaseResult(
            id=f"{client}×{server}/{scenario.id}", status=outcome.value, rfc=scenario.rfc,
            section=scenario.section, description=BY_ID[scenario.id].description,
            message=message, extra={"client": client, "server": server}))
    return out


async def run_matrix(clients: tuple[str, ...], server_names: tuple[str, ...],
                     workdir: Path) -> list[SuiteResult]:
    """One result per server (its ``target``), each holding every client's cells, so the
    report compares servers while its matrix table reads client/server from the cases."""
    t0 = time.monotonic()
    results = {name: SuiteResult(SUITE, "tls", name, {"name": "rfc8441-matrix", "version": "1",
                                                      "runner": "python"}, started=utc_now())
               for name in server_names}
    with servers(server_names, workdir) as running:
        for server in server_names:
            ep = running.endpoints.get(server)
            t_server = time.monotonic()
            for client in clients:
                if server in running.not_supported:
                    reason = running.not_supported[server]
                    verdicts: Verdicts = {s.id: (Outcome.NOT_APPLICABLE, reason)
                                          for s in SCENARIOS}
                elif ep is None:
                    reason = running.unavailable.get(server, "server did not start")
                    verdicts = {s.id: (Outcome.ERROR, reason) for s in SCENARIOS}
                elif ep.external and client in EXTERNAL_UNSUPPORTED:
                    verdicts = {s.id: (Outcome.NOT_APPLICABLE, EXTERNAL_UNSUPPORTED[client])
                                for s in SCENARIOS}
                else:
                    verdicts = await run_client(client, ep, running.report_dir)
                results[server].cases += cases_for(client, server, verdicts)
                print(f"{client}×{server}: " + ", ".join(
                    f"{k}={v[0].value}" for k, v in verdicts.items()), flush=True)
            results[server].duration_s = round(time.monotonic() - t_server, 1)
            if server in running.not_supported:
                results[server].message = running.not_supported[server]
                results[server].extra["supported"] = False
            elif ep is None:
                # The server never ran: the run is an error (red banner), not an ok run
                # whose cases happen to be errors.
                results[server].status = "error"
                results[server].message = running.unavailable.get(server, "did not start")
    peers = peer_versions()
    for result in results.values():
        result.extra["peers"] = peers
        result.extra["clients"] = list(clients)
    print(f"matrix done in {time.monotonic() - t0:.1f}s", flush=True)
    return list(results.values())


def peer_versions() -> dict[str, str]:
    """Versions of the independent implementations in the matrix (provenance)."""
    import importlib.metadata as metadata
    import subprocess

    versions = {}
    try:
        versions["node"] = subprocess.run(["node", "--version"], capture_output=True, text=True,
                                          timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        versions["node"] = "not installed"
    for dist in ("hypercorn", "h2", "wsproto"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    binary = client_chromium.chromium_binary()
    try:
        versions["chromium"] = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=30
        ).stdout.strip() if binary else "not installed"
    except (OSError, subprocess.SubprocessError):
        versions["chromium"] = "unknown"
    versions["blackbull081"] = "0.81.0 (PyPI, .cache/venvs/blackbull081)"
    return versions


def write_all(results: list[SuiteResult], out: Path) -> list[Path]:
    """``<out stem>-<server>.json`` per server, next to ``out``."""
    return [r.write(out.parent, f"{out.stem}-{r.target}") for r in results]


def main_async(clients: tuple[str, ...], server_names: tuple[str, ...], workdir: Path,
               out: Path) -> list[SuiteResult]:
    try:
        results = asyncio.run(run_matrix(clients, server_names, workdir))
    except Exception as exc:  # the harness itself broke: say so, never a pass
        results = [SuiteResult(SUITE, "tls", "blackbull", {"name": "rfc8441-matrix"},
                               status="error", message=f"{type(exc).__name__}: {exc}")]
        results[0].write(out.parent, out.stem)
        return results
    write_all(results, out)
    return results


__all__ = ["CLIENTS", "SERVERS", "main_async", "run_matrix", "write_all"]
