"""RFC 9113 §4: frame format, frame size and header compression on the core."""
from __future__ import annotations

from typing import Any

from blackbull.protocol.http2 import ErrorCode, RequestReceived, SettingCode
from tests.conftest_h2 import (
    REQUEST,
    Raw,
    connected_pair,
    goaway_of,
    h2_client,
    handshake,
    parse_frames,
    server_core,
)


def test_frame_larger_than_max_frame_size_is_frame_size_error() -> None:
    """RFC 9113 §4.2: a frame exceeding SETTINGS_MAX_FRAME_SIZE is a FRAME_SIZE_ERROR."""
    server = server_core()
    server.receive_data(Raw.preface())
    server.data_to_send()
    server.receive_data(Raw.frame(0x0, 0, 1, b"x" * 16385))
    assert goaway_of(server.data_to_send()).error_code == ErrorCode.FRAME_SIZE_ERROR


def test_larger_frames_accepted_after_advertising_a_larger_max_frame_size() -> None:
    """RFC 9113 §4.2: the limit is the SETTINGS_MAX_FRAME_SIZE we advertised."""
    server, client = connected_pair({SettingCode.MAX_FRAME_SIZE: 65536})
    sid = client.get_next_available_stream_id()
    big = [("x-big", "v" * 30000)]
    client.send_headers(sid, REQUEST + big, end_stream=True)
    raw = client.data_to_send()
    assert len(raw) > 16384 + 9 and len(parse_frames(raw)) == 1  # one HEADERS frame
    events = server.receive_data(raw)
    assert isinstance(events[0], RequestReceived)


def _request_with_room() -> tuple[Any, Any, int]:
    """A server core that received a GET from an h2 client whose windows are 1 MiB, so
    the response's DATA is cut by SETTINGS_MAX_FRAME_SIZE alone: (server, client, id)."""
    server, client = connected_pair()
    client.increment_flow_control_window(1 << 20)
    sid = client.get_next_available_stream_id()
    client.send_headers(sid, REQUEST, end_stream=True)
    client.update_settings({4: 1 << 20})
    server.receive_data(client.data_to_send())
    return server, client, sid


def test_data_is_cut_at_the_peers_max_frame_size() -> None:
    """RFC 9113 §4.2: we never send a frame above the peer's SETTINGS_MAX_FRAME_SIZE."""
    server, client, sid = _request_with_room()
    server.send_headers(sid, [(b":status", b"200")])
    server.send_data(sid, b"z" * 40000, end_stream=True)
    frames = parse_frames(server.data_to_send())
    sizes = [len(f.data) for f in frames if type(f).__name__ == "DataFrame"]
    assert sizes == [16384, 16384, 40000 - 32768]


def test_large_data_goes_out_as_buffers_an_independent_peer_reads() -> None:
    """RFC 9113 §4.2/§6.1: DATA larger than one frame is queued as views of the app's
    body; ``buffers_to_send`` (the server's vectored write) hands the frame headers and
    those views out in order, and the h2 library reads the same DATA the joined write
    carries. A small body takes the join."""
    server, client, sid = _request_with_room()
    server.data_to_send()
    server.send_headers(sid, [(b":status", b"200")])
    server.send_data(sid, b"small", end_stream=False)  # one frame: the join's case
    assert not server.large_data_queued
    body = bytes(range(256)) * 160  # 40 960 bytes, three frames at 16 384
    server.send_data(sid, body, end_stream=True)
    assert server.large_data_queued
    parts = server.buffers_to_send()
    assert any(isinstance(p, memoryview) for p in parts)
    assert not server.large_data_queued and server.data_to_send() == b""
    events = client.receive_data(b"".join(parts))
    received = b"".join(e.data for e in events if type(e).__name__ == "DataReceived")
    assert received == b"small" + body
    assert any(type(e).__name__ == "StreamEnded" for e in events)


def test_header_block_larger_than_a_frame_goes_out_as_continuation() -> None:
    """RFC 9113 §4.3/§6.10: a header block is split into HEADERS + CONTINUATION, which
    an independent peer (h2) reassembles."""
    server, client = connected_pair()
    sid = client.get_next_available_stream_id()
    client.send_headers(sid, REQUEST, end_stream=True)
    server.receive_data(client.data_to_send())
    headers = [(b":status", b"200"), (b"x-long", b"a" * 40000)]
    server.send_headers(sid, headers, end_stream=True)
    raw = server.data_to_send()
    kinds = [type(f).__name__ for f in parse_frames(raw)]
    assert kinds[0] == "HeadersFrame" and kinds.count("ContinuationFrame") >= 1
    assert all(len(f.data) <= 16384 for f in parse_frames(raw) if hasattr(f, "data"))
    events = client.receive_data(raw)
    got = next(e for e in events if type(e).__name__ == "ResponseReceived")
    assert dict(got.headers)[b"x-long"] == b"a" * 40000


def test_hpack_decoding_failure_is_a_compression_error() -> None:
    """RFC 9113 §4.3: a header block that cannot be decoded is a connection error
    COMPRESSION_ERROR."""
    server = server_core()
    server.receive_data(Raw.preface())
    server.data_to_send()
    server.receive_data(Raw.frame(0x1, 0x5, 1, b"\xff\xff\xff\xff\xff"))
    assert goaway_of(server.data_to_send()).error_code == ErrorCode.COMPRESSION_ERROR


def test_handshake_with_an_independent_client() -> None:
    """RFC 9113 §3.4: preface and SETTINGS exchange with python-hyper h2 completes."""
    server = server_core(discard=False)
    client = h2_client()
    events = handshake(server, client)
    assert not server.terminated and client.remote_settings.max_concurrent_streams == 100
    assert any(type(e).__name__ == "SettingsAcknowledged" for e in events)
