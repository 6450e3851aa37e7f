"""RFC 8441 §5 with RFC 6455 §10.4: a WebSocket stream whose peer never reads (it sends
no WINDOW_UPDATE, RFC 9113 §6.9) holds our output; after ``BB_WS_SEND_TIMEOUT`` the
stream is reset with CANCEL, which drops what it held, while the connection lives on."""
from __future__ import annotations

import h2.events
from wsproto.frame_protocol import FrameProtocol

from tests.rfc8441.test_server import CONNECT, ON, connect, recording_echo

MESSAGE = b"e" * 16_000


async def test_a_stream_that_never_reads_is_reset_after_the_send_timeout(serve) -> None:
    """RFC 8441 §5, RFC 9113 §6.9: 24 echoed 16 kB messages against a stream window
    never reopened: our queue passes its high mark, the app's send waits, and 0.5 s
    later the stream gets RST_STREAM(CANCEL); a second WebSocket on the same connection
    is still accepted."""
    srv = await serve(recording_echo, ON.replace(ws_send_timeout=0.5))
    client, sid, answer = await connect(srv.bound_port)
    assert isinstance(answer, h2.events.ResponseReceived)
    frames = FrameProtocol(client=True, extensions=[])
    for _ in range(24):
        data = frames.send_data(MESSAGE, fin=True)
        while client.conn.local_flow_control_window(sid) < len(data):
            await client.read_once()  # the server credits what it reads
        client.conn.send_data(sid, data)
        client.flush()
    reset = await client.wait_for(lambda e: isinstance(e, h2.events.StreamReset)
                                  and e.stream_id == sid, timeout=5.0)
    assert reset.error_code == 8  # CANCEL
    other = client.conn.get_next_available_stream_id()
    client.conn.send_headers(other, CONNECT)
    client.flush()
    ok = await client.wait_for(lambda e: isinstance(e, h2.events.ResponseReceived)
                               and e.stream_id == other)
    assert dict(ok.headers)[b":status"] == b"200"
    await client.close()
