"""Listening addresses as written on the command line and in ``BB_BIND``.

``HOST:PORT``, ``[IPv6]:PORT``, ``:PORT`` (127.0.0.1), ``unix:PATH`` and ``fd://N`` (a
socket inherited from a supervisor such as systemd). Pure parsing: opening the sockets
is :mod:`blackbull.server.listen`'s business.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bind:
    """One address to listen on: ``kind`` is ``tcp``, ``unix`` or ``fd``."""

    kind: str
    host: str = ""
    port: int = 0
    path: str = ""
    fd: int = -1

    def __str__(self) -> str:
        if self.kind == "unix":
            return f"unix:{self.path}"
        if self.kind == "fd":
            return f"fd://{self.fd}"
        return format_host_port(self.host, self.port)


def format_host_port(host: str, port: int) -> str:
    """``127.0.0.1:8000``, or ``[::1]:8000`` for an IPv6 literal (RFC 3986 §3.2.2)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_bind(value: str) -> Bind:
    """One address; raises ValueError with a message naming the value."""
    value = value.strip()
    if value.startswith("unix:"):
        path = value[len("unix:"):]
        if not path:
            raise ValueError(f"{value!r}: unix: needs a path")
        return Bind("unix", path=path)
    if value.startswith("fd://"):
        fd = value[len("fd://"):]
        if not fd.isdigit():
            raise ValueError(f"{value!r}: fd:// needs a file descriptor number")
        return Bind("fd", fd=int(fd))
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{value!r} is not HOST:PORT, [IPv6]:PORT, unix:PATH or fd://N")
    if host.startswith("["):
        if not host.endswith("]"):
            raise ValueError(f"{value!r}: unbalanced [ ] around the IPv6 address")
        host = host[1:-1]
    elif ":" in host:
        raise ValueError(f"{value!r}: write an IPv6 address in brackets, [{host}]:{port}")
    return Bind("tcp", host=host or "127.0.0.1", port=int(port))


def parse_binds(value: str) -> list[Bind]:
    """A comma-separated list (``BB_BIND``); at least one address."""
    binds = [parse_bind(part) for part in value.split(",") if part.strip()]
    if not binds:
        raise ValueError("BB_BIND names no address")
    return binds
