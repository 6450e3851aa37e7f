"""Run h2spec against one target in four variants and write schema-1 result files.

Variants: ``h2c`` (prior knowledge, RFC 9113 §3.3), ``tls`` (ALPN "h2", RFC 9113 §3.2),
each normal and ``--strict``. One server is started per transport and the normal and
strict runs go against it in parallel. Every variant ends as a result file: a variant
that cannot run is written with status ``error`` and no cases, never as a pass; a
transport the target does not speak (uvicorn has no HTTP/2) is ``not-supported``.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from conformance.h2spec.binary import H2spec, H2specUnavailable, locate
from conformance.h2spec.catalogue import Catalogue, parse_dryrun
from conformance.h2spec.junit import JUnitError, parse_junit_text, to_case_results
from conformance.report.schema import (
    CaseResult,
    CaseStatus,
    RunStatus,
    SuiteResult,
    error_result,
    utc_now,
)
from conformance.targets import (
    Protocol,
    ServerHandle,
    TargetUnavailable,
    get_target,
    make_tls_cert,
)

SUITE = "h2spec"
APP = "conformance.h2spec.app:app"


@dataclass(frozen=True)
class Variant:
    """One h2spec configuration: transport and strictness."""

    name: str
    tls: bool
    strict: bool

    @property
    def protocol(self) -> Protocol:
        return Protocol.H2_TLS if self.tls else Protocol.H2C


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("h2c", tls=False, strict=False),
        Variant("h2c-strict", tls=False, strict=True),
        Variant("tls", tls=True, strict=False),
        Variant("tls-strict", tls=True, strict=True),
    )
}


@dataclass(frozen=True)
class RunOptions:
    """Knobs of one harness run."""

    out_dir: Path
    case_timeout: int = 5  # h2spec -o: seconds per case; the default 2 s flakes on a busy box
    run_timeout: float = 300.0
    specs: tuple[str, ...] = ()  # e.g. ("http2/5.1", "generic"); empty = every case
    install: bool = True


def catalogue_for(h2spec: H2spec, strict: bool, specs: tuple[str, ...]) -> Catalogue:
    """Every case this h2spec would run, from its dry run (strict adds cases)."""
    argv = [str(h2spec.path), "--dryrun", *(["-S"] if strict else []), *specs]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    return parse_dryrun(proc.stdout)


def run_variant(
    h2spec: H2spec, server: ServerHandle, variant: Variant, target: str, opts: RunOptions
) -> SuiteResult:
    """One h2spec invocation; JUnit parsed into cases with RFC sections."""
    tool = h2spec.tool_info()
    started, t0 = utc_now(), time.monotonic()
    catalogue = catalogue_for(h2spec, variant.strict, opts.specs)
    with tempfile.TemporaryDirectory(prefix="h2spec-") as tmp:
        junit = Path(tmp) / "junit.xml"
        path = server.path("http") if hasattr(server, "path") else "/"
        argv = [str(h2spec.path), "-h", server.host, "-p", str(server.port),
                *(["-P", path] if path != "/" else []),
                "-o", str(opts.case_timeout), "-j", str(junit),
                *(["-t", "-k"] if variant.tls else []),
                *(["-S"] if variant.strict else []), *opts.specs]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True,
                                  timeout=opts.run_timeout)
        except subprocess.TimeoutExpired:
            return _failed(variant, target, tool, f"h2spec did not finish in {opts.run_timeout}s")
        text = junit.read_text(encoding="utf-8", errors="replace") if junit.exists() else ""
    if text:
        # Keep h2spec's own report next to ours: evidence for anyone doubting the parse.
        opts.out_dir.mkdir(parents=True, exist_ok=True)
        (opts.out_dir / f"{SUITE}-{target}-{variant.name}.junit.xml").write_text(
            text, encoding="utf-8")
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
    if proc.returncode not in (0, 1):
        return _failed(variant, target, tool, f"h2spec exited {proc.returncode}: {tail}")
    try:
        junit_cases = parse_junit_text(text, catalogue)
    except JUnitError as exc:
        return _failed(variant, target, tool, f"{exc}; h2spec said: {' '.join(tail)}")
    result = SuiteResult(SUITE, variant.name, target, tool, started=started,
                         cases=to_case_results(junit_cases, catalogue))
    result.duration_s = time.monotonic() - t0
    result.extra["argv"] = argv[1:]
    result.extra["binary"] = str(h2spec.path)
    if not junit_cases:
        result.status, result.message = RunStatus.ERROR.value, "h2spec reported no cases"
    return result


def _failed(variant: Variant, target: str, tool: dict[str, str], message: str) -> SuiteResult:
    return error_result(SUITE, variant.name, target, tool, message)


def not_supported(h2spec: H2spec, variant: Variant, target: str, reason: str) -> SuiteResult:
    """Every case of the variant as ``not-supported``: the target lacks the transport."""
    catalogue = catalogue_for(h2spec, variant.strict, ())
    cases = to_case_results([], catalogue)
    for case in cases:
        case.status, case.message = CaseStatus.NOT_SUPPORTED.value, reason
    return SuiteResult(SUITE, variant.name, target, h2spec.tool_info(), cases=cases,
                       message=reason, extra={"supported": False})


def _run_transport(
    h2spec: H2spec, target_name: str, variants: list[Variant], opts: RunOptions
) -> list[SuiteResult]:
    """Start the target once for this transport and run its variants in parallel."""
    target = get_target(target_name)
    tls = variants[0].tls
    try:
        with tempfile.TemporaryDirectory(prefix="h2spec-tls-") as certdir:
            cert = make_tls_cert(Path(certdir)) if tls and not target.external else None
            server = target.start(target.app_for("h2spec", APP), 0,
                                  tls_cert=cert.cert if cert else None,
                                  tls_key=cert.key if cert else None,
                                  protocol=variants[0].protocol)
            with server:
                with ThreadPoolExecutor(max_workers=len(variants)) as pool:
                    futures = [pool.submit(run_variant, h2spec, server, v, target_name, opts)
                               for v in variants]
                    results = [f.result() for f in futures]
                if not server.running:
                    for result in results:
                        result.extra["server_log_tail"] = server.log_tail(2000)
                return results
    except (TargetUnavailable, OSError) as exc:
        tool = h2spec.tool_info()
        return [_failed(v, target_name, tool, f"target could not start: {exc}") for v in variants]


def run(target_name: str, variant_names: list[str], opts: RunOptions) -> list[SuiteResult]:
    """Run the requested variants against one target; write and return their results."""
    variants = [VARIANTS[name] for name in variant_names]
    try:
        h2spec = locate(allow_install=opts.install)
    except H2specUnavailable as exc:
        tool = {"name": "h2spec", "version": "", "runner": "binary"}
        results = [_failed(v, target_name, tool, str(exc)) for v in variants]
    else:
        results = _run_all(h2spec, target_name, variants, opts)
    for result in results:
        result.write(opts.out_dir)
    return results


def _run_all(
    h2spec: H2spec, target_name: str, variants: list[Variant], opts: RunOptions
) -> list[SuiteResult]:
    target = get_target(target_name)
    results: list[SuiteResult] = []
    groups: list[list[Variant]] = []
    for tls in (False, True):
        group = [v for v in variants if v.tls is tls]
        if not group:
            continue
        if not target.supports(group[0].protocol):
            reason = f"{target_name} does not speak {group[0].protocol.value}"
            if target.external:
                reason = (f"no --url for {group[0].protocol.value} was given ("
                          f"{'h2:// or https://' if group[0].tls else 'h2c://'})")
            results += [not_supported(h2spec, v, target_name, reason) for v in group]
        else:
            groups.append(group)
    # The two transports use separate servers, so they can run side by side too.
    with ThreadPoolExecutor(max_workers=max(1, len(groups))) as pool:
        for batch in pool.map(lambda g: _run_transport(h2spec, target_name, g, opts), groups):
            results += batch
    order = list(VARIANTS)
    return sorted(results, key=lambda r: order.index(r.variant))


def case_results_passing(results: list[SuiteResult]) -> list[CaseResult]:
    """All passing cases across results (handy for summaries and tests)."""
    return [c for r in results for c in r.cases if c.status == CaseStatus.PASS]
