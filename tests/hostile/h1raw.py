"""Raw HTTP/1.1 attack connections over loopback (RFC 9112)."""
from __future__ import annotations

import asyncio
import re

_STATUS = re.compile(rb"HTTP/1\.[01] (\d{3}) ")


async def exchange(port: int, data: bytes, *, timeout: float = 3.0) -> bytes:
    """Send ``data``; everything the server answers until it closes (or ``timeout``)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        return await read_all(reader, timeout)
    finally:
        writer.close()


async def read_all(reader: asyncio.StreamReader, timeout: float) -> bytes:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    out = b""
    while (remaining := deadline - loop.time()) > 0:
        try:
            chunk = await asyncio.wait_for(reader.read(65536), remaining)
        except (TimeoutError, ConnectionError):
            break
        if not chunk:
            return out
        out += chunk
    return out + b"<no close>"


def statuses(answer: bytes) -> list[str]:
    return [m.decode() for m in _STATUS.findall(answer)]
