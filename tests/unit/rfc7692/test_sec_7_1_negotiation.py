"""RFC 7692 §5 and §7.1: negotiating permessage-deflate."""
from __future__ import annotations

import pytest

from blackbull.protocol.websocket import (
    DeflateParams,
    NegotiationError,
    negotiate_client,
    negotiate_server,
)


def test_plain_offer_is_accepted_without_parameters() -> None:
    """RFC 7692 §5: the server accepts an offer by answering the element."""
    params = negotiate_server([b"permessage-deflate"])
    assert params == DeflateParams()
    assert params.render() == "permessage-deflate"


def test_server_parameters_requested_by_the_client_are_honoured() -> None:
    """RFC 7692 §7.1.1.1, §7.1.2.1: server_no_context_takeover and server_max_window_bits
    requested by the client are answered (and bind our compressor)."""
    params = negotiate_server(
        [b"permessage-deflate; server_no_context_takeover; server_max_window_bits=10"])
    assert params.server_no_context_takeover and params.server_max_window_bits == 10
    assert params.render() == \
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=10"


def test_client_no_context_takeover_is_echoed() -> None:
    """RFC 7692 §7.1.1.2: the server may include client_no_context_takeover."""
    params = negotiate_server([b"permessage-deflate; client_no_context_takeover"])
    assert params.client_no_context_takeover
    assert "client_no_context_takeover" in params.render()


def test_valueless_client_max_window_bits_is_accepted_and_not_answered() -> None:
    """RFC 7692 §7.1.2.2: the hint may lack a value; we do not limit the client."""
    params = negotiate_server([b"permessage-deflate; client_max_window_bits"])
    assert params is not None and params.client_max_window_bits is None


@pytest.mark.parametrize("bad", [
    b"permessage-deflate; server_max_window_bits=7",
    b"permessage-deflate; server_max_window_bits=16",
    b"permessage-deflate; server_max_window_bits",
    b"permessage-deflate; server_max_window_bits=010",
    b"permessage-deflate; client_max_window_bits=abc",
    b"permessage-deflate; server_no_context_takeover=1",
    b"permessage-deflate; server_no_context_takeover; server_no_context_takeover",
    b"permessage-deflate; unknown_param",
])
def test_invalid_offer_is_declined(bad: bytes) -> None:
    """RFC 7692 §7.1: an offer with an invalid, unknown or repeated parameter is declined."""
    assert negotiate_server([bad]) is None


def test_first_acceptable_offer_wins_after_an_invalid_one() -> None:
    """RFC 7692 §5: the server walks the offers in order, accepting the first it can."""
    params = negotiate_server([
        b"x-unknown-ext, permessage-deflate; bogus=1",
        b"permessage-deflate; server_max_window_bits=9, permessage-deflate"])
    assert params.server_max_window_bits == 9


def test_quoted_parameter_values_are_understood() -> None:
    """RFC 6455 §9.1: a parameter value may be a quoted-string."""
    params = negotiate_server([b'permessage-deflate; server_max_window_bits="12"'])
    assert params.server_max_window_bits == 12


def test_window_bits_8_is_agreed() -> None:
    """RFC 7692 §7.1.2.1: 8 is a valid server_max_window_bits; we honour it."""
    params = negotiate_server([b"permessage-deflate; server_max_window_bits=8"])
    assert params.server_max_window_bits == 8


def test_client_reads_a_valid_answer() -> None:
    """RFC 7692 §7.1: the client accepts the server's parameters."""
    params = negotiate_client([b"permessage-deflate; server_max_window_bits=12; "
                               b"client_max_window_bits=10"])
    assert params.server_max_window_bits == 12 and params.client_max_window_bits == 10


@pytest.mark.parametrize("bad", [
    b"permessage-deflate; client_max_window_bits",      # value required in a response
    b"permessage-deflate; foo",
    b"permessage-deflate, permessage-deflate",
    b"x-webkit-deflate-frame",
])
def test_client_fails_the_handshake_on_an_invalid_answer(bad: bytes) -> None:
    """RFC 7692 §7.1: a response the client cannot accept fails the connection."""
    with pytest.raises(NegotiationError):
        negotiate_client([bad])


def test_no_extension_in_the_answer_means_no_compression() -> None:
    """RFC 7692 §5: without the element in the response, messages are not compressed."""
    assert negotiate_client([]) is None
