"""RFC 9113 §6.9, §10.5: a peer that barely opens its flow-control windows is judged
by the rate at which it takes response data, not by whether it took any
(:mod:`blackbull.server.http2_guard`), and one worker's buffered response data is
bounded. The core here is our own ``H2Connection`` driven by a python-hyper ``h2``
client; the judge sees what the I/O shell would give it."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

from blackbull.protocol.http2 import SettingCode
from blackbull.server.http2_guard import ResponseBudget, SlowReaderJudge
from tests.conftest_h2 import REQUEST, connected_pair

PERIOD, RATE = 1.0, 1024


@dataclass
class Queued:
    out_size: int


def _open_streams(n: int, initial_window: int | None = None):
    settings = {} if initial_window is None else {SettingCode.INITIAL_WINDOW_SIZE: initial_window}
    server, client = connected_pair()
    if settings:
        client.update_settings(settings)
    for _ in range(n):
        sid = client.get_next_available_stream_id()
        client.send_headers(sid, REQUEST, end_stream=True)
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    for sid in list(server.streams):
        server.send_headers(sid, [(b":status", b"200")])
    return server, client


def test_one_octet_per_period_is_too_slow_for_the_connection() -> None:
    """§10.5: responses waiting at both ends of a period while only one octet went
    out (a WINDOW_UPDATE of 1 per period) is no progress: the connection is slow."""
    server, _ = _open_streams(1)
    sid = next(iter(server.streams))
    server.outbound_window = 0
    waiting = {sid: Queued(65536)}
    judge = SlowReaderJudge()
    assert judge.judge(server, waiting, PERIOD, RATE) == (False, [])  # first mark
    server.outbound_window = 1
    server.send_data(sid, b"x")
    assert judge.judge(server, waiting, PERIOD, RATE)[0] is True


def test_a_connection_taking_its_rate_is_not_slow() -> None:
    """§6.9: a reader taking at least BB_H2_MIN_SEND_RATE × period octets per period
    keeps its connection, however long its responses wait."""
    server, _ = _open_streams(1)
    sid = next(iter(server.streams))
    waiting = {sid: Queued(1 << 20)}
    judge = SlowReaderJudge()
    judge.judge(server, waiting, PERIOD, RATE)
    for _ in range(5):
        server.send_data(sid, b"x" * RATE)
        assert judge.judge(server, waiting, PERIOD, RATE) == (False, [])


def test_waiting_only_at_the_end_of_a_period_is_not_judged() -> None:
    """Data that began to wait during the period (not at its start) is not judged
    yet: the first period with waiting data only sets the marks."""
    server, _ = _open_streams(1)
    sid = next(iter(server.streams))
    judge = SlowReaderJudge()
    assert judge.judge(server, {}, PERIOD, RATE) == (False, [])
    assert judge.judge(server, {sid: Queued(10)}, PERIOD, RATE) == (False, [])


def test_stream_held_back_by_its_own_window_is_reset_alone() -> None:
    """§6.9.1: a stream whose own window stays shut while the connection's is open is
    the peer's choice for that stream: it alone is judged slow, the connection (which
    keeps sending on another stream) is not."""
    server, _ = _open_streams(2, initial_window=0)
    starved, fed = sorted(server.streams)
    server.streams[fed].outbound_window = 1 << 20
    waiting = {starved: Queued(65536), fed: Queued(1 << 20)}
    judge = SlowReaderJudge()
    judge.judge(server, waiting, PERIOD, RATE)
    server.send_data(fed, b"y" * 4096)
    assert judge.judge(server, waiting, PERIOD, RATE) == (False, [starved])


def test_stream_waiting_for_the_connection_window_is_judged_with_the_connection() -> None:
    """A stream with window of its own but no connection window is not blamed by
    itself: only the connection's rate counts."""
    server, _ = _open_streams(1)
    sid = next(iter(server.streams))
    server.outbound_window = 0
    judge = SlowReaderJudge()
    judge.judge(server, {sid: Queued(65536)}, PERIOD, RATE)
    slow, streams = judge.judge(server, {sid: Queued(65536)}, PERIOD, RATE)
    assert slow and streams == []


class Holder:
    """A connection as the budget sees it; closing it releases what it held (the
    handler's sender reports that at once)."""

    budget: ResponseBudget | None = None

    def __init__(self, held: int, sent: int = 0) -> None:
        self.held, self.sent, self.shed_for = held, sent, None

    def buffered_octets(self) -> int:
        return self.held

    def octets_sent(self) -> int:
        return self.sent

    def shed(self, reason: str) -> None:
        self.shed_for = reason
        if self.budget is not None:
            self.budget.change(-self.held)
        self.held = 0


def test_budget_closes_the_least_progressing_connections_first() -> None:
    """§10.5: past the worker's limit, the connections that progressed least since
    the last check are closed, the ones holding most first, until under the limit."""
    loop = asyncio.new_event_loop()
    try:
        budget = ResponseBudget(loop, limit=100)
        fast, slow_big, slow_small = Holder(60), Holder(60), Holder(30)
        for holder in (fast, slow_big, slow_small):
            holder.budget = budget
            budget.watch(holder)
            budget.change(holder.held)
        fast.sent = 10_000  # progressed since it was watched
        budget._check()
        assert slow_big.shed_for == "response buffer budget"
        assert fast.shed_for is None and slow_small.shed_for is None
        assert budget.total == 90
    finally:
        loop.close()


def test_budget_of_zero_tracks_nothing() -> None:
    """BB_H2_MAX_BUFFERED_RESPONSE=0 disables the bound."""
    loop = asyncio.new_event_loop()
    try:
        budget = ResponseBudget(loop, limit=0)
        holder = Holder(1 << 30)
        budget.watch(holder)
        budget.change(holder.held)
        budget._check()
        assert holder.shed_for is None
    finally:
        loop.close()
