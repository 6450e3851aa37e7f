"""``python -m fuzz --seconds N [--target NAME ...]``: coverage-guided fuzzing of every
target (:mod:`fuzz.targets`) under atheris, one after the other, N seconds each.

A crash (an exception escaping a target), a hang (over 10 s on one input) or an input
that needs over 1 GB is a finding: libFuzzer saves the input under
``fuzz/findings/<target>/`` and this command exits 1. Each finding is replayed by
``tests/fuzz/test_findings.py`` from then on. The corpus grows in ``.cache/fuzz/``
from the seeds of :mod:`fuzz.seeds`.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

from fuzz.seeds import write_seeds
from fuzz.targets import TARGETS

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
_DONE = re.compile(r"Done (\d+) runs in (\d+) second")


def run_target(name: str, seconds: int, *, quiet: bool = True) -> dict[str, object]:
    """Fuzz ``name`` for ``seconds``; return its result (runs, status, finding paths)."""
    work = ROOT / ".cache" / "fuzz" / name
    work.mkdir(parents=True, exist_ok=True)
    seeds = ROOT / ".cache" / "fuzz" / f"{name}-seeds"
    write_seeds(name, seeds)
    findings = HERE / "findings" / name
    findings.mkdir(parents=True, exist_ok=True)
    before = set(findings.iterdir())
    argv = [sys.executable, "-m", "fuzz.run", name, f"-max_total_time={seconds}",
            "-timeout=10", "-rss_limit_mb=1024", "-max_len=4096",
            f"-artifact_prefix={findings}/", "-print_final_stats=1", str(work)]
    argv.append(str(seeds))
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True,
                          timeout=seconds + 120)
    output = proc.stdout + proc.stderr
    match = _DONE.search(output)
    new = sorted(str(p.relative_to(ROOT)) for p in set(findings.iterdir()) - before)
    if proc.returncode == 0 and match:
        status = "ok"
    elif new:
        status = "finding"
    else:
        status = "error"  # the fuzzer did not run to its end: never a pass
    if not quiet or status != "ok":
        print(output[-3000:], file=sys.stderr)
    return {"target": name, "status": status, "runs": int(match.group(1)) if match else 0,
            "seconds": round(time.monotonic() - started, 1), "findings": new,
            "exit": proc.returncode}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__)
    parser.add_argument("--seconds", type=int, default=60, help="seconds per target")
    parser.add_argument("--target", action="append", choices=sorted(TARGETS),
                        help="fuzz only this target (repeatable)")
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    args = parser.parse_args(argv)
    results = []
    for name in args.target or sorted(TARGETS):
        result = run_target(name, args.seconds)
        results.append(result)
        print(f"{name:12} {result['status']:8} {result['runs']:>10} runs "
              f"in {result['seconds']:>6} s  findings: {result['findings'] or 'none'}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0 if all(r["status"] == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
