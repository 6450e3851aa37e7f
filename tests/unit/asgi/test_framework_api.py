"""The documented framework API: routes (simplified and ASGI form), interceptors,
responses, 404/405, middlewares, and ``BlackBull`` as a plain ASGI 3 application."""
from __future__ import annotations

import httpx

from blackbull import BlackBull, JSONResponse
from blackbull.middleware import websocket
from blackbull.utils import Scheme


def make_app() -> BlackBull:
    app = BlackBull()

    @app.route(path="/")
    async def hello():
        return "Hello, world!"

    @app.route(path="/raw")
    async def raw(scope, receive, send):
        await send({"type": "http.response.start", "status": 201,
                    "headers": [(b"x-form", b"asgi")]})
        await send({"type": "http.response.body", "body": b"raw"})

    @app.route(path="/json")
    async def as_json():
        return {"a": 1}

    @app.route(path="/resp")
    async def resp():
        return JSONResponse({"ok": True}, status=202)

    @app.route(path="/bytes")
    async def as_bytes():
        return b"\x00\x01"

    @app.route(path="/users/{user_id:int}/{name}")
    async def user(user_id, name):
        return {"id": user_id, "name": name}

    @app.route(path="/post", methods=["POST"])
    async def post(scope, receive, send):
        body = (await receive())["body"]
        await JSONResponse({"len": len(body)})(scope, receive, send)

    async def add_header(scope, receive, send, call_next):
        async def send_with(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message["headers"], (b"x-mw", b"1")]}
            await send(message)
        await call_next(scope, receive, send_with)

    @app.route(path="/mw", middlewares=[add_header])
    async def with_mw():
        return "mw"

    @app.route(path="/ws", scheme=Scheme.websocket, middlewares=[websocket])
    async def ws(scope, receive, send):
        pass

    app.available_ws_protocols = ["chat"]
    return app


async def asgi_get(app, path: str, method: str = "GET", body: bytes = b""):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(method, path, content=body)


async def test_simplified_handler_returning_str_is_text_200():
    r = await asgi_get(make_app(), "/")
    assert r.status_code == 200 and r.text == "Hello, world!"
    assert r.headers["content-type"] == "text/plain; charset=utf-8"


async def test_asgi_form_handler_sends_its_own_response():
    r = await asgi_get(make_app(), "/raw")
    assert r.status_code == 201 and r.text == "raw" and r.headers["x-form"] == "asgi"


async def test_dict_becomes_json_and_response_objects_pass_through():
    app = make_app()
    assert (await asgi_get(app, "/json")).json() == {"a": 1}
    r = await asgi_get(app, "/resp")
    assert r.status_code == 202 and r.json() == {"ok": True}
    assert (await asgi_get(app, "/bytes")).content == b"\x00\x01"


async def test_path_parameters_are_converted_and_passed_by_name():
    r = await asgi_get(make_app(), "/users/42/ann")
    assert r.json() == {"id": 42, "name": "ann"}
    assert (await asgi_get(make_app(), "/users/x/ann")).status_code == 404


async def test_unknown_path_is_404_and_wrong_method_is_405_with_allow():
    """RFC 9110 §15.5.6: 405 carries an Allow field."""
    app = make_app()
    assert (await asgi_get(app, "/nope")).status_code == 404
    r = await asgi_get(app, "/post")
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert (await asgi_get(app, "/post", "POST", b"abc")).json() == {"len": 3}


async def test_route_middleware_wraps_the_handler():
    r = await asgi_get(make_app(), "/mw")
    assert r.text == "mw" and r.headers["x-mw"] == "1"


async def test_before_handler_interceptor_sees_scope_method_path():
    app = make_app()
    seen = []

    @app.intercept("before_handler")
    async def log_it(event):
        seen.append((event.name, event.detail["method"], event.detail["path"],
                     event.detail["scope"]["type"]))

    @app.intercept("after_handler")
    async def after(event):
        seen.append(("after", event.detail["status"]))

    await asgi_get(app, "/json")
    assert seen == [("before_handler", "GET", "/json", "http"), ("after", 200)]


async def test_before_handler_may_answer_instead_of_the_handler():
    app = make_app()

    @app.intercept("before_handler")
    async def deny(event):
        return JSONResponse({"denied": True}, status=403)

    r = await asgi_get(app, "/")
    assert r.status_code == 403 and r.json() == {"denied": True}


async def test_head_is_served_by_get_routes(serve):
    """RFC 9110 §9.3.2: HEAD is answered like GET, without content."""
    srv = await serve(make_app())
    async with httpx.AsyncClient() as client:
        r = await client.head(f"http://127.0.0.1:{srv.bound_port}/")
    assert r.status_code == 200 and r.content == b"" and r.headers["content-length"] == "13"


async def test_the_app_runs_on_our_server(serve):
    srv = await serve(make_app(), lifespan=True)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{srv.bound_port}") as client:
        assert (await client.get("/")).text == "Hello, world!"
        assert (await client.get("/users/7/bo")).json() == {"id": 7, "name": "bo"}


async def test_lifespan_hooks_run_on_our_server(serve):
    app = make_app()
    events = []

    @app.on_startup
    async def up():
        events.append("up")

    @app.on_shutdown
    async def down():
        events.append("down")

    srv = await serve(app, lifespan=True)
    assert events == ["up"]
    await srv.shutdown()
    assert events == ["up", "down"]
