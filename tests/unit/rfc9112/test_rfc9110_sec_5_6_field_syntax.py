"""RFC 9110 §5.6: list and parameter separators inside quoted-strings do not split, and a
quoted-string's quoted-pairs are undone (used by Forwarded and Sec-WebSocket-Extensions)."""
from __future__ import annotations

from blackbull.protocol.fields import split_outside_quotes, unquote


def test_separators_inside_quoted_strings_do_not_split():
    """§5.6.4: a quoted-string may hold the list's own separators."""
    assert split_outside_quotes('for="[::1]:80";proto=https, for=a', ",") == [
        'for="[::1]:80";proto=https', " for=a"]
    assert split_outside_quotes('x="a\\",b";y=1', ";") == ['x="a\\",b"', "y=1"]


def test_unquote_undoes_quoted_pairs_and_leaves_tokens():
    """§5.6.4: a backslash quotes the next octet inside a quoted-string."""
    assert unquote(' "a\\"b\\\\c" ') == 'a"b\\c'
    assert unquote("token") == "token"
