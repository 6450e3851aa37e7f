"""RFC 9113 §4.1: the frame reader cuts the same frames whatever the reads look like —
a read of whole frames (taken as it is), a frame split over reads, several frames with
a partial one after them — and never keeps a reference to a caller's mutable buffer.
hyperframe serialises the frames independently."""
from __future__ import annotations

from hyperframe.frame import DataFrame, PingFrame

from blackbull.protocol.http2.frames import FrameReader


def _wire() -> tuple[bytes, list[tuple[int, int, int, bytes]]]:
    data = DataFrame(1, data=b"x" * 300)
    ping = PingFrame(0, opaque_data=b"12345678")
    last = DataFrame(3, data=b"tail", flags=["END_STREAM"])
    wire = data.serialize() + ping.serialize() + last.serialize()
    return wire, [(0, 0, 1, b"x" * 300), (6, 0, 0, b"12345678"), (0, 1, 3, b"tail")]


def test_whole_frames_in_one_read() -> None:
    wire, expected = _wire()
    reader = FrameReader()
    reader.feed(wire)
    assert reader.frames() == (expected, None)
    assert reader.buffered == 0


def test_frames_split_at_every_offset_come_out_the_same() -> None:
    """Every split of the input into two reads yields the same frames in order."""
    wire, expected = _wire()
    for cut in range(len(wire) + 1):
        reader = FrameReader()
        got = []
        for piece in (wire[:cut], wire[cut:]):
            reader.feed(piece)
            frames, error = reader.frames()
            assert error is None
            got += frames
        assert got == expected, cut
        assert reader.buffered == 0
        assert all(type(p) is bytes for *_, p in got)


def test_a_callers_bytearray_is_copied_not_kept() -> None:
    """A bytearray the caller reuses after feeding must not change buffered input."""
    wire, expected = _wire()
    buf = bytearray(wire[:20])
    reader = FrameReader()
    reader.feed(buf)  # type: ignore[arg-type]
    buf[:] = b"\0" * 20
    reader.feed(wire[20:])
    assert reader.frames() == (expected, None)
