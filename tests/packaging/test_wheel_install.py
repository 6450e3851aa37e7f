"""The package installs as users get it: built, installed without extras, run from outside.

The sdist is built, the wheel is built *from the sdist* (so the sdist holds everything a
build needs), the wheel goes into a fresh virtualenv with no extras and no access to this
checkout, and from a directory outside the checkout ``import blackbull``, ``blackbull
--help`` and a request to ``blackbull module:app`` must work.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

APP = '''
async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b"installed " + scope["path"].encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})
'''


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(argv: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, cwd=cwd, env=_clean_env(), capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{argv} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("dist")
    # No --sdist/--wheel flags: build makes the sdist, then the wheel from the sdist.
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], cwd=out, timeout=600)
    [sdist] = out.glob("blackbull-*.tar.gz")
    [wheel] = out.glob("blackbull-*.whl")
    return sdist, wheel


def test_the_sdist_holds_what_building_and_the_licence_need(built):
    sdist, _ = built
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    for required in ("pyproject.toml", "README.md", "LICENSE", "blackbull/__init__.py",
                     "blackbull/protocol/http2/connection.py"):
        assert required in names, f"{required} missing from {sdist.name}"


def test_the_wheel_carries_the_licence_and_no_test_code(built):
    _, wheel = built
    with zipfile.ZipFile(wheel) as whl:
        names = whl.namelist()
    assert any(n.endswith(".dist-info/licenses/LICENSE") or n.endswith(".dist-info/LICENSE")
               for n in names), names
    tops = {n.split("/")[0] for n in names}
    assert not tops & {"tests", "conformance", "bench", "fuzz"}, tops


def test_the_wheel_without_extras_imports_serves_and_answers(built, tmp_path):
    """import, --help and a request, in a fresh venv, from a directory outside the checkout."""
    _, wheel = built
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    py, exe = venv / "bin" / "python", venv / "bin" / "blackbull"
    _run([str(py), "-m", "pip", "install", "-q", str(wheel)], cwd=tmp_path, timeout=600)

    where = _run([str(py), "-c", "import blackbull; print(blackbull.__file__)"], cwd=tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout
    assert not Path(where.stdout.strip()).is_relative_to(ROOT)
    extras = _run([str(py), "-m", "pip", "list", "--format=freeze"], cwd=tmp_path).stdout.lower()
    assert "uvloop" not in extras and "pytest" not in extras  # really without extras

    helped = _run([str(exe), "--help"], cwd=tmp_path)
    assert "usage" in helped.stdout.lower() and "bind" in helped.stdout

    (tmp_path / "user_app.py").write_text(APP, encoding="utf-8")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([str(exe), "user_app:app", "--bind", f"127.0.0.1:{port}"],
                              cwd=tmp_path, env=_clean_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/hello", timeout=5) as resp:
                    status, body = resp.status, resp.read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    out = server.stdout.read().decode(errors="replace") if server.stdout else ""
                    pytest.fail(f"server did not answer (exit {server.poll()}):\n{out[-2000:]}")
                time.sleep(0.2)
        assert (status, body) == (200, b"installed /hello")
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
