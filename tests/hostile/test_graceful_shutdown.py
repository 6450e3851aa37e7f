"""Graceful shutdown under load: SIGTERM while 200 requests are in flight.

The HTTP/2 side uses the frame-level client of :mod:`tests.hostile.h2raw` (hpack for the
fields), not the ``h2`` library: h2 4.x moves its connection to CLOSED on receiving any
GOAWAY and then rejects the responses of streams the server still completes
(python-hyper/h2#1181), which RFC 9113 §6.8 allows and graceful shutdown relies on.
"""
from __future__ import annotations

import asyncio
import signal

from tests.hostile.clients import http1_get
from tests.hostile.h2raw import H2Attacker
from tests.hostile.harness import ServerProcess, machine_lock

H1_REQUESTS = 100
H2_CONNECTIONS = 2
H2_STREAMS = 50          # per connection: 100 HTTP/2 streams in all
RACING = 5               # per connection, sent just after the SIGTERM (+2 after the GOAWAY)


def _settled(peer: H2Attacker, sids: list[int]) -> bool:
    rec = peer.received
    final = rec.goaway_last is not None and rec.goaway_last < 0x7FFFFFFF
    return final and all(s in rec.ended or s in rec.reset_ids or s > rec.goaway_last
                         for s in sids)


async def test_sigterm_with_200_requests_in_flight_loses_none(hostile_case) -> None:
    """RFC 9113 §6.8, RFC 9112 §9.6: 100 HTTP/1.1 requests and 100 HTTP/2 streams are
    being served (1 s each) when SIGTERM arrives: every one completes with 200; streams
    the client opens after the signal either complete or lie above the final GOAWAY's
    last-stream-id and are retried, unprocessed, on a standby server; the server exits
    0 within BB_GRACEFUL_TIMEOUT."""
    hostile_case.rfc, hostile_case.section = "RFC 9113", "6.8"
    hostile_case.description = "SIGTERM with 100 HTTP/1.1 + 100 HTTP/2 requests in flight"
    hostile_case.bound = "BB_GRACEFUL_TIMEOUT=10 s; every request completes or is retried"
    with machine_lock():  # its 200 requests must not fall into another test's windows
        await _shutdown_under_load(hostile_case)


async def _shutdown_under_load(case) -> None:
    server = ServerProcess({"BB_GRACEFUL_TIMEOUT": "10"})
    standby = ServerProcess()
    try:
        h1 = [asyncio.create_task(http1_get(server.port, "/slow?1")) for _ in range(H1_REQUESTS)]
        peers = [await H2Attacker.open(server.port) for _ in range(H2_CONNECTIONS)]
        sent: list[list[int]] = []
        for peer in peers:
            await peer.wait_for(lambda r: r.frames >= 2, 2.0)
            sids = list(range(1, 2 * H2_STREAMS, 2))
            for sid in sids:
                peer.headers(sid, "/slow?1")
            sent.append(sids)
        await asyncio.sleep(0.4)  # every request has reached the server and is running
        server.proc.send_signal(signal.SIGTERM)
        racing = []
        for peer in peers:
            extra = list(range(2 * H2_STREAMS + 1, 2 * (H2_STREAMS + RACING), 2))
            for sid in extra:
                peer.headers(sid, "/slow?0.1")
            racing.append(extra)
        statuses = await asyncio.gather(*h1)
        for peer, sids, extra in zip(peers, sent, racing, strict=True):
            await peer.wait_for(lambda r, p=peer, w=sids + extra: _settled(p, w), 15.0)
        assert statuses == [200] * H1_REQUESTS
        for peer, extra in zip(peers, racing, strict=True):
            # Sent after the final GOAWAY arrived: above its last-stream-id by definition.
            late = [extra[-1] + 2, extra[-1] + 4]
            for sid in late:
                peer.headers(sid, "/slow?0.1")
            extra += late
        await asyncio.sleep(0.3)
        retried = 0
        for peer, sids, extra in zip(peers, sent, racing, strict=True):
            rec = peer.received
            assert all(rec.stream_status.get(s) == 200 and s in rec.ended for s in sids), rec
            assert rec.goaway == "NO_ERROR" and rec.goaway_last is not None
            for sid in extra:
                if sid in rec.ended:
                    assert rec.stream_status.get(sid) == 200
                    continue
                # Not processed (§6.8): above last-stream-id, so safe to send elsewhere.
                assert sid > rec.goaway_last, (sid, rec.goaway_last, rec.reset_ids)
                retry = await H2Attacker.open(standby.port)
                await retry.wait_for(lambda r: r.frames >= 2, 2.0)
                retry.headers(1, "/slow?0.1")
                await retry.wait_for(lambda r: 1 in r.ended, 10.0)
                assert retry.received.stream_status.get(1) == 200
                retry.close()
                retried += 1
        for peer in peers:
            peer.close()
        assert server.proc.wait(15) == 0
        case.message = (f"shutdown: {H1_REQUESTS} h1 + {H2_CONNECTIONS * H2_STREAMS} h2 "
                        f"completed; {(RACING + 2) * H2_CONNECTIONS} racing streams, "
                        f"{retried} retried on the standby")
        print(case.message)
    finally:
        server.stop()
        standby.stop()
