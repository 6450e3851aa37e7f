"""Logging setup of a server process: ``BB_LOG_LEVEL``, or a ``BB_LOG_CONFIG`` file.

Loggers: ``blackbull.server`` (lifecycle, errors), ``blackbull.access`` (one line per
request, :mod:`blackbull.server.access_log`), ``blackbull.workers`` (the supervisor).
"""
from __future__ import annotations

import json
import logging
import logging.config
from pathlib import Path

from ..config import Settings

#: Below DEBUG, for per-frame chatter (the name uvicorn users know).
TRACE = 5
logging.addLevelName(TRACE, "TRACE")

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def load_log_config(path: str) -> None:
    """``.json`` / ``.yaml`` / ``.yml``: :func:`logging.config.dictConfig`; anything else:
    :func:`logging.config.fileConfig` (INI). Raises ValueError with one readable line."""
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"BB_LOG_CONFIG={path!r}: no such file")
    suffix = file.suffix.lower()
    try:
        if suffix == ".json":
            logging.config.dictConfig(json.loads(file.read_text()))
        elif suffix in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError:
                raise ValueError(f"BB_LOG_CONFIG={path!r}: YAML needs PyYAML "
                                 "(pip install 'blackbull[standard]')") from None
            logging.config.dictConfig(yaml.safe_load(file.read_text()))
        else:
            logging.config.fileConfig(file, disable_existing_loggers=False)
    except ValueError as exc:
        if str(exc).startswith("BB_LOG_CONFIG"):
            raise
        raise ValueError(f"BB_LOG_CONFIG={path!r}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - json, yaml, configparser, KeyError ...
        raise ValueError(f"BB_LOG_CONFIG={path!r}: {type(exc).__name__}: {exc}") from None


def configure_logging(settings: Settings) -> None:
    """Once per process, before anything logs."""
    if settings.log_config:
        load_log_config(settings.log_config)
        return
    level = TRACE if settings.log_level == "trace" else settings.log_level.upper()
    logging.basicConfig(level=level, format=FORMAT)
    logging.getLogger("blackbull").setLevel(level)
