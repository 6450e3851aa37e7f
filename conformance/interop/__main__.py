"""``python -m conformance.interop [--clients ...] [--servers ...] [--out FILE]``."""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from conformance.interop.runner import CLIENTS, SERVERS, main_async
from conformance.targets import REPO_ROOT
from conformance.targets.cli import add_target_arguments, resolve_targets


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.interop",
                                     description="RFC 8441 interop matrix (clients × servers)")
    parser.add_argument("--clients", nargs="+", default=list(CLIENTS), choices=CLIENTS)
    parser.add_argument("--servers", nargs="+", default=None,
                        help=f"registry names (default: every ws-over-h2 target: "
                             f"{', '.join(SERVERS)})")
    add_target_arguments(parser, default=None, many=True)
    parser.add_argument("--out", type=Path,
                        default=REPO_ROOT / "reports" / "raw" / "rfc8441-matrix.json",
                        help="base name: one <stem>-<server>.json per server is written")
    args = parser.parse_args()
    added = resolve_targets(parser, args)
    servers = tuple(args.servers or []) + tuple(added) or SERVERS
    with tempfile.TemporaryDirectory(prefix="rfc8441-") as workdir:
        results = main_async(tuple(args.clients), servers, Path(workdir),
                             args.out)
    for result in results:
        s = result.summary
        print(f"{result.target}: {result.status}: {s['pass']} pass, {s['fail']} fail, "
              f"{s['error']} error, {s['not-supported']} not-supported of {s['total']}")
    print(f"written next to {args.out} as {args.out.stem}-<server>.json")
    return 0 if all(r.status == "ok" for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
