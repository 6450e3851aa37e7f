"""Field-value syntax shared by the protocols (RFC 9110 §5.6): lists and parameters
separated outside quoted-strings, and quoted-strings undone."""
from __future__ import annotations


def split_outside_quotes(text: str, sep: str) -> list[str]:
    """Split *text* on *sep* wherever it is not inside a quoted-string (RFC 9110 §5.6.4)."""
    out: list[str] = []
    current: list[str] = []
    quoted = False
    escaped = False
    for ch in text:
        # A character loop is fine here: fields are short and bounded by the HTTP layer.
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            out.append("".join(current))
            current = []
            continue
        current.append(ch)
    out.append("".join(current))
    return out


def unquote(value: str) -> str:
    """The text of a quoted-string with its quoted-pairs undone; other values stripped."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        out, escaped = [], False
        for ch in value[1:-1]:
            if escaped or ch != "\\":
                out.append(ch)
                escaped = False
            else:
                escaped = True
        value = "".join(out)
    return value
