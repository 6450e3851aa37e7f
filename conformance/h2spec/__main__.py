"""``python -m conformance.h2spec [--target NAME | --url h2c://HOST:PORT/ ...] [--variant V ...]``.

Runs h2spec (RFC 9113 / RFC 7541 conformance) against a server under test and writes
one schema-1 JSON per variant into ``reports/raw/`` (see conformance/RESULTS.md).
Exit status: 0 when every variant ran (whatever its pass count), 2 when one could not run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.h2spec.runner import VARIANTS, RunOptions, run
from conformance.targets import REPO_ROOT
from conformance.targets.cli import add_target_arguments, resolve_targets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.h2spec", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_target_arguments(parser)
    parser.add_argument("--variant", action="append", choices=list(VARIANTS),
                        help="repeatable; default: all four")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "reports" / "raw")
    parser.add_argument("--case-timeout", type=int, default=5, help="h2spec -o, seconds")
    parser.add_argument("--no-install", action="store_true",
                        help="do not `go install` h2spec when it is missing")
    parser.add_argument("specs", nargs="*", help="h2spec groups/cases, e.g. http2/5.1 generic")
    args = parser.parse_args(argv)
    target = resolve_targets(parser, args)[0]
    opts = RunOptions(out_dir=args.out, case_timeout=args.case_timeout,
                      specs=tuple(args.specs), install=not args.no_install)
    results = run(target, args.variant or list(VARIANTS), opts)
    for result in results:
        s = result.summary
        line = (f"h2spec {result.variant:<11} {result.target}: {result.status:<5} "
                f"pass {s['pass']}/{s['total']} fail {s['fail']} error {s['error']} "
                f"not-supported {s['not-supported']} skipped {s['skipped']}")
        print(line + (f"  ({result.message})" if result.message else ""))
        for case in result.cases:
            if case.status in ("fail", "error"):
                print(f"    {case.status:<5} {case.id} [{case.rfc} §{case.section}] "
                      f"{case.description}: {case.message}")
    return 2 if any(r.status == "error" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
