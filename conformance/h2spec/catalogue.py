"""The list of h2spec cases, read from ``h2spec --dryrun``.

h2spec's JUnit report names a case only by its package (``http2/5.1``) and description;
the case id ``http2/5.1/3`` is the package plus the case's 1-based position in it. The
dry run prints every case in order, so it is the reference for positions, and for
noticing cases that a crashed run never reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# h2spec's three spec titles, as printed by --dryrun, to the package prefix.
_SPEC_TITLES: dict[str, str] = {
    "Generic tests for HTTP/2 server": "generic",
    "Hypertext Transfer Protocol Version 2 (HTTP/2)": "http2",
    "HPACK: Header Compression for HTTP/2": "hpack",
}
_GROUP_LINE = re.compile(r"^\s+(\d+(?:\.\d+)*)\.\s+(.+?)\s*$")
_CASE_LINE = re.compile(r"^\s+(\d+):\s+(.+?)\s*$")


@dataclass
class Catalogue:
    """Packages in run order, each with its case descriptions in position order."""

    packages: dict[str, list[str]] = field(default_factory=dict)

    def case_ids(self) -> list[str]:
        return [
            f"{package}/{pos}"
            for package, cases in self.packages.items()
            for pos in range(1, len(cases) + 1)
        ]

    def description(self, case_id: str) -> str:
        package, _, pos = case_id.rpartition("/")
        cases = self.packages.get(package, [])
        index = int(pos) - 1 if pos.isdigit() else -1
        return cases[index] if 0 <= index < len(cases) else ""

    def position(self, package: str, description: str) -> int | None:
        """1-based position of a case in its package, matched by description."""
        try:
            return self.packages.get(package, []).index(description) + 1
        except ValueError:
            return None

    def __len__(self) -> int:
        return sum(len(cases) for cases in self.packages.values())


def parse_dryrun(text: str) -> Catalogue:
    """Parse ``h2spec --dryrun`` output (colour codes absent when not on a TTY)."""
    catalogue = Catalogue()
    spec = ""
    group = ""
    for raw in text.splitlines():
        line = re.sub(r"\x1b\[[0-9;]*m", "", raw)
        stripped = line.strip()
        if stripped in _SPEC_TITLES:
            spec, group = _SPEC_TITLES[stripped], ""
            continue
        case = _CASE_LINE.match(line)
        if case and spec and group:
            catalogue.packages.setdefault(f"{spec}/{group}", []).append(case.group(2))
            continue
        header = _GROUP_LINE.match(line)
        if header and spec:
            group = header.group(1)
    return catalogue
