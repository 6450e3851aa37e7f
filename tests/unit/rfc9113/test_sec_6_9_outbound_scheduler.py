"""The shared outbound scheduler (RFC 9113 §6.9, §6.1; RFC 9218 §10) in the client role,
as the RFC 8441 client and the h2bridge use it: our core as the client, python-hyper
``h2`` as the independent server that receives the DATA frames."""
from __future__ import annotations

import h2.config
import h2.connection
import h2.events
import h2.settings

from blackbull.protocol.http2 import H2Connection, SettingCode
from blackbull.protocol.http2.scheduler import OutboundScheduler, StreamOutput

REQUEST = [(b":method", b"POST"), (b":scheme", b"http"), (b":path", b"/"),
           (b":authority", b"a")]


def connected(initial_window: int = 65535
              ) -> tuple[H2Connection, h2.connection.H2Connection]:
    """Our client core and an h2 server that advertised ``initial_window``."""
    server = h2.connection.H2Connection(h2.config.H2Configuration(
        client_side=False, header_encoding=None))
    server.initiate_connection()
    server.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: initial_window})
    client = H2Connection("client", {SettingCode.ENABLE_PUSH: 0})
    client.initiate_connection()
    exchange(client, server)
    return client, server


def exchange(client: H2Connection, server: h2.connection.H2Connection) -> list:
    """Move bytes both ways until quiet; return the h2 server's events."""
    events: list = []
    while True:
        out_c = client.data_to_send()
        if out_c:
            events += server.receive_data(out_c)
        out_s = server.data_to_send()
        if out_s:
            client.receive_data(out_s)
        if not out_c and not out_s:
            return events


def open_stream(client: H2Connection, server: h2.connection.H2Connection) -> int:
    sid = client.get_next_available_stream_id()
    client.send_headers(sid, REQUEST)
    exchange(client, server)
    return sid


def data_of(events: list, sid: int) -> list[h2.events.DataReceived]:
    return [e for e in events if isinstance(e, h2.events.DataReceived) and e.stream_id == sid]


def test_data_waits_for_the_stream_window_and_follows_its_window_update() -> None:
    """RFC 9113 §6.9.1: no DATA beyond the peer's stream window; the rest goes once a
    WINDOW_UPDATE opens it, and the queued total counts what still waits."""
    client, server = connected(initial_window=10)
    sid = open_stream(client, server)
    changes: list[int] = []
    scheduler = OutboundScheduler(client, changes.append)
    out = StreamOutput(sid)
    assert out.write(b"x" * 25)
    scheduler.enqueue(out)
    scheduler.pump()
    first = data_of(exchange(client, server), sid)
    assert sum(len(e.data) for e in first) == 10
    assert scheduler.queued == 15 and sid in scheduler.active
    server.increment_flow_control_window(15, stream_id=sid)
    exchange(client, server)
    scheduler.pump()
    rest = data_of(exchange(client, server), sid)
    assert b"".join(e.data for e in rest) == b"x" * 15
    assert scheduler.queued == 0 and sum(changes) == 0 and not scheduler.active


def test_end_stream_rides_on_the_last_data_frame() -> None:
    """RFC 9113 §6.1: END_STREAM is a flag of the stream's last DATA frame."""
    client, server = connected()
    sid = open_stream(client, server)
    scheduler = OutboundScheduler(client)
    out = StreamOutput(sid)
    out.write(b"hello")
    out.finish()
    scheduler.enqueue(out)
    scheduler.pump()
    events = exchange(client, server)
    data = data_of(events, sid)
    assert [e.data for e in data] == [b"hello"]
    assert any(isinstance(e, h2.events.StreamEnded) and e.stream_id == sid for e in events)
    assert out.done and not out.write(b"more")


def test_end_stream_alone_needs_no_window() -> None:
    """RFC 9113 §6.9.1 counts payload only: a zero-length DATA with END_STREAM goes out
    while the stream window is 0."""
    client, server = connected(initial_window=0)
    sid = open_stream(client, server)
    scheduler = OutboundScheduler(client)
    out = StreamOutput(sid)
    out.write(b"held")
    scheduler.enqueue(out)
    scheduler.pump()
    assert data_of(exchange(client, server), sid) == [] and out.out_size == 4
    server.increment_flow_control_window(4, stream_id=sid)
    exchange(client, server)
    scheduler.pump()
    assert [e.data for e in data_of(exchange(client, server), sid)] == [b"held"]
    assert out.finish()
    scheduler.enqueue(out)
    scheduler.pump()
    events = exchange(client, server)
    assert [e.data for e in data_of(events, sid)] == [b""]
    assert any(isinstance(e, h2.events.StreamEnded) for e in events)


def test_a_reset_stream_voids_its_queue() -> None:
    """RFC 9113 §6.4: after RST_STREAM nothing more is sent on the stream; what waited
    is dropped and no longer counted."""
    client, server = connected(initial_window=0)
    sid = open_stream(client, server)
    changes: list[int] = []
    scheduler = OutboundScheduler(client, changes.append)
    out = StreamOutput(sid)
    out.write(b"y" * 100)
    scheduler.enqueue(out)
    scheduler.pump()
    assert scheduler.queued == 100
    server.reset_stream(sid)
    exchange(client, server)
    scheduler.pump()
    assert out.done and out.out_size == 0 and not out.out_chunks
    assert scheduler.queued == 0 and sum(changes) == 0 and not scheduler.active
    assert not out.write(b"late") and not out.finish()


def test_streams_take_a_contended_connection_window_in_id_order() -> None:
    """RFC 9218 §10 defaults (urgency 3, non-incremental): the lower stream id takes the
    connection window first, the next one gets what is left."""
    client, server = connected(initial_window=1 << 20)
    a, b = open_stream(client, server), open_stream(client, server)
    scheduler = OutboundScheduler(client)
    first, second = StreamOutput(a), StreamOutput(b)
    second.write(b"b" * 40000)
    first.write(b"a" * 40000)
    scheduler.enqueue(second)
    scheduler.enqueue(first)
    scheduler.pump()
    events = exchange(client, server)
    assert sum(len(e.data) for e in data_of(events, a)) == 40000
    assert sum(len(e.data) for e in data_of(events, b)) == 65535 - 40000
    assert [e.stream_id for e in events if isinstance(e, h2.events.DataReceived)][0] == a


def test_final_data_skips_the_queue_only_when_nothing_waits() -> None:
    """RFC 9218 §10: a response's last DATA may bypass the queue only when no other
    stream waits for window (no order at stake) and the windows admit it (§6.9.1)."""
    client, server = connected(initial_window=0)
    a, b = open_stream(client, server), open_stream(client, server)
    scheduler = OutboundScheduler(client)
    assert not scheduler.send_final_now(a, b"zz")  # over the stream window
    waiting = StreamOutput(b)
    waiting.write(b"w")
    scheduler.enqueue(waiting)
    assert not scheduler.send_final_now(a, b"")  # another stream waits
    scheduler.discard(b)
    assert scheduler.send_final_now(a, b"")
    events = exchange(client, server)
    assert any(isinstance(e, h2.events.StreamEnded) and e.stream_id == a for e in events)
