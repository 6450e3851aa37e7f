"""RFC 6455 §5.2, §5.3, §8.1: a read that is exactly one masked, unfragmented data frame
takes a one-step path in the core; it must mean exactly what the general frame parser says for
the same bytes (the same events, the same failures), whatever the bytes are."""
from __future__ import annotations

import os
import random

import pytest

from blackbull.protocol.websocket import ConnectionFailed, Opcode, Role, WebSocketConnection

from .wsutil import client_frame


def _outcome(events: list) -> list:
    return [(type(e).__name__, getattr(e, "data", None), getattr(e, "code", None))
            for e in events]


def _whole(frame: bytes, **kw) -> list:
    return _outcome(WebSocketConnection(Role.SERVER, **kw).receive_data(frame))


def _byte_by_byte(frame: bytes, **kw) -> list:
    ws = WebSocketConnection(Role.SERVER, **kw)
    events: list = []
    for i in range(len(frame)):  # never one whole frame per call: the general path
        events += ws.receive_data(frame[i:i + 1])
    return _outcome(events)


FRAMES = {
    "binary": client_frame(Opcode.BINARY, b"\x00\xffabc" * 20),
    "text": client_frame(Opcode.TEXT, "héllo ☃".encode()),
    "text-125": client_frame(Opcode.TEXT, b"a" * 125),
    "invalid-utf8": client_frame(Opcode.TEXT, b"ab\xc3\x28"),
    "utf16-surrogate": client_frame(Opcode.TEXT, b"\xed\xa0\x80"),
    "truncated-utf8": client_frame(Opcode.TEXT, b"ok\xe2\x82"),
    "rsv2": client_frame(Opcode.BINARY, b"x", rsv2=True),
    "rsv1-without-deflate": client_frame(Opcode.TEXT, b"x", rsv1=True),
    "unmasked": client_frame(Opcode.BINARY, b"x" * 10, masked=False) + b"1234",
    "not-fin": client_frame(Opcode.TEXT, b"part", fin=False),
    "continuation-first": client_frame(Opcode.CONTINUATION, b"x"),
    "reserved-opcode": client_frame(0x3, b"x"),
    "ping": client_frame(Opcode.PING, b"x"),
    "binary-300": client_frame(Opcode.BINARY, os.urandom(300)),
    "binary-64k": client_frame(Opcode.BINARY, os.urandom(65536)),
    "text-70k": client_frame(Opcode.TEXT, "☃".encode() * 23_000),
    "text-70k-bad-end": client_frame(Opcode.TEXT, "☃".encode() * 23_000 + b"\xe2"),
    "non-minimal-16-bit-length": b"\x82\xfe\x00\x05" + b"\0\0\0\0" + b"hello",
    "non-minimal-64-bit-length": b"\x82\xff" + (5).to_bytes(8, "big") + b"\0\0\0\0" + b"hello",
    "64-bit-length-high-bit": b"\x82\xff" + (1 << 63 | 5).to_bytes(8, "big") + b"\0" * 4 + b"hello",
    "frame-and-a-half": client_frame(Opcode.BINARY, b"a" * 200) + b"\x82",
    # atheris finding: a read shorter than its own 64-bit length field
    "short-64-bit-length-field": b"\x82\xff\xc5\x00\x00\xc1\xc5",
    "short-16-bit-length-field": b"\x82\xfe\x01\x00\x00\x00",
    "short-read": client_frame(Opcode.BINARY, b"a" * 300)[:7],
}


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_whole_small_frame_means_what_the_general_parser_says(name: str) -> None:
    """RFC 6455 §5.2/§5.3/§8.1: same events and failure codes on both paths."""
    frame = FRAMES[name]
    assert _whole(frame) == _byte_by_byte(frame)


