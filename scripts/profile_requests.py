"""Cost per request of the server, load-independent: instructions (valgrind callgrind)
by layer, or a Python-level profile (cProfile) by module.

    python scripts/profile_requests.py --proto h2c -n 20000 -c 16 -m 10
    python scripts/profile_requests.py --proto h2tls --tool cprofile
    python scripts/profile_requests.py --proto h1 -n 20000 -c 16 --tree /tmp/ref
    python scripts/profile_requests.py --proto ws -n 20000 -c 32 --size 64
    python scripts/profile_requests.py --proto h1 --close -n 5000 -c 4
    python scripts/profile_requests.py --proto h2c --path /1m --window-bits 16 -n 200 -c 1 -m 1

The server (``python -m blackbull`` with the bench app, uvloop, no access log, as
``python -m bench`` runs it) is started from ``--tree`` (default: this checkout), warmed
up with a few requests, then its counters are zeroed, ``h2load`` sends exactly ``-n``
requests (``--h1`` for HTTP/1.1) and the counters are read: the instructions (Ir) the
server executed for those requests alone, divided by the requests that succeeded.
With ``--proto ws`` the load is a small in-script client instead (:func:`ws_load`): ``-c``
connections upgrade on ``/`` (as ``bench/wsclient.py`` does for the ws rows), then each
sends ``--size``-byte masked binary messages one at a time and awaits each echo, ``-n``
messages in all; the numbers are then per message. Instruction counts do not depend on
what else runs on the machine, so two trees can be compared on a busy one; they are what
the commit messages of the hot path quote.

Layers come from the ELF object each instruction ran in: the interpreter (Python code
of every layer: parsing, HPACK, streams, ASGI, the app), uvloop and libuv (the loop and
the socket calls), OpenSSL and Python's ``_ssl`` (TLS), httptools/llhttp (HTTP/1.1
parsing), libc (memcpy, malloc). ``--tool cprofile`` splits the Python part by module.
Needs valgrind, h2load (Debian ``nghttp2-client``; not for ``--proto ws``) and, for TLS,
trustme.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
APP = "conformance.apps:bench_app"
ENV = {"BB_ACCESS_LOG": "0", "BB_LOG_LEVEL": "warning", "BB_LOOP": "uvloop",
       "BB_H1_KEEPALIVE_TIMEOUT": "60"}

#: ELF object (a regular expression on its path) → layer, first match wins.
LAYERS = [
    ("TLS (OpenSSL, _ssl)", r"libssl|libcrypto|_ssl\."),
    ("loop (uvloop, libuv)", r"uvloop|libuv"),
    ("HTTP/1.1 parse (llhttp)", r"httptools"),
    ("libc (memcpy, malloc)", r"libc[.-]|libm[.-]|ld-linux"),
    ("interpreter (all Python code)", r"python3|libpython|\.cpython-"),
]
#: Python module path (regular expression) → layer, for ``--tool cprofile``.
PY_LAYERS = [
    ("HPACK", r"hpack|hpack_codec"),
    ("frame parse / core receive", r"http2/(frames|receive|connection|header_block)\.py"),
    ("request checks", r"http2/(headers|receive_headers)\.py"),
    ("stream bookkeeping", r"http2/(stream|registry|flow|scheduler|settings|priority)\.py"
                           r"|server/http2(_guard|_input)?\.py"),
    ("output frames", r"http2/sending\.py"),
    ("HTTP/1.1 core", r"protocol/http1/|server/http1\.py"),
    ("ASGI hand-off", r"server/(http_stream|http2_stream|http1_cycle|asgi|overload|state"
                      r"|clock)\.py|conformance/apps\.py"),
    ("asyncio tasks/futures", r"asyncio|_asyncio|method 'create_task'|Future|Task"),
    ("WebSocket core", r"protocol/websocket/"),
    ("WebSocket bridge", r"server/(ws_|websocket)"),
    ("transport write", r"write|writelines"),
]
#: What one unit of ``-n`` is: an HTTP request, or (``--proto ws``) an echoed message.
UNIT = ("request", "message")



def _stop(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM (the server writes its profile on the way out), then kill after timeout."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server did not listen on {port} within {timeout:.0f}s")


def certs() -> tuple[str, str]:
    sys.path.insert(0, str(REPO))
    from bench.tls import ensure_certs

    files = ensure_certs()
    return str(files.certfile), str(files.keyfile)


def server_command(args: argparse.Namespace, port: int) -> list[str]:
    cmd = ["-m", "blackbull", APP, "--bind", f"127.0.0.1:{port}"]
    if args.proto in ("h2tls", "h1tls"):
        cert, key = certs()
        cmd += ["--certfile", cert, "--keyfile", key]
    return cmd


async def _ws_connection(port: int, count: int, size: int) -> int:
    """Upgrade one connection (RFC 6455 §4.1), then echo *count* masked binary messages
    of *size* bytes one at a time (§5.2, §5.3; fixed key, so every run is alike); the
    number echoed in full."""
    import asyncio
    import base64

    from blackbull.protocol.websocket import Opcode, encode_frame  # on sys.path: ws_load

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(b"profile-requests").decode()
    writer.write((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise SystemExit(f"upgrade refused: {head[:80]!r}")
    payload = bytes(i & 0xFF for i in range(size))
    mask = b"\x01\x02\x03\x04"
    frame = encode_frame(Opcode.BINARY, payload, mask=mask)
    expected = len(encode_frame(Opcode.BINARY, payload))  # the echo: unmasked, no key
    done = 0
    for _ in range(count):
        writer.write(frame)
        echo = await reader.readexactly(expected)
        done += echo[-size:] == payload if size else 1
    writer.write(encode_frame(Opcode.CLOSE, (1000).to_bytes(2, "big"), mask=mask))
    try:
        await asyncio.wait_for(reader.read(), 5)
    except (TimeoutError, ConnectionError):
        pass
    writer.close()
    return done


def ws_load(args: argparse.Namespace, port: int, n: int) -> tuple[int, str]:
    """Echo exactly *n* messages over ``-c`` WebSocket connections; (echoed, summary)."""
    import asyncio

    sys.path.insert(0, str(REPO))  # the frames are this checkout's encoder's

    async def run() -> int:
        shares = [n // args.c + (i < n % args.c) for i in range(args.c)]
        counts = await asyncio.gather(*(_ws_connection(port, k, args.size)
                                        for k in shares if k))
        return sum(counts)

    done = asyncio.run(run())
    if done != n:
        print(f"warning: {n - done} of {n} echoes differed", file=sys.stderr)
    return done, f"{done} messages echoed"


def load(args: argparse.Namespace, port: int, n: int) -> tuple[int, str]:
    """Run h2load (for ``--proto ws``, :func:`ws_load`) for exactly ``n`` requests;
    (succeeded, output)."""
    if args.proto == "ws":
        return ws_load(args, port, n)
    scheme = "https" if args.proto.endswith("tls") else "http"
    cmd = ["h2load", f"-n{n}", f"-c{args.c}", "-t1"]
    if args.proto.startswith("h1"):
        cmd.append("--h1")
        if args.close:  # RFC 9112 §9.6: h2load reconnects after each response
            cmd += ["-H", "connection: close"]
    else:
        cmd.append(f"-m{args.m}")
        if args.window_bits is not None:  # RFC 9113 §6.9: the client's receive windows
            cmd += [f"-w{args.window_bits}", f"-W{args.window_bits}"]
    base = f"{scheme}://127.0.0.1:{port}"
    # --vary: h2load cycles through the URIs, so no two requests in a row are alike
    # (what a memo of the last request cannot serve; the other rows repeat one request).
    cmd += [f"{base}{args.path}"] if not args.vary else [
        f"{base}{args.path}{'&' if '?' in args.path else '?'}v={i}" for i in range(args.vary)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout).stdout
    match = re.search(r"(\d+) succeeded, (\d+) failed, (\d+) errored", out)
    if match is None:
        raise SystemExit(f"h2load printed no summary:\n{out}")
    if int(match.group(2)) or int(match.group(3)):
        print(f"warning: {match.group(0)}", file=sys.stderr)
    return int(match.group(1)), out


def environment(args: argparse.Namespace) -> dict[str, str]:
    env = {**os.environ, **ENV}
    env["PYTHONPATH"] = os.pathsep.join([str(args.tree), str(REPO)])
    env["PYTHONHASHSEED"] = "0"  # the same dict and set layouts in every run
    return env


def run_callgrind(args: argparse.Namespace) -> None:
    tools = ("valgrind", "callgrind_control", "callgrind_annotate",
             *(() if args.proto == "ws" else ("h2load",)))
    for tool in tools:
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (apt-get install valgrind nghttp2-client)")
    port = free_port()
    out_dir = Path(tempfile.mkdtemp(prefix="bb-callgrind-"))
    out_file = out_dir / "callgrind.out"
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}",
           "--dump-instr=no", "--dump-line=no", sys.executable, *server_command(args, port)]
    proc = subprocess.Popen(cmd, env=environment(args), cwd=str(args.tree),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_port(port, 300, proc)
        load(args, port, args.warmup)
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True,
                       capture_output=True)
        done, _ = load(args, port, args.n)
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True,
                       capture_output=True)
    finally:
        _stop(proc, 60)
    dumps = sorted(p for p in out_dir.iterdir() if re.search(r"\.\d+$", p.name))
    if not dumps:
        raise SystemExit(f"no callgrind dump in {out_dir}")
    report(dumps[0], done, args)


def objects_of(dump: Path) -> dict[str, int]:
    """Self Ir per ELF object, read from the dump itself (``ob=`` and cost lines; the
    cost line after a ``calls=`` line is the call's inclusive cost, not self cost)."""
    names: dict[str, str] = {}
    totals: dict[str, int] = {}
    current = "?"
    in_call = False
    npos = 1
    with open(dump, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("positions:"):
                npos = len(line.split()) - 1
                continue
            if line.startswith(("ob=", "cob=")):
                # Names are given once, at first use (by ob= or cob=), then by id only.
                ref = re.match(r"c?ob=(\(\d+\))?\s*(.*)", line.rstrip("\n"))
                key, name = ref.group(1), ref.group(2)  # type: ignore[union-attr]
                if name and key:
                    names[key] = name
                if line.startswith("ob="):
                    current = name or names.get(key, key)
                continue
            if line.startswith("calls="):
                in_call = True
                continue
            if line[:1].isdigit() or line[:1] in "+-*":
                if in_call:
                    in_call = False
                    continue
                parts = line.split()
                if len(parts) > npos:
                    totals[current] = totals.get(current, 0) + int(parts[npos])
    return totals


def report(dump: Path, done: int, args: argparse.Namespace) -> None:
    objects = objects_of(dump)
    total = sum(objects.values())
    layers: dict[str, int] = {}
    for obj, ir in objects.items():
        for name, pattern in LAYERS:
            if re.search(pattern, obj):
                layers[name] = layers.get(name, 0) + ir
                break
        else:
            layers["other"] = layers.get("other", 0) + ir
    if args.proto == "ws":
        print(f"ws: {done} messages of {args.size} B (-c{args.c}), tree {args.tree}")
    else:
        print(f"{args.proto}: {done} requests (-c{args.c}"
              f"{'' if args.proto.startswith('h1') else f' -m{args.m}'}), tree {args.tree}")
    print(f"{'layer':34} {'Ir/' + UNIT[args.proto == 'ws']:>11} {'share':>7}")
    for name, ir in sorted(layers.items(), key=lambda kv: -kv[1]):
        print(f"{name:34} {ir / done:11.0f} {ir / total:7.1%}")
    print(f"{'total':34} {total / done:11.0f}")
    if args.objects:
        for obj, ir in sorted(objects.items(), key=lambda kv: -kv[1])[:15]:
            print(f"  {ir / done:9.0f}  {obj}")
    print(f"dump: {dump}")


_PROFILE_WRAPPER = """
import cProfile, runpy, signal, sys
prof = cProfile.Profile()
path = sys.argv[1]
def _on(*_): prof.enable()
def _off(*_):
    prof.disable(); prof.dump_stats(path)
signal.signal(signal.SIGUSR1, _on)
signal.signal(signal.SIGUSR2, _off)
sys.argv = ["blackbull"] + sys.argv[2:]
runpy.run_module("blackbull", run_name="__main__", alter_sys=True)
"""


def run_cprofile(args: argparse.Namespace) -> None:
    import pstats

    port = free_port()
    stats_file = Path(tempfile.mkdtemp(prefix="bb-cprofile-")) / "server.prof"
    cmd = [sys.executable, "-c", _PROFILE_WRAPPER, str(stats_file),
           *server_command(args, port)[2:]]
    proc = subprocess.Popen(cmd, env=environment(args), cwd=str(args.tree),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_port(port, 60, proc)
        load(args, port, args.warmup)
        proc.send_signal(signal.SIGUSR1)
        time.sleep(0.5)
        done, _ = load(args, port, args.n)
        proc.send_signal(signal.SIGUSR2)
        deadline = time.monotonic() + 30
        while not stats_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)
    finally:
        _stop(proc, 30)
    stats = pstats.Stats(str(stats_file))
    by_layer: dict[str, float] = {}
    total = 0.0
    rows = []
    for (path, line, func), (_cc, calls, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{path}:{func}"
        total += tottime
        rows.append((tottime, calls, f"{Path(path).name}:{line}({func})"))
        for name, pattern in PY_LAYERS:
            if re.search(pattern, where):
                by_layer[name] = by_layer.get(name, 0.0) + tottime
                break
        else:
            by_layer["other (loop callbacks, builtins)"] = \
                by_layer.get("other (loop callbacks, builtins)", 0.0) + tottime
    unit = UNIT[args.proto == "ws"]
    print(f"{args.proto}: {done} {unit}s, cProfile tottime (µs/{unit}, profiler-inflated)")
    for name, t in sorted(by_layer.items(), key=lambda kv: -kv[1]):
        print(f"{name:36} {t / done * 1e6:8.1f} {t / total:7.1%}")
    print(f"{'total':36} {total / done * 1e6:8.1f}")
    print(f"\ntop functions (calls/{unit}, µs/{unit}):")
    for tottime, calls, name in sorted(rows, reverse=True)[:args.top]:
        print(f"  {calls / done:6.2f} {tottime / done * 1e6:7.2f}  {name}")
    print(f"stats: {stats_file}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proto", choices=["h1", "h1tls", "h2c", "h2tls", "ws"], default="h2c")
    parser.add_argument("--tool", choices=["callgrind", "cprofile"], default="callgrind")
    parser.add_argument("-n", type=int, default=20000, help="requests measured")
    parser.add_argument("-c", type=int, default=16, help="connections")
    parser.add_argument("-m", type=int, default=10, help="streams per HTTP/2 connection")
    parser.add_argument("--size", type=int, default=64, help="message bytes (--proto ws)")
    parser.add_argument("--path", default="/",
                        help="request path (the bench app's /1m and /64m are large bodies)")
    parser.add_argument("--window-bits", type=int, default=None, metavar="B",
                        help="HTTP/2: h2load -wB -WB (16: the 64 KiB default windows)")
    parser.add_argument("--vary", type=int, default=0, metavar="K",
                        help="cycle through K request targets (?v=0..K-1), not one")
    parser.add_argument("--close", action="store_true",
                        help="HTTP/1.1: a new connection per request (Connection: close)")
    parser.add_argument("--warmup", type=int, default=1000, help="requests before measuring")
    parser.add_argument("--tree", type=Path, default=REPO, help="checkout whose server runs")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--objects", action="store_true", help="also list the ELF objects")
    parser.add_argument("--top", type=int, default=30, help="functions listed (cprofile)")
    parser.add_argument("--report", type=Path, metavar="DUMP",
                        help="only report an earlier callgrind dump of -n requests")
    args = parser.parse_args()
    args.tree = args.tree.resolve()
    if args.report is not None:
        report(args.report, args.n, args)
        return
    (run_callgrind if args.tool == "callgrind" else run_cprofile)(args)


if __name__ == "__main__":
    main()
