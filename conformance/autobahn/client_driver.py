"""Drive a WebSocket client through the Autobahn fuzzingserver (client-mode testing).

The fuzzingserver's protocol: ``GET /getCaseCount`` answers with the number of
cases; for each case ``i`` the client opens ``/runCase?case=i&agent=NAME`` and
echoes every text/binary message until the server closes; finally
``/updateReports?agent=NAME`` makes the server write its reports.

``python -m conformance.autobahn.client_driver --url ws://127.0.0.1:9001
--agent blackbull [--client blackbull|websockets] [--cafile ca.pem]``

``--client websockets`` drives the ``websockets`` library's client instead, as
a reference to validate this driver and the harness around it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import sys
from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

#: Autobahn section 9 sends messages of up to 16 MiB; like the reference echo
#: server, the client under test accepts 32 MiB so those cases measure behavior.
MAX_MESSAGE = 2**25
#: A case the server abandons closes the TCP connection; this only bounds a hang.
RECEIVE_TIMEOUT = 300.0

Echo = Callable[[str, "ssl.SSLContext | None"], Awaitable[str | None]]


async def echo_blackbull(url: str, context: ssl.SSLContext | None) -> str | None:
    """Echo with our client; returns the first TEXT message (used by getCaseCount)."""
    from blackbull.client import WebSocketClient, WebSocketClosed, WSOpcode

    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    client = WebSocketClient(parts.hostname or "127.0.0.1", parts.port or 80, ssl=context,
                             max_frame_size=MAX_MESSAGE, max_message_size=MAX_MESSAGE)
    first: str | None = None
    async with client:
        session = await client.connect(path or "/")
        while True:
            opcode, payload = await session.receive(timeout=RECEIVE_TIMEOUT)
            try:
                if opcode == WSOpcode.TEXT:
                    first = payload if first is None else first
                    await session.send_text(payload)
                elif opcode == WSOpcode.BINARY:
                    await session.send_bytes(payload)
            except WebSocketClosed:
                pass  # the server's Close is queued behind this message; receive it next
            if opcode == WSOpcode.CLOSE:
                await session.close()
                return first


async def echo_websockets(url: str, context: ssl.SSLContext | None) -> str | None:
    """The same loop with the ``websockets`` library's client (the reference)."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    first: str | None = None
    async with connect(url, ssl=context, max_size=MAX_MESSAGE, open_timeout=30) as ws:
        try:
            async for message in ws:
                if isinstance(message, str) and first is None:
                    first = message
                await ws.send(message)
        except ConnectionClosed:
            pass
    return first


CLIENTS: dict[str, Echo] = {"blackbull": echo_blackbull, "websockets": echo_websockets}


async def drive(base: str, agent: str, echo: Echo, context: ssl.SSLContext | None,
                log: Callable[[str], None]) -> int:
    """Run every case the server offers; returns how many cases raised in the client."""
    count_text = await echo(f"{base}/getCaseCount", context)
    count = int(json.loads(count_text or "0"))
    log(f"fuzzingserver offers {count} cases")
    errors = 0
    for case in range(1, count + 1):
        try:
            await echo(f"{base}/runCase?case={case}&agent={quote(agent)}", context)
        except Exception as exc:  # noqa: BLE001 - a failing case must not stop the run
            errors += 1
            log(f"case {case}: client raised {type(exc).__name__}: {exc}")
    await echo(f"{base}/updateReports?agent={quote(agent)}", context)
    return errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="fuzzingserver base URL, ws:// or wss://")
    parser.add_argument("--agent", default="blackbull")
    parser.add_argument("--client", choices=sorted(CLIENTS), default="blackbull")
    parser.add_argument("--cafile", help="CA to trust for wss://")
    args = parser.parse_args(argv)
    context = None
    if args.url.startswith("wss://"):
        context = ssl.create_default_context(cafile=args.cafile)
    errors = asyncio.run(drive(args.url.rstrip("/"), args.agent, CLIENTS[args.client], context,
                               lambda msg: print(msg, file=sys.stderr, flush=True)))
    print(f"client raised in {errors} case(s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
