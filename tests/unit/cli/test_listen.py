"""Opening listeners: IPv6 sockets are IPv6-only (RFC 3493 §5.3 IPV6_V6ONLY), a Unix
socket path another server holds is refused in one line, a stale one is replaced, and
every address or none is opened."""
from __future__ import annotations

import socket

import pytest

from blackbull.binds import Bind
from blackbull.server.listen import BindError, describe, open_socket, open_sockets


def _ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6(), reason="this machine has no IPv6 loopback")
def test_ipv6_listener_is_ipv6_only_and_described_in_brackets() -> None:
    sock = open_socket(Bind("tcp", host="::1", port=0))
    try:
        assert sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 1
        assert describe(sock, secure=True) == f"https://[::1]:{sock.getsockname()[1]}"
    finally:
        sock.close()


def test_unix_path_held_by_a_live_server_is_one_line(tmp_path) -> None:
    path = str(tmp_path / "live.sock")
    holder = open_socket(Bind("unix", path=path))
    try:
        with pytest.raises(BindError) as info:
            open_socket(Bind("unix", path=path))
        assert str(info.value) == f"cannot listen on unix:{path}: another server listens there"
    finally:
        holder.close()


def test_stale_unix_socket_file_is_replaced(tmp_path) -> None:
    path = str(tmp_path / "stale.sock")
    open_socket(Bind("unix", path=path)).close()  # the file stays, nobody listens
    sock = open_socket(Bind("unix", path=path))
    try:
        assert describe(sock, secure=False) == f"http+unix:{path}"
    finally:
        sock.close()


def test_all_or_nothing(tmp_path) -> None:
    """A failing second address closes the first: nothing half-bound stays behind."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        first = Bind("unix", path=str(tmp_path / "first.sock"))
        with pytest.raises(BindError, match=f"127.0.0.1:{port}: Address already in use"):
            open_sockets([first, Bind("tcp", host="127.0.0.1", port=port)])
    with socket.socket(socket.AF_UNIX) as probe:
        with pytest.raises(OSError):
            probe.connect(first.path)  # closed again
