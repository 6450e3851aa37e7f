"""Files for the large-body rows, under ``.cache/bench/data/`` (the ``{bench_data}``
placeholder): what a static server (nginx) serves at ``/1m`` and ``/64m``, the same
bytes the ASGI bench app streams (``conformance.apps.BIG_BODIES``), and the file
``h2load -d`` uploads."""
from __future__ import annotations

from pathlib import Path

from conformance.apps import BIG_BODIES, CHUNK, FILL

from .servers import DATA_DIR

UPLOAD_NAME = "upload-64m.bin"
UPLOAD_BYTES = 64 << 20


def _write(path: Path, size: int) -> None:
    if path.exists() and path.stat().st_size == size:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    chunk = FILL * CHUNK
    with open(tmp, "wb") as out:
        left = size
        while left > 0:
            out.write(chunk[:left])
            left -= min(left, CHUNK)
    tmp.replace(path)


def ensure_bodies(directory: Path = DATA_DIR) -> Path:
    """``1m.bin``, ``64m.bin`` (named after the app's paths) and the upload file; once."""
    for route, size in BIG_BODIES.items():
        _write(directory / f"{route.strip('/')}.bin", size)
    _write(directory / UPLOAD_NAME, UPLOAD_BYTES)
    return directory


def upload_file(directory: Path = DATA_DIR) -> Path:
    return ensure_bodies(directory) / UPLOAD_NAME
