"""Sharded Autobahn runs: the chunk plan covers every case once, and the merged report is
the one a single wstest would have written, case for case."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.autobahn.results import RunInfo, convert, resolve_patterns
from conformance.autobahn.shards import (
    MergeError,
    case_times_from_index,
    case_weight,
    merge_indexes,
    plan_chunks,
    record_case_times,
)

ROOT = Path(__file__).resolve().parents[2]
INFO = RunInfo("demo", "ws", "python2.7", "25.10.1", "2026-11-21T07:00:00Z", 1.0)

#: The suite's 517 ids, built from its group layout (same order as wstest lists them).
ALL_IDS = (
    [f"1.{a}.{b}" for a in (1, 2) for b in range(1, 9)] + [f"2.{i}" for i in range(1, 12)]
    + [f"3.{i}" for i in range(1, 8)] + [f"4.{a}.{b}" for a in (1, 2) for b in range(1, 6)]
    + [f"5.{i}" for i in range(1, 21)]
    + [f"6.{a}.{b}" for a, n in ((1, 3), (2, 4), (3, 2), (4, 4), (5, 5), (6, 11), (7, 4),
                                 (8, 2), (9, 4), (10, 3), (11, 5), (12, 8), (13, 5), (14, 10),
                                 (15, 1), (16, 3), (17, 5), (18, 5), (19, 5), (20, 7), (21, 8),
                                 (22, 34), (23, 7)) for b in range(1, n + 1)]
    + [f"7.{a}.{b}" for a, n in ((1, 6), (3, 6), (5, 1), (7, 13), (9, 9), (13, 2))
       for b in range(1, n + 1)]
    + [f"9.{a}.{b}" for a, n in ((1, 6), (2, 6), (3, 9), (4, 9), (5, 6), (6, 6), (7, 6),
                                 (8, 6)) for b in range(1, n + 1)]
    + ["10.1.1"]
    + [f"{g}.{a}.{b}" for g, m in ((12, 5), (13, 7)) for a in range(1, m + 1)
       for b in range(1, 19)]
)

BEHAVIORS = [("OK", "OK"), ("INFORMATIONAL", "OK"), ("NON-STRICT", "OK"), ("FAILED", "OK"),
             ("OK", "WRONG CODE"), ("UNIMPLEMENTED", "OK"), ("OK", "UNCLEAN")]


def test_the_layout_above_is_the_suites_517_cases() -> None:
    assert len(ALL_IDS) == len(set(ALL_IDS)) == 517


@pytest.mark.parametrize("workers", [2, 3, 4])
def test_every_case_lands_in_exactly_one_chunk_in_suite_order(workers: int) -> None:
    chunks = plan_chunks(ALL_IDS, workers)
    flat = [cid for chunk in chunks for cid in chunk]
    assert sorted(flat) == sorted(ALL_IDS) and len(flat) == len(ALL_IDS)
    order = {cid: i for i, cid in enumerate(ALL_IDS)}
    for chunk in chunks:
        assert [order[c] for c in chunk] == sorted(order[c] for c in chunk)
    assert len(chunks) > workers  # a queue to balance, not a fixed split


def test_chunks_shrink_so_workers_finish_together() -> None:
    weights = [sum(case_weight(c) for c in chunk) for chunk in plan_chunks(ALL_IDS, 2)]
    assert weights[0] == max(weights)
    assert weights[0] < sum(weights) / 2       # no single chunk dominates the run
    assert weights[-1] < weights[0] / 5        # the tail is fine-grained


def test_one_worker_or_one_case_is_one_chunk() -> None:
    assert plan_chunks(ALL_IDS, 1) == [ALL_IDS]
    assert plan_chunks(["1.1.1"], 2) == [["1.1.1"]]
    assert plan_chunks([], 2) == []
    with pytest.raises(ValueError):
        plan_chunks(["1.1.1", "1.1.1"], 2)


def test_deflate_cases_weigh_by_message_size() -> None:
    assert case_weight("12.3.10") > case_weight("12.3.9") > case_weight("12.3.1")
    assert case_weight("12.3.15") > case_weight("12.3.10")        # 256-octet fragments
    assert case_weight("12.3.18") > case_weight("12.4.18")        # text costs more than html
    assert case_weight("1.1.1") < case_weight("9.1.6") < case_weight("13.1.10")


def test_measured_case_times_order_the_chunks_over_the_cost_model() -> None:
    """A case the table measures as the slowest goes first, whatever the model says."""
    times = {cid: 0.01 for cid in ALL_IDS}
    times["1.1.1"] = 500.0  # the model says 0.05 s
    chunks = plan_chunks(ALL_IDS, 2, times=times)
    assert chunks[0] == ["1.1.1"]  # alone: it is more than a chunk's share
    flat = sorted(cid for chunk in chunks for cid in chunk)
    assert flat == sorted(ALL_IDS)
    # Cases missing from the table fall back to the model.
    partial = plan_chunks(ALL_IDS, 2, times={"1.1.1": 500.0})
    assert partial[0] == ["1.1.1"] and "12.3.15" in partial[1]


def test_a_run_records_its_case_times_and_the_next_plan_reads_them(tmp_path: Path) -> None:
    index = _write_report(tmp_path / "r", {"1.1.1": _entry("1.1.1", 0),
                                           "12.1.1": {**_entry("12.1.1", 1), "duration": 2500}})
    assert case_times_from_index(index) == {"1.1.1": 0.01, "12.1.1": 2.5}
    path = record_case_times(index, "demo", tmp_path / "times")
    index2 = _write_report(tmp_path / "r2", {"1.1.1": {**_entry("1.1.1", 0), "duration": 40}})
    record_case_times(index2, "demo", tmp_path / "times")  # newest measurement wins
    assert json.loads(path.read_text())["seconds"] == {"1.1.1": 0.04, "12.1.1": 2.5}


def _entry(case_id: str, n: int) -> dict[str, Any]:
    behavior, close = BEHAVIORS[n % len(BEHAVIORS)]
    return {"behavior": behavior, "behaviorClose": close, "duration": 10 + n,
            "remoteCloseCode": 1000 if n % 3 else None,
            "reportfile": f"demo_case_{case_id.replace('.', '_')}.json"}


def _write_report(directory: Path, entries: dict[str, dict[str, Any]]) -> Path:
    """A report directory as wstest writes it: index.json, a .json and .html per case."""
    directory.mkdir(parents=True)
    for case_id, entry in entries.items():
        name = entry["reportfile"]
        (directory / name).write_text(json.dumps({
            "description": f"description of {case_id}", "result": f"result {case_id}",
            "resultClose": f"close {case_id}"}))
        (directory / name.replace(".json", ".html")).write_text(f"<p>{case_id}</p>")
    path = directory / "index.json"
    path.write_text(json.dumps({"demo": entries}))
    return path


def test_merged_chunks_convert_to_the_same_document_as_one_run(tmp_path: Path) -> None:
    """Every case keeps its id, behaviours, duration, close code and description."""
    entries = {cid: _entry(cid, n) for n, cid in enumerate(ALL_IDS)}
    single = _write_report(tmp_path / "single", entries)
    chunk_indexes = [
        _write_report(tmp_path / "chunks" / f"{n:03d}" / "reports" / "servers",
                      {cid: entries[cid] for cid in chunk})
        for n, chunk in enumerate(plan_chunks(ALL_IDS, 2))]
    assert len(chunk_indexes) > 2
    merged = merge_indexes(chunk_indexes, tmp_path / "merged")

    assert json.loads(merged.read_text()) == json.loads(single.read_text())
    expected = resolve_patterns(ALL_IDS, ["*"])
    one, many = convert(single, "demo", expected, INFO), convert(merged, "demo", expected, INFO)
    assert one == many
    assert [c["id"] for c in many["cases"]] == ALL_IDS
    assert many["summary"]["total"] == 517 and many["summary"]["error"] == 0
    assert all(c["description"] == f"description of {c['id']}" for c in many["cases"])
    # The case files moved next to the merged index, the HTML twins too.
    assert sorted(p.name for p in (tmp_path / "merged").iterdir()) == \
        sorted(p.name for p in (tmp_path / "single").iterdir())


def test_a_chunk_that_did_not_report_leaves_its_cases_as_errors(tmp_path: Path) -> None:
    entries = {cid: _entry(cid, 0) for cid in ALL_IDS[:40]}
    chunks = plan_chunks(ALL_IDS[:40], 2, min_chunk_s=0.5)
    present = _write_report(tmp_path / "a", {cid: entries[cid] for cid in chunks[0]})
    merged = merge_indexes([present], tmp_path / "merged")
    doc = convert(merged, "demo", ALL_IDS[:40], INFO)
    missing = {c["id"] for c in doc["cases"] if c["status"] == "error"}
    assert missing == set(ALL_IDS[:40]) - set(chunks[0]) and missing
    assert doc["summary"]["pass"] == len(chunks[0])


def test_a_case_reported_by_two_chunks_is_an_error_not_an_overwrite(tmp_path: Path) -> None:
    a = _write_report(tmp_path / "a", {"1.1.1": _entry("1.1.1", 0)})
    b = _write_report(tmp_path / "b", {"1.1.1": _entry("1.1.1", 3)})
    with pytest.raises(MergeError, match="1.1.1"):
        merge_indexes([a, b], tmp_path / "merged")


@pytest.mark.slow
def test_real_sharded_run_reports_every_case_once(tmp_path: Path) -> None:
    """RFC 6455 §5.6/§5.5.2/§7.4: two wstest processes, two servers, one merged report."""
    out = tmp_path / "result.json"
    cases = "1.1.*,2.*,7.1.*,7.13.*"
    # planned by the cost model, not by the case times this machine's earlier runs recorded
    # nor by the committed table (its cases of ~1 ms would make one chunk)
    env = {**os.environ, "BB_AUTOBAHN_CASE_TIMES_DIR": str(tmp_path / "case-times"),
           "BB_AUTOBAHN_COMMITTED_CASE_TIMES": str(tmp_path / "no-committed-table.json")}
    proc = subprocess.run([sys.executable, "-m", "conformance.autobahn", "--target", "blackbull",
                           "--cases", cases, "--shards", "2", "--chunk-seconds", "0.5",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env=env)
    assert out.exists(), proc.stderr
    doc = json.loads(out.read_text())
    assert doc["status"] == "ok", doc["message"]
    assert doc["timing"]["workers"] == 2 and doc["timing"]["chunks"] > 2
    assert all(c["exit"] == 0 for c in doc["timing"]["chunk_runs"])
    assert doc["timing"]["wstest_cpu_s"] > 0 and doc["timing"]["server_cpu_s"] > 0
    ids = [c["id"] for c in doc["cases"]]
    assert ids == resolve_patterns(ALL_IDS, cases.split(","))
    assert doc["summary"]["error"] == 0 and doc["summary"]["fail"] == 0


def test_without_any_table_the_cost_model_plans(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.autobahn import shards

    monkeypatch.setattr(shards, "CASE_TIMES_DIR", tmp_path / "none")
    monkeypatch.setattr(shards, "COMMITTED_CASE_TIMES", tmp_path / "missing.json")
    assert shards.load_case_times("blackbull") == {}
    (tmp_path / "none").mkdir()
    (tmp_path / "none" / "blackbull.json").write_text("not json")
    assert shards.load_case_times("blackbull") == {}
    assert plan_chunks(ALL_IDS, 2, times={}) == plan_chunks(ALL_IDS, 2)
