"""Verdicts the HTTP/1.1 probes share: "rejected with 400 and closed", "should be 400",
and the answers to pipelined requests read in order."""

from __future__ import annotations

from collections.abc import Iterable

from conformance.probes.http1._wire import Exchange, Response, _End, describe
from conformance.probes.model import Verdict

H1 = frozenset({"h1", "h1-tls"})


def rejected_and_closed(ex: Exchange, got: Response | _End, statuses: Iterable[int] = (400,),
                        *, need_close: bool = True) -> Verdict:
    """Pass when *got* has one of *statuses* and (if *need_close*) the server then closes."""
    allowed = tuple(statuses)
    if not isinstance(got, Response):
        return Verdict.failed(f"{got}; the RFC asks for {'/'.join(map(str, allowed))}")
    if got.status not in allowed:
        return Verdict.failed(f"answered {got.status}, not {'/'.join(map(str, allowed))}")
    if not need_close:
        return Verdict.passed(describe(got))
    closed = ex.closed_after(timeout=min(ex.ctx.timeout, 2.0))
    if closed:
        return Verdict.passed(f"{got.status}, then closed")
    if closed is None:
        return Verdict.failed(f"answered {got.status} but kept the connection open")
    return Verdict.failed(f"answered {got.status}, then sent more bytes instead of closing")


def should_400(got: Response | _End, also: Iterable[int] = ()) -> Verdict:
    """SHOULD-level "respond with 400" (RFC 9112 §2.2, §3): *also* lists other statuses the
    sentence allows (301 for a request-line)."""
    allowed = (400, *also)
    if isinstance(got, Response) and got.status in allowed:
        return Verdict.passed(describe(got))
    if isinstance(got, Response) and 200 <= got.status < 300:
        return Verdict.failed(f"processed the invalid request: {describe(got)}")
    return Verdict.failed(f"{describe(got)}, not {'/'.join(map(str, allowed))}")


def success(got: Response | _End) -> bool:
    return isinstance(got, Response) and 200 <= got.status < 300


def answers(ex: Exchange, n: int, *, head_only: Iterable[int] = (),
            last_timeout: float | None = None) -> list[Response | _End]:
    """Up to *n* final responses read in order (stops at the first non-response).

    *last_timeout* bounds the wait for the last one, when the probe expects it not to come
    (waiting the full timeout only proves silence more slowly)."""
    heads = set(head_only)
    out: list[Response | _End] = []
    for i in range(n):
        timeout = last_timeout if i == n - 1 and last_timeout is not None else None
        got, _ = ex.final(head_only=i in heads, timeout=timeout)
        out.append(got)
        if not isinstance(got, Response):
            break
    return out


def statuses(got: list[Response | _End]) -> str:
    return ", ".join(describe(g) for g in got)
