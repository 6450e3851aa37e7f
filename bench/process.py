"""Start a server under test pinned to its core, wait for its port, measure, stop it.

A server runs in its own session (process group) so that multi-process servers
(granian's worker, hypercorn's) are stopped together by signalling that one group,
which we created; nothing else on the machine is touched.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .envs import CACHE_DIR, clean_env
from .servers import Launch, ServerSpec

LOG_DIR = CACHE_DIR / "logs"
WORK_DIR = CACHE_DIR / "work"  # per-launch directories (rendered nginx configs, pids)


def cpu_pins() -> tuple[list[str], list[str]]:
    """``taskset`` prefixes for (server, load generator): cores 0 and 1 when there are 2+."""
    if (os.cpu_count() or 1) >= 2 and Path("/usr/bin/taskset").exists():
        return ["taskset", "-c", "0"], ["taskset", "-c", "1"]
    return [], []


def free_port() -> int:
    """A loopback port that was free a moment ago (the server binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerFailed(RuntimeError):
    """The server did not come up (or died); the message carries its log tail."""


@dataclass
class RunningServer:
    spec: ServerSpec
    launch: Launch
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_tail(self, limit: int = 1500) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM our process group, then SIGKILL it if it lingers; remove its workdir."""
        try:
            self._stop(grace)
        finally:
            if self.launch.workdir is not None:
                shutil.rmtree(self.launch.workdir, ignore_errors=True)

    def _stop(self, grace: float) -> None:
        if self.proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue


def _wait_for_port(server: RunningServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            server.stop()  # nothing to signal; removes its workdir
            raise ServerFailed(f"{server.spec.name} exited with {server.proc.returncode}: "
                               f"{server.log_tail()}")
        try:
            with socket.create_connection(("127.0.0.1", server.launch.port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise ServerFailed(f"{server.spec.name} did not listen within {timeout:.0f}s: "
                       f"{server.log_tail()}")


def start_server(spec: ServerSpec, launch: Launch, pin: list[str],
                 timeout: float = 30.0) -> RunningServer:
    """Start *spec* on ``launch.port`` (pinned with *pin*) and wait until it accepts."""
    if reason := spec.unavailable():
        raise ServerFailed(f"{spec.name} could not be started: {reason}")
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"{spec.name}-{launch.port}.log"
    env = clean_env({**spec.extra_env,
                     "PYTHONPATH": os.pathsep.join(str(p) for p in spec.pythonpath)})
    if spec.needs_workdir and launch.workdir is None:
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        workdir = Path(tempfile.mkdtemp(prefix=f"{spec.name}-{launch.port}-", dir=WORK_DIR))
        # nginx started by root runs its workers as ``nobody``: they must read in here.
        workdir.chmod(0o755)
        launch = dataclasses.replace(launch, workdir=workdir)
    try:
        cmd = [*pin, *spec.build(launch)]
    except (OSError, ValueError) as exc:
        if launch.workdir is not None:
            shutil.rmtree(launch.workdir, ignore_errors=True)
        raise ServerFailed(f"{spec.name}: its command could not be built: {exc}") from exc
    with open(log_path, "wb") as log:
        log.write((" ".join(cmd) + "\n").encode())
        log.flush()
        try:
            proc = subprocess.Popen(cmd, cwd=spec.cwd, env=env, stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        except OSError as exc:
            if launch.workdir is not None:
                shutil.rmtree(launch.workdir, ignore_errors=True)
            raise ServerFailed(f"{spec.name} could not be started: {exc}") from exc
    server = RunningServer(spec, launch, proc, log_path)
    _wait_for_port(server, timeout)
    return server


def _children(pid: int) -> list[int]:
    """Direct children of *pid*, from /proc/<pid>/task/*/children."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return found


def rss_kib(pid: int) -> int:
    """VmRSS in KiB of *pid* and all its descendants (workers count too)."""
    total = 0
    for current in _tree(pid):
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


_TICKS = os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    """*pid* and all its descendants."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        found.append(current)
        todo += _children(current)
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of *pid* and its live descendants (/proc/PID/stat)."""
    ticks = 0
    for current in _tree(pid):
        try:
            stat = Path(f"/proc/{current}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (proc(5) fields 14, 15)
    return ticks / _TICKS
