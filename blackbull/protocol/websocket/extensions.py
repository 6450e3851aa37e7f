"""The ``Sec-WebSocket-Extensions`` header (RFC 6455 §9.1) as data.

``extension-list = 1#extension``, ``extension = token *( ";" param )``,
``param = token [ "=" (token | quoted-string) ]``. Values may arrive over several header
lines; they form one comma-separated list (RFC 9110 §5.3).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..fields import split_outside_quotes


@dataclass(slots=True)
class ExtensionOffer:
    """One element of the list: a name and its parameters in order (values may be None)."""

    name: str
    params: list[tuple[str, str | None]] = field(default_factory=list)

    def render(self) -> str:
        parts = [self.name]
        for key, value in self.params:
            parts.append(key if value is None else f"{key}={value}")
        return "; ".join(parts)


def parse_extensions(values: Iterable[bytes | str]) -> list[ExtensionOffer]:
    """All extension elements of the header lines ``values``, in order.

    Empty list elements are skipped (RFC 9110 §5.6.1); a quoted value loses its quotes.
    Parameter names are lowercased, as tokens compare case-insensitively.
    """
    offers: list[ExtensionOffer] = []
    for raw in values:
        text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
        for element in split_outside_quotes(text, ","):
            pieces = [p.strip() for p in split_outside_quotes(element, ";")]
            if not pieces[0]:
                continue
            offer = ExtensionOffer(pieces[0].lower())
            for piece in pieces[1:]:
                if not piece:
                    continue
                key, eq, value = piece.partition("=")
                key = key.strip().lower()
                val: str | None = value.strip() if eq else None
                if val is not None and len(val) >= 2 and val[0] == val[-1] == '"':
                    val = val[1:-1].replace("\\", "")
                offer.params.append((key, val))
            offers.append(offer)
    return offers