def test_invalid_utf8_in_one_read_fails_with_1007() -> None:
    """RFC 6455 §8.1: a text frame that is not UTF-8 fails the connection with 1007."""
    events = WebSocketConnection(Role.SERVER).receive_data(FRAMES["invalid-utf8"])
    assert len(events) == 1 and isinstance(events[0], ConnectionFailed)
    assert events[0].code == 1007


@pytest.mark.parametrize("size", [100, 1000, 70_000])
def test_limits_apply_on_the_one_step_path(size: int) -> None:
    """RFC 6455 §10.4: a frame over BB_WS_MAX_FRAME_SIZE / message size is 1009 there too."""
    frame = client_frame(Opcode.BINARY, b"x" * size)
    for kw in ({"max_frame_size": size - 1}, {"max_message_size": size - 1}):
        assert _whole(frame, **kw) == _byte_by_byte(frame, **kw)
        assert _whole(frame, **kw)[0][2] == 1009


def test_random_small_frames_agree() -> None:
    """RFC 6455 §5.2: 3000 random first octets, payloads and UTF-8-ish bytes agree."""
    rng = random.Random(6455)
    for _ in range(3000):
        n = rng.randrange(1, 126) if rng.random() < 0.8 else rng.randrange(126, 3000)
        payload = bytes(rng.choice(b"ab\xc3\xa9\xed\xa0\x80\xff") for _ in range(n)) \
            if rng.random() < 0.5 else os.urandom(n)
        frame = bytearray(client_frame(rng.choice([1, 2]), payload))
        if rng.random() < 0.3:
            frame[0] = rng.randrange(256)
        if rng.random() < 0.2:
            del frame[rng.randrange(1, len(frame)):]  # a read that ends inside the frame
        frame = bytes(frame)
        assert _whole(frame) == _byte_by_byte(frame), frame


def _deflated(data: bytes) -> bytes:
    import zlib

    stream = zlib.compressobj(6, zlib.DEFLATED, -15)
    out = stream.compress(data) + stream.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4]  # RFC 7692 §7.2.1: the trailing 00 00 ff ff is removed


def _final(data: bytes) -> bytes:
    """A raw DEFLATE stream that ends with a final block (BFINAL), as zlib finishes one."""
    import zlib

    stream = zlib.compressobj(6, zlib.DEFLATED, -15)
    return stream.compress(data) + stream.flush(zlib.Z_FINISH)


COMPRESSED = {
    "text": client_frame(Opcode.TEXT, _deflated("héllo ☃ ".encode() * 50), rsv1=True),
    "binary": client_frame(Opcode.BINARY, _deflated(os.urandom(3000)), rsv1=True),
    "invalid-utf8": client_frame(Opcode.TEXT, _deflated(b"ab\xc3\x28"), rsv1=True),
    "bomb": client_frame(Opcode.BINARY, _deflated(b"\0" * 200_000), rsv1=True),
    "garbage": client_frame(Opcode.BINARY, b"\xff\xfe\xfd" * 10, rsv1=True),
    "text-surrogate": client_frame(Opcode.TEXT, _deflated(b"ok\xed\xa0\x80"), rsv1=True),
    "text-truncated-utf8": client_frame(Opcode.TEXT, _deflated(b"ok\xe2\x82"), rsv1=True),
    "empty-message": client_frame(Opcode.BINARY, b"\x00", rsv1=True),  # §7.2.3.6
    "final-block-then-bytes": client_frame(Opcode.BINARY, _final(b"x" * 50) + b"\x01\x02",
                                           rsv1=True),
    "final-block": client_frame(Opcode.TEXT, _final("☃".encode() * 20), rsv1=True),
    "at-the-limit": client_frame(Opcode.BINARY, _deflated(b"y" * 100_000), rsv1=True),
    "one-over-the-limit": client_frame(Opcode.BINARY, _deflated(b"y" * 100_001), rsv1=True),
    "rsv1-continuation": client_frame(Opcode.CONTINUATION, _deflated(b"x"), rsv1=True),
}


