"""A ``blackbull`` process whose log the test reads: ``cli_server(args)`` starts it and
waits for its "listening on" lines (the real ports, port 0 included)."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import PYTHON, ROOT

LISTENING = re.compile(r"listening on (\S+) \(")


class CLIProcess:
    """One server process; its merged stdout/stderr is collected line by line."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None,
                 cwd: str | None = None, **popen: Any) -> None:
        full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        self.proc = subprocess.Popen(argv, env=full_env, cwd=cwd or str(ROOT),
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, start_new_session=True, **popen)
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = 20.0, count: int = 1) -> list[re.Match]:
        """The first ``count`` matches of ``pattern`` in the log (waiting for them)."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [m for m in map(regex.search, self.lines) if m]
                if len(found) >= count:
                    return found[:count]
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"{pattern!r} ×{count} not in the log:\n{self.output}")
                self._changed.wait(min(remaining, 0.2))

    def addresses(self, count: int = 1, timeout: float = 20.0) -> list[str]:
        return [m.group(1) for m in self.wait_for(LISTENING.pattern, timeout, count)]

    def port(self) -> int:
        return int(self.addresses()[0].rsplit(":", 1)[1])

    def wait(self, timeout: float = 20.0) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: only ours
                self.proc.wait()
        self._reader.join(5)
        return self.proc.returncode


@pytest.fixture
def cli_server() -> Iterator[Any]:
    procs: list[CLIProcess] = []

    def start(*args: str, env: dict[str, str] | None = None, cwd: str | None = None,
              argv: list[str] | None = None, **popen: Any) -> CLIProcess:
        proc = CLIProcess(argv or [PYTHON, "-m", "blackbull", *args], env=env, cwd=cwd,
                          **popen)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.stop()
