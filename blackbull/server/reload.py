"""``--reload``: run the server in a child process and restart it when a source file
changes (``watchfiles``, the ``standard`` extra).

The watcher never imports the app, so a syntax error in it only fails the child; the
next save starts a new one. Only ``*.py`` files are watched (``watchfiles.PythonFilter``).
"""
from __future__ import annotations

import logging
import shlex
from collections.abc import Iterable

log = logging.getLogger("blackbull.server")

_FLAGS_WITH_VALUE = ("--reload-dir",)


def without_reload_flags(argv: list[str]) -> list[str]:
    """``argv`` minus ``--reload`` and ``--reload-dir DIR`` (the child must not watch)."""
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


def run_with_reload(command: list[str], dirs: Iterable[str]) -> int:
    """Run ``command`` until interrupted, restarting it on changes under ``dirs``."""
    try:
        import watchfiles
    except ImportError:
        raise SystemExit("blackbull: --reload needs watchfiles "
                         "(pip install 'blackbull[standard]')") from None
    paths = list(dirs)
    log.info("watching %s for changes (reload)", ", ".join(paths))

    def changed(changes: set[tuple[object, str]]) -> None:
        files = sorted({path for _, path in changes})
        log.warning("%s changed; restarting", ", ".join(files[:3]) +
                    (f" and {len(files) - 3} more" if len(files) > 3 else ""))

    watchfiles.run_process(*paths, target=shlex.join(command), target_type="command",
                           callback=changed, watch_filter=watchfiles.PythonFilter())
    return 0
