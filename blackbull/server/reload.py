"""``--reload``: run the server in a child process and restart it when a source file
changes (``watchfiles``, the ``standard`` extra).

The watcher never imports the app, so a syntax error in it only fails the child; the
next save starts a new one. Files matching ``--reload-include`` globs (``*.py`` by
default) and none of the ``--reload-exclude`` globs count, tested on the file name and on
its whole path; watchfiles' usual ignores (``.git``, ``__pycache__``, editors' swap files)
stay.
"""
from __future__ import annotations

import fnmatch
import logging
import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # watchfiles is optional (the ``standard`` extra): imported when used
    from watchfiles import Change

log = logging.getLogger("blackbull.server")

_FLAGS_WITH_VALUE = ("--reload-dir", "--reload-include", "--reload-exclude", "--reload-delay")


def without_reload_flags(argv: list[str]) -> list[str]:
    """``argv`` minus ``--reload`` and the ``--reload-*`` options (the child must not watch)."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--reload":
            continue
        if arg in _FLAGS_WITH_VALUE:
            skip = True
            continue
        if any(arg.startswith(flag + "=") for flag in _FLAGS_WITH_VALUE):
            continue
        out.append(arg)
    return out


def matches(path: str, include: list[str], exclude: list[str]) -> bool:
    """Whether a changed ``path`` restarts the server."""
    name = Path(path).name

    def hit(patterns: list[str]) -> bool:
        return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(path, p) for p in patterns)

    return hit(include) and not hit(exclude)


def run_with_reload(command: list[str], dirs: Iterable[str], include: list[str] | None = None,
                    exclude: list[str] | None = None, delay: float = 0.05) -> int:
    """Run ``command`` until interrupted, restarting it on changes under ``dirs``;
    ``delay``: seconds between two looks for changes."""
    try:
        import watchfiles
    except ImportError:
        raise SystemExit("blackbull: --reload needs watchfiles "
                         "(pip install 'blackbull[standard]')") from None
    include = include or ["*.py"]
    exclude = exclude or []
    default = watchfiles.DefaultFilter()

    def wanted(change: Change, path: str) -> bool:
        return default(change, path) and matches(path, include, exclude)

    paths = list(dirs)
    log.info("watching %s for changes (reload)", ", ".join(paths))

    def changed(changes: set[tuple[Change, str]]) -> None:
        files = sorted({path for _, path in changes})
        log.warning("%s changed; restarting", ", ".join(files[:3]) +
                    (f" and {len(files) - 3} more" if len(files) > 3 else ""))

    watchfiles.run_process(*paths, target=shlex.join(command), target_type="command",
                           callback=changed, watch_filter=wanted,
                           step=max(int(delay * 1000), 1))
    return 0
