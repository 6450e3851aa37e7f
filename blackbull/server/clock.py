"""The ``Date`` field value (RFC 9110 §6.6.1), formatted once per second.

An origin server with a clock must send ``Date`` in its 2xx, 3xx and 4xx responses; the
value has one-second resolution (IMF-fixdate, §5.6.7), so it is formatted when the second
changes rather than per response.
"""
from __future__ import annotations

import time
from email.utils import formatdate

_second = -1
_value = b""


def http_date() -> bytes:
    """The current time as an IMF-fixdate, e.g. ``b"Sun, 06 Nov 1994 08:49:37 GMT"``."""
    global _second, _value
    now = int(time.time())
    if now != _second:
        _value = formatdate(now, usegmt=True).encode("ascii")
        _second = now
    return _value
