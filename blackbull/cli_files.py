"""Files the command line reads: a TOML configuration (``--config``) and a dotenv file
(``--env-file``).

The TOML file holds :class:`~blackbull.config.Settings` fields by name (``-`` or ``_``),
at the top level or in a ``[blackbull]`` table, plus ``app`` and ``factory``::

    app = "myproject.main:app"
    bind = ["127.0.0.1:8000", "[::1]:8000"]
    access_log = true
    h1_max_body = 1_048_576
    headers = ["x-frame-options: DENY"]
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

from .config import Settings

#: Keys of the TOML file that are not Settings fields.
CLI_KEYS = {"app": str, "factory": bool, "app_dir": str}
_LIST_JOIN = {"bind": ",", "headers": "\n", "forwarded_allow_ips": ","}


class ConfigFileError(ValueError):
    """A configuration file that cannot be used; ``str()`` is the one line to print."""


def load_toml(path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Settings overrides, CLI keys) from a TOML file; type-checked against the fields."""
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigFileError(f"--config {path!r}: no such file") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigFileError(f"--config {path!r}: {exc}") from None
    if isinstance(data.get("blackbull"), dict):
        data = data["blackbull"]
    known = {f.name: f for f in fields(Settings)}
    settings: dict[str, Any] = {}
    cli: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = raw_key.replace("-", "_")
        if key in CLI_KEYS:
            if not isinstance(value, CLI_KEYS[key]):
                raise ConfigFileError(f"--config {path!r}: {raw_key} must be a "
                                      f"{CLI_KEYS[key].__name__}")
            cli[key] = value
            continue
        f = known.get(key)
        if f is None:
            raise ConfigFileError(f"--config {path!r}: unknown setting {raw_key!r}")
        if key in _LIST_JOIN and isinstance(value, list):
            value = _LIST_JOIN[key].join(str(v) for v in value)
        kind = type(f.default)
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            raise ConfigFileError(f"--config {path!r}: {raw_key} must be a {kind.__name__}, "
                                  f"got {value!r}")
        settings[key] = value
    return settings, cli


def parse_env_file(text: str) -> dict[str, str]:
    """``KEY=value`` lines (``export`` allowed, ``#`` comments, single or double quotes)."""
    out: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key.replace("_", "").isalnum():
            raise ConfigFileError(f"--env-file line {number}: expected KEY=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        out[key] = value
    return out


def load_env_file(path: str, environ: dict[str, str] | os._Environ[str] = os.environ) -> None:
    """Put the file's variables into ``environ``; variables already set win (as with
    dotenv), so the real environment can still override a checked-in file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigFileError(f"--env-file {path!r}: {exc.strerror or exc}") from None
    for key, value in parse_env_file(text).items():
        environ.setdefault(key, value)
