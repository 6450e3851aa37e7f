"""The WebSocket frame codec under its documented server-side import path.

``blackbull.server.ws_codec.WSOpcode`` is the public name of the opcode enum
(RFC 6455 §5.2); the implementation lives in the sans-I/O core.
"""
from __future__ import annotations

from ..protocol.websocket.frames import (
    FrameChunk,
    FrameHeader,
    FrameParser,
    apply_mask,
    encode_frame,
)
from ..protocol.websocket.frames import Opcode as WSOpcode

__all__ = ["FrameChunk", "FrameHeader", "FrameParser", "WSOpcode", "apply_mask",
           "encode_frame"]
