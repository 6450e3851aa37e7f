"""Run probes against targets and write the results in the common raw-file schema.

Each (target, transport) pair becomes one :class:`~conformance.report.schema.SuiteResult`
(suite ``probes``, variant = the transport).  A target that cannot be reached is an
``error`` run with the reason — never a pass.  Probes run side by side in threads (each
opens its own connections), and every probe's exception becomes an ``error`` case
rather than stopping the run.
"""

from __future__ import annotations

import fnmatch
import time
import traceback
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from conformance.probes.model import Outcome, Probe, Verdict
from conformance.probes.target import ProbeContext, Target
from conformance.report.schema import CaseResult, CaseStatus, SuiteResult, error_result

SUITE = "probes"
TOOL = {"name": "blackbull-probes", "version": "1"}

_STATUS = {
    Outcome.PASS: CaseStatus.PASS,
    Outcome.FAIL: CaseStatus.FAIL,
    Outcome.UNDECIDED: CaseStatus.ERROR,
    Outcome.NOT_APPLICABLE: CaseStatus.NOT_SUPPORTED,
    Outcome.ERROR: CaseStatus.ERROR,
}


@dataclass(frozen=True)
class ProbeRun:
    probe: Probe
    transport: str
    verdict: Verdict
    duration_s: float


def select(probes: Iterable[Probe], patterns: list[str] | None) -> list[Probe]:
    """The probes whose id matches one of *patterns* (fnmatch; a bare prefix matches too)."""
    chosen = sorted(probes, key=lambda p: _sort_key(p.id))
    if not patterns:
        return chosen
    return [p for p in chosen
            if any(fnmatch.fnmatch(p.id, pat) or p.id.startswith(pat.rstrip("*"))
                   for pat in patterns)]


def _sort_key(probe_id: str) -> tuple[object, ...]:
    parts: list[object] = []
    for piece in probe_id.replace("/", ".").split("."):
        parts.append((0, int(piece), "") if piece.isdigit() else (1, 0, piece))
    return tuple(parts)


def run_one(probe: Probe, target: Target, transport: str, timeout: float) -> ProbeRun:
    ctx = ProbeContext(target=target, transport=transport, timeout=timeout)
    started = time.monotonic()
    try:
        verdict = probe.func(ctx)
        if not isinstance(verdict, Verdict):
            verdict = Verdict(Outcome.ERROR, f"probe returned {verdict!r}, not a Verdict")
    except (ConnectionRefusedError, TimeoutError) as exc:
        verdict = Verdict(Outcome.ERROR, f"could not connect: {exc}")
    except Exception as exc:  # noqa: BLE001 - a probe's bug is a result, not a crash
        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
        verdict = Verdict(Outcome.ERROR, f"probe raised {tb}")
    finally:
        ctx.close()
    if verdict.outcome is not Outcome.PASS and not verdict.seen:
        verdict = Verdict(verdict.outcome, verdict.detail, tuple(ctx.transcript[-40:]))
    return ProbeRun(probe, transport, verdict, time.monotonic() - started)


def reachable(target: Target, transport: str, timeout: float) -> str | None:
    """``None`` when a connection (and TLS handshake) succeeds, else why not."""
    ctx = ProbeContext(target=target, transport=transport, timeout=timeout)
    try:
        ctx.connect()
    except OSError as exc:
        return f"cannot connect to {target.authority} over {transport}: {exc}"
    finally:
        ctx.close()
    return None


def alpn_declines_h2(target: Target, transport: str, timeout: float) -> str | None:
    """For an ``https://`` URL (HTTP/1.1 *or* HTTP/2 over TLS): why the ``h2`` transport is
    not offered, when the server's ALPN does not select ``h2`` (RFC 9113 §3.2; RFC 7301
    §3.2); ``None`` when it does, or when the URL (``h2://``) says the server speaks h2."""
    if transport != "h2" or target.scheme != "https":
        return None
    ctx = ProbeContext(target=target, transport=transport, timeout=timeout)
    try:
        selected = ctx.connect().alpn
    except OSError:
        return None  # the probes themselves report what goes wrong
    finally:
        ctx.close()
    if selected == "h2":
        return None
    return (f"{target.authority} does not speak HTTP/2 over TLS: offered ALPN h2, it "
            f"selected {selected!r} (RFC 9113 §3.2)")


def _not_offered(target: Target, transport: str, todo: list[Probe], why: str) -> SuiteResult:
    cases = [CaseResult(id=p.id, status=CaseStatus.NOT_SUPPORTED.value, rfc=f"RFC {p.rfc}",
                        section=p.section, description=p.requirement, message=why,
                        extra={"level": p.level.value, "mandatory": p.level.mandatory,
                               "transport": transport})
             for p in todo]
    return SuiteResult(suite=SUITE, variant=transport, target=target.name, tool=dict(TOOL),
                       cases=cases, message=why, extra={"url": target.url})


def to_case(run: ProbeRun) -> CaseResult:
    probe, verdict = run.probe, run.verdict
    message = verdict.detail
    if verdict.outcome is Outcome.UNDECIDED:
        message = f"undecided: {message}"
    extra: dict[str, object] = {
        "level": probe.level.value,
        "mandatory": probe.level.mandatory,
        "url": probe.url,
        "conforming": probe.conforming,
        "outcome": verdict.outcome.value,
        "transport": run.transport,
        "duration_s": round(run.duration_s, 3),
    }
    if probe.h2spec:
        extra["h2spec"] = list(probe.h2spec)
    if verdict.outcome is not Outcome.PASS:
        extra["seen"] = list(verdict.seen)
    return CaseResult(id=probe.id, status=_STATUS[verdict.outcome].value, rfc=f"RFC {probe.rfc}",
                      section=probe.section, description=probe.requirement, message=message,
                      extra=extra)


def run_target(target: Target, probes: list[Probe], *, timeout: float = 3.0,
               jobs: int = 8) -> list[SuiteResult]:
    """One result per transport the target offers and some probe needs."""
    results: list[SuiteResult] = []
    for transport in target.transports:
        todo = [p for p in probes if transport in p.transports]
        if not todo:
            continue
        started = time.monotonic()
        problem = reachable(target, transport, timeout)
        if problem:
            results.append(error_result(SUITE, transport, target.name, TOOL, problem))
            continue
        declined = alpn_declines_h2(target, transport, timeout)
        if declined:
            results.append(_not_offered(target, transport, todo, declined))
            continue
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            runs = list(pool.map(run_one, todo, [target] * len(todo), [transport] * len(todo),
                                 [timeout] * len(todo)))
        result = SuiteResult(suite=SUITE, variant=transport, target=target.name, tool=dict(TOOL),
                             cases=[to_case(r) for r in runs],
                             extra={"url": target.url})
        result.duration_s = time.monotonic() - started
        results.append(result)
    return results


def mandatory_failures(results: list[SuiteResult]) -> int:
    return sum(1 for r in results for c in r.cases
               if c.status == CaseStatus.FAIL and c.extra.get("mandatory"))
