"""The ``{name}`` placeholders of target files (conformance/targets/README.md).

Only the documented names are replaced, so the braces of an nginx or JSON
configuration rendered from a template stay as they are.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path

from conformance.targets.base import REPO_ROOT, Launch

NAMES = ("host", "port", "cert", "key", "ca", "here", "workdir", "python", "app",
         "protocol", "repo",
         # the rest only in [bench] tables (bench/servers.py)
         "bin", "bench_apps", "conformance", "ref", "workers", "bench_data")
_PATTERN = re.compile(r"\{(" + "|".join(NAMES) + r")\}")


def placeholders(spec: Launch, here: Path) -> dict[str, str]:
    """The value of every placeholder for one launch."""
    def text(path: Path | None) -> str:
        return str(path) if path is not None else ""

    return {"host": spec.host, "port": str(spec.port), "cert": text(spec.tls_cert),
            "key": text(spec.tls_key), "ca": text(spec.tls_ca), "here": str(here),
            "workdir": text(spec.workdir), "python": spec.python or sys.executable,
            "app": spec.app, "protocol": spec.protocol.value if spec.protocol else "",
            "repo": str(REPO_ROOT)}


def render(text: str, values: Mapping[str, str]) -> str:
    """*text* with each known ``{name}`` replaced; a name without a value stays as written."""
    return _PATTERN.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def unknown_placeholders(text: str) -> list[str]:
    """``{word}`` tokens that look like placeholders but are not ones (typos in a file)."""
    return [m for m in re.findall(r"\{([a-z_]+)\}", text) if m not in NAMES]
