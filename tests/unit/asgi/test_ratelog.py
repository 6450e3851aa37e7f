"""Log lines a peer can trigger are folded per cause (issue 20: one line per cause per
interval, with a count) — blackbull.server.ratelog."""
from __future__ import annotations

import asyncio
import logging

import pytest

from blackbull.server import ratelog

LOG = logging.getLogger("blackbull.test.ratelog")


@pytest.fixture(autouse=True)
def _fresh_causes():
    ratelog.reset()
    yield
    ratelog.reset()


async def test_a_flood_of_one_cause_is_one_line_then_one_count(caplog):
    """1000 occurrences of one cause inside the interval: the first is logged at once,
    the other 999 as a single line with their count when the interval ends."""
    caplog.set_level(logging.INFO, logger=LOG.name)
    for i in range(1000):
        ratelog.log_limited(LOG, logging.WARNING, "limit", 0.2, "limit %d reached (%s)", 5, i)
    assert [r.getMessage() for r in caplog.records] == ["limit 5 reached (0)"]
    await asyncio.sleep(0.35)
    assert [r.getMessage() for r in caplog.records] == [
        "limit 5 reached (0)", "limit 5 reached (999) (999 more in the last 0.2 s)"]


async def test_causes_are_counted_apart_and_a_quiet_cause_logs_again(caplog):
    """Two causes do not fold into each other; after a quiet interval a cause's next
    occurrence is logged at once again."""
    caplog.set_level(logging.INFO, logger=LOG.name)
    ratelog.log_limited(LOG, logging.INFO, "a", 0.1, "a")
    ratelog.log_limited(LOG, logging.INFO, "b", 0.1, "b")
    await asyncio.sleep(0.15)
    ratelog.log_limited(LOG, logging.INFO, "a", 0.1, "a again")
    assert [r.getMessage() for r in caplog.records] == ["a", "b", "a again"]


def test_interval_zero_logs_every_line(caplog):
    """BB_LOG_REPEAT_INTERVAL=0 turns folding off."""
    caplog.set_level(logging.INFO, logger=LOG.name)
    for _ in range(3):
        ratelog.log_limited(LOG, logging.INFO, "x", 0.0, "x")
    assert len(caplog.records) == 3
