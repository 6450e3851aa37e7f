"""How a WebSocket-over-HTTP/2 stream may end, as the RFC 8441 matrix's clients judge it.

RFC 8441 §5: an orderly close is END_STREAM, a reset is an exception; RFC 9113 §8.1: a
server may send RST_STREAM(NO_ERROR) after a complete response (a frame with END_STREAM).
Only the close scenarios judge the end; every other scenario accepts each legal way a
stream ends. The server peer is python-hyper ``h2`` (tests/rfc8441/h2peer.py) over TLS.
"""
from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from conformance.interop import client_blackbull, client_h2raw
from conformance.interop.endpoint import Endpoint
from conformance.interop.runner import run_scenario
from conformance.interop.scenarios import Outcome, ScenarioFailed, judge_stream_end
from conformance.targets.base import make_tls_cert
from tests.rfc8441.h2peer import H2Peer

pytestmark = pytest.mark.timeout(120)


def test_end_stream_is_an_orderly_close() -> None:
    """RFC 8441 §5: END_STREAM is the orderly close."""
    judge_stream_end(True, None, False)


def test_reset_no_error_after_end_stream_is_legal() -> None:
    """RFC 9113 §8.1: RST_STREAM(NO_ERROR) may follow a complete response."""
    judge_stream_end(True, 0, False)


def test_reset_without_end_stream_fails_citing_rfc_8441_sec_5() -> None:
    """RFC 8441 §5: a reset is an exception, not an orderly close."""
    with pytest.raises(ScenarioFailed, match=r"RFC 8441 §5.*END_STREAM"):
        judge_stream_end(False, 0, False)


def test_error_reset_after_end_stream_fails_citing_rfc_9113_sec_8_1() -> None:
    """RFC 9113 §8.1 allows only NO_ERROR after a complete response."""
    with pytest.raises(ScenarioFailed, match=r"RST_STREAM 8 after END_STREAM.*RFC 9113 §8.1"):
        judge_stream_end(True, 8, False)


def test_connection_lost_before_end_stream_fails() -> None:
    """RFC 8441 §5: the stream must end, not the connection vanish under it."""
    with pytest.raises(ScenarioFailed, match="dropped before"):
        judge_stream_end(False, None, True)


Scenario = Callable[[Endpoint], Awaitable[None]]
CLIENTS = {"h2-raw": client_h2raw.SCENARIOS, "blackbull": client_blackbull.SCENARIOS}
#: Scenarios the h2 peer can serve (it echoes; it has no `?version` or `close:<code>`).
NOT_JUDGING = ("text-echo", "binary-echo", "1mib-message", "fragmented-message", "ping-pong",
               "50-streams")


def _run(tmp_path: Path, stream_end: str, client: str, scenario: str) -> tuple[Outcome, str]:
    cert = make_tls_cert(tmp_path / "tls")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert.cert, cert.key)
    ctx.set_alpn_protocols(["h2"])

    async def main() -> tuple[Outcome, str]:
        peer = H2Peer(stream_end=stream_end, tls=ctx)
        port = await peer.start()
        try:
            return await run_scenario(CLIENTS[client][scenario],
                                      Endpoint("h2peer", port, str(cert.ca)))
        finally:
            await peer.stop()
    return asyncio.run(main())


@pytest.mark.parametrize("client", list(CLIENTS))
@pytest.mark.parametrize("scenario", NOT_JUDGING)
@pytest.mark.parametrize("stream_end", ["end", "end+reset", "reset"])
def test_scenarios_that_do_not_judge_the_close_accept_every_stream_end(
        tmp_path: Path, client: str, scenario: str, stream_end: str) -> None:
    """RFC 9113 §8.1 / RFC 8441 §5: echo, ping and 50-streams pass however the server ends
    the stream after the closing handshake (once, the h2-raw client raised
    StreamClosedError on END_STREAM + RST_STREAM(NO_ERROR))."""
    outcome, message = _run(tmp_path, stream_end, client, scenario)
    assert (outcome, message) == (Outcome.PASS, "")


@pytest.mark.parametrize("client", list(CLIENTS))
@pytest.mark.parametrize(("stream_end", "verdict"), [
    ("end", Outcome.PASS), ("end+reset", Outcome.PASS), ("reset", Outcome.FAIL)])
def test_close_scenario_judges_the_stream_end(tmp_path: Path, client: str, stream_end: str,
                                              verdict: Outcome) -> None:
    """RFC 8441 §5 + RFC 9113 §8.1: close-client-code passes on END_STREAM (a NO_ERROR
    reset after it included) and fails, citing RFC 8441 §5, on a reset without it."""
    outcome, message = _run(tmp_path, stream_end, client, "close-client-code")
    assert outcome is verdict, message
    if verdict is Outcome.FAIL:
        assert "RFC 8441 §5" in message and "without END_STREAM" in message
