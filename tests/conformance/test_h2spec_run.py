"""The h2spec harness end to end against real servers (hypercorn, uvicorn, nothing)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.h2spec.binary import locate
from conformance.h2spec.runner import VARIANTS, RunOptions, run, run_variant
from conformance.targets import REPO_ROOT, free_port


@pytest.fixture(scope="module")
def hypercorn_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """All four variants against hypercorn 0.18, through the command line."""
    out = tmp_path_factory.mktemp("raw")
    proc = subprocess.run([sys.executable, "-m", "conformance.h2spec", "--target", "hypercorn",
                           "--out", str(out)], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    files = {p.name: json.loads(p.read_text()) for p in out.glob("*.json")}
    return {data["variant"]: data for data in files.values()}


def test_hypercorn_writes_one_schema1_file_per_variant(hypercorn_results: dict) -> None:
    assert set(hypercorn_results) == set(VARIANTS)
    for data in hypercorn_results.values():
        assert data["schema"] == 1 and data["suite"] == "h2spec"
        assert data["target"] == "hypercorn" and data["status"] == "ok"
        assert data["tool"]["name"] == "h2spec" and data["tool"]["version"]
        assert data["summary"]["total"] == len(data["cases"]) > 100


def test_hypercorn_passes_every_case_over_tls(hypercorn_results: dict) -> None:
    """RFC 9113 §3.2: over TLS + ALPN h2 hypercorn passes all cases (DESIGN.md anchor)."""
    for variant in ("tls", "tls-strict"):
        summary = hypercorn_results[variant]["summary"]
        assert summary["pass"] == summary["total"], variant


def test_hypercorn_fails_only_the_invalid_preface_on_h2c(hypercorn_results: dict) -> None:
    """RFC 9113 §3.4: on h2c hypercorn answers a bad preface with HTTP/1.1 400 (http2/3.5/2)."""
    for variant in ("h2c", "h2c-strict"):
        failed = [c for c in hypercorn_results[variant]["cases"] if c["status"] != "pass"]
        assert [(c["id"], c["rfc"], c["section"], c["rfc7540_section"]) for c in failed] == [
            ("http2/3.5/2", "RFC 9113", "3.4", "3.5")]
        assert failed[0]["message"]


def test_strict_runs_more_cases_than_normal(hypercorn_results: dict) -> None:
    assert hypercorn_results["h2c-strict"]["summary"]["total"] > \
        hypercorn_results["h2c"]["summary"]["total"]


def test_target_without_http2_is_not_supported_not_failed(tmp_path: Path) -> None:
    """RFC 9113 §3: uvicorn has no HTTP/2, so every case is 'not-supported'."""
    results = run("uvicorn", ["h2c", "tls"], RunOptions(out_dir=tmp_path))
    for result in results:
        assert result.status == "ok"
        assert result.summary["not-supported"] == result.summary["total"] > 0
        assert result.summary["pass"] == result.summary["fail"] == 0
    assert len(list(tmp_path.glob("*.json"))) == 2


@dataclass
class _Nowhere:
    """A server address nobody listens on (h2spec gets connection refused)."""

    host: str
    port: int


def test_unreachable_server_is_an_error_never_a_pass(tmp_path: Path) -> None:
    result = run_variant(locate(), _Nowhere("127.0.0.1", free_port()), VARIANTS["h2c"],
                         "nobody", RunOptions(out_dir=tmp_path))
    assert result.status == "error"
    assert result.cases == [] and result.summary["pass"] == 0
    assert "connection refused" in result.message.lower() or "junit" in result.message.lower()
