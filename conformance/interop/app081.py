"""The interop app (see ``app.py``) for the published blackbull 0.81, written against its
own framework API: 0.81 does not run a plain ASGI app's ``websocket`` scope (it answers
nothing on either transport), so the matrix gives it the same behaviour natively.

Runs only inside the ``blackbull081`` venv (conformance/targets), never imported here.
"""
from __future__ import annotations

from http import HTTPStatus

from blackbull import BlackBull, WebSocket  # the 0.81 package of that venv
from blackbull.response import Response
from blackbull.utils import Scheme
from conformance.interop.app import KNOWN_SUBPROTOCOLS, store_report
from conformance.interop.page import render_page

app = BlackBull()


@app.route(path="/ws", scheme=Scheme.websocket)
async def ws_echo(ws: WebSocket) -> None:
    chosen = next((p for p in ws.subprotocols if p in KNOWN_SUBPROTOCOLS), None)
    await ws.accept(subprotocol=chosen)
    async for message in ws:
        if message == "?version":
            await ws.send_text(f"version:{ws.connection.http_version}")
        elif message == "?subprotocol":
            await ws.send_text(chosen or "-")
        elif isinstance(message, str) and message.startswith("close:") \
                and message[6:].isdigit():
            await ws.close(int(message[6:]))
            return
        else:
            await ws.send(message)


@app.route(path="/")
async def index() -> Response:
    return Response(render_page())


@app.route(path="/report", methods=["POST"])
async def report(body: bytes, conn) -> Response:
    status, text = store_report(conn.headers.get(b"x-run").decode("latin-1"), body)
    return Response(text, status=HTTPStatus(status), content_type="text/plain")
