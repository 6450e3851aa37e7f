"""Bounded memos of the hot paths (request heads, response heads, field lines, field
section sizes): a plain dict read inline by its user, filled here on a miss."""
from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def remember(memo: dict[K, V], key: K, value: V, limit: int) -> V:
    """Keep ``value`` under ``key``; a memo that reached ``limit`` entries is emptied
    first (repeated heads come back at once; a peer sending only distinct ones cannot
    grow it past ``limit``). Returns ``value``."""
    if len(memo) >= limit:
        memo.clear()
    memo[key] = value
    return value
