"""RFC 9113 §5.4: the core's errors form one tree, connection errors apart from
stream errors, and its events are immutable values."""
from __future__ import annotations

import builtins
import dataclasses

import pytest
from hpack.exceptions import HPACKDecodingError

from blackbull.protocol import http2
from blackbull.protocol.http2 import events as ev
from blackbull.server import connection as server_connection


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
    """RFC 9113 §3.4: the preface octets are defined once; the server's protocol
    detection uses the core's constant."""
    assert http2.PREFACE == b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    assert server_connection.H2_PREFACE is http2.PREFACE
