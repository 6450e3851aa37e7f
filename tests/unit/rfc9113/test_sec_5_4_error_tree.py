"""RFC 9113 §5.4: the core's errors form one tree, connection errors apart from
stream errors, and its events are immutable values."""
from __future__ import annotations

import builtins
import dataclasses
from pathlib import Path

import pytest
from hpack.exceptions import HPACKDecodingError

from blackbull.protocol import http2
from blackbull.protocol.http2 import events as ev
from blackbull.protocol.http2.frames import starts_with_preface
from blackbull.server import negotiate


def test_every_core_error_derives_from_h2error() -> None:
    """RFC 9113 §5.4.1/§5.4.2: connection and stream errors, malformed messages
    (§8.1.1), the empty-name stop (§8.2.1) and misuse share one base."""
    for cls in (http2.H2ConnectionError, http2.ProtocolError, http2.StreamError,
                http2.UsageError, http2.MalformedHeaders, http2.EmptyFieldName):
        assert issubclass(cls, http2.H2Error)
    assert issubclass(http2.ProtocolError, http2.H2ConnectionError)
    assert not issubclass(http2.StreamError, http2.H2ConnectionError)
    assert issubclass(http2.EmptyFieldName, HPACKDecodingError)


def test_the_connection_error_does_not_shadow_the_builtin() -> None:
    """The package exports no name that hides Python's ``ConnectionError``."""
    assert not hasattr(http2, "ConnectionError")
    assert not issubclass(http2.H2ConnectionError, builtins.ConnectionError)


def test_events_are_frozen() -> None:
    """RFC 9113 §6: an event reports one frame's meaning once; drivers cannot
    change it afterwards."""
    event = ev.DataReceived(1, b"x", 1, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.stream_id = 3  # type: ignore[misc]
    for name in dir(ev):
        cls = getattr(ev, name)
        if isinstance(cls, type) and dataclasses.is_dataclass(cls):
            assert cls.__dataclass_params__.frozen, name  # type: ignore[attr-defined]


def test_one_connection_preface_constant() -> None:
    """RFC 9113 §3.4: the preface octets are defined once, in the core, and the server's
    protocol detection (negotiate.py, overload.py) asks the core whether a connection
    starts with them instead of comparing its own copy."""
    assert http2.PREFACE == b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    for prefix in range(len(http2.PREFACE)):
        assert starts_with_preface(http2.PREFACE[:prefix]) is None
    assert starts_with_preface(http2.PREFACE) is True
    assert starts_with_preface(http2.PREFACE + b"\x00\x00") is True
    assert starts_with_preface(b"GET / HTTP/1.1\r\n") is False
    assert starts_with_preface(b"PRI * HTTP/1.1") is False
    server = Path(negotiate.__file__).parent
    copies = [p.name for p in server.glob("*.py") if b'b"PRI * HTTP/2.0' in p.read_bytes()]
    assert copies == [], f"preface octets copied into {copies}"
