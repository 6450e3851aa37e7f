"""MkDocs hooks: pages that are generated from the code, so they cannot drift from it.

``<!-- settings-table -->`` becomes the table of every ``Settings`` field (variable,
default, meaning), ``<!-- cli-help -->`` the ``blackbull --help`` text, and
``<!-- changelog -->`` the repository's CHANGELOG.md (its own title dropped).
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def settings_table() -> str:
    from blackbull.config import Settings

    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for env, default, doc in Settings.describe():
        rows.append(f"| `{env}` | `{default}` | {doc.replace('|', '&#124;')} |")
    return "\n".join(rows)


def cli_help() -> str:
    from blackbull.cli import build_parser

    parser = build_parser()
    parser.prog = "blackbull"
    return "```text\n" + parser.format_help().rstrip() + "\n```"


def on_page_markdown(markdown: str, **kwargs: object) -> str:
    if "<!-- settings-table -->" in markdown:
        markdown = markdown.replace("<!-- settings-table -->", settings_table())
    if "<!-- cli-help -->" in markdown:
        markdown = markdown.replace("<!-- cli-help -->", cli_help())
    if "<!-- changelog -->" in markdown:
        text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
        markdown = markdown.replace("<!-- changelog -->", text.split("\n", 1)[1])
    return markdown
