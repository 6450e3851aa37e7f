"""Parsers of the issue-18 rows, on recorded tool output (tests/bench/fixtures/): h2load's
large-transfer summary, its ``--log-file`` per-request log, and the churn client's line.
Each expected number is recomputed here from the fixture's own figures."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench.churn import parse_churn
from bench.h2big import parse_transfer
from bench.latency import latency_sample, parse_log, percentile

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _read(name: str) -> str:
    return (FIXTURES / name).read_text()


def _finished_s(text: str) -> float:
    m = re.search(r"finished in ([\d.]+)(s|ms)", text)
    assert m
    return float(m.group(1)) * (1e-3 if m.group(2) == "ms" else 1.0)


def test_download_mb_s_is_data_bytes_over_the_finished_time() -> None:
    """h2load ``-n5 /1m`` over h2c (RFC 9113 §5.2 flow-controlled DATA): MB/s counts the
    DATA bytes only, 10^6 bytes per MB."""
    text = _read("h2load-h2c-1m.txt")
    data = int(re.search(r"\((\d+)\) data", text).group(1))  # type: ignore[union-attr]
    sample = parse_transfer(text, expected_body=1 << 20)
    assert sample.errors == 0
    assert sample.value == pytest.approx(data / _finished_s(text) / 1e6, rel=1e-3)
    assert data >= 5 * (1 << 20)


def test_a_body_shorter_than_announced_is_no_number() -> None:
    """Five responses that should each have carried 2 MiB did not: an error, not a speed."""
    sample = parse_transfer(_read("h2load-h2c-1m.txt"), expected_body=2 << 20)
    assert sample.value is None and sample.errors >= 1 and "cut short" in sample.message


def test_upload_mb_s_is_requests_times_the_file_over_time() -> None:
    """h2load ``-d FILE``: the uploaded bytes are not in h2load's traffic line (that is
    what it received), so they are requests done × file size."""
    text = _read("h2load-h2c-upload.txt")
    done = int(re.search(r"(\d+) done", text).group(1))  # type: ignore[union-attr]
    sample = parse_transfer(text, upload_bytes=1 << 20)
    assert sample.errors == 0
    assert sample.value == pytest.approx(done * (1 << 20) / _finished_s(text) / 1e6, rel=1e-3)


def test_failed_transfers_are_counted() -> None:
    text = _read("h2load-h2c-1m.txt")
    broken = re.sub(r"(\d+) succeeded, 0 failed", r"\1 succeeded, 2 failed", text)
    assert parse_transfer(broken, expected_body=1 << 20).errors == 2


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 1001)]
    assert percentile(values, 50) == 500.0
    assert percentile(values, 99) == 990.0
    assert percentile(values, 99.9) == 999.0
    assert percentile([7.0], 99.9) == 7.0


def test_the_per_request_log_gives_durations_in_ms() -> None:
    """h2load ``--log-file``: start µs, status, µs until the end of the response."""
    log = _read("h2load-rps.log")
    lines = [line.split("\t") for line in log.splitlines() if line]
    durations, bad = parse_log(log)
    assert bad == 0 and len(durations) == len(lines)
    assert durations[0] == int(lines[0][2]) / 1000
    assert parse_log(log + "1\t503\t100\nnot a line\n")[1] == 2


def test_latency_row_values_come_from_the_log_and_the_rate_is_checked() -> None:
    summary, log = _read("h2load-rps-summary.txt"), _read("h2load-rps.log")
    durations = sorted(parse_log(log)[0])
    seconds = 1.0
    sample = latency_sample(summary, log, rate=len(durations) / seconds, seconds=seconds)
    assert sample.extra is not None
    assert sample.extra["p50_ms"] == round(percentile(durations, 50), 3)
    assert sample.value == sample.extra["p99_ms"] <= sample.extra["p999_ms"]
    assert sample.errors == 0
    slow = latency_sample(summary, log, rate=4 * len(durations), seconds=seconds)
    assert slow.errors == 1 and "could not keep the asked rate" in slow.message


def test_churn_line_is_parsed_and_failures_counted() -> None:
    line = _read("churn-h2.json")
    data = json.loads(line)
    sample = parse_churn(line)
    assert sample.value == data["per_s"] and sample.errors == data["failed"]
    none = parse_churn(json.dumps({**data, "connections": 0, "failed": 4,
                                   "errors": ["ConnectionRefusedError: x"]}))
    assert none.value is None and none.errors == 4 and "Refused" in none.message
    assert parse_churn("Traceback ...").value is None
