"""HTTP/2 frame layout (RFC 9113 §4, §6) and RFC 9218 §7.1 PRIORITY_UPDATE.

Parsing is done frame by frame by :class:`FrameReader`; serialising by the small
``*_frame`` builders, which return ready-to-write bytes.
"""
from __future__ import annotations

import struct
from enum import IntEnum, IntFlag

from .errors import ErrorCode, ProtocolError

#: RFC 9113 §3.4: the client connection preface's fixed 24 octets.
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def starts_with_preface(data: bytes) -> bool | None:
    """Whether ``data``, the first octets from a client, begin the connection preface
    (RFC 9113 §3.4): True once it is all there, False as soon as an octet differs (so
    HTTP/1.1, say), None while what came so far is a prefix of it."""
    n = min(len(data), len(PREFACE))
    if data[:n] != PREFACE[:n]:
        return False
    return True if n == len(PREFACE) else None


FRAME_HEADER_LEN = 9
MAX_STREAM_ID = 0x7FFFFFFF
MAX_WINDOW = 0x7FFFFFFF
DEFAULT_MAX_FRAME_SIZE = 16384
MAX_MAX_FRAME_SIZE = (1 << 24) - 1

#: length<<8|type (4 bytes), flags (1 byte), stream id (4 bytes) = the 9-octet header.
_HEADER = struct.Struct(">IBI")
_U32 = struct.Struct(">I")
_U32_U32 = struct.Struct(">II")
_PRIORITY = struct.Struct(">IB")


class FrameType(IntEnum):
    """RFC 9113 §6 frame types plus RFC 9218 §7.1 PRIORITY_UPDATE."""

    DATA = 0x0
    HEADERS = 0x1
    PRIORITY = 0x2
    RST_STREAM = 0x3
    SETTINGS = 0x4
    PUSH_PROMISE = 0x5
    PING = 0x6
    GOAWAY = 0x7
    WINDOW_UPDATE = 0x8
    CONTINUATION = 0x9
    PRIORITY_UPDATE = 0x10


# Control frame types as plain ints for the frame builders below (per connection, per
# WINDOW_UPDATE): ``FrameType.X`` is a lookup through the enum metaclass, which CPython
# 3.11 makes on its slow path (see ``stream.py``).
_SETTINGS = int(FrameType.SETTINGS)
_WINDOW_UPDATE = int(FrameType.WINDOW_UPDATE)
_RST_STREAM = int(FrameType.RST_STREAM)
_GOAWAY = int(FrameType.GOAWAY)
_PING = int(FrameType.PING)
_PRIORITY_UPDATE = int(FrameType.PRIORITY_UPDATE)


class Flag(IntFlag):
    END_STREAM = 0x1
    ACK = 0x1
    END_HEADERS = 0x4
    PADDED = 0x8
    PRIORITY = 0x20


END_STREAM = 0x1
ACK = 0x1
END_HEADERS = 0x4
PADDED = 0x8
PRIORITY_FLAG = 0x20


