"""Command line of the Autobahn harness (see ``conformance/autobahn/__init__.py``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.autobahn.fuzz import ECHO_APP, RunOptions, run
from conformance.autobahn.results import behavior_counts
from conformance.autobahn.runners import RUNNER_NAMES
from conformance.autobahn.shards import MIN_CHUNK_S
from conformance.targets.cli import add_target_arguments, resolve_targets


def _patterns(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def parse_args(argv: list[str] | None = None) -> RunOptions:
    parser = argparse.ArgumentParser(prog="python -m conformance.autobahn",
                                     description="Run Autobahn|Testsuite against a target.")
    add_target_arguments(parser, default=None)
    parser.add_argument("--tls", action="store_true", help="serve wss:// with a trustme cert")
    parser.add_argument("--cases", default="*", help="comma-separated case patterns, e.g. '1.*,2.*'")
    parser.add_argument("--exclude", default="", help="comma-separated case patterns to skip")
    parser.add_argument("--runner", choices=RUNNER_NAMES, default=None,
                        help="force a runner instead of the first available")
    parser.add_argument("--mode", choices=("server", "client"), default="server",
                        help="server: test a server (fuzzingclient); client: test our client")
    parser.add_argument("--app", default=ECHO_APP, help="ASGI app module:attr for the target")
    parser.add_argument("--out", type=Path, default=None, help="result JSON path")
    parser.add_argument("--h2-bridge", action="store_true",
                        help="variant h2-bridge: reach the server over RFC 8441 through "
                             "conformance/h2bridge")
    parser.add_argument("--shards", type=int, default=1,
                        help="server mode: wstest processes run side by side, each against "
                             "its own server, the cases split between them and the reports "
                             "merged case by case (default 1)")
    parser.add_argument("--chunk-seconds", type=float, default=MIN_CHUNK_S,
                        help="with --shards: the smallest estimated share of cases one wstest "
                             f"process runs (default {MIN_CHUNK_S:g})")
    ns = parser.parse_args(argv)
    targets = resolve_targets(parser, ns)
    if not targets:
        parser.error("name a --target, a --target-file or a --url")
    if ns.url and not ns.tls and not any(u.startswith("ws://") for u in ns.url) and \
            any(u.startswith("wss://") for u in ns.url):
        ns.tls = True  # only a wss:// URL was given: test that one
    if ns.shards < 1:
        parser.error("--shards must be at least 1")
    return RunOptions(target=targets[0], tls=ns.tls, cases=_patterns(ns.cases),
                      exclude=_patterns(ns.exclude), runner=ns.runner, mode=ns.mode,
                      app=ns.app, out=ns.out, h2_bridge=ns.h2_bridge,
                      shards=ns.shards, chunk_seconds=ns.chunk_seconds)


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    doc = run(opts)
    out = opts.out or opts.default_out()
    tool = doc["tool"]
    print(f"autobahn {doc['variant']} target={doc['target']} runner={tool['runner']} "
          f"status={doc['status']} duration={doc['duration_s']}s -> {out}")
    print("summary:", doc["summary"])
    print("behaviors:", behavior_counts(doc))
    timing = doc.get("timing")
    if timing:
        print(f"timing: {timing['workers']} worker(s), {timing['chunks']} wstest run(s), "
              f"wstest CPU {timing['wstest_cpu_s']}s, server CPU {timing['server_cpu_s']}s")
    if doc["message"]:
        print("message:", doc["message"])
    return 0 if doc["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
