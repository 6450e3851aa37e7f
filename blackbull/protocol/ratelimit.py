"""A token bucket for the cores' hostile-peer limits, sans I/O.

One bucket class serves every budget of "frames that cost us work but give the
application nothing": HTTP/2 stream resets (Rapid Reset, CVE-2023-44487, and
MadeYouReset, CVE-2025-8671), HTTP/2 control-frame floods (RFC 9113 §10.5,
CVE-2019-9512/9513/9515/9518) and WebSocket PING/PONG floods (RFC 6455 §10.4).

The bucket holds at most ``burst`` tokens and refills at ``rate`` tokens per second.
It reads no clock: the caller passes ``now`` (seconds on any monotonic scale, e.g.
``loop.time()``), or ``None`` when it has no clock, in which case nothing refills
and the bucket is a plain budget of ``burst`` takes.
"""
from __future__ import annotations

__all__ = ["TokenBucket"]


class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` per second of the caller's clock."""

    __slots__ = ("burst", "rate", "tokens", "stamp")

    def __init__(self, burst: float, rate: float, now: float | None = None) -> None:
        if burst < 0 or rate < 0:
            raise ValueError("burst and rate must not be negative")
        self.burst = burst
        self.rate = rate
        self.tokens = float(burst)
        self.stamp = 0.0 if now is None else now

    def take(self, now: float | None = None) -> bool:
        """Spend one token; False when the bucket is (now) empty.

        An empty bucket stays in debt: every further take before the refill has paid
        it back fails too, so a peer that keeps sending keeps being refused."""
        if now is not None:
            tokens = self.tokens + (now - self.stamp) * self.rate
            self.tokens = tokens if tokens < self.burst else float(self.burst)
            self.stamp = now
        self.tokens -= 1
        return self.tokens >= 0

    def __repr__(self) -> str:
        return f"<TokenBucket {self.tokens:g}/{self.burst:g} +{self.rate:g}/s>"
