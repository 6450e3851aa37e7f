"""Find (or install) the h2spec binary and learn which version it really is.

The pinned release is ``github.com/summerwind/h2spec/cmd/h2spec@v2.6.0``. Where the Go
module proxy refuses that tag, ``@latest`` resolves to ``v2.2.1+incompatible`` (whose
binary prints "Version: 2.0.0"); we fall back to it and record the module version that
``go version -m`` reads from the binary, so the report says what actually ran.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

MODULE = "github.com/summerwind/h2spec/cmd/h2spec"
PINNED = "v2.6.0"
INSTALL_ORDER: tuple[str, ...] = (PINNED, "latest")


class H2specUnavailable(RuntimeError):
    """h2spec is not installed and could not be installed."""


@dataclass(frozen=True)
class H2spec:
    """A located h2spec binary and what we know of its version."""

    path: Path
    version: str
    module_version: str
    installed_from: str = ""

    def tool_info(self) -> dict[str, str]:
        """The ``tool`` object of the result file (conformance/RESULTS.md)."""
        version = self.module_version or self.version
        info = {"name": "h2spec", "version": version, "runner": "binary"}
        if self.module_version and self.version and self.version not in self.module_version:
            info["binary_version"] = self.version
        if self.installed_from:
            info["installed_from"] = self.installed_from
        return info


def _gopath_bin() -> Path | None:
    go = shutil.which("go")
    if not go:
        return None
    try:
        out = subprocess.run([go, "env", "GOPATH"], capture_output=True, text=True,
                             timeout=30, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out.split(os.pathsep)[0]) / "bin" if out else None


def _candidates() -> list[Path]:
    found: list[Path] = []
    if env := os.environ.get("H2SPEC"):
        found.append(Path(env))
    if on_path := shutil.which("h2spec"):
        found.append(Path(on_path))
    if gobin := _gopath_bin():
        found.append(gobin / "h2spec")
    found.append(Path.home() / "go" / "bin" / "h2spec")
    return [p for p in found if p.is_file() and os.access(p, os.X_OK)]


def _binary_version(path: Path) -> str:
    try:
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    match = re.search(r"Version:\s*(\S+)", out)
    return match.group(1) if match else out.strip()


def _module_version(path: Path) -> str:
    go = shutil.which("go")
    if not go:
        return ""
    try:
        out = subprocess.run([go, "version", "-m", str(path)], capture_output=True,
                             text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    match = re.search(r"^\s*mod\s+github\.com/summerwind/h2spec\s+(\S+)", out, re.MULTILINE)
    return match.group(1) if match else ""


def describe(path: Path, installed_from: str = "") -> H2spec:
    return H2spec(path, _binary_version(path), _module_version(path), installed_from)


def install(log: list[str] | None = None) -> H2spec:
    """``go install`` the pinned tag, falling back to ``@latest``; raise if neither works."""
    go = shutil.which("go")
    if not go:
        raise H2specUnavailable("h2spec not found and no `go` toolchain to install it")
    notes = log if log is not None else []
    for version in INSTALL_ORDER:
        proc = subprocess.run([go, "install", f"{MODULE}@{version}"], capture_output=True,
                              text=True, timeout=600)
        if proc.returncode == 0:
            for path in _candidates():
                return describe(path, installed_from=f"{MODULE}@{version}")
        notes.append(f"go install {MODULE}@{version}: {proc.stderr.strip()[-300:]}")
    raise H2specUnavailable("could not install h2spec: " + " / ".join(notes))


def locate(allow_install: bool = True) -> H2spec:
    """The first h2spec on $H2SPEC, PATH or GOPATH/bin; install it when missing."""
    for path in _candidates():
        return describe(path)
    if not allow_install:
        raise H2specUnavailable("h2spec not found on $H2SPEC, PATH or $(go env GOPATH)/bin")
    return install()
