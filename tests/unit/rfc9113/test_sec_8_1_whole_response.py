"""RFC 9113 §8.1, §6.9: a whole response sent in one core call
(``H2Connection.send_headers_and_data``) is HEADERS then the last DATA with
END_STREAM when both send windows admit it, and only HEADERS when they do not; the
python-hyper ``h2`` client is the independent peer that reads it."""
from __future__ import annotations

import h2.events
import h2.settings

from blackbull.protocol.http2 import H2Connection
from tests.conftest_h2 import REQUEST, connected_pair

RESPONSE = [(b":status", b"200"), (b"content-length", b"5")]


def _request(server: H2Connection, client: object) -> int:
    sid = client.get_next_available_stream_id()  # type: ignore[attr-defined]
    client.send_headers(sid, REQUEST, end_stream=True)  # type: ignore[attr-defined]
    server.receive_data(client.data_to_send())  # type: ignore[attr-defined]
    return sid


def test_headers_and_last_data_reach_the_peer_and_close_the_stream() -> None:
    """§8.1: HEADERS, then DATA with END_STREAM: the peer sees the response, its body
    and the stream's end; our side forgets the closed stream (§5.1)."""
    server, client = connected_pair()
    sid = _request(server, client)
    assert server.send_headers_and_data(sid, RESPONSE, b"hello")
    events = client.receive_data(server.data_to_send())
    kinds = [type(e) for e in events]
    assert kinds[:3] == [h2.events.ResponseReceived, h2.events.DataReceived,
                         h2.events.StreamEnded]
    assert events[1].data == b"hello"
    assert sid not in server.streams
    assert server.outbound_window == 65535 - 5


def test_a_body_over_the_stream_window_sends_only_the_headers() -> None:
    """§6.9.1: DATA must fit the peer's stream window: with a 3-octet window only
    HEADERS goes out, the stream stays open for the caller to queue the body."""
    server, client = connected_pair()
    client.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 3})
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    sid = _request(server, client)
    assert not server.send_headers_and_data(sid, RESPONSE, b"hello")
    events = client.receive_data(server.data_to_send())
    assert [type(e) for e in events] == [h2.events.ResponseReceived]
    assert sid in server.streams and server.outbound_window == 65535
    server.send_data(sid, b"hel")
    assert [e.data for e in client.receive_data(server.data_to_send())
            if isinstance(e, h2.events.DataReceived)] == [b"hel"]
