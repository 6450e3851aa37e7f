"""The version of blackbull (PEP 440), in a module of its own so that any module (the
command line's ``--version``, the default ``Server`` header) can import it without
importing the package's ``__init__`` and what that imports."""
from __future__ import annotations

__version__ = "1.0.0.dev0"
