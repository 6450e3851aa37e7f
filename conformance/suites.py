"""The suites of ``python -m conformance`` as registry entries.

A :class:`Suite` says what it is, the ``suite`` field of the raw files it writes, and how
it plans its work: ``per_target`` adds the jobs and the expected results for one target,
``once`` those of a suite that spans targets (the unit tests, the RFC 8441 matrix). The
orchestrator (:mod:`conformance.run`) only walks this table; adding a suite is adding an
entry here and its harness (conformance/targets/README.md, "Adding a suite").

Which suites apply to which target follows from the target's protocols: a server given by
``--url`` gets h2spec for its h2c/h2 URLs (only those variants), Autobahn for ws/wss, the
RFC 8441 matrix for an https/h2 URL (its cells run when the server advertises
SETTINGS_ENABLE_CONNECT_PROTOCOL) and the probes for every URL. A launched target gets
every suite; what it does not speak is ``not-supported``, never a pass and never a failure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from conformance.h2spec.runner import VARIANTS as H2SPEC_VARIANTS
from conformance.jobs import Job
from conformance.report.model import MATRIX_SUITE, Expectation
from conformance.targets import Protocol, Target, get_target
from conformance.targets.external import ExternalTarget

OURS = "blackbull"
QUICK_AUTOBAHN = "1.*,2.*,3.*,4.*,5.*,6.*,7.*,10.*"
#: The ws column of a default run: every group, but of the permessage-deflate groups
#: (12.1–12.5, 13.1–13.7, 18 cases each) only cases 1–8 (1000 messages of 16 B–32 KiB,
#: unfragmented) and 11–12 (8 and 16 KiB in 256-byte fragments): 421 of 517 cases in
#: ~22 % of the time. Cases 9, 10 and 13–18 repeat the same paths with 64–128 KiB
#: messages and cost 78 % of a full column (measured 2026-12-02: 1015 of 1350 case-s);
#: ``--exhaustive`` runs them. Exact ids: wstest's patterns match by prefix, so
#: ``12.*.1`` would select 12.x.1x too.
DEFLATE_GROUPS = [f"12.{g}" for g in range(1, 6)] + [f"13.{g}" for g in range(1, 8)]
DEFAULT_WS_CASES = ",".join(
    ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.*", "10.*"]
    + [f"{g}.{n}" for g in DEFLATE_GROUPS for n in (1, 2, 3, 4, 5, 6, 7, 8, 11, 12)])
#: The Autobahn cases of the wss, h2-bridge and client columns in a default run: all but
#: the permessage-deflate groups 12.* and 13.* (~9 of the ~10 min a column takes; ws keeps
#: them). ``--exhaustive`` runs all 517 in every column.
DEFAULT_VARIANT_CASES = "1.*,2.*,3.*,4.*,5.*,6.*,7.*,9.*,10.*"
#: Our other Autobahn columns: wss, WebSocket over RFC 8441 through the bridge, and our
#: client against the fuzzingserver.
AUTOBAHN_VARIANTS = (("wss", ["--tls"]), ("h2-bridge", ["--h2-bridge"]),
                     ("client", ["--mode", "client"]))


@dataclass
class Plan:
    """What this invocation runs and expects to find in ``reports/raw``."""

    targets: list[str]
    suites: list[str]
    jobs: list[Job] = field(default_factory=list)
    expected: list[Expectation] = field(default_factory=list)
    #: Raw suites whose files an earlier test run produced: not cleared as stale.
    kept_suites: set[str] = field(default_factory=set)
    #: Servers of the RFC 8441 matrix this run tests (None: the whole default matrix).
    matrix_servers: set[str] | None = field(default_factory=set)


@dataclass(frozen=True)
class Context:
    args: argparse.Namespace
    raw: Path
    plan: Plan
    python: str = sys.executable


@dataclass(frozen=True)
class Suite:
    """One suite: its CLI name, its raw files' ``suite``, and how it plans its jobs."""

    name: str
    raw_suite: str
    summary: str
    per_target: Callable[[Context, Target], None] | None = None
    once: Callable[[Context], None] | None = None


