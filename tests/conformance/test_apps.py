"""conformance/apps.py: the plain ASGI apps h2spec, Autobahn, the probes and bench serve.

Their answers are part of every recorded result (h2spec and bench compare servers on
them), so the exact events each app sends are pinned here, and so is the promise that
the peers can import them without our ``blackbull`` package.
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from conformance.apps import App, bench_app, echo_app, h2spec_app

ROOT = Path(__file__).resolve().parents[2]

GET = {"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": []}
POST = {**GET, "method": "POST"}
WEBSOCKET = {"type": "websocket", "path": "/", "query_string": b"", "headers": [],
             "subprotocols": []}


def run(app: App, scope: dict[str, Any], events: Iterable[dict[str, Any]]) -> list[Any]:
    """Drive *app* with *events* (then silence) and return every message it sent."""
    pending = iter(events)
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        for event in pending:
            return event
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(asyncio.wait_for(app(dict(scope), receive, send), 5))
    return sent


def hello(body: bytes, content_type: bytes = b"text/plain") -> list[dict[str, Any]]:
    return [{"type": "http.response.start", "status": 200,
             "headers": [(b"content-type", content_type),
                         (b"content-length", str(len(body)).encode())]},
            {"type": "http.response.body", "body": body}]


BODY_IN_PIECES = [{"type": "http.request", "body": b"ab", "more_body": True},
                  {"type": "http.request", "body": b"cd", "more_body": False}]


@pytest.mark.parametrize(("app", "answer"), [
    (h2spec_app, hello(b"BlackBull conformance target: hello, h2spec\n",
                       b"text/plain; charset=utf-8")),
    (echo_app, hello(b"blackbull conformance echo app\n")),
    (bench_app, hello(b"Hello, world!")),
], ids=["h2spec", "echo", "bench"])
def test_get_and_post_answer_200_with_the_fixed_body_after_the_whole_request(
        app: App, answer: list[dict[str, Any]]) -> None:
    """h2spec needs ``GET /`` and ``POST /`` → 200 with a non-empty body (RFC 9113 §8.1);
    the POST body arrives in several ``http.request`` events (ASGI HTTP spec,
    ``more_body``) and is read to its end before the answer."""
    assert run(app, GET, [{"type": "http.request", "body": b""}]) == answer
    assert run(app, POST, BODY_IN_PIECES) == answer


def test_nothing_is_sent_to_a_client_that_went_away() -> None:
    """``http.disconnect`` ends the request (ASGI HTTP spec): there is no one to answer."""
    gone = [{"type": "http.request", "body": b"ab", "more_body": True},
            {"type": "http.disconnect"}]
    for app in (h2spec_app, echo_app, bench_app):
        assert run(app, POST, gone) == []


@pytest.mark.parametrize("app", [echo_app, bench_app], ids=["echo", "bench"])
def test_websocket_messages_are_echoed_with_their_opcode(app: App) -> None:
    """Text stays text and binary stays binary (RFC 6455 §5.6), as the Autobahn
    fuzzingclient expects of the server under test; the echo ends at disconnect."""
    events = [{"type": "websocket.connect"},
              {"type": "websocket.receive", "text": "hé"},
              {"type": "websocket.receive", "bytes": b"\x00\xff"},
              {"type": "websocket.receive", "bytes": b""},
              {"type": "websocket.disconnect", "code": 1000}]
    assert run(app, WEBSOCKET, events) == [
        {"type": "websocket.accept"},
        {"type": "websocket.send", "text": "hé"},
        {"type": "websocket.send", "bytes": b"\x00\xff"},
        {"type": "websocket.send", "bytes": b""},
    ]


def test_the_h2spec_app_accepts_no_websocket() -> None:
    """h2spec speaks no WebSocket: its app never accepts one, so the server refuses it."""
    assert run(h2spec_app, WEBSOCKET, [{"type": "websocket.connect"}]) == []


def test_lifespan_startup_and_shutdown_are_acknowledged() -> None:
    """ASGI lifespan spec: each app answers ``.complete`` to startup and to shutdown."""
    events = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    for app in (h2spec_app, echo_app, bench_app):
        assert run(app, {"type": "lifespan"}, events) == [
            {"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]


def test_the_older_module_paths_name_the_same_apps() -> None:
    """Target files, the Dockerfile and users' scripts name these ``module:app`` paths."""
    from conformance.autobahn.echo_app import app as autobahn_app
    from conformance.h2spec.app import app as old_h2spec_app

    assert old_h2spec_app is h2spec_app and autobahn_app is echo_app


def test_the_bench_app_imports_without_our_blackbull_package() -> None:
    """bench runs ``bench_apps:app`` in the peers' venvs with only ``bench/apps`` and a
    ``conformance/``-only directory on the path (bench/servers.py): neither may pull in
    ``blackbull`` (a peer venv has none, the 0.81 one has another)."""
    from bench.servers import SERVERS

    spec = SERVERS["uvicorn"]
    assert all(not (p / "blackbull").exists() for p in spec.pythonpath)
    code = ("import sys, bench_apps, conformance.apps as a; "
            "assert bench_apps.app is a.bench_app; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('blackbull', 'bench')))")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in spec.pythonpath)
    proc = subprocess.run([sys.executable, "-c", code], cwd=spec.cwd, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


@pytest.mark.parametrize("path", ["/1m", "/64m"])
def test_the_bench_app_streams_its_large_bodies_with_their_length(path: str) -> None:
    """bench's large-body rows: ``GET /1m`` and ``/64m`` answer exactly that many bytes
    in ``more_body`` pieces (ASGI HTTP spec), announced by ``content-length`` (RFC 9110
    §8.6), after reading the whole request body."""
    from conformance.apps import BIG_BODIES, CHUNK, FILL

    sent = run(bench_app, {**GET, "path": path}, BODY_IN_PIECES)
    start, *bodies = sent
    size = BIG_BODIES[path]
    assert start["status"] == 200
    assert (b"content-length", str(size).encode()) in start["headers"]
    assert sum(len(b["body"]) for b in bodies) == size
    assert all(len(b["body"]) <= CHUNK and set(b["body"]) == set(FILL) for b in bodies)
    assert [b["more_body"] for b in bodies] == [True] * (len(bodies) - 1) + [False]


def test_only_the_bench_app_has_large_bodies() -> None:
    """The other apps answer their fixed hello on any path (h2spec, Autobahn)."""
    assert run(echo_app, {**GET, "path": "/1m"}, [{"type": "http.request", "body": b""}]) \
        == hello(b"blackbull conformance echo app\n")
