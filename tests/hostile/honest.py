"""The honest client: a separate process that asks ``GET /`` over HTTP/1.1 keep-alive
at a steady pace (``RATE`` requests per second, one at a time) and records the monotonic
time of every good answer.

It is paced, not flat out, because it stands for ordinary users of a server with spare
capacity: "kept being served" means it still gets its answers at its own pace while
the attack runs. (A flat-out client measures something else: how the CPU of a saturated
single-threaded server is shared; any attack work at all then lowers it.) A server slowed
down for longer than that shows up as a lower rate (a short delay is made up for, up to 0.1 s of backlog, as queued
users would still be served).

``python -m tests.hostile.honest PORT OUTFILE [RATE]``; SIGTERM ends it and the timestamps
(``CLOCK_MONOTONIC`` is system-wide on Linux, so the test can cut them into its own
windows) are written to OUTFILE as JSON ``{"ok": [...], "errors": N}``.
"""
from __future__ import annotations

import json
import signal
import socket
import sys
import time

_REQUEST = b"GET / HTTP/1.1\r\nHost: honest\r\nUser-Agent: honest\r\n\r\n"
_ANSWER = b"HTTP/1.1 200"
#: Seconds of lateness the client still catches up on, like users arriving at a steady
#: rate whose requests queue briefly; beyond it their requests count as lost.
_MAX_BACKLOG = 0.1


class _Stop(Exception):
    pass


def _stop(signum: int, frame: object) -> None:
    raise _Stop


def _one_request(sock: socket.socket) -> bool:
    """One request on a kept-alive socket; True when a complete 200 came back."""
    sock.sendall(_REQUEST)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return False
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            return False
        body += chunk
    return head.startswith(_ANSWER)


def run(port: int, rate: float) -> tuple[list[float], int]:
    ok: list[float] = []
    errors = 0
    sock: socket.socket | None = None
    period = 1.0 / rate
    next_at = time.monotonic()
    try:
        while True:
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -_MAX_BACKLOG:
                next_at = time.monotonic()  # users who waited too long are gone
            next_at += period
            try:
                if sock is None:
                    sock = socket.create_connection(("127.0.0.1", port), timeout=2.0)
                if _one_request(sock):
                    ok.append(time.monotonic())
                    continue
                errors += 1
            except OSError:
                errors += 1
                time.sleep(0.01)
            if sock is not None:
                sock.close()
                sock = None
    except _Stop:
        pass
    finally:
        if sock is not None:
            sock.close()
    return ok, errors


def main() -> None:
    port, out = int(sys.argv[1]), sys.argv[2]
    rate = float(sys.argv[3]) if len(sys.argv) > 3 else 200.0
    signal.signal(signal.SIGTERM, _stop)
    ok, errors = run(port, rate)
    with open(out, "w", encoding="utf-8") as fh:
        json.dump({"ok": ok, "errors": errors}, fh)


if __name__ == "__main__":
    main()
