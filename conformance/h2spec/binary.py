"""Find (or install) the h2spec binary, pinned at v2.6.0, and learn which version it is.

The order (issue 14 §2; ``scripts/install-tools.sh`` follows the same one):

1. ``$H2SPEC`` — the binary the user names. A path that does not exist or cannot run is
   an error (:class:`H2specUnavailable`), never a silent fall-back to another binary.
2. A v2.6.0 binary already installed: ``.cache/h2spec/2.6.0/h2spec`` (what step 4 builds),
   ``h2spec`` on ``PATH``, ``$(go env GOPATH)/bin/h2spec`` — only if it prints 2.6.0.
3. The release binary from GitHub, when it can be downloaded (tried with a short timeout:
   many CI and sandbox networks cannot reach it).
4. A build of the tag from source: ``$H2SPEC_SRC`` (a checkout or the ``git archive``
   tarball), else ``shared/tools/h2spec-2.6.0.tar.gz`` beside the repository (this team's
   machines), with ``go build -ldflags "-X main.VERSION=2.6.0 -X main.COMMIT=70ac229"``
   (the tag's go.mod lacks ``/v2``, so ``go install …@v2.6.0`` cannot resolve anywhere;
   the build's dependencies come from the Go module proxy).
5. Only then ``go install …@latest`` (v2.2.1, 145 cases, prints 2.0.0), or any other
   h2spec found: the result is marked ``pinned: false`` and the report shows it in amber.

The report records the version the binary prints and its path.
"""

from __future__ import annotations

import functools
import io
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from conformance.targets.base import CACHE_DIR, REPO_ROOT

MODULE = "github.com/summerwind/h2spec/cmd/h2spec"
PINNED_VERSION = "2.6.0"
PINNED_COMMIT = "70ac229"
PINNED = f"v{PINNED_VERSION}"
LDFLAGS = f"-X main.VERSION={PINNED_VERSION} -X main.COMMIT={PINNED_COMMIT}"
RELEASE_URL = (f"https://github.com/summerwind/h2spec/releases/download/{PINNED}/"
               "h2spec_linux_amd64.tar.gz")
SOURCE_TARBALL = Path("shared") / "tools" / f"h2spec-{PINNED_VERSION}.tar.gz"
BUILD_DIR = CACHE_DIR / "h2spec" / PINNED_VERSION
DOWNLOAD_TIMEOUT = 8.0


class H2specUnavailable(RuntimeError):
    """h2spec is not installed and could not be installed (or $H2SPEC is wrong)."""


@dataclass(frozen=True)
class H2spec:
    """A located h2spec binary and what we know of its version."""

    path: Path
    version: str              # what ``h2spec --version`` prints, e.g. "2.6.0 (70ac229)"
    module_version: str = ""  # what ``go version -m`` reads ("(devel)" for a source build)
    installed_from: str = ""

    @functools.cached_property
    def case_count(self) -> int:
        """How many cases this binary runs without ``--strict`` (2.6.0: 146), from its dry run."""
        from conformance.h2spec.catalogue import parse_dryrun

        try:
            out = subprocess.run([str(self.path), "--dryrun"], capture_output=True, text=True,
                                 timeout=60).stdout
        except (OSError, subprocess.SubprocessError):
            return 0
        return len(parse_dryrun(out).case_ids())

    @property
    def pinned(self) -> bool:
        return self.version.split()[0] == PINNED_VERSION if self.version else False

    def tool_info(self) -> dict[str, str | bool | int]:
        """The ``tool`` object of the result file (conformance/RESULTS.md)."""
        info: dict[str, str | bool | int] = {
            "name": "h2spec", "version": self.version.split()[0] if self.version else "",
            "runner": "binary", "binary_version": self.version, "path": str(self.path),
            "pinned": self.pinned, "pinned_version": PINNED_VERSION,
            "cases": self.case_count}
        if self.module_version:
            info["module_version"] = self.module_version
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


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def installed_candidates() -> list[Path]:
    """h2spec binaries already on this machine, best first (no $H2SPEC)."""
    found = [BUILD_DIR / "h2spec"]
    if on_path := shutil.which("h2spec"):
        found.append(Path(on_path))
    if gobin := _gopath_bin():
        found.append(gobin / "h2spec")
    found.append(Path.home() / "go" / "bin" / "h2spec")
    unique: list[Path] = []
    for path in found:
        if _executable(path) and path.resolve() not in {u.resolve() for u in unique}:
            unique.append(path)
    return unique


def binary_version(path: Path) -> str:
    """``2.6.0 (70ac229)`` from ``Version: 2.6.0 (70ac229)``; "" when it does not run."""
    try:
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    match = re.search(r"Version:\s*(.+)", out)
    return match.group(1).strip() if match else out.strip()


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
    return H2spec(path, binary_version(path), _module_version(path), installed_from)


def source_candidates() -> list[Path]:
    """Where the v2.6.0 source may be: $H2SPEC_SRC, else the team's tarball beside the repo."""
    if env := os.environ.get("H2SPEC_SRC"):
        return [Path(env)]
    return [parent / SOURCE_TARBALL for parent in REPO_ROOT.parents
            if (parent / SOURCE_TARBALL).is_file()][:1]