def frame(ftype: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    """Serialise one frame (RFC 9113 §4.1); the reserved bit is always sent as 0."""
    return _HEADER.pack(len(payload) << 8 | ftype, flags, stream_id) + payload


def frame_header(ftype: int, flags: int, stream_id: int, length: int) -> bytes:
    return _HEADER.pack(length << 8 | ftype, flags, stream_id)


def settings_frame(values: dict[int, int] | None = None, ack: bool = False) -> bytes:
    """RFC 9113 §6.5: a SETTINGS frame, or its empty ACK."""
    if ack:
        return frame(_SETTINGS, ACK, 0)
    payload = b"".join(struct.pack(">HI", k, v) for k, v in (values or {}).items())
    return frame(_SETTINGS, 0, 0, payload)


def window_update_frame(stream_id: int, increment: int) -> bytes:
    """RFC 9113 §6.9."""
    return frame(_WINDOW_UPDATE, 0, stream_id, _U32.pack(increment))


def rst_stream_frame(stream_id: int, code: int) -> bytes:
    """RFC 9113 §6.4."""
    return frame(_RST_STREAM, 0, stream_id, _U32.pack(code))


def goaway_frame(last_stream_id: int, code: int, debug: bytes = b"") -> bytes:
    """RFC 9113 §6.8."""
    return frame(_GOAWAY, 0, 0, _U32_U32.pack(last_stream_id, code) + debug)


def ping_frame(opaque: bytes, ack: bool = False) -> bytes:
    """RFC 9113 §6.7."""
    return frame(_PING, ACK if ack else 0, 0, opaque)


def priority_update_frame(stream_id: int, field_value: bytes) -> bytes:
    """RFC 9218 §7.1: sent on stream 0, naming the prioritised stream in the payload."""
    return frame(_PRIORITY_UPDATE, 0, 0, _U32.pack(stream_id) + field_value)


def parse_settings(payload: bytes) -> list[tuple[int, int]]:
    """RFC 9113 §6.5.1: a sequence of (16-bit id, 32-bit value) pairs."""
    if len(payload) % 6:
        raise ProtocolError("SETTINGS length not a multiple of 6", ErrorCode.FRAME_SIZE_ERROR)
    return [struct.unpack_from(">HI", payload, i) for i in range(0, len(payload), 6)]


def strip_padding(payload: bytes, flags: int) -> tuple[bytes, int]:
    """RFC 9113 §6.1/§6.2: remove Pad Length + padding; padding that reaches past the
    payload is a connection error PROTOCOL_ERROR. Returns (payload, padding octets)."""
    if not flags & PADDED:
        return payload, 0
    if not payload:
        raise ProtocolError("PADDED frame without Pad Length", ErrorCode.FRAME_SIZE_ERROR)
    pad = payload[0]
    if pad >= len(payload):
        raise ProtocolError("padding exceeds the frame payload")
    return payload[1:len(payload) - pad], pad + 1


def parse_priority(payload: bytes) -> tuple[int, bool, int]:
    """RFC 9113 §6.3 fields: (stream dependency, exclusive, weight 1..256)."""
    dep, weight = _PRIORITY.unpack_from(payload)
    return dep & MAX_STREAM_ID, bool(dep >> 31), weight + 1


def parse_u32(payload: bytes, offset: int = 0) -> int:
    value: int = _U32.unpack_from(payload, offset)[0]
    return value


class FrameReader:
    """Cuts a byte stream into frames (RFC 9113 §4.1) and enforces §4.2 frame size."""

    __slots__ = ("_buf", "max_frame_size")

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        #: Unparsed input: the bytes read last when nothing was left over (a read of
        #: whole frames is then cut without copying it into a buffer first), else a
        #: bytearray that grows.
        self._buf: bytes | bytearray = b""
        self.max_frame_size = max_frame_size

    def feed(self, data: bytes) -> None:
        buf = self._buf
        if not buf:
            self._buf = data if type(data) is bytes else bytes(data)
        elif type(buf) is bytes:
            grown = bytearray(buf)
            grown += data
            self._buf = grown
        else:
            buf += data

    def frames(self) -> tuple[list[tuple[int, int, int, bytes]], ProtocolError | None]:
        """Every complete frame buffered, as (type, flags, stream id, payload), plus
        the error that stopped the cut, if any.

        A frame longer than our SETTINGS_MAX_FRAME_SIZE is a FRAME_SIZE_ERROR (§4.2);
        we treat it as a connection error, which §4.2 always permits. The error is
        returned after the frames before it so they are still processed in order.
        """
        buf = self._buf
        pos = 0
        end = len(buf)
        unpack = _HEADER.unpack_from
        out: list[tuple[int, int, int, bytes]] = []
        error: ProtocolError | None = None
        copy = type(buf) is not bytes  # a bytearray's slices are copied out as bytes
        while end - pos >= FRAME_HEADER_LEN:
            lt, flags, sid = unpack(buf, pos)
            length = lt >> 8
            if length > self.max_frame_size:
                error = ProtocolError(f"frame of {length} octets exceeds SETTINGS_MAX_FRAME_SIZE",
                                      ErrorCode.FRAME_SIZE_ERROR)
                break
            stop = pos + FRAME_HEADER_LEN + length
            if stop > end:
                break
            payload = buf[pos + FRAME_HEADER_LEN:stop]
            out.append((lt & 0xFF, flags, sid & MAX_STREAM_ID,
                        bytes(payload) if copy else payload))  # type: ignore[arg-type]
            pos = stop
        if pos:
            if pos == end:
                self._buf = b""
            elif copy:
                del buf[:pos]  # type: ignore[union-attr]
            else:
                self._buf = buf[pos:]
        return out, error

    @property
    def buffered(self) -> int:
        return len(self._buf)
