"""Matrix client ``chromium``: headless Chromium runs :mod:`conformance.interop.page`
against the server under test and reports back through ``POST /report``."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import tempfile
from pathlib import Path

from conformance.interop.endpoint import Endpoint
from conformance.interop.scenarios import SCENARIOS, Outcome

NAME = "chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--ignore-certificate-errors", "--disable-dev-shm-usage")
RUN_TIMEOUT = 180.0
Verdicts = dict[str, tuple[Outcome, str]]


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


async def _browse(url: str, report: Path, timeout: float) -> dict | None:
    """Open ``url`` in a fresh headless profile; the page's JSON report, or None."""
    binary = chromium_binary()
    assert binary is not None
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        proc = await asyncio.create_subprocess_exec(
            binary, *FLAGS, f"--user-data-dir={profile}", url,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True)
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while loop.time() < deadline and not report.exists():
                if proc.returncode is not None:
                    break
                await asyncio.sleep(0.2)
            return json.loads(report.read_text()) if report.exists() else None
        finally:
            if proc.returncode is None:
                # The browser and its helpers form the process group we started.
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), 10)
                except TimeoutError:
                    os.killpg(proc.pid, signal.SIGKILL)
                    await proc.wait()


async def run_cell(ep: Endpoint, report_dir: Path) -> Verdicts:
    """Every scenario's verdict for Chromium × ``ep``; a missing report is an error."""
    if chromium_binary() is None:
        return {s.id: (Outcome.ERROR, "chromium is not installed") for s in SCENARIOS}
    run = f"chromium-{ep.name}"
    data = await _browse(f"https://localhost:{ep.port}/?run={run}",
                         report_dir / f"{run}.json", RUN_TIMEOUT)
    verdicts: Verdicts = {}
    for scenario in SCENARIOS:
        if scenario.id == "no-setting-refused":
            continue
        entry = (data or {}).get(scenario.id)
        if not isinstance(entry, dict):
            verdicts[scenario.id] = (Outcome.ERROR, "the page reported nothing for this "
                                     "scenario" if data else "no report from the page")
            continue
        status = {"pass": Outcome.PASS, "not-supported": Outcome.NOT_APPLICABLE}.get(
            entry.get("status"), Outcome.FAIL)
        verdicts[scenario.id] = (status, str(entry.get("message", "")))
    verdicts["no-setting-refused"] = await _no_setting(ep, report_dir)
    return verdicts


async def _no_setting(ep: Endpoint, report_dir: Path) -> tuple[Outcome, str]:
    """RFC 8441 §3: without the setting the browser must not send :protocol; it falls
    back to an HTTP/1.1 WebSocket, which the app sees as http_version 1.1."""
    if ep.no_setting_port is None:
        return Outcome.NOT_APPLICABLE, ep.no_setting_reason
    run = f"chromium-{ep.name}-nosetting"
    data = await _browse(f"https://localhost:{ep.no_setting_port}/?run={run}&only=version",
                         report_dir / f"{run}.json", 60.0)
    if data is None:
        return Outcome.ERROR, "no report from the page"
    seen = data.get("version_seen")
    if seen == "version:2":
        return Outcome.FAIL, "the WebSocket rode HTTP/2 although the setting was not sent"
    if seen is None:
        return Outcome.FAIL, f"no WebSocket at all: {data.get('version', {}).get('message')}"
    return Outcome.PASS, f"no extended CONNECT; the browser fell back ({seen})"