def download_release(dest: Path, url: str = RELEASE_URL,
                     timeout: float = DOWNLOAD_TIMEOUT) -> H2spec:
    """Fetch the release tarball and unpack its ``h2spec`` into *dest*."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data = response.read()
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            member = tar.getmember("h2spec")
            extracted = tar.extractfile(member)
            if extracted is None:
                raise OSError("no h2spec file in the release tarball")
            dest.mkdir(parents=True, exist_ok=True)
            (dest / "h2spec").write_bytes(extracted.read())
    except (OSError, tarfile.TarError, KeyError, ValueError) as exc:
        raise H2specUnavailable(f"release download {url}: {exc}") from None
    (dest / "h2spec").chmod(0o755)
    return describe(dest / "h2spec", installed_from=url)


def build_from_source(source: Path, dest: Path) -> H2spec:
    """``go build`` the tag from a checkout or tarball into *dest*, stamping the version."""
    go = shutil.which("go")
    if not go:
        raise H2specUnavailable(f"cannot build {source}: no `go` toolchain")
    if not source.exists():
        raise H2specUnavailable(f"H2SPEC_SRC={source} does not exist")
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="h2spec-src-") as tmp:
        tree = source
        if source.is_file():
            try:
                with tarfile.open(source) as tar:
                    tar.extractall(tmp, filter="data")
            except (OSError, tarfile.TarError) as exc:
                raise H2specUnavailable(f"cannot unpack {source}: {exc}") from None
            roots = [p for p in Path(tmp).iterdir() if (p / "go.mod").exists()]
            tree = roots[0] if roots else Path(tmp)
        if not (tree / "cmd" / "h2spec").is_dir():
            raise H2specUnavailable(f"{source} holds no cmd/h2spec (not the h2spec source)")
        out = dest / "h2spec"
        try:
            proc = subprocess.run([go, "build", "-ldflags", LDFLAGS, "-o", str(out),
                                   "./cmd/h2spec"], cwd=tree, capture_output=True, text=True,
                                  timeout=900)
        except (OSError, subprocess.SubprocessError) as exc:
            raise H2specUnavailable(f"go build in {tree}: {exc}") from None
        if proc.returncode != 0:
            raise H2specUnavailable(f"go build in {tree} failed: {proc.stderr.strip()[-400:]}")
    return describe(out, installed_from=f"go build {source}")


def go_install_latest() -> H2spec:
    """``go install …@latest`` (not the pinned version: the report shows it in amber)."""
    go = shutil.which("go")
    if not go:
        raise H2specUnavailable("no `go` toolchain for go install")
    proc = subprocess.run([go, "install", f"{MODULE}@latest"], capture_output=True, text=True,
                          timeout=600)
    gobin = _gopath_bin()
    if proc.returncode != 0 or gobin is None or not _executable(gobin / "h2spec"):
        raise H2specUnavailable(f"go install {MODULE}@latest: {proc.stderr.strip()[-300:]}")
    return describe(gobin / "h2spec", installed_from=f"{MODULE}@latest")


def from_env() -> H2spec | None:
    """The binary ``$H2SPEC`` names; an error when it is set but unusable."""
    env = os.environ.get("H2SPEC")
    if not env:
        return None
    path = Path(env)
    if not _executable(path):
        raise H2specUnavailable(f"H2SPEC={env} is not an executable file (set it to an "
                                "h2spec binary, or unset it to let the suite install v2.6.0)")
    return describe(path, installed_from="$H2SPEC")


def install(log: list[str] | None = None, *,
            download: Callable[[Path], H2spec] = download_release) -> H2spec:
    """Steps 3-5 of the module docstring; *log* collects why each step did not work."""
    notes = log if log is not None else []
    steps: list[tuple[str, Callable[[], H2spec]]] = [("release", lambda: download(BUILD_DIR))]
    for source in source_candidates():
        steps.append((f"source {source}", lambda s=source: build_from_source(s, BUILD_DIR)))
    if not source_candidates():
        notes.append("source: no H2SPEC_SRC and no shared/tools/h2spec-2.6.0.tar.gz beside "
                     "the repository")
    steps.append(("go install @latest", go_install_latest))
    for name, step in steps:
        try:
            found = step()
        except H2specUnavailable as exc:
            notes.append(f"{name}: {exc}")
            continue
        if found.pinned or name == "go install @latest":
            return found
        notes.append(f"{name}: got {found.version or 'no version'}, not {PINNED_VERSION}")
    raise H2specUnavailable("could not install h2spec: " + " / ".join(notes))


def locate(allow_install: bool = True) -> H2spec:
    """The h2spec to run, in the order of the module docstring."""
    named = from_env()
    if named is not None:
        return named
    others = [describe(p) for p in installed_candidates()]
    for found in others:
        if found.pinned:
            return found
    notes: list[str] = []
    if allow_install:
        try:
            return install(notes)
        except H2specUnavailable as exc:
            if not others:
                raise
            notes.append(str(exc))
    if others:  # an older h2spec is better than none, and the report says so in amber
        return H2spec(others[0].path, others[0].version, others[0].module_version,
                      f"found (not {PINNED_VERSION}); " + " / ".join(notes)[:300])
    raise H2specUnavailable(f"no h2spec on $H2SPEC, {BUILD_DIR}, PATH or $(go env "
                            "GOPATH)/bin, and --no-install was given")
