"""The hostile suite's measuring harness.

The server under attack runs in its own process (``python -m blackbull
tests.hostile.app:app``), so its memory is read from ``/proc/PID/status`` (VmRSS, VmHWM)
and its descriptors from ``/proc/PID/fd``. The honest client is a third process
(:mod:`tests.hostile.honest`). An attack is a coroutine run in the test's own loop.

:func:`measure` interleaves quiet and attack windows (baseline, attack, baseline, ...)
and compares the honest client's median request rate in each kind: on a shared 2-core
machine other load drifts, and interleaving short windows cancels most of that drift.
"""
from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import ROOT, free_port, wait_for_port

#: Only one measurement at a time on the machine (see _measuring_alone).
_LOCK = os.path.join(tempfile.gettempdir(), "blackbull-hostile-measure.lock")

#: Requests per second the honest client asks for (paced; see tests.hostile.honest).
HONEST_RATE = 200.0

Attack = Callable[[asyncio.Event, Counter], Awaitable[None]]

#: Settings every hostile server gets: short timeouts so slow attacks end inside a test.
BASE_ENV = {
    "BB_H1_HEADER_TIMEOUT": "2",
    "BB_H1_KEEPALIVE_TIMEOUT": "5",
    "BB_H2_IDLE_TIMEOUT": "10",
    "BB_H2_SETTINGS_TIMEOUT": "5",
    "BB_WS_CLOSE_TIMEOUT": "2",
    "BB_LOG_LEVEL": "info",
    "BB_LIFESPAN": "off",
}


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS/VmHWM/... of a process, in kB (Linux /proc)."""
    values: dict[str, int] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            name, _, rest = line.partition(":")
            if name.startswith("Vm"):
                values[name] = int(rest.split()[0])
    return values


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


class ServerProcess:
    """A blackbull server subprocess on 127.0.0.1:<free port>; stopped by its PID."""

    def __init__(self, env: dict[str, str] | None = None,
                 app: str = "tests.hostile.app:app") -> None:
        self.port = free_port()
        self.log_path = Path(tempfile.mkstemp(prefix="hostile-server-", suffix=".log")[1])
        full_env = {**os.environ, "PYTHONPATH": str(ROOT), **BASE_ENV, **(env or {})}
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "blackbull", app, "--bind", f"127.0.0.1:{self.port}"],
            env=full_env, cwd=str(ROOT), stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            wait_for_port(self.port)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"server did not start: {self.log()}") from None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def rss_kb(self) -> int:
        return proc_status(self.pid)["VmRSS"]

    def cpu_s(self) -> float:
        """User + system CPU seconds the server has used (``/proc/PID/stat``)."""
        with open(f"/proc/{self.pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def hwm_kb(self) -> int:
        return proc_status(self.pid)["VmHWM"]

    def reset_hwm(self) -> None:
        """Start a new peak: VmHWM becomes the current resident size (Linux
        ``clear_refs`` value 5), so a measurement's peak is its own, not an earlier one's.
        Where the kernel refuses, the peak stays the process's whole life (stricter)."""
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w", encoding="ascii") as fh:
                fh.write("5")
        except OSError:
            pass

    def fds(self) -> int:
        return fd_count(self.pid)

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self._log.closed:
            self._log.close()
        return self.proc.returncode


class HonestClient:
    """The honest client process; :meth:`finish` returns its success timestamps."""

    def __init__(self, port: int, rate: float) -> None:
        self.out = Path(tempfile.mkstemp(prefix="hostile-honest-", suffix=".json")[1])
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.hostile.honest", str(port), str(self.out), str(rate)],
            env=env, cwd=str(ROOT))

    def finish(self) -> tuple[list[float], int]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("honest client did not stop") from None
        try:
            data = json.loads(self.out.read_text() or "{}")
        finally:
            self.out.unlink(missing_ok=True)
        return data.get("ok", []), int(data.get("errors", 0))


