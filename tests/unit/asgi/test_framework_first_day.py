"""The framework's first-day surface: Request, redirects, streaming and file responses,
exception handlers, ``app.state``, and how a handler's form (ASGI or simplified) is decided."""
from __future__ import annotations

import os

import httpx

from blackbull import (
    BlackBull,
    FileResponse,
    HTTPException,
    JSONResponse,
    RedirectResponse,
    Request,
    StreamingResponse,
)


async def call(app, method: str, path: str, **kwargs) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(method, path, **kwargs)


async def test_three_path_parameters_make_a_simplified_handler_not_an_asgi_one():
    """/three/{a}/{b}/{c} with ``async def h(a, b, c)``: the names are path parameters."""
    app = BlackBull()

    @app.route(path="/three/{a}/{b}/{c:int}")
    async def three(a, b, c):
        return {"a": a, "b": b, "c": c}

    r = await call(app, "GET", "/three/x/y/3")
    assert r.status_code == 200 and r.json() == {"a": "x", "b": "y", "c": 3}


async def test_explicit_asgi_flag_overrides_the_guess_both_ways():
    app = BlackBull()

    @app.route(path="/raw/{x}", asgi=True)
    async def raw(s, r, snd):  # not the usual names, declared ASGI
        await JSONResponse({"raw": s["path_params"]["x"]})(s, r, snd)

    @app.route(path="/simple", asgi=False)
    async def simple(scope, receive, send):  # the usual names, declared simplified
        return {"type": scope["type"]}

    assert (await call(app, "GET", "/raw/1")).json() == {"raw": "1"}
    assert (await call(app, "GET", "/simple")).json() == {"type": "http"}


async def test_request_gives_query_headers_cookies_and_json_body():
    """Query repeats are kept; header names are case-insensitive (RFC 9110 §5.1);
    cookies come from every Cookie field (RFC 6265 §5.4)."""
    app = BlackBull()

    @app.route(path="/echo/{item}", methods=["POST"])
    async def echo(request: Request, item):
        return {
            "item": item,
            "method": request.method,
            "tags": request.query_params.getall("tag"),
            "first": request.query_params.get("tag"),
            "agent": request.headers["X-Agent"],
            "cookies": request.cookies,
            "json": await request.json(),
            "again": len(await request.body()),
        }

    r = await call(app, "POST", "/echo/7?tag=a&tag=b", content=b'{"k": [1, 2]}',
                   headers={"x-agent": "t", "cookie": "sid=abc; theme=dark",
                            "content-type": "application/json"})
    assert r.json() == {"item": "7", "method": "POST", "tags": ["a", "b"], "first": "a",
                        "agent": "t", "cookies": {"sid": "abc", "theme": "dark"},
                        "json": {"k": [1, 2]}, "again": 13}


async def test_request_form_reads_urlencoded_and_multipart_fields():
    """RFC 7578 multipart/form-data, with a file part, and urlencoded forms."""
    app = BlackBull()

    @app.route(path="/form", methods=["POST"])
    async def form(request):
        data = await request.form()
        upload = data.get("file")
        return {"name": data["name"], "many": data.getall("name"),
                "file": None if upload is None else [upload.filename, upload.data.decode()]}

    r = await call(app, "POST", "/form", data={"name": ["ann", "bo"]})
    assert r.json() == {"name": "ann", "many": ["ann", "bo"], "file": None}
    r = await call(app, "POST", "/form", data={"name": "cy"},
                   files={"file": ("a.txt", b"hello", "text/plain")})
    assert r.json() == {"name": "cy", "many": ["cy"], "file": ["a.txt", "hello"]}


async def test_redirect_response_sets_location_and_307_by_default():
    """RFC 9110 §15.4.8: 307 keeps the method; Location carries the target."""
    app = BlackBull()

    @app.route(path="/old")
    async def old():
        return RedirectResponse("/new path")

    r = await call(app, "GET", "/old")
    assert r.status_code == 307 and r.headers["location"] == "/new%20path"


