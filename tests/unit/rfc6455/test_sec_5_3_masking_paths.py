"""RFC 6455 §5.3: the compiled masking path (speed extra) and the pure-Python path agree."""
from __future__ import annotations

import os

import pytest

from blackbull.protocol.websocket import frames


@pytest.mark.parametrize("size", [1, 3, 4, 125, 65535, 65536, 65537, 200003])
@pytest.mark.parametrize("offset", [0, 1, 2, 3, 7])
def test_compiled_and_pure_masking_give_the_same_bytes(monkeypatch, size, offset):
    """RFC 6455 §5.3: octet i of the payload is XORed with octet (i mod 4) of the key, where
    i counts from the start of the frame payload (``offset`` for a later piece)."""
    data, key = os.urandom(size), os.urandom(4)
    expected = bytes(b ^ key[(i + offset) % 4] for i, b in enumerate(data))
    assert frames.apply_mask(data, key, offset) == expected
    monkeypatch.setattr(frames, "_c_apply_mask", None)
    assert frames.apply_mask(memoryview(data), key, offset) == expected
