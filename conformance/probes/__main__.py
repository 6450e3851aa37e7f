"""``python -m conformance.probes --url URL [--url URL ...]``: wire-level probes of any server.

Exit status: 0 when no MUST / MUST NOT probe failed, 1 when one did, 2 when a target
could not be reached or the command line was wrong (nothing was judged then).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from conformance.probes import load_all
from conformance.probes.runner import mandatory_failures, run_target, select
from conformance.probes.target import Target, TargetError
from conformance.report.schema import RunStatus


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m conformance.probes",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", action="append", default=[],
                        help="a running server: http:// h2c:// https:// h2:// ws:// wss:// "
                             "(repeatable)")
    parser.add_argument("--name", action="append", default=[],
                        help="label for the --url of the same position (default host:port)")
    parser.add_argument("--insecure", action="store_true", help="do not verify TLS certificates")
    parser.add_argument("--ca", type=Path, default=None,
                        help="PEM file of the CA that signed the servers' certificates")
    parser.add_argument("--only", action="append", default=[],
                        help="probe ids or patterns (rfc9113/6.5*, rfc7541); repeatable")
    parser.add_argument("--timeout", type=float, default=3.0,
                        help="seconds a probe waits for an answer (default 3)")
    parser.add_argument("--jobs", type=int, default=8, help="probes run side by side")
    parser.add_argument("--json", type=Path, help="write the raw results (list of runs) here")
    parser.add_argument("--out-dir", type=Path,
                        help="write one raw result file per run into this directory")
    parser.add_argument("--list", action="store_true", help="list the probes and exit")
    parser.add_argument("--coverage", type=Path, help="write the coverage document and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    registry = load_all()
    probes = select(registry.values(), args.only)
    if args.coverage:
        from conformance.probes.coverage import write_coverage
        write_coverage(args.coverage, probes)
        print(f"probes: coverage of {len(probes)} probes written to {args.coverage}")
        return 0
    if args.list:
        for p in probes:
            print(f"{p.id:24} {p.level.value:10} {','.join(sorted(p.transports)):14} "
                  f"{p.requirement}")
        print(f"{len(probes)} probes")
        return 0
    if not args.url:
        parser.error("give at least one --url (or --list)")
    try:
        targets = [Target.parse(url, name=(args.name[i] if i < len(args.name) else ""),
                                insecure=args.insecure, ca=str(args.ca or ""))
                   for i, url in enumerate(args.url)]
    except TargetError as exc:
        print(f"probes: {exc}", file=sys.stderr)
        return 2
    if not probes:
        print("probes: no probe matches --only", file=sys.stderr)
        return 2
    results = []
    for target in targets:
        for result in run_target(target, probes, timeout=args.timeout, jobs=args.jobs):
            results.append(result)
            s = result.summary
            if result.status == RunStatus.ERROR:
                print(f"probes: {target.name} {result.variant}: COULD NOT RUN: {result.message}")
            else:
                print(f"probes: {target.name} {result.variant}: {s['pass']} pass, {s['fail']} fail, "
                      f"{s['error']} error/undecided, {s['not-supported']} n/a "
                      f"of {s['total']} in {result.duration_s:.1f}s")
    if args.out_dir:
        for result in results:
            result.write(args.out_dir, f"probes-{result.target}-{result.variant}".replace(":", "_"))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([r.to_dict() for r in results], indent=2) + "\n",
                             encoding="utf-8")
    if not results or any(r.status == RunStatus.ERROR for r in results):
        return 2
    failed = mandatory_failures(results)
    if failed:
        print(f"probes: {failed} MUST-level probe(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
