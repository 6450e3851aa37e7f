"""RFC 9113 §4.3, §6.10: assembling one header block from HEADERS/PUSH_PROMISE and
CONTINUATION frames, and the caps on a block's frames and octets (§10.5)."""
from __future__ import annotations

import pytest

from blackbull.protocol.http2 import ErrorCode, H2ConnectionError, ProtocolError
from blackbull.protocol.http2.frames import END_HEADERS
from blackbull.protocol.http2.header_block import HeaderBlock, HeaderBlockAssembler


def started(assembler: HeaderBlockAssembler, sid: int = 1, fragment: bytes = b"ab") -> None:
    assembler.start(HeaderBlock(sid, 0x1, fragment, None, None))


def test_continuations_join_the_fragments_in_order() -> None:
    """RFC 9113 §4.3: a header block is the concatenation of its frames' fragments;
    END_HEADERS on the last CONTINUATION completes it, with the first frame's flags."""
    assembler = HeaderBlockAssembler()
    started(assembler)
    assert assembler.continuation(0, 1, b"cd") is None
    block = assembler.continuation(END_HEADERS, 1, b"ef")
    assert block is not None and block.data == b"abcdef" and block.flags == 0x1
    assert assembler.pending is None


def test_continuation_without_an_open_block_is_protocol_error() -> None:
    """RFC 9113 §6.10: a CONTINUATION not preceded by HEADERS, PUSH_PROMISE or
    CONTINUATION without END_HEADERS is a connection error PROTOCOL_ERROR."""
    with pytest.raises(ProtocolError) as exc:
        HeaderBlockAssembler().continuation(END_HEADERS, 1, b"")
    assert exc.value.code == ErrorCode.PROTOCOL_ERROR


def test_continuation_on_another_stream_is_protocol_error() -> None:
    """RFC 9113 §6.10: the CONTINUATION frames of a block carry the block's stream."""
    assembler = HeaderBlockAssembler()
    started(assembler, sid=1)
    with pytest.raises(ProtocolError):
        assembler.continuation(END_HEADERS, 3, b"cd")


def test_too_many_continuation_frames_is_enhance_your_calm() -> None:
    """RFC 9113 §10.5: a block of endless CONTINUATIONs (CVE-2024-27316) is refused
    with ENHANCE_YOUR_CALM once it passes ``max_frames``."""
    assembler = HeaderBlockAssembler(max_frames=3)
    started(assembler)
    for _ in range(3):
        assert assembler.continuation(0, 1, b"x") is None
    with pytest.raises(H2ConnectionError) as exc:
        assembler.continuation(0, 1, b"x")
    assert exc.value.code == ErrorCode.ENHANCE_YOUR_CALM


def test_too_many_octets_is_enhance_your_calm() -> None:
    """RFC 9113 §10.5: the octets of an unfinished block are bounded as well."""
    assembler = HeaderBlockAssembler(max_octets=10)
    started(assembler, fragment=b"12345")
    assert assembler.continuation(0, 1, b"12345") is None
    with pytest.raises(H2ConnectionError) as exc:
        assembler.continuation(END_HEADERS, 1, b"1")
    assert exc.value.code == ErrorCode.ENHANCE_YOUR_CALM
