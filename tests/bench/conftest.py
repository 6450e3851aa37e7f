"""Fixtures for the benchmark-harness smoke tests: real servers on loopback port 0."""
from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import pytest
from websockets.asyncio.server import ServerConnection, serve

APPS = Path(__file__).resolve().parents[2] / "bench" / "apps"


def _load(name: str) -> ModuleType:
    """Import a file of bench/apps (not a package: the peers import it by path)."""
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", APPS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
async def bare_port() -> AsyncIterator[int]:
    """The bare uvloop-style ceiling server (bench/apps/bare_server.py), in this loop."""
    bare = _load("bare_server")
    server = await asyncio.get_running_loop().create_server(bare.BareProtocol, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def websockets_port() -> AsyncIterator[int]:
    """An independent peer: the ``websockets`` library echo server, deflate enabled."""

    async def echo(ws: ServerConnection) -> None:
        async for message in ws:
            await ws.send(message)

    async with serve(echo, "127.0.0.1", 0, max_size=None, ping_interval=None) as server:
        yield next(iter(server.sockets)).getsockname()[1]
