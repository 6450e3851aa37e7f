"""Frameworks over our HTTP/2 server: BlackBull's own and Starlette (ASGI 3), with httpx."""
from __future__ import annotations

import asyncio
import ssl

import httpx
from starlette.applications import Starlette
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from blackbull import BlackBull


async def test_blackbull_framework_over_h2_tls(serve, server_ssl_context, tls_certs) -> None:
    """RFC 9113 §8.3: the framework's routes answer over h2, several streams at once."""
    app = BlackBull()

    @app.route(path="/")
    async def index():
        return "hello h2"

    @app.route(path="/json")
    async def data():
        return {"proto": "h2"}

    srv = await serve(app, ssl_context=server_ssl_context)
    verify = ssl.create_default_context(cafile=tls_certs["ca"])
    async with httpx.AsyncClient(http2=True, verify=verify) as http:
        base = f"https://localhost:{srv.bound_port}"
        r1, r2 = await asyncio.gather(http.get(base + "/"), http.get(base + "/json"))
    assert (r1.http_version, r1.text) == ("HTTP/2", "hello h2")
    assert r2.json() == {"proto": "h2"}


async def test_starlette_streaming_and_disconnect_watch_over_h2c(serve) -> None:
    """ASGI over RFC 9113: Starlette's StreamingResponse (which listens for
    http.disconnect while streaming) completes over h2c."""
    async def stream(request):
        async def parts():
            for i in range(50):
                yield b"chunk-%d;" % i
        return StreamingResponse(parts(), media_type="text/plain")

    async def echo(request):
        body = await request.body()
        return JSONResponse({"len": len(body), "http": request.scope["http_version"]})

    app = Starlette(routes=[Route("/stream", stream), Route("/echo", echo, methods=["POST"])])
    srv = await serve(app)
    async with httpx.AsyncClient(http1=False, http2=True) as http:
        base = f"http://127.0.0.1:{srv.bound_port}"
        streamed, echoed = await asyncio.gather(
            http.get(base + "/stream"), http.post(base + "/echo", content=b"e" * 200_000))
    assert streamed.text == "".join(f"chunk-{i};" for i in range(50))
    assert echoed.json() == {"len": 200_000, "http": "2"}
