"""Start the bridge as a child process (its own process group) for a harness run."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from conformance.targets.base import REPO_ROOT


@dataclass
class BridgeHandle:
    process: subprocess.Popen[bytes]
    port: int
    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def stop(self) -> None:
        """End the bridge process we started (by its process group)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def __enter__(self) -> BridgeHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_bridge(upstream_port: int, *, upstream_host: str = "127.0.0.1",
                 ca_file: Path | None = None, log: Path | None = None) -> BridgeHandle:
    """A bridge in front of ``upstream_host:upstream_port`` (TLS when ``ca_file``)."""
    argv = [sys.executable, "-m", "conformance.h2bridge",
            "--upstream", f"{upstream_host}:{upstream_port}"]
    if ca_file is not None:
        argv += ["--tls", "--ca", str(ca_file), "--authority", f"localhost:{upstream_port}"]
    stderr = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(argv, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=stderr,
                            stdin=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    if not line.startswith("listening "):
        handle = BridgeHandle(proc, 0)
        handle.stop()
        raise RuntimeError(f"the h2 bridge did not start: {line!r}")
    return BridgeHandle(proc, int(line.split()[1]))
