"""RFC 9113 §10.5 and RFC 6455 §10.4: the one token bucket behind the HTTP/2 reset
limit (CVE-2023-44487), the HTTP/2 flood limit (CVE-2019-9512/9513/9515/9518) and
the WebSocket PING/PONG limit. It reads no clock; callers pass ``now``."""
from __future__ import annotations

import pytest

from blackbull.protocol.ratelimit import TokenBucket


def test_burst_tokens_then_refusal() -> None:
    """RFC 9113 §10.5: an endpoint MAY limit frames that cost it work; ``burst``
    takes succeed in a row, the next one fails."""
    bucket = TokenBucket(3, 1.0, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]


def test_refill_follows_the_callers_clock_and_caps_at_burst() -> None:
    """RFC 9113 §10.5: the budget is a rate: tokens come back at ``rate`` per second
    of the caller's clock, never more than ``burst`` at once."""
    bucket = TokenBucket(2, 2.0, now=0.0)
    assert bucket.take(0.0) and bucket.take(0.0)
    assert not bucket.take(0.0)
    assert bucket.take(1.0)          # 2 tokens back, one debt paid, one taken
    bucket = TokenBucket(2, 2.0, now=0.0)
    assert [bucket.take(3600.0) for _ in range(3)] == [True, True, False]  # idle: ≤ burst


def test_without_a_clock_the_bucket_is_a_fixed_budget() -> None:
    """RFC 9113 §10.5: with no clock (``now`` None) nothing refills."""
    bucket = TokenBucket(2, 1000.0)
    assert bucket.take() and bucket.take()
    assert not bucket.take()
    assert not bucket.take()


def test_negative_parameters_are_refused() -> None:
    """A bucket with a negative size or rate bounds nothing: refused at creation."""
    with pytest.raises(ValueError):
        TokenBucket(-1, 1.0)
    with pytest.raises(ValueError):
        TokenBucket(1, -1.0)
