"""Echo server on the ``websockets`` library itself (the "websockets server" peer).

Run from the ``websockets`` venv: ``python websockets_echo.py PORT``. Uses uvloop when
installed, no message-size cap (the 1 MiB case must pass), no keepalive pings, and the
library's default permessage-deflate (taken only when the client offers it, which our
load client does only in the deflate benchmark).
"""
from __future__ import annotations

import asyncio
import sys

from websockets.asyncio.server import ServerConnection, serve


async def _echo(ws: ServerConnection) -> None:
    async for message in ws:
        await ws.send(message)


async def _main(port: int) -> None:
    async with serve(_echo, "127.0.0.1", port, max_size=None, ping_interval=None) as server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        import uvloop
    except ImportError:
        asyncio.run(_main(int(sys.argv[1])))
    else:
        uvloop.run(_main(int(sys.argv[1])))