@pytest.mark.parametrize("name", sorted(COMPRESSED))
def test_whole_compressed_frame_means_what_the_general_parser_says(name: str) -> None:
    """RFC 7692 §6.1, §7.2.2 (and RFC 6455 §8.1, §10.4): a compressed single frame read
    whole gives the same message or failure (1007, 1009, 1002) as byte by byte."""
    from blackbull.protocol.websocket import DeflateParams, PerMessageDeflate

    def kw() -> dict:
        return {"deflate": PerMessageDeflate(DeflateParams(), is_server=True),
                "max_message_size": 100_000}

    frame = COMPRESSED[name]
    assert _whole(frame, **kw()) == _byte_by_byte(frame, **kw())


@pytest.mark.parametrize("takeover", [True, False])
def test_compressed_messages_in_a_row_agree(takeover: bool) -> None:
    """RFC 7692 §7.1.1, §7.2.2: with and without client context takeover, a run of
    compressed messages (each read whole) inflates to what the general path gives; with
    takeover the later messages refer back into the earlier ones."""
    import zlib

    from blackbull.protocol.websocket import DeflateParams, PerMessageDeflate

    params = DeflateParams(client_no_context_takeover=not takeover)
    rng = random.Random(7692)
    stream = zlib.compressobj(6, zlib.DEFLATED, -15)
    frames = []
    for i in range(40):
        text = " ".join(rng.choice(["alpha", "beta", "gamma", "δέλτα"]) for _ in range(60))
        if not takeover:
            stream = zlib.compressobj(6, zlib.DEFLATED, -15)
        out = stream.compress(text.encode()) + stream.flush(zlib.Z_SYNC_FLUSH)
        frames.append(client_frame(Opcode.TEXT if i % 2 else Opcode.BINARY, out[:-4],
                                   rsv1=True))
    whole = WebSocketConnection(Role.SERVER, deflate=PerMessageDeflate(params, is_server=True))
    general = WebSocketConnection(Role.SERVER,
                                  deflate=PerMessageDeflate(params, is_server=True))
    for frame in frames:
        one = _outcome(whole.receive_data(frame))
        split = _outcome(general.receive_data(frame[:3]) + general.receive_data(frame[3:]))
        assert one == split
        assert one[0][0] in ("TextMessage", "BytesMessage")


def _receive_message(frame: bytes, **kw) -> list:
    """The server bridge's way: receive_message, and receive_data when it says None."""
    ws = WebSocketConnection(Role.SERVER, **kw)
    message = ws.receive_message(frame)
    if message is None:
        return _outcome(ws.receive_data(frame))
    kind = "BytesMessage" if isinstance(message, bytes) else "TextMessage"
    return [(kind, message, None)]


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_receive_message_means_what_receive_data_says(name: str) -> None:
    """RFC 6455 §5.2/§5.3/§8.1: the event-less one-step path gives the same message, and
    leaves every other read (and every failure) to receive_data untouched."""
    frame = FRAMES[name]
    assert _receive_message(frame) == _whole(frame) == _byte_by_byte(frame)


@pytest.mark.parametrize("kw", [{"max_frame_size": 99}, {"max_message_size": 99},
                                {"max_fragments": 0}])
def test_receive_message_keeps_the_limits(kw: dict) -> None:
    """RFC 6455 §10.4: over a limit it takes nothing; receive_data fails with 1009."""
    frame = client_frame(Opcode.BINARY, b"x" * 100)
    assert _receive_message(frame, **kw) == _whole(frame, **kw)


def test_receive_message_takes_nothing_while_a_message_is_assembled() -> None:
    """RFC 6455 §5.4: between the fragments of a message a whole frame is not a message
    of its own (receive_data fails it: a new data frame inside a fragmented message)."""
    ws = WebSocketConnection(Role.SERVER)
    ws.receive_data(client_frame(Opcode.TEXT, b"part", fin=False))
    assert ws.receive_message(client_frame(Opcode.BINARY, b"x")) is None
