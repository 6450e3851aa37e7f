"""The three checks every attack test makes."""
from __future__ import annotations

from tests.hostile.conftest import HostileCase
from tests.hostile.harness import Measurement, ServerProcess


def check_attack(case: HostileCase, server: ServerProcess, m: Measurement,
                 expected: str | tuple[str, ...]) -> None:
    """The attacker got the protocol's answer (every attack connection ended with one
    of ``expected``), the memory stayed in its bound, the honest client kept its rate,
    and the server is still alive."""
    case.record(m)
    wanted = (expected,) if isinstance(expected, str) else expected
    got = sum(n for answer, n in m.answers.items() if answer in wanted)
    total = sum(m.answers.values())
    assert server.alive(), "the server died"
    assert got >= 1, f"no attack connection got {wanted}: {dict(m.answers)}"
    assert got == total, f"some attack connections got another answer: {dict(m.answers)}"
    assert m.growth_mb <= case.memory_bound_mb, (
        f"memory grew {m.growth_mb:.1f} MB > {case.memory_bound_mb} MB")
    # Every limit hit is logged once per connection, not once per frame or request: at
    # most two lines (e.g. the first stream reset and the connection error) per attack
    # connection, the unmeasured warm-up burst's included, plus the server's start-up.
    lines = [ln for ln in server.log().splitlines() if " blackbull." in ln]
    if len(lines) > 2 * (total + m.warmup_connections) + 20:
        from collections import Counter

        common = Counter(ln.split(" blackbull.", 1)[1][:120] for ln in lines).most_common(5)
        raise AssertionError(f"{len(lines)} log lines for {total} connections; most "
                             f"common: {common}")
    assert m.ratio >= case.min_ratio, f"honest client ratio {m.ratio:.2f} < {case.min_ratio}"
