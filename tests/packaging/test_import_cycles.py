"""No runtime import cycle in ``blackbull/`` (issue 17 §3): ``scripts/import_cycles.py``.

A cycle makes the import order matter (a module sees another half initialised), which
the server hid with function-level imports and ``ImportError`` guards. The script reads
the imports with :mod:`ast`; those under ``if TYPE_CHECKING:`` do not run and do not
count. The tests on temporary packages show that the check can fail, and on what.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "import_cycles.py"


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True,
                          text=True, timeout=60, check=False)


def make_package(root: Path, files: dict[str, str]) -> Path:
    """A package ``pkg`` under ``root`` with ``files`` (relative path → source)."""
    package = root / "pkg"
    for name, source in {"__init__.py": "", **files}.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return package


def test_blackbull_has_no_runtime_import_cycle() -> None:
    """The command exits 0 over blackbull/ and says how many modules it read."""
    result = run_script(str(ROOT / "blackbull"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("0 import cycle(s) among ")


def test_a_cycle_through_a_function_level_import_is_reported(tmp_path: Path) -> None:
    """A late import inside a function still runs: a → b (module level) and b → a (in a
    function) is a cycle; the script prints it as a closed path and exits 1."""
    package = make_package(tmp_path, {
        "a.py": "from . import b\n",
        "b.py": """
            def later():
                from .a import thing  # late import: it imports us
                return thing
            """,
    })
    result = run_script(str(package))
    assert result.returncode == 1
    assert "pkg.a -> pkg.b -> pkg.a" in result.stdout
    assert "1 import cycle(s)" in result.stderr


def test_a_cycle_guarded_by_import_error_and_through_a_package_is_reported(
        tmp_path: Path) -> None:
    """``try: import … except ImportError`` runs too; ``from .. import name`` of a
    package's attribute is an edge to the package's ``__init__``."""
    package = make_package(tmp_path, {
        "__init__.py": "from .sub.c import C\nVERSION = '1'\n",
        "sub/__init__.py": "",
        "sub/c.py": """
            try:
                from .. import VERSION
            except ImportError:
                VERSION = None
            C = 1
            """,
    })
    result = run_script(str(package))
    assert result.returncode == 1
    assert "pkg -> pkg.sub.c -> pkg" in result.stdout


def test_imports_for_the_type_checker_only_are_not_a_cycle(tmp_path: Path) -> None:
    """PEP 484 ``if TYPE_CHECKING:`` imports never run; a cycle closed only by them is
    not a runtime cycle (their ``else:`` branch does run and would count)."""
    package = make_package(tmp_path, {
        "a.py": "from .b import B\n",
        "b.py": """
            import typing
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from .a import A
            if typing.TYPE_CHECKING:
                import pkg.a
            B = 1
            """,
    })
    result = run_script(str(package))
    assert result.returncode == 0, result.stdout + result.stderr
    (package / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    pass\n"
        "else:\n    import pkg.a\n", encoding="utf-8")
    result = run_script(str(package))
    assert result.returncode == 1
    assert "pkg.a -> pkg.b -> pkg.a" in result.stdout


def test_a_file_that_does_not_parse_is_an_error_not_a_pass(tmp_path: Path) -> None:
    """A module that cannot be read (a merge conflict left in it) hides its imports:
    exit 2 with the file and line, never 0."""
    package = make_package(tmp_path, {"a.py": "<<<<<<< HEAD\nimport pkg.b\n"})
    result = run_script(str(package))
    assert result.returncode == 2
    assert "a.py:1" in result.stderr
