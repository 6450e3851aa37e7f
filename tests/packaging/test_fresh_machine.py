"""What a fresh machine gets from the README's set-up commands is what the tests need.

The README's test command is ``bash scripts/install-tools.sh && pip install -e
'.[test,speed]' && python -m pytest -n 2``.  A module the tests (or the harnesses they
drive) import that this install does not bring is a defect that a machine with hand
installs hides — the reason CI was green while a clean clone failed on ``atheris`` — so
these checks fail, never skip, when something is missing.
"""

from __future__ import annotations

import ast
import os
import shutil
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
LOCAL = {"blackbull", "conformance", "tests", "bench", "fuzz"}
#: The extras the README's test command installs.
README_EXTRAS = ("test", "speed")
#: Trees whose imports must resolve; conformance/autobahn's Python 2.7 / ported suite and
#: the Node/Go/Rust peers run in environments of their own and import nothing from here.
AUDITED = ("tests", "conformance", "bench", "fuzz", "blackbull")
#: The tools scripts/install-tools.sh promises (BB_SKIP_CHROMIUM=1 opts out of chromium).
TOOLS = ("curl", "h2load", "wrk", "chromium")


def _top_level_imports() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for tree in AUDITED:
        for path in (ROOT / tree).rglob("*.py"):
            if ".cache" in path.parts:
                continue
            module = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(module):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in LOCAL:
                        found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def _declared_closure() -> set[str]:
    """Normalised names of every distribution the README's install brings (transitively)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    todo: list[tuple[str, frozenset[str]]] = []
    for spec in project["dependencies"]:
        todo.append((spec, frozenset()))
    for extra in README_EXTRAS:
        for spec in project["optional-dependencies"][extra]:
            todo.append((spec, frozenset()))
    seen: set[str] = set()
    while todo:
        spec, extras = todo.pop()
        req = Requirement(spec)
        if req.marker is not None and not any(
                req.marker.evaluate({"extra": e}) for e in (extras or {""})):
            continue
        name = _norm(req.name)
        key = name + "[" + ",".join(sorted(req.extras)) + "]"
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = metadata.requires(req.name) or []
        except metadata.PackageNotFoundError:
            continue  # reported by the import check, with the module that needs it
        for sub in requires:
            todo.append((sub, frozenset(req.extras)))
    return {key.split("[")[0] for key in seen}


def _norm(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def test_every_import_of_the_tests_and_harnesses_comes_from_the_readme_install():
    """Each third-party module imported anywhere in the tree is installed, by a declared extra."""
    closure = _declared_closure()
    owners = metadata.packages_distributions()
    problems = []
    for module, files in sorted(_top_level_imports().items()):
        dists = owners.get(module)
        where = ", ".join(sorted(files)[:3])
        if not dists:
            problems.append(f"{module}: not installed (imported by {where})")
        elif not any(_norm(d) in closure for d in dists):
            problems.append(f"{module}: from {dists}, which no README extra "
                            f"({', '.join(README_EXTRAS)}) brings (imported by {where})")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("tool", TOOLS)
def test_tools_the_install_script_promises_are_on_path(tool):
    """scripts/install-tools.sh installs these; a test that needs one must not skip for lack of it."""
    if tool == "chromium" and os.environ.get("BB_SKIP_CHROMIUM") == "1":
        pytest.skip("BB_SKIP_CHROMIUM=1 asked the install script not to install chromium")
    assert shutil.which(tool), f"{tool} is missing: run bash scripts/install-tools.sh"
