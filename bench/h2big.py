"""HTTP/2 large bodies: MB/s of one 1 MiB / 64 MiB response stream, or of a 64 MiB upload.

``h2load -c1 -m1 -n N`` over h2c (prior knowledge, RFC 9113 §3.3) fetches N bodies one
after another on one stream at a time, so the number shows how the server keeps the
stream fed under flow control (RFC 9113 §5.2, §6.9): with h2load's default 1 GiB windows
(``-w30 -W30``) the send path is the limit; with the RFC's 65 535-byte default windows
(``-w16 -W16``) it is how soon the server resumes after each WINDOW_UPDATE. The upload
(``-d FILE``) is governed by the window the *server* advertises, whatever h2load's bits.

MB/s is 10^6 bytes of body per second: response DATA bytes as h2load counts them
(``traffic: … (N) data``), or for the upload requests done × file size, over the
``finished in`` time.
"""
from __future__ import annotations

import re
from pathlib import Path

from .loads import CpuProbe, Sample, _run_tool, parse_h2load

_FINISHED = re.compile(r"finished in ([\d.]+)(s|ms|us)\b")
_TRAFFIC = re.compile(r"traffic: \S+ \((\d+)\) total, \S+ \((\d+)\) headers .*?, \S+ \((\d+)\) data")
_UNIT = {"s": 1.0, "ms": 1e-3, "us": 1e-6}


def parse_transfer(text: str, *, upload_bytes: int = 0, expected_body: int = 0) -> Sample:
    """MB/s from h2load's summary; failed requests and short bodies are errors.

    For a download, every completed request must have brought *expected_body* bytes of
    DATA (a server that truncates or answers with an error page gets no number).
    """
    base = parse_h2load(text)
    finished, traffic = _FINISHED.search(text), _TRAFFIC.search(text)
    if base.value is None or finished is None or traffic is None:
        return Sample(None, max(base.errors, 1),
                      base.message or f"h2load printed no timing: {text[-300:]!r}")
    seconds = float(finished.group(1)) * _UNIT[finished.group(2)]
    done = int((base.extra or {}).get("requests", 0))
    data = int(traffic.group(3))
    moved = done * upload_bytes if upload_bytes else data
    extra = {**(base.extra or {}), "seconds": seconds, "bytes": float(moved)}
    if not upload_bytes and expected_body and data < done * expected_body:
        return Sample(None, base.errors + 1, f"{data} data bytes for {done} responses of "
                      f"{expected_body}: bodies were cut short; " + base.message, extra)
    if seconds <= 0:
        return Sample(None, base.errors + 1, "h2load reported no elapsed time", extra)
    return Sample(round(moved / seconds / 1e6, 2), base.errors, base.message, extra)


def run_transfer(port: int, path: str, requests: int, window_bits: int, pin: list[str], *,
                 upload: Path | None = None, body_bytes: int = 0,
                 cpu: CpuProbe | None = None, timeout: float = 120.0) -> Sample:
    """One h2load run of *requests* sequential large transfers (see the module doc)."""
    cmd = [*pin, "h2load", "-c1", "-m1", "-t1", f"-n{requests}", f"-w{window_bits}",
           f"-W{window_bits}", *(["-d", str(upload)] if upload else []),
           f"http://127.0.0.1:{port}{path}"]
    size = upload.stat().st_size if upload else 0

    def parse(text: str) -> Sample:
        return parse_transfer(text, upload_bytes=size, expected_body=body_bytes)

    sample = _run_tool(cmd, timeout, parse, cpu)
    if sample.extra and "bytes" in sample.extra and sample.extra.get("server_cpu_s"):
        # MB per server CPU-second: comparable when the machine is busy.
        sample.extra["per_cpu_s"] = round(sample.extra["bytes"] / 1e6
                                          / sample.extra["server_cpu_s"], 2)
    return sample
