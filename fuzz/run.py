"""One atheris (libFuzzer) run of one target: ``python -m fuzz.run TARGET [libFuzzer args]``.

The blackbull protocol modules are instrumented for coverage feedback; the target
functions themselves live in :mod:`fuzz.targets`.
"""
from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["blackbull"]):
    from fuzz.targets import TARGETS


def main() -> None:
    name = sys.argv[1]
    target = TARGETS[name]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
