"""End-to-end smoke test of ``python -m bench`` on the bare ceiling server (no venvs)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_writes_the_schema_1_envelope(tmp_path: Path) -> None:
    """One short round of HTTP/1.1 (wrk) and WebSocket echo against the bare server."""
    assert shutil.which("wrk"), "wrk is not installed (scripts/install-tools.sh)"
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "http1,ws", "--servers", "bare",
         "--duration", "1", "--warmup", "0", "--no-install", "--output", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(out.read_text())
    assert (data["schema"], data["suite"], data["status"]) == (1, "bench", "ok")
    rows = {(r["benchmark"], r["server"]): r for r in data["results"]}
    assert set(rows) == {("http1", "bare"), ("ws", "bare")}
    for row in rows.values():
        assert row["median"] and row["median"] > 0
        assert row["errors"] == 0
    assert "== http1:" in proc.stdout and "== ws:" in proc.stdout


def test_unknown_benchmark_is_refused() -> None:
    proc = subprocess.run([sys.executable, "-m", "bench", "--only", "nope"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "unknown benchmark 'nope'" in proc.stderr
