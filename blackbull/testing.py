"""``TestClient``: call an ASGI app from synchronous code (tests, docs, a REPL).

It drives the application in memory through ``httpx`` (install ``httpx``; it is in the
``test`` extra), on an event loop of its own in a background thread, so state kept by the
app between requests lives as it would under a server.  Used as a context manager it
also runs the ASGI lifespan protocol: startup on entry, shutdown on exit::

    with TestClient(app) as client:
        assert client.get("/").status_code == 200
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class TestClient:
    """Synchronous HTTP calls into an ASGI 3 application (no sockets)."""

    __test__ = False  # not a pytest test class

    def __init__(self, app: Any, base_url: str = "http://testserver") -> None:
        import httpx

        self.app = app
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="blackbull-testclient")
        self._thread.start()
        transport = httpx.ASGITransport(app=app)
        self._client = self._run(self._make(httpx, transport, base_url))
        self._lifespan: asyncio.Future[None] | None = None
        self._to_app: asyncio.Queue[dict[str, Any]] | None = None
        self._from_app: asyncio.Queue[dict[str, Any]] | None = None

    @staticmethod
    async def _make(httpx: Any, transport: Any, base_url: str) -> Any:
        return httpx.AsyncClient(transport=transport, base_url=base_url)

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    # --- requests ----------------------------------------------------------------------
    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        return self._run(self._client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.request("POST", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> Any:
        return self.request("HEAD", url, **kwargs)

    # --- lifespan ----------------------------------------------------------------------
    async def _lifespan_phase(self, phase: str) -> None:
        if self._to_app is None:
            self._to_app, self._from_app = asyncio.Queue(), asyncio.Queue()
            scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"},
                     "state": {}}
            self._lifespan = asyncio.ensure_future(
                self.app(scope, self._to_app.get, self._from_app.put))
        assert self._from_app is not None
        await self._to_app.put({"type": f"lifespan.{phase}"})
        message = await self._from_app.get()
        if message["type"] != f"lifespan.{phase}.complete":
            raise RuntimeError(f"lifespan {phase} failed: {message.get('message', message)}")

    def __enter__(self) -> TestClient:
        self._run(self._lifespan_phase("startup"))
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._run(self._lifespan_phase("shutdown"))
        finally:
            self.close()

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._run(self._client.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
