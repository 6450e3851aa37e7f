"""``python -m conformance.interop [--clients ...] [--servers ...] [--out FILE]``."""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from conformance.interop.runner import CLIENTS, SERVERS, main_async
from conformance.targets import REPO_ROOT


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.interop",
                                     description="RFC 8441 interop matrix (clients × servers)")
    parser.add_argument("--clients", nargs="+", default=list(CLIENTS), choices=CLIENTS)
    parser.add_argument("--servers", nargs="+", default=list(SERVERS), choices=SERVERS)
    parser.add_argument("--out", type=Path,
                        default=REPO_ROOT / "reports" / "raw" / "rfc8441-matrix.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rfc8441-") as workdir:
        result = main_async(tuple(args.clients), tuple(args.servers), Path(workdir), args.out)
    s = result.summary
    print(f"{result.status}: {s['pass']} pass, {s['fail']} fail, {s['error']} error, "
          f"{s['not-supported']} not-supported of {s['total']} → {args.out}")
    return 0 if result.status == "ok" else 1


if __name__ == "__main__":
    raise SystemExit(main())