@dataclass
class Measurement:
    """What one attack did to the server and to the honest client."""

    baseline_rates: list[float] = field(default_factory=list)
    attack_rates: list[float] = field(default_factory=list)
    honest_errors: int = 0
    rss_start_kb: int = 0
    rss_end_kb: int = 0
    #: Server CPU seconds over the measured windows (warm-up burst included).
    server_cpu_s: float = 0.0
    hwm_kb: int = 0
    answers: Counter = field(default_factory=Counter)
    #: Attack connections of the unmeasured warm-up burst (their answers are not judged,
    #: but the server logged them too).
    warmup_connections: int = 0

    @property
    def ratio(self) -> float:
        base = statistics.median(self.baseline_rates) if self.baseline_rates else 0.0
        hit = statistics.median(self.attack_rates) if self.attack_rates else 0.0
        return hit / base if base else 0.0

    @property
    def growth_mb(self) -> float:
        """Peak resident memory above the server's resident size before the attack."""
        return (self.hwm_kb - self.rss_start_kb) / 1024

    def summary(self) -> str:
        rates = ", ".join(f"{b:.0f}/{a:.0f}" for b, a in
                          zip(self.baseline_rates, self.attack_rates, strict=False))
        return (f"honest ratio {self.ratio:.2f} (baseline/attack req/s: {rates}); "
                f"honest errors {self.honest_errors}; RSS {self.rss_start_kb // 1024} MB → "
                f"peak {self.hwm_kb // 1024} MB (+{self.growth_mb:.1f}); "
                f"server CPU {self.server_cpu_s:.1f} s; "
                f"answers {dict(self.answers)}")


def _rate(stamps: list[float], start: float, end: float) -> float:
    return sum(1 for t in stamps if start <= t < end) / (end - start)


async def _run_window(attack: Attack | None, window: float, answers: Counter) -> tuple[float, float]:
    stop = asyncio.Event()
    task = asyncio.create_task(attack(stop, answers)) if attack else None
    start = time.monotonic()
    await asyncio.sleep(window)
    end = time.monotonic()
    stop.set()
    if task is not None:
        try:
            await asyncio.wait_for(task, 10.0)
        except TimeoutError:
            answers["attack did not stop"] += 1
    return start, end


@contextlib.contextmanager
def machine_lock() -> Iterator[None]:
    """Hold the hostile suite's machine-wide lock: load generators (the soak, the
    shutdown test) must not run during another test's measurement windows."""
    with open(_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@contextlib.contextmanager
def _measuring_alone() -> Iterator[None]:
    """One measurement at a time on this machine (a lock file shared by xdist workers
    and concurrent sessions), with the attacker (this process) at nice +10 meanwhile:
    it stands for a peer on another machine, so when the machine is busy its CPU must
    not come out of the server's share (DESIGN.md: server and load generator apart)."""
    with open(_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        before = os.getpriority(os.PRIO_PROCESS, 0)
        try:
            os.setpriority(os.PRIO_PROCESS, 0, min(before + 10, 19))
            yield
        finally:
            with contextlib.suppress(OSError):  # raising it back needs privileges
                os.setpriority(os.PRIO_PROCESS, 0, before)


async def measure(server: ServerProcess, attack: Attack, *, rounds: int = 4,
                  window: float = 0.7, gap: float = 0.3,
                  honest_rate: float = HONEST_RATE) -> Measurement:
    """Interleave ``rounds`` quiet and attack windows while the honest client runs;
    every window measured counts in the medians reported."""
    result = Measurement()
    windows: list[tuple[str, float, float]] = []
    with open(_LOCK, "w") as wait:  # queue here, not inside the honest client's life
        await asyncio.get_running_loop().run_in_executor(None, fcntl.flock, wait,
                                                         fcntl.LOCK_EX)
        fcntl.flock(wait, fcntl.LOCK_UN)
    honest = HonestClient(server.port, honest_rate)
    try:
        with _measuring_alone():
            await _windows(server, attack, result, windows, rounds, window, gap)
    finally:
        stamps, errors = honest.finish()
    result.honest_errors = errors
    for kind, start, end in windows:
        (result.baseline_rates if kind == "base" else result.attack_rates).append(
            _rate(stamps, start, end))
    return result


async def _windows(server: ServerProcess, attack: Attack, result: Measurement,
                   windows: list[tuple[str, float, float]], rounds: int, window: float,
                   gap: float) -> None:
    await asyncio.sleep(0.5)  # the honest client's interpreter starts and warms up
    server.reset_hwm()
    result.rss_start_kb = server.rss_kb()
    cpu_start = server.cpu_s()
    # One unmeasured attack burst first: the server's first-use costs (lazy imports,
    # allocator growth) belong to no window. Its memory still counts in the peak.
    warm: Counter = Counter()
    await _run_window(attack, 0.3, warm)
    result.warmup_connections = sum(warm.values())
    await asyncio.sleep(gap)
    for _ in range(rounds):
        start, end = await _run_window(None, window, result.answers)
        windows.append(("base", start, end))
        start, end = await _run_window(attack, window, result.answers)
        windows.append(("attack", start, end))
        # The attack's queued input drains before the next quiet window.
        await asyncio.sleep(gap)
    result.hwm_kb = server.hwm_kb()
    result.rss_end_kb = server.rss_kb()
    result.server_cpu_s = server.cpu_s() - cpu_start