def _h2spec(ctx: Context, target: Target) -> None:
    variants = list(H2SPEC_VARIANTS)
    if target.external:  # only the transports it was given URLs for
        variants = [v for v in variants if target.supports(H2SPEC_VARIANTS[v].protocol)]
        if not variants:
            return
    argv = [ctx.python, "-m", "conformance.h2spec", "--target", target.name,
            "--out", str(ctx.raw)]
    if target.external:
        argv += [a for v in variants for a in ("--variant", v)]
    ctx.plan.jobs.append(Job(f"h2spec-{target.name}", argv, timeout=900,
                             expects=[("h2spec", target.name)]))
    ctx.plan.expected += [Expectation("h2spec", target.name, v) for v in variants]


def _autobahn_argv(ctx: Context, target: str, variant: str, flags: list[str],
                   cases: str) -> list[str]:
    args = ctx.args
    argv = [ctx.python, "-m", "conformance.autobahn", "--target", target, *flags,
            "--out", str(ctx.raw / f"autobahn-{target}-{variant}.json")]
    if cases:
        argv += ["--cases", cases]
    if args.autobahn_runner:
        argv += ["--runner", args.autobahn_runner]
    if args.autobahn_shards > 1 and "client" not in flags:
        argv += ["--shards", str(args.autobahn_shards)]
    return argv


def partial_suites(suites: list[str], args: argparse.Namespace) -> frozenset[str]:
    """The suites this run runs a subset of on purpose, so that a baseline case absent
    from them is not a regression: Autobahn unless ``--exhaustive``; the unit suite when
    it runs itself (it skips tests/conformance and, unless ``--unit-all-tests``, the
    uncited tests, while the baseline comes from the README's whole test command,
    ``--reuse-test-results``)."""
    partial = set()
    if "autobahn" in suites and (args.quick or args.autobahn_ws_cases
                                 or args.autobahn_variant_cases):
        partial.add("autobahn")
    if "unit" in suites and not args.reuse_test_results:
        partial.add("unit")
    return frozenset(partial)


def _autobahn(ctx: Context, target: Target) -> None:
    args, plan = ctx.args, ctx.plan
    ws_cases = QUICK_AUTOBAHN if args.quick else args.autobahn_ws_cases
    if target.external:
        columns = [(v, f, p) for v, f, p in (("ws", [], Protocol.WS),
                                              ("wss", ["--tls"], Protocol.WSS))
                   if target.supports(p)]
        for variant, flags, _ in columns:
            plan.expected.append(Expectation("autobahn", target.name, variant))
            name = f"autobahn-{target.name}" + ("" if variant == "ws" else f"-{variant}")
            plan.jobs.append(Job(name, _autobahn_argv(ctx, target.name, variant, flags,
                                                      ws_cases), timeout=3600, weight=3,
                                 expects=[("autobahn", target.name)]))
        return
    plan.expected.append(Expectation("autobahn", target.name, "ws"))
    plan.jobs.append(Job(f"autobahn-{target.name}",
                         _autobahn_argv(ctx, target.name, "ws", [], ws_cases),
                         timeout=3600, weight=3, expects=[("autobahn", target.name)]))
    if target.name != OURS:
        return
    cases = QUICK_AUTOBAHN if args.quick else args.autobahn_variant_cases
    for variant, flags in AUTOBAHN_VARIANTS:
        if variant not in args.autobahn_variants:
            continue
        plan.expected.append(Expectation("autobahn", OURS, variant))
        plan.jobs.append(Job(f"autobahn-{OURS}-{variant}",
                             _autobahn_argv(ctx, OURS, variant, flags, cases),
                             timeout=3600, weight=2, expects=[("autobahn", OURS)]))


def _probes(ctx: Context, target: Target) -> None:
    if isinstance(target, ExternalTarget):
        argv = [ctx.python, "-m", "conformance.probes"]
        for url in target.urls:
            argv += ["--url", url.url, "--name", target.name]
        if target.insecure:
            argv.append("--insecure")
        if target.ca:
            argv += ["--ca", target.ca]
    else:
        argv = [ctx.python, "-m", "conformance.probe_launch", "--target", target.name]
    argv += ["--out-dir", str(ctx.raw)]
    ctx.plan.jobs.append(Job(f"probes-{target.name}", argv, timeout=900,
                             expects=[("probes", target.name)]))
    ctx.plan.expected.append(Expectation("probes", target.name))


def unit_runs_matrix(paths: list[str]) -> bool:
    """Whether the unit run collects tests/rfc8441 (where the matrix test lives)."""
    return any(Path("tests/rfc8441").is_relative_to(Path(p)) or
               Path(p).is_relative_to("tests/rfc8441") for p in paths)


