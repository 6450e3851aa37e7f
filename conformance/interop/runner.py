"""Run the RFC 8441 matrix (clients × servers × scenarios) and write its result file.

Every cell is real traffic on loopback. A scenario one end cannot perform is
``not-supported`` with the reason; one that could not run is ``error``; neither is ever
a pass. The result follows conformance/RESULTS.md (suite ``rfc8441-matrix``), each case
named ``<client>×<server>/<scenario>`` and carrying ``client``/``server`` for the
report's matrix table.
"""
from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path

from conformance.interop import client_blackbull, client_chromium, client_h2raw
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
CLIENTS = ("blackbull", "h2-raw", "chromium")
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
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return Outcome.FAIL, (f"{type(exc).__name__}: {exc} "
                              f"(at {Path(where.filename).name}:{where.lineno})")
    return Outcome.PASS, ""


async def run_client(client: str, ep: Endpoint, report_dir: Path) -> Verdicts:
    if client == "chromium":
        return await client_chromium.run_cell(ep, report_dir)
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
                     workdir: Path) -> SuiteResult:
    started, t0 = utc_now(), time.monotonic()
    result = SuiteResult(SUITE, "tls", "blackbull",
                         {"name": "rfc8441-matrix", "version": "1", "runner": "python"},
                         started=started)
    with servers(server_names, workdir) as running:
        for server in server_names:
            ep = running.endpoints.get(server)
            for client in clients:
                if ep is None:
                    reason = running.unavailable.get(server, "server did not start")
                    verdicts: Verdicts = {s.id: (Outcome.ERROR, reason) for s in SCENARIOS}
                else:
                    verdicts = await run_client(client, ep, running.report_dir)
                result.cases += cases_for(client, server, verdicts)
                print(f"{client}×{server}: " + ", ".join(
                    f"{k}={v[0].value}" for k, v in verdicts.items()), flush=True)
    result.duration_s = round(time.monotonic() - t0, 1)
    result.extra["peers"] = peer_versions()
    return result


def peer_versions() -> dict[str, str]:
    """Versions of the independent implementations in the matrix (provenance)."""
    import importlib.metadata as metadata
    import subprocess

    versions = {}
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


def write(result: SuiteResult, out: Path) -> Path:
    return result.write(out.parent, out.stem)


def main_async(clients: tuple[str, ...], server_names: tuple[str, ...], workdir: Path,
               out: Path) -> SuiteResult:
    try:
        result = asyncio.run(run_matrix(clients, server_names, workdir))
    except Exception as exc:  # the harness itself broke: say so, never a pass
        result = SuiteResult(SUITE, "tls", "blackbull", {"name": "rfc8441-matrix"},
                             status="error", message=f"{type(exc).__name__}: {exc}")
    write(result, out)
    return result


__all__ = ["CLIENTS", "SERVERS", "main_async", "run_matrix", "write"]