async def test_streaming_response_sends_each_chunk_in_order_from_async_and_sync_iterables():
    app = BlackBull()

    async def agen():
        for i in range(3):
            yield f"a{i},"

    @app.route(path="/async")
    async def from_async():
        return StreamingResponse(agen(), media_type="text/plain")

    @app.route(path="/sync")
    async def from_sync():
        return StreamingResponse([b"x", b"y"])

    r = await call(app, "GET", "/async")
    assert r.text == "a0,a1,a2," and "content-length" not in r.headers
    assert (await call(app, "GET", "/sync")).content == b"xy"


async def test_streaming_response_runs_on_our_server_as_chunked(serve):
    """RFC 9112 §7.1: without a length the HTTP/1.1 body is chunked."""
    app = BlackBull()

    @app.route(path="/s")
    async def s():
        return StreamingResponse(iter([b"1" * 10, b"2" * 10]))

    srv = await serve(app)
    async with httpx.AsyncClient() as client:
        r = await client.get(f"http://127.0.0.1:{srv.bound_port}/s")
    assert r.content == b"1" * 10 + b"2" * 10 and r.headers["transfer-encoding"] == "chunked"


async def test_file_response_has_length_type_and_last_modified(tmp_path):
    """RFC 9110 §8.6 Content-Length, §8.8.2 Last-Modified; HEAD sends no content."""
    path = tmp_path / "page.html"
    path.write_bytes(b"<p>hi</p>" * 20000)
    app = BlackBull()

    @app.route(path="/f")
    async def f():
        return FileResponse(path)

    @app.route(path="/d")
    async def d():
        return FileResponse(path, filename="résumé.html")

    r = await call(app, "GET", "/f")
    assert r.content == path.read_bytes()
    assert r.headers["content-length"] == str(os.path.getsize(path))
    assert r.headers["content-type"] == "text/html" and "last-modified" in r.headers
    assert "filename*=utf-8''r%C3%A9sum%C3%A9.html" in (await call(app, "GET", "/d")).headers[
        "content-disposition"]
    head = await call(app, "HEAD", "/f")
    assert head.content == b"" and head.headers["content-length"] == str(os.path.getsize(path))


async def test_exception_handlers_by_class_and_status_and_http_exception():
    app = BlackBull()

    class Missing(KeyError):
        pass

    @app.exception_handler(KeyError)
    async def on_key(request, exc):
        return JSONResponse({"missing": str(exc.args[0]), "path": request.path}, status=404)

    @app.exception_handler(404)
    async def not_found(request, exc):
        return {"nothing at": request.path}, 404

    @app.route(path="/boom")
    async def boom():
        raise Missing("thing")

    @app.route(path="/teapot")
    async def teapot():
        raise HTTPException(418)

    r = await call(app, "GET", "/boom")
    assert r.status_code == 404 and r.json() == {"missing": "thing", "path": "/boom"}
    r = await call(app, "GET", "/nowhere")
    assert r.status_code == 404 and r.json() == {"nothing at": "/nowhere"}
    r = await call(app, "GET", "/teapot")
    assert r.status_code == 418 and r.text == "I'm a Teapot"


async def test_unhandled_exceptions_still_reach_the_server():
    app = BlackBull()

    @app.route(path="/x")
    async def x():
        raise RuntimeError("bug")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/x")).status_code == 500


async def test_app_state_is_shared_and_set_at_startup(serve):
    app = BlackBull()

    @app.on_startup
    async def open_pool():
        app.state.pool = ["conn"]

    @app.route(path="/")
    async def index():
        return {"pool": app.state.pool}

    srv = await serve(app, lifespan=True)
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"http://127.0.0.1:{srv.bound_port}/")).json() == {"pool": ["conn"]}


async def test_no_content_responses_carry_no_length_and_no_type():
    """RFC 9110 §8.6: no Content-Length in a 204; §15.3.5 no content."""
    app = BlackBull()

    @app.route(path="/none")
    async def none():
        return None

    @app.route(path="/tuple")
    async def as_tuple():
        return "", 204

    for path in ("/none", "/tuple"):
        r = await call(app, "GET", path)
        assert r.status_code == 204
        assert "content-length" not in r.headers and "content-type" not in r.headers
