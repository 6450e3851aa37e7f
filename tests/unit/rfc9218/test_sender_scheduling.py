"""RFC 9218 §10 scheduling in the OutboundScheduler, on the core with an h2 client as the peer."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from blackbull.protocol.http2.scheduler import OutboundScheduler
from tests.conftest_h2 import REQUEST, connected_pair, parse_frames


@dataclass
class Out:
    stream_id: int
    urgency: int = 3
    incremental: bool = False
    out_chunks: deque = field(default_factory=deque)
    out_size: int = 0
    out_end: bool = False
    drained: int = 0

    def queue(self, data: bytes, end: bool) -> Out:
        if data:
            self.out_chunks.append(data)
            self.out_size += len(data)
        self.out_end = end
        return self

    def on_output_drained(self) -> None:
        self.drained += 1


def open_streams(n: int):
    server, client = connected_pair()
    sids = []
    for _ in range(n):
        sid = client.get_next_available_stream_id()
        client.send_headers(sid, REQUEST, end_stream=True)
        sids.append(sid)
    server.receive_data(client.data_to_send())
    for sid in sids:
        server.send_headers(sid, [(b":status", b"200")])
    server.data_to_send()
    return server, client, sids


def data_frames(raw: bytes) -> list:
    return [f for f in parse_frames(raw) if type(f).__name__ == "DataFrame"]


def test_urgent_stream_takes_the_whole_window_first() -> None:
    """RFC 9218 §10: lower urgency values are served first."""
    server, _, (a, b) = open_streams(2)
    sender = OutboundScheduler(server)
    low = Out(a, urgency=6).queue(b"l" * 50000, True)
    high = Out(b, urgency=0).queue(b"h" * 50000, True)
    sender.enqueue(low)
    sender.enqueue(high)
    sender.pump()
    frames = data_frames(server.data_to_send())
    order = [f.stream_id for f in frames]
    assert order[:4] == [b] * 4 and high.out_size == 0
    assert low.out_size == 100000 - 65535  # the rest of the window went to the low one


def test_zero_length_end_stream_is_sent_without_window() -> None:
    """RFC 9113 §6.9.1 with RFC 9218 §10: a lower-priority stream whose only pending item
    is END_STREAM is not held back by an exhausted connection window."""
    server, _, (a, b) = open_streams(2)
    sender = OutboundScheduler(server)
    big = Out(a, urgency=0).queue(b"x" * 100000, True)
    done = Out(b, urgency=7).queue(b"", True)
    sender.enqueue(big)
    sender.enqueue(done)
    sender.pump()
    frames = data_frames(server.data_to_send())
    assert server.outbound_window == 0
    ends = [f for f in frames if f.stream_id == b]
    assert len(ends) == 1 and "END_STREAM" in ends[0].flags and done.drained == 1
    assert b not in sender.active and a in sender.active


def test_paused_sender_sends_nothing_until_resumed() -> None:
    """The transport's back-pressure (pause_writing) holds DATA in the sender."""
    server, _, (a,) = open_streams(1)
    sender = OutboundScheduler(server)
    sender.paused = True
    out = Out(a).queue(b"p" * 10, True)
    sender.enqueue(out)
    sender.pump()
    assert data_frames(server.data_to_send()) == []
    sender.paused = False
    sender.pump()
    assert [f.data for f in data_frames(server.data_to_send())] == [b"p" * 10]
