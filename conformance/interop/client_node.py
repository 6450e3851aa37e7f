"""Matrix client ``node``: Node.js ``http2`` (nghttp2) driving :file:`node_client.mjs`."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

from conformance.interop.endpoint import Endpoint
from conformance.interop.scenarios import SCENARIOS, Outcome

NAME = "node"
SCRIPT = Path(__file__).with_name("node_client.mjs")
RUN_TIMEOUT = 300.0
Verdicts = dict[str, tuple[Outcome, str]]


def node_binary() -> str | None:
    return shutil.which("node")


async def run_cell(ep: Endpoint, report_dir: Path) -> Verdicts:
    """Every scenario's verdict for Node.js × ``ep``; no output is an error, never a pass."""
    binary = node_binary()
    if binary is None:
        return {s.id: (Outcome.ERROR, "node is not installed") for s in SCENARIOS}
    # "-": no extra CA (the system store); NODE_CLIENT_INSECURE: do not verify at all.
    proc = await asyncio.create_subprocess_exec(
        binary, str(SCRIPT), str(ep.port), ep.ca_file or "-", str(ep.no_setting_port or "-"),
        ep.server_name, ep.ws_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "NO_SETTING_REASON": ep.no_setting_reason,
             "NODE_CLIENT_INSECURE": "1" if ep.insecure else ""})
    try:
        out, err = await asyncio.wait_for(proc.communicate(), RUN_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return {s.id: (Outcome.ERROR, "node client timed out") for s in SCENARIOS}
    try:
        data = json.loads(out.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        why = f"node client printed no result (exit {proc.returncode}): {err.decode()[-300:]}"
        return {s.id: (Outcome.ERROR, why) for s in SCENARIOS}
    verdicts: Verdicts = {}
    for scenario in SCENARIOS:
        entry = data.get(scenario.id)
        if not isinstance(entry, dict):
            verdicts[scenario.id] = (Outcome.ERROR, "not reported by the node client")
            continue
        status = {"pass": Outcome.PASS, "not-supported": Outcome.NOT_APPLICABLE}.get(
            entry.get("status"), Outcome.FAIL)
        verdicts[scenario.id] = (status, str(entry.get("message", "")))
    return verdicts
