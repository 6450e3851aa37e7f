"""RFC 9218 on the running server: the ASGI priority extension and DATA scheduling."""
from __future__ import annotations

import asyncio
from typing import Any

import h2.events
import httpx

from blackbull.protocol.http2.frames import priority_update_frame
from tests.conftest_h2 import REQUEST, H2Client

SEEN: dict[str, Any] = {}


async def priority_app(scope: dict, receive: Any, send: Any) -> None:
    """Reads the whole body, then reports the priority it sees in the scope."""
    while (await receive()).get("more_body"):
        pass
    ext = scope["extensions"].get("http.response.priority")
    SEEN[scope["path"]] = (dict(ext) if ext is not None else None,
                           scope.get("http2_priority"), sorted(scope["extensions"]))
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def test_default_priority_in_scope(serve) -> None:
    """RFC 9218 §4: without signals, urgency 3 and non-incremental."""
    srv = await serve(priority_app)
    client = await H2Client.connect(srv.bound_port)
    await client.request(REQUEST)
    ext, top, _ = SEEN["/"]
    assert ext == {"urgency": 3, "incremental": False} and top == ext
    await client.close()


async def test_priority_header_sets_the_scope_priority(serve) -> None:
    """RFC 9218 §5: the priority request header carries u and i."""
    srv = await serve(priority_app)
    client = await H2Client.connect(srv.bound_port)
    await client.request([*REQUEST[:2], (":path", "/h"), REQUEST[3], ("priority", "u=1, i")])
    assert SEEN["/h"][0] == {"urgency": 1, "incremental": True}
    await client.close()


async def test_priority_update_before_headers_wins_over_the_header(serve) -> None:
    """RFC 9218 §7: a PRIORITY_UPDATE frame overrides the priority header."""
    srv = await serve(priority_app)
    client = await H2Client.connect(srv.bound_port)
    sid = client.conn.get_next_available_stream_id()
    client.writer.write(priority_update_frame(sid, b"u=6"))
    await client.request([*REQUEST[:2], (":path", "/pre"), REQUEST[3], ("priority", "u=1")])
    assert SEEN["/pre"][0] == {"urgency": 6, "incremental": False}
    await client.close()


async def test_priority_update_after_headers_updates_the_live_scope(serve) -> None:
    """RFC 9218 §7: a PRIORITY_UPDATE for an open stream is visible to the app."""
    srv = await serve(priority_app)
    client = await H2Client.connect(srv.bound_port)
    sid = client.conn.get_next_available_stream_id()
    client.conn.send_headers(sid, [*REQUEST[:2], (":path", "/post"), REQUEST[3]])
    client.flush()
    client.writer.write(priority_update_frame(sid, b"u=0, i"))
    client.conn.send_data(sid, b"", end_stream=True)
    client.flush()
    await client.response(sid)
    ext, top, _ = SEEN["/post"]
    assert ext == {"urgency": 0, "incremental": True} and top == ext
    await client.close()


async def test_priority_keys_are_absent_on_http11(serve) -> None:
    """RFC 9218 is an HTTP/2 signal here: HTTP/1.1 scopes carry none of the h2 keys."""
    srv = await serve(priority_app)
    async with httpx.AsyncClient() as http:
        r = await http.get(f"http://127.0.0.1:{srv.bound_port}/one")
    assert r.status_code == 200
    ext, top, keys = SEEN["/one"]
    assert ext is None and top is None
    assert not any(k.startswith("http.response.http2") or k == "http.response.push"
                   for k in keys)


BIG = 100_000


async def big_app(scope: dict, receive: Any, send: Any) -> None:
    await receive()
    size = 65535 if scope["path"] == "/fill" else BIG
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"x" * size})


async def _queued(srv: Any, n: int) -> None:
    """Wait until ``n`` responses wait in the connection's sender (no timing guess)."""
    for _ in range(500):
        for conn in srv.state.connections:
            sender = getattr(conn.handler, "sender", None)
            if sender is not None and len(sender.active) >= n:
                return
        await asyncio.sleep(0.01)
    raise AssertionError("responses never queued")


async def _order_after_opening_window(srv: Any, paths: list[tuple[str, str]]) -> list[int]:
    """Exhaust the connection window, queue responses, then open it and return the
    stream id of every DATA frame in arrival order."""
    client = await H2Client.connect(srv.bound_port, settings={4: 1 << 20})
    fill = client.conn.get_next_available_stream_id()
    client.conn.send_headers(fill, [*REQUEST[:2], (":path", "/fill"), REQUEST[3]],
                             end_stream=True)
    client.flush()
    await client.wait_for(lambda e: isinstance(e, h2.events.StreamEnded)
                          and e.stream_id == fill)  # no credit returned: window is 0
    sids = []
    for path, priority in paths:
        sid = client.conn.get_next_available_stream_id()
        headers = [*REQUEST[:2], (":path", path), REQUEST[3]]
        if priority:
            headers.append(("priority", priority))
        client.conn.send_headers(sid, headers, end_stream=True)
        sids.append(sid)
    client.flush()
    await _queued(srv, len(paths))
    client.conn.increment_flow_control_window(1 << 20)
    client.flush()
    order: list[int] = []
    ended: set[int] = set()
    while ended != set(sids):
        for event in await client.read_once():
            if isinstance(event, h2.events.DataReceived) and event.data:
                order.append(event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                ended.add(event.stream_id)
    await client.close()
    return order


async def test_lower_urgency_is_sent_first_when_the_window_is_shared(serve) -> None:
    """RFC 9218 §10: with both responses waiting on one connection window, the u=1
    response gets all its DATA before any of the u=5 response."""
    srv = await serve(big_app)
    order = await _order_after_opening_window(srv, [("/slow", "u=5"), ("/urgent", "u=1")])
    slow, urgent = 3, 5
    assert set(order) == {slow, urgent}
    assert max(i for i, s in enumerate(order) if s == urgent) < min(
        i for i, s in enumerate(order) if s == slow)


async def test_incremental_responses_of_one_urgency_are_interleaved(serve) -> None:
    """RFC 9218 §10: incremental responses of equal urgency share bandwidth round-robin."""
    srv = await serve(big_app)
    order = await _order_after_opening_window(srv, [("/a", "i"), ("/b", "i")])
    switches = sum(1 for x, y in zip(order, order[1:], strict=False) if x != y)
    assert switches >= 4


async def test_non_incremental_responses_go_one_after_another(serve) -> None:
    """RFC 9218 §10: non-incremental responses of equal urgency are sent in stream order."""
    srv = await serve(big_app)
    order = await _order_after_opening_window(srv, [("/a", ""), ("/b", "")])
    assert order == sorted(order)


async def test_response_priority_header_refines_the_sending_priority(serve) -> None:
    """RFC 9218 §8: a priority field in the app's response merges into the priority the
    server schedules with (and is passed on to the client)."""
    seen = {}

    async def app(scope, receive, send):
        await receive()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"priority", b"u=0")]})
        seen["after"] = dict(scope["extensions"]["http.response.priority"])
        await send({"type": "http.response.body", "body": b"x"})

    srv = await serve(app)
    client = await H2Client.connect(srv.bound_port)
    headers, _, _ = await client.request([*REQUEST, ("priority", "u=5, i")])
    assert headers[b"priority"] == b"u=0"
    assert seen["after"] == {"urgency": 0, "incremental": True}
    await client.close()
