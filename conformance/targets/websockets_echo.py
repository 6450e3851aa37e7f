"""The reference WebSocket peer: the ``websockets`` library's own asyncio server, echoing.

Run as ``python -m conformance.targets.websockets_echo --host H --port P
[--certfile C --keyfile K]``.  Messages up to 32 MiB are accepted because
Autobahn section 9 sends messages of up to 16 MiB (RFC 6455 §5.4 puts no limit
on message size; the cap is a server choice).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import ssl

from websockets.asyncio.server import ServerConnection, serve

MAX_MESSAGE = 2**25


async def _echo(ws: ServerConnection) -> None:
    # Text stays text and binary stays binary: websockets hands back str or bytes.
    async for message in ws:
        await ws.send(message)


async def _main(host: str, port: int, certfile: str | None, keyfile: str | None) -> None:
    context = None
    if certfile:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certfile, keyfile)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(_echo, host, port, ssl=context, max_size=MAX_MESSAGE, server_header=None):
        await stop


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--certfile")
    parser.add_argument("--keyfile")
    args = parser.parse_args(argv)
    asyncio.run(_main(args.host, args.port, args.certfile, args.keyfile))


if __name__ == "__main__":
    main()
