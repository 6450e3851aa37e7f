"""Regenerate the README's settings table from ``Settings.describe()``.

    python scripts/settings_table.py          # rewrite README.md between the markers
    python scripts/settings_table.py --check  # exit 1 when the table is out of date
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from blackbull.config import Settings  # noqa: E402

START, END = "<!-- settings-table -->", "<!-- /settings-table -->"


def table() -> str:
    return "\n".join(f"| `{env}` | {default} | {doc} |" for env, default, doc in Settings.describe())


def render(readme: str) -> str:
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table()}\n{END}{tail}"


def main(argv: list[str]) -> int:
    path = ROOT / "README.md"
    text = path.read_text(encoding="utf-8")
    new = render(text)
    if "--check" in argv:
        if new != text:
            print("README.md's settings table is out of date: python scripts/settings_table.py")
            return 1
        return 0
    path.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
