"""RFC 6455 §10.4: implementation-specific limits against hostile peers, in the sans-I/O
core: fragments per message (§5.4), empty fragments, and a PING/PONG budget (§5.5.2,
§5.5.3). Each limit ends the connection with its close code (§7.4.1) and lets the
honest traffic at its edge through."""
from __future__ import annotations

from blackbull.protocol.websocket import (
    BytesMessage,
    CloseCode,
    Opcode,
    Ping,
    Pong,
    Role,
    TextMessage,
    WebSocketConnection,
)

from .wsutil import client_frame, close_code_of, failure, feed, sent_frames, server_core


class FakeClock:
    """Seconds, moved by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _fragments(first_opcode: int, pieces: list[bytes]) -> list[bytes]:
    frames = [client_frame(first_opcode, pieces[0], fin=len(pieces) == 1)]
    for i, piece in enumerate(pieces[1:], start=2):
        frames.append(client_frame(Opcode.CONTINUATION, piece, fin=i == len(pieces)))
    return frames


# --- fragments per message (§5.4, §10.4) ------------------------------------------------
def test_message_in_exactly_max_fragments_is_delivered() -> None:
    """RFC 6455 §5.4, §10.4: a message of max_fragments frames is still a message."""
    core = server_core(max_fragments=50)
    events = feed(core, *_fragments(Opcode.BINARY, [bytes([i]) for i in range(50)]))
    assert events == [BytesMessage(bytes(range(50)))]


def test_one_fragment_over_max_fragments_fails_with_1009() -> None:
    """RFC 6455 §10.4, §7.4.1 (1009): frame max_fragments + 1 of one message fails the
    connection at once, before the message ends."""
    core = server_core(max_fragments=50)
    frames = _fragments(Opcode.TEXT, [b"a"] * 60)
    events = feed(core, *frames[:50])
    assert events == []
    events = feed(core, frames[50])
    assert failure(events).code == CloseCode.MESSAGE_TOO_BIG
    assert close_code_of(sent_frames(core)) == CloseCode.MESSAGE_TOO_BIG


def test_fragment_count_restarts_with_each_message() -> None:
    """RFC 6455 §5.4: the cap is per message: many messages each under it all pass."""
    core = server_core(max_fragments=10)
    frames: list[bytes] = []
    for _ in range(5):
        frames += _fragments(Opcode.TEXT, [b"xy"] * 10)
    assert feed(core, *frames) == [TextMessage("xy" * 10)] * 5


def test_default_fragment_cap_lets_autobahn_9_3_1_through() -> None:
    """RFC 6455 §5.4: Autobahn 9.3.1/9.4.1 send 4 MiB in 64-byte fragments (65536
    frames); the default cap must accept that."""
    core = WebSocketConnection(Role.SERVER)
    assert core.max_fragments >= 65536
    piece = b"*" * 64
    frames = _fragments(Opcode.TEXT, [piece] * 65536)
    events = core.receive_data(b"".join(frames))
    assert events == [TextMessage("*" * (4 << 20))]


# --- empty fragments (§5.4, §10.4) -------------------------------------------------------
def test_empty_fragments_up_to_the_cap_are_allowed() -> None:
    """RFC 6455 §5.4: fragments may be empty (Autobahn 6.1.2 sends three)."""
    core = server_core(max_empty_fragments=5)
    events = feed(core, *_fragments(Opcode.TEXT, [b"", b"", b"a", b"", b"", b""]))
    assert events == [TextMessage("a")]


def test_endless_empty_fragments_fail_with_1008() -> None:
    """RFC 6455 §10.4, §7.4.1 (1008): empty continuation frames add no bytes, so no
    size limit ends such a message; the empty-fragment cap does."""
    core = server_core(max_empty_fragments=5)
    empty = client_frame(Opcode.CONTINUATION, b"", fin=False)
    events = feed(core, client_frame(Opcode.TEXT, b"a", fin=False), *[empty] * 5)
    assert events == []
    events = feed(core, empty)
    assert failure(events).code == CloseCode.POLICY_VIOLATION
    assert close_code_of(sent_frames(core)) == CloseCode.POLICY_VIOLATION


def test_empty_fragment_count_restarts_with_each_message() -> None:
    """RFC 6455 §5.4: the empty-fragment cap is per message."""
    core = server_core(max_empty_fragments=2)
    frames: list[bytes] = []
    for _ in range(4):
        frames += _fragments(Opcode.BINARY, [b"", b"z", b""])
    assert feed(core, *frames) == [BytesMessage(b"z")] * 4


def test_empty_text_fragments_keep_no_state() -> None:
    """RFC 6455 §5.4, §10.4: empty fragments of a text message leave nothing behind in
    the message being assembled (no per-fragment memory)."""
    core = server_core(max_empty_fragments=10_000)
    empty = client_frame(Opcode.CONTINUATION, b"", fin=False)
    feed(core, client_frame(Opcode.TEXT, b"a", fin=False), *[empty] * 5000)
    assert len(core._assembler._text) == 1
    assert feed(core, client_frame(Opcode.CONTINUATION, b"b")) == [TextMessage("ab")]


# --- PING / PONG budget (§5.5.2, §5.5.3, §10.4) ------------------------------------------
def test_ping_burst_is_answered_then_the_next_ping_fails_with_1008() -> None:
    """RFC 6455 §5.5.2, §10.4: ping_burst PINGs get their PONGs; one more within the
    same instant is a flood → close 1008, without a PONG for it."""
    clock = FakeClock()
    core = server_core(ping_burst=10, ping_rate=1.0, clock=clock)
    events = feed(core, *[client_frame(Opcode.PING, b"%d" % i) for i in range(10)])
    assert events == [Ping(b"%d" % i) for i in range(10)]
    assert [op for op, _ in sent_frames(core)] == [Opcode.PONG] * 10
    events = feed(core, client_frame(Opcode.PING, b"x"))
    assert failure(events).code == CloseCode.POLICY_VIOLATION
    frames = sent_frames(core)
    assert [op for op, _ in frames] == [Opcode.CLOSE]  # no PONG for the flooding PING
    assert close_code_of(frames) == CloseCode.POLICY_VIOLATION


def test_ping_budget_refills_at_the_rate() -> None:
    """RFC 6455 §5.5.2, §10.4: the bucket refills at ping_rate per second, so a steady
    peer below the rate is never cut off."""
    clock = FakeClock()
    core = server_core(ping_burst=3, ping_rate=2.0, clock=clock)
    for _ in range(100):  # 2 per second, for 50 seconds
        clock.now += 0.5
        events = feed(core, client_frame(Opcode.PING, b"k"))
        assert failure(events) is None
    assert len(sent_frames(core)) == 100


def test_ping_budget_does_not_grow_past_the_burst() -> None:
    """RFC 6455 §10.4: a long quiet time earns at most ping_burst pings."""
    clock = FakeClock()
    core = server_core(ping_burst=3, ping_rate=2.0, clock=clock)
    clock.now += 3600
    events = feed(core, *[client_frame(Opcode.PING, b"") for _ in range(4)])
    assert events[:3] == [Ping(b"")] * 3
    assert failure(events).code == CloseCode.POLICY_VIOLATION


def test_unsolicited_pongs_share_the_budget() -> None:
    """RFC 6455 §5.5.3, §10.4: unsolicited PONGs are allowed but give the app nothing;
    they take from the same bucket → close 1008 in a flood."""
    clock = FakeClock()
    core = server_core(ping_burst=4, ping_rate=1.0, clock=clock)
    events = feed(core, *[client_frame(Opcode.PONG, b"u") for _ in range(5)])
    assert events[:4] == [Pong(b"u")] * 4
    assert failure(events).code == CloseCode.POLICY_VIOLATION


def test_pongs_answering_our_pings_are_free() -> None:
    """RFC 6455 §5.5.3: a PONG answering a PING we sent costs no budget."""
    clock = FakeClock()
    core = server_core(ping_burst=1, ping_rate=0.0, clock=clock)
    for _ in range(20):
        core.send_ping(b"keepalive")
        assert feed(core, client_frame(Opcode.PONG, b"keepalive")) == [Pong(b"keepalive")]
    events = feed(core, client_frame(Opcode.PING, b""), client_frame(Opcode.PONG, b""))
    assert events[0] == Ping(b"")
    assert failure(events).code == CloseCode.POLICY_VIOLATION


def test_without_a_clock_the_ping_budget_is_off() -> None:
    """RFC 6455 §5.5.2: the core has no clock of its own; a host that passes none (the
    clients today) answers every PING, as before."""
    core = server_core(ping_burst=1, ping_rate=0.0)
    events = feed(core, *[client_frame(Opcode.PING, b"") for _ in range(50)])
    assert events == [Ping(b"")] * 50
