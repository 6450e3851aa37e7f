"""Opening the listening sockets of :class:`~blackbull.binds.Bind` addresses.

Sockets are opened before the app's lifespan starts (and before workers fork, so they
share them): an address that cannot be bound is one :class:`BindError` line, with no
application state to unwind.
"""
from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat

from ..binds import Bind, format_host_port


class BindError(OSError):
    """An address could not be listened on; ``str()`` is the one line to print."""

    def __str__(self) -> str:
        return str(self.strerror)


def bind_socket(host: str, port: int, backlog: int = 2048, *,
                reuse_port: bool = False) -> socket.socket:
    """Listen on exactly ``host`` (an IPv6 literal gets an IPv6-only socket);
    ``reuse_port``: SO_REUSEPORT, so more sockets may listen on the same address
    (:func:`worker_sockets`)."""
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if family == socket.AF_INET and not _is_ipv4(host):
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def _is_ipv4(host: str) -> bool:
    try:
        socket.inet_aton(host)
    except OSError:
        return False
    return True


def _unix_socket(path: str, backlog: int) -> socket.socket:
    with contextlib.suppress(FileNotFoundError):
        if stat.S_ISSOCK(os.stat(path).st_mode):
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(path)
            except OSError:
                os.unlink(path)  # a stale socket file of a server that is gone
            else:
                raise OSError(errno.EADDRINUSE, "another server listens there")
            finally:
                probe.close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        os.chmod(path, 0o666)  # the proxy in front usually runs as another user
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def _fd_socket(fd: int, backlog: int) -> socket.socket:
    sock = socket.socket(fileno=fd)
    if sock.type != socket.SOCK_STREAM:
        raise OSError(errno.ENOTSOCK, "not a stream socket")
    sock.listen(backlog)  # harmless if already listening; required if only bound
    sock.setblocking(False)
    return sock


def open_socket(bind: Bind, backlog: int = 2048, *, reuse_port: bool = False) -> socket.socket:
    try:
        if bind.kind == "unix":
            return _unix_socket(bind.path, backlog)
        if bind.kind == "fd":
            return _fd_socket(bind.fd, backlog)
        return bind_socket(bind.host, bind.port, backlog, reuse_port=reuse_port)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise BindError(exc.errno, f"cannot listen on {bind}: {reason}") from exc


def open_sockets(binds: list[Bind], backlog: int = 2048, *,
                 reuse_port: bool = False) -> list[socket.socket]:
    """Every address or none: on a failure the ones already open are closed."""
    sockets: list[socket.socket] = []
    try:
        for bind in binds:
            sockets.append(open_socket(bind, backlog, reuse_port=reuse_port))
    except BindError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _reuses_port(sock: socket.socket) -> bool:
    return (sock.family in (socket.AF_INET, socket.AF_INET6)
            and sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1)


def worker_sockets(sockets: list[socket.socket], workers: int,
                   backlog: int = 2048) -> list[list[socket.socket]]:
    """The listening sockets of each of ``workers`` workers: the first gets ``sockets``;
    each other one a socket of its own on the same address for every TCP socket opened
    with SO_REUSEPORT, so the kernel spreads new connections over the workers by a hash
    of the client's address (one shared socket goes to whichever worker wakes first,
    and a worker's accept loop takes a whole burst). Unix and inherited sockets are
    shared. The parent opens them all and keeps them: connections queued on the socket
    of a worker that crashed wait there for its replacement."""
    per_worker = [list(sockets)]
    try:
        for _ in range(1, workers):
            own = []
            for sock in sockets:
                if _reuses_port(sock):
                    host, port = sock.getsockname()[:2]
                    own.append(bind_socket(host, port, backlog, reuse_port=True))
                else:
                    own.append(sock)
            per_worker.append(own)
    except OSError as exc:
        for own in per_worker[1:]:
            for sock in own:
                if sock not in sockets:
                    sock.close()
        raise BindError(exc.errno, f"cannot open a worker's listening socket: "
                                   f"{exc.strerror or exc}") from exc
    return per_worker


def describe(sock: socket.socket, secure: bool) -> str:
    """``http://127.0.0.1:8000``, ``https://[::1]:8443``, ``http+unix:/run/app.sock``:
    the real address (port 0 resolved)."""
    scheme = "https" if secure else "http"
    name = sock.getsockname()
    if sock.family == socket.AF_UNIX:
        path = name.decode() if isinstance(name, bytes) else name
        return f"{scheme}+unix:{path}"
    return f"{scheme}://{format_host_port(name[0], name[1])}"
