"""``python -m conformance.h2bridge``: run the bridge until SIGTERM/SIGINT.

Prints ``listening <port>`` on stdout once it accepts connections.
"""
from __future__ import annotations

import argparse
import asyncio
import signal
import ssl

from conformance.h2bridge.bridge import Upstream, serve


def _hostport(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


async def _main(args: argparse.Namespace) -> None:
    ctx = None
    if args.tls:
        ctx = ssl.create_default_context(cafile=args.ca)
        ctx.set_alpn_protocols(["h2"])
    host, port = _hostport(args.upstream)
    listen_host, listen_port = _hostport(args.listen)
    server = await serve(listen_host, listen_port,
                         Upstream(host, port, ctx, args.authority or ""))
    print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m conformance.h2bridge")
    parser.add_argument("--upstream", required=True, help="HOST:PORT of the HTTP/2 server")
    parser.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT to listen on")
    parser.add_argument("--tls", action="store_true", help="TLS + ALPN h2 to the upstream")
    parser.add_argument("--ca", default=None, help="CA file trusted for the upstream")
    parser.add_argument("--authority", default=None, help=":authority to send")
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
