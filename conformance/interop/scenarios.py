"""The scenarios run in every cell of the RFC 8441 matrix, with the section each proves."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    """A cell's verdict for one scenario (mapped onto the schema's case statuses)."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"                  # the scenario could not run (never a pass)
    NOT_APPLICABLE = "not-supported"  # one end cannot do it (the reason says why)


@dataclass(frozen=True)
class Scenario:
    id: str
    rfc: str
    section: str
    description: str


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("handshake", "RFC 8441", "5",
             "extended CONNECT answered :status 200; the app sees http_version 2"),
    Scenario("text-echo", "RFC 8441", "5", "a text message echoed over DATA frames"),
    Scenario("binary-echo", "RFC 8441", "5", "a binary message echoed over DATA frames"),
    Scenario("1mib-message", "RFC 8441", "5",
             "a 1 MiB message crossing several flow-control windows (RFC 9113 §6.9)"),
    Scenario("fragmented-message", "RFC 8441", "5",
             "a message sent in fragments (RFC 6455 §5.4) is reassembled and echoed"),
    Scenario("ping-pong", "RFC 8441", "5", "a Ping is answered by a Pong (RFC 6455 §5.5.2)"),
    Scenario("close-client-code", "RFC 8441", "5",
             "client Close 4001 is echoed; the stream ends with END_STREAM"),
    Scenario("close-server-code", "RFC 8441", "5",
             "server Close 4002 reaches the client; the stream ends with END_STREAM"),
    Scenario("subprotocol", "RFC 8441", "5",
             "Sec-WebSocket-Protocol negotiated over HTTP/2"),
    Scenario("permessage-deflate", "RFC 8441", "5",
             "permessage-deflate (RFC 7692) negotiated and used over HTTP/2"),
    Scenario("50-streams", "RFC 8441", "5",
             "50 concurrent WebSocket streams on one HTTP/2 connection"),
    Scenario("no-setting-refused", "RFC 8441", "3",
             "a server that did not send SETTINGS_ENABLE_CONNECT_PROTOCOL gets no extended CONNECT"),
)

BY_ID = {s.id: s for s in SCENARIOS}


class NotApplicable(Exception):
    """Raised by a scenario that one end cannot perform; the message says why."""


class ScenarioFailed(AssertionError):
    """The peers disagreed with the RFC; the message says how."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise ScenarioFailed(message)


#: RFC 8441 §5, the text the close scenarios' verdict rests on.
ORDERLY_CLOSE = ("RFC 8441 §5: \"Orderly TCP-level closures are represented as END_STREAM "
                 "flags; RST exceptions are represented with the RST_STREAM frame\"")
#: RFC 9113 §8.1: a RST_STREAM(NO_ERROR) after a complete response is legal.
RESET_AFTER_END = ("RFC 9113 §8.1: a server \"MAY request that the client abort transmission "
                   "of a request without error by sending a RST_STREAM with an error code of "
                   "NO_ERROR after sending a complete response (i.e., a frame with the "
                   "END_STREAM flag set)\"")


def judge_stream_end(end_stream: bool, reset_code: int | None, lost: bool) -> None:
    """How the server ended a WebSocket stream after the closing handshake.

    Legal: END_STREAM (RFC 8441 §5), optionally followed by RST_STREAM(NO_ERROR)
    (RFC 9113 §8.1). Not orderly: a reset without END_STREAM, a reset with an error code
    after it, or the connection dropping first. Only the close scenarios call this; the
    others accept every way a stream ends.
    """
    if lost and not end_stream:
        raise ScenarioFailed("the connection dropped before the server's END_STREAM; "
                             + ORDERLY_CLOSE)
    if not end_stream:
        raise ScenarioFailed(f"the server reset the stream (RST_STREAM {reset_code}) without "
                             "END_STREAM; " + ORDERLY_CLOSE)
    if reset_code not in (None, 0):
        raise ScenarioFailed(f"RST_STREAM {reset_code} after END_STREAM: only NO_ERROR (0) "
                             "may follow a complete response; " + RESET_AFTER_END)
