"""The same hello + echo, written on blackbull 0.81's own framework (``bb081_native:app``).

blackbull 0.81 hands plain ASGI apps its native ``Connection`` unless
``BB_FORCE_ASGI_SCOPE=1``; the ``blackbull081`` server runs the shared ASGI app with that
switch, and ``blackbull081-native`` runs this file on 0.81's default (fastest) lane, so
the comparison is fair to 0.81 either way. Imported only inside the 0.81 venv.
"""
from __future__ import annotations

from http import HTTPMethod

# blackbull 0.81's API, not this tree's (type-checked against the latter, hence the ignore)
from blackbull import BlackBull, WebSocket  # type: ignore[attr-defined]
from blackbull.utils import Scheme

app = BlackBull()


@app.route(path="/", methods=[HTTPMethod.GET, HTTPMethod.POST])
async def hello() -> str:
    return "Hello, world!"


@app.route(path="/", scheme=Scheme.websocket)
async def echo(ws: WebSocket) -> None:
    await ws.accept()
    async for message in ws:
        await ws.send(message)
