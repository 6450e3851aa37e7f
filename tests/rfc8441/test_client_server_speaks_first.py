"""WebSocketH2Client when the server sends right after its accept (RFC 8441 §5): the 200,
the first DATA and the Close may arrive in one read, before ``connect()`` has returned;
none of it may be lost. Peers: our server and hypercorn (independent)."""
from __future__ import annotations

import ssl

from blackbull.client import WebSocketH2Client, WSOpcode
from blackbull.config import Settings
from tests.apps.send_first import app as send_first
from tests.conftest import PYTHON, ROOT, free_port

ON = Settings(h2_enable_websocket=True)


async def _first_message_then_close(client: WebSocketH2Client) -> None:
    async with client as c:
        ws = await c.connect("/ws", response_timeout=5.0)
        assert await ws.receive() == (WSOpcode.TEXT, "first")
        opcode, payload = await ws.receive()
        assert opcode is WSOpcode.CLOSE and payload[:2] == b"\x03\xe8"  # 1000, RFC 6455 §5.5.1
        await ws.close()


async def test_message_sent_right_after_accept_reaches_client_h2c(serve) -> None:
    """RFC 8441 §5: frames follow the 2xx on the stream at once; the client keeps them."""
    srv = await serve(send_first, ON)
    await _first_message_then_close(WebSocketH2Client("127.0.0.1", srv.bound_port))


async def test_message_sent_right_after_accept_reaches_client_tls(
        serve, server_ssl_context, tls_certs) -> None:
    """RFC 8441 §5 over TLS with ALPN h2 (RFC 9113 §3.2)."""
    srv = await serve(send_first, ON, ssl_context=server_ssl_context)
    ctx = ssl.create_default_context(cafile=tls_certs["ca"])
    ctx.set_alpn_protocols(["h2"])
    await _first_message_then_close(WebSocketH2Client("localhost", srv.bound_port, ssl=ctx))


async def test_message_sent_right_after_accept_from_hypercorn(spawn_server, tls_certs) -> None:
    """RFC 8441 §5 against an independent server (hypercorn over TLS, ALPN h2)."""
    port = free_port()
    spawn_server([PYTHON, "-m", "hypercorn", "tests.apps.send_first:app", "--bind",
                  f"127.0.0.1:{port}", "--certfile", tls_certs["cert"], "--keyfile",
                  tls_certs["key"]], port, cwd=str(ROOT))
    ctx = ssl.create_default_context(cafile=tls_certs["ca"])
    ctx.set_alpn_protocols(["h2"])
    await _first_message_then_close(WebSocketH2Client("localhost", port, ssl=ctx))