def _unit(ctx: Context) -> None:
    args, plan = ctx.args, ctx.plan
    if OURS not in plan.targets:
        return
    if not args.reuse_test_results:
        argv = [ctx.python, "-m", "pytest", *args.unit_paths, "-q", "-p", "no:cacheprovider",
                "-p", "conformance.unit_sections", "--rfc-report",
                str(ctx.raw / f"unit-{OURS}-pytest.json"), "--ignore=tests/conformance"]
        if not args.unit_all_tests:  # the report's cases; pytest -n 2 runs all the others
            # tests/hostile writes the hostile suite's result from every test it holds.
            argv += ["--rfc-cited-only", "--rfc-keep", "tests/hostile"]
        if args.unit_workers > 1:
            argv += ["-n", str(args.unit_workers)]
        # tests/rfc8441/test_matrix.py writes the matrix where this variable points.
        env = {"RFC8441_MATRIX_OUT": str(ctx.raw / f"{MATRIX_SUITE}.json"),
               # The unit tests are about our code: no --url/--target-file servers in them.
               "CONFORMANCE_TARGET_FILES": ""}
        plan.jobs.append(Job("unit", argv, timeout=args.unit_timeout, weight=2, env=env,
                             expects=[("unit", OURS)]))
    plan.expected.append(Expectation("unit", OURS))


def _matrix_job(ctx: Context, name: str, servers: list[str]) -> Job:
    argv = [ctx.python, "-m", "conformance.interop", "--out",
            str(ctx.raw / f"{MATRIX_SUITE}.json")]
    if servers:
        argv += ["--servers", *servers]
    return Job(name, argv, timeout=1800, weight=2,
               expects=[(MATRIX_SUITE, s) for s in servers] or [(MATRIX_SUITE, "")])


def _rfc8441(ctx: Context) -> None:
    args, plan = ctx.args, ctx.plan
    extra = []
    for name in plan.targets:
        target = get_target(name)
        if name == OURS:
            continue
        if target.external and target.supports(Protocol.H2_TLS) or \
                not target.external and target.supports(Protocol.WS_OVER_H2):
            extra.append(name)
    if OURS in plan.targets:
        from conformance.interop.servers import SERVERS

        in_unit = "unit" in plan.suites and (
            args.reuse_test_results or unit_runs_matrix(args.unit_paths))
        if not in_unit:
            plan.jobs.append(_matrix_job(ctx, MATRIX_SUITE, []))
        # The default matrix spans servers; any target name in its files satisfies it.
        plan.expected.append(Expectation(MATRIX_SUITE, ""))
        plan.matrix_servers = None
        extra = [n for n in extra if n not in SERVERS]
    if extra:
        plan.jobs.append(_matrix_job(ctx, f"{MATRIX_SUITE}-{'-'.join(extra)}"[:80], extra))
        plan.expected += [Expectation(MATRIX_SUITE, n) for n in extra]
        if plan.matrix_servers is not None:
            plan.matrix_servers |= set(extra)


SUITES: dict[str, Suite] = {s.name: s for s in (
    Suite("unit", "unit", "the RFC-indexed pytest suite, about our server only", once=_unit),
    Suite("h2spec", "h2spec", "h2spec 2.6.0: h2c and TLS, each normal and --strict",
          per_target=_h2spec),
    Suite("autobahn", "autobahn", "Autobahn|Testsuite fuzzingclient: ws (+ our wss, "
          "h2-bridge and client columns)", per_target=_autobahn),
    Suite("rfc8441", MATRIX_SUITE, "the RFC 8441 interop matrix (clients × servers)",
          once=_rfc8441),
    Suite("probes", "probes", "the wire-level probes (conformance/probes), per transport",
          per_target=_probes),
)}


def make_plan(args: argparse.Namespace, raw: Path) -> Plan:
    """Every job and expected result of this run, longest first."""
    plan = Plan(targets=args.targets, suites=args.suites)
    if args.reuse_test_results:
        plan.kept_suites = {SUITES["unit"].raw_suite, MATRIX_SUITE}
    ctx = Context(args, raw, plan)
    for name in plan.suites:
        suite = SUITES[name]
        if suite.per_target is not None:
            for target in plan.targets:
                suite.per_target(ctx, get_target(target))
        if suite.once is not None:
            suite.once(ctx)
    plan.jobs.sort(key=lambda j: -j.weight)
    return plan
