"""New TLS connections per second: ``python -m bench.churn --port P --alpn h2``.

Each of ``--conns`` workers loops: open a TCP connection, complete a full TLS handshake
(no session resumption) offering one ALPN protocol (RFC 7301), send one request, read the
whole response, close. HTTP/1.1 sends ``Connection: close`` (RFC 9112 §9.6); h2 sends the
preface and SETTINGS, one ``GET /`` and reads until its END_STREAM (RFC 9113 §3.4, §8.1),
through the ``h2`` library. A connection counts when its response was a complete 200.
The count over the measured window (after ``--warmup``) is printed as one JSON line;
``--markers`` prints ``# measuring`` / ``# done`` at the window's edges.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import h2.config
import h2.connection
import h2.events

from .loads import Sample

_H2_CONFIG = h2.config.H2Configuration(client_side=True, header_encoding=None)


@dataclass
class ChurnResult:
    connections: int = 0  # completed inside the measured window
    seconds: float = 0.0
    per_s: float = 0.0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    client_cpu_s: float = 0.0


def client_context(alpn: str) -> ssl.SSLContext:
    """A client context that does not verify (the bench's throw-away certificate) and
    offers exactly *alpn*."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols([alpn])
    return ctx


async def _h1_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    head = await reader.readuntil(b"\r\n\r\n")
    status = head.split(b" ", 2)[1] if head.startswith(b"HTTP/1.1 ") else b""
    if status != b"200":
        raise ValueError(f"status line {head[:40]!r}")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), None)
    if length is None:
        raise ValueError("no content-length")
    await reader.readexactly(length)


async def _h2_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    conn = h2.connection.H2Connection(_H2_CONFIG)
    conn.initiate_connection()
    conn.send_headers(1, [(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"/"),
                          (b":authority", b"127.0.0.1")], end_stream=True)
    writer.write(conn.data_to_send())
    status = b""
    while True:
        data = await reader.read(65536)
        if not data:
            raise ValueError("connection closed before the response ended")
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived):
                status = dict(event.headers).get(b":status", b"")
            elif isinstance(event, h2.events.DataReceived):
                conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded) and event.stream_id == 1:
                if status != b"200":
                    raise ValueError(f":status {status!r}")
                return
            elif isinstance(event, (h2.events.StreamReset, h2.events.ConnectionTerminated)):
                raise ValueError(f"{type(event).__name__} before the response ended")
        if out := conn.data_to_send():
            writer.write(out)


async def one_connection(port: int, ctx: ssl.SSLContext, alpn: str,
                         host: str = "127.0.0.1", timeout: float = 10.0) -> None:
    """Handshake, one request, close; raises on anything short of a complete 200."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(host, port, ssl=ctx), timeout)
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        chosen = ssl_object.selected_alpn_protocol() if ssl_object else None
        # RFC 7301 §3.2: a server without ALPN ignores the extension (uvicorn), and
        # HTTP/1.1 is what a TLS connection without it speaks; h2 must be chosen.
        if chosen != alpn and not (alpn == "http/1.1" and chosen is None):
            raise ValueError(f"ALPN chose {chosen!r}, not {alpn!r}")
        request = _h2_request if alpn == "h2" else _h1_request
        await asyncio.wait_for(request(reader, writer), timeout)
    finally:
        writer.close()


async def run_churn(port: int, alpn: str, conns: int, duration: float, warmup: float,
                    on_phase: Callable[[str], None] | None = None) -> ChurnResult:
    ctx = client_context(alpn)
    result = ChurnResult()
    measuring = False
    stop = time.monotonic() + warmup + duration

    async def worker() -> None:
        while time.monotonic() < stop:
            try:
                await one_connection(port, ctx, alpn)
            except (OSError, ValueError, EOFError, TimeoutError, ssl.SSLError,
                    asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
                result.failed += 1
                if len(result.errors) < 5:
                    result.errors.append(f"{type(exc).__name__}: {exc}"[:200])
                await asyncio.sleep(0.01)  # a refusing server is not spun against
                continue
            if measuring:
                result.connections += 1

    tasks = [asyncio.create_task(worker()) for _ in range(conns)]
    await asyncio.sleep(warmup)
    measuring = True
    if on_phase is not None:
        on_phase("measuring")
    t0, cpu0 = time.perf_counter(), time.process_time()
    await asyncio.sleep(duration)
    measuring = False
    result.seconds = round(time.perf_counter() - t0, 3)
    result.client_cpu_s = round(time.process_time() - cpu0, 3)
    if on_phase is not None:
        on_phase("done")
    await asyncio.gather(*tasks, return_exceptions=True)
    result.per_s = round(result.connections / result.seconds, 1) if result.seconds else 0.0
    return result


def parse_churn(text: str) -> Sample:
    """Parse the JSON line ``python -m bench.churn`` prints."""
    try:
        data = json.loads(text.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return Sample(None, 1, f"churn client printed no result: {text[-300:]!r}")
    notes = "; ".join(data.get("errors", [])[:3])
    if not data.get("connections"):
        return Sample(None, max(1, int(data.get("failed", 0))),
                      "no connection completed; " + notes)
    return Sample(float(data["per_s"]), int(data.get("failed", 0)), notes,
                  extra={"requests": float(data["connections"]),
                         "window_s": float(data["seconds"]),
                         "load_cpu_s": float(data.get("client_cpu_s", 0.0))})


def _marker(phase: str) -> None:
    print(f"# {phase}", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.churn", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--alpn", choices=("http/1.1", "h2"), default="h2")
    p.add_argument("--conns", type=int, default=16, help="concurrent workers")
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=1.0)
    p.add_argument("--markers", action="store_true")
    a = p.parse_args(argv)
    job = run_churn(a.port, a.alpn, a.conns, a.duration, a.warmup,
                    _marker if a.markers else None)
    try:
        import uvloop

        result = uvloop.run(job)
    except ImportError:
        result = asyncio.run(job)
    json.dump(asdict(result), sys.stdout)
    sys.stdout.write("\n")
    return 0 if result.connections and not result.failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
