"""Opening handshakes: RFC 6455 §4 (HTTP/1.1 Upgrade) and RFC 8441 §4–§5 (HTTP/2
extended CONNECT).

Pure functions over header lists (``[(lowercase name, value)]`` as bytes). The server
side turns a request into a :class:`HandshakeRequest` or a :class:`HandshakeRejection`
(the HTTP error to answer); the client side builds the request and checks the answer.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..http1 import head as http1_head
from ..http1.events import ResponseRejected

# re-exported: the handshake's callers catch them from here
from .errors import HandshakeFailed as HandshakeFailed
from .errors import HandshakeRejection as HandshakeRejection

#: RFC 6455 §1.3: the GUID appended to the key before hashing.
WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SUPPORTED_VERSION = b"13"

Headers = list[tuple[bytes, bytes]]


def accept_key(key: bytes | str) -> str:
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 §4.2.2 item 5.4)."""
    raw = key.encode("ascii") if isinstance(key, str) else key
    return base64.b64encode(hashlib.sha1(raw.strip() + WEBSOCKET_GUID).digest()).decode()


def generate_key() -> str:
    """A fresh Sec-WebSocket-Key: base64 of 16 random bytes (§4.1 item 7)."""
    return base64.b64encode(os.urandom(16)).decode()


def is_valid_key(key: bytes) -> bool:
    """§4.2.1 item 5: the key is the base64 encoding of exactly 16 bytes."""
    try:
        return len(base64.b64decode(key.strip(), validate=True)) == 16
    except (binascii.Error, ValueError):
        return False


def header_values(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    return [v for k, v in headers if k.lower() == name]


def header_tokens(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> list[str]:
    """Comma-separated tokens of every line of field ``name``, stripped (RFC 9110 §5.6.1)."""
    tokens: list[str] = []
    for value in header_values(headers, name):
        for item in value.decode("latin-1").split(","):
            item = item.strip()
            if item:
                tokens.append(item)
    return tokens


def _has_token(headers: Headers, name: bytes, token: str) -> bool:
    return any(t.lower() == token for t in header_tokens(headers, name))


@dataclass(slots=True)
class HandshakeRequest:
    """A valid opening handshake, as the server sees it."""

    key: bytes | None                  # None for RFC 8441 (no key/accept)
    subprotocols: list[str] = field(default_factory=list)
    extensions: list[bytes] = field(default_factory=list)   # raw header values


def _check_version(headers: Headers, status: int) -> None:
    """§4.2.1 item 6 / §4.4: only version 13; otherwise say which version we speak.

    A 426 also names the protocol to upgrade to: RFC 9110 §15.5.22 requires an Upgrade
    field in every 426 (and §7.8 its ``Upgrade`` connection option, see
    :func:`render_http1_refusal`)."""
    versions = header_values(headers, b"sec-websocket-version")
    if len(versions) != 1 or versions[0].strip() != SUPPORTED_VERSION:
        fields = [(b"sec-websocket-version", SUPPORTED_VERSION)]
        if status == 426:
            fields.append((b"upgrade", b"websocket"))
        raise HandshakeRejection(status, "unsupported Sec-WebSocket-Version", fields)


def _offers(headers: Headers) -> tuple[list[str], list[bytes]]:
    return (header_tokens(headers, b"sec-websocket-protocol"),
            header_values(headers, b"sec-websocket-extensions"))


def validate_upgrade_request(method: str, http_version: str, headers: Headers
                             ) -> HandshakeRequest:
    """RFC 6455 §4.2.1: check a client's HTTP/1.1 opening handshake.

    Raises :class:`HandshakeRejection` with 400 for a malformed handshake and 426 (plus
    ``Sec-WebSocket-Version: 13``) for a version we do not speak (§4.4).
    """
    if method != "GET":
        raise HandshakeRejection(400, "the opening handshake must be a GET (§4.2.1 item 1)")
    if http_version in ("1.0", "0.9"):
        raise HandshakeRejection(400, "the opening handshake needs HTTP/1.1 (§4.2.1 item 1)")
    if not header_values(headers, b"host"):
        raise HandshakeRejection(400, "missing Host (§4.2.1 item 2)")
    if not _has_token(headers, b"upgrade", "websocket"):
        raise HandshakeRejection(400, "Upgrade does not name websocket (§4.2.1 item 3)")
    if not _has_token(headers, b"connection", "upgrade"):
        raise HandshakeRejection(400, "Connection does not include Upgrade (§4.2.1 item 4)")
    _check_version(headers, 426)
    keys = header_values(headers, b"sec-websocket-key")
    if len(keys) != 1 or not is_valid_key(keys[0]):
        raise HandshakeRejection(400, "Sec-WebSocket-Key is not base64 of 16 bytes "
                                      "(§4.2.1 item 5)")
    subprotocols, extensions = _offers(headers)
    return HandshakeRequest(keys[0].strip(), subprotocols, extensions)


def validate_extended_connect(headers: Headers) -> HandshakeRequest:
    """RFC 8441 §4–§5: check an extended CONNECT (``:protocol websocket``).

    There is no key and no accept (§5); Sec-WebSocket-Version/Protocol/Extensions keep
    their RFC 6455 meaning. A version mismatch is answered 400 with the version we speak
    (HTTP/2 has no Upgrade, so 426 would point nowhere).
    """
    pseudo = {k: v for k, v in headers if k.startswith(b":")}
    if pseudo.get(b":method") != b"CONNECT":
        raise HandshakeRejection(400, "not a CONNECT request (RFC 8441 §4)")
    if pseudo.get(b":protocol", b"").lower() != b"websocket":
        raise HandshakeRejection(400, "the :protocol is not websocket (RFC 8441 §4)")
    for name in (b":scheme", b":path", b":authority"):
        if not pseudo.get(name):
            raise HandshakeRejection(400, f"extended CONNECT needs {name.decode()} "
                                          "(RFC 8441 §4)")
    _check_version(headers, 400)
    subprotocols, extensions = _offers(headers)
    return HandshakeRequest(None, subprotocols, extensions)


def server_response_headers(
    request: HandshakeRequest,
    subprotocol: str | None = None,
    extensions: str | None = None,
    extra: Iterable[tuple[bytes, bytes]] = (),
) -> Headers:
    """The header fields of the accepting response (§4.2.2 item 5; RFC 8441 §5).

    For HTTP/1.1 (a key is present) that adds Upgrade, Connection and the accept value;
    RFC 8441 answers only with :status 200 and the negotiated fields.
    """
    headers: Headers = []
    if request.key is not None:
        headers += [(b"upgrade", b"websocket"), (b"connection", b"Upgrade"),
                    (b"sec-websocket-accept", accept_key(request.key).encode())]
    if subprotocol:
        headers.append((b"sec-websocket-protocol", subprotocol.encode("latin-1")))
    if extensions:
        headers.append((b"sec-websocket-extensions", extensions.encode("latin-1")))
    reserved = {b"upgrade", b"connection", b"sec-websocket-accept",
                b"sec-websocket-protocol", b"sec-websocket-extensions"}
    for name, value in extra:
        if name.lower() not in reserved:
            headers.append((name.lower(), value))
    return headers


def render_http1_response(status: int, reason: str, headers: Headers, body: bytes = b""
                          ) -> bytes:
    """An HTTP/1.1 response head (+ body) for the handshake answer (RFC 9112 §4)."""
    lines = [f"HTTP/1.1 {status} {reason}".encode("latin-1")]
    lines += [name + b": " + value for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


#: Fields of a refusal that the renderer decides itself (framing and the connection).
_REFUSAL_OWNED = frozenset((b"content-length", b"connection", b"transfer-encoding"))


def render_http1_refusal(status: int, reason: str, headers: Headers, body: bytes = b"",
                         date: bytes | None = None) -> bytes:
    """A complete HTTP/1.1 answer refusing the upgrade (§4.2.1, §4.4, an ASGI denial);
    the connection closes after it.

    ``date`` is the Date value to add unless ``headers`` carry one (RFC 9110 §6.6.1: an
    origin server with a clock sends Date in every 2xx-4xx answer). When the answer
    carries Upgrade (a 426, RFC 9110 §15.5.22), Connection lists the ``Upgrade`` option
    as RFC 9110 §7.8 requires of every sender of Upgrade.
    """
    fields = [(k, v) for k, v in headers if k not in _REFUSAL_OWNED]
    names = {k for k, _ in fields}
    if b"content-type" not in names:
        fields.append((b"content-type", b"text/plain; charset=utf-8"))
    if date is not None and b"date" not in names:
        fields.append((b"date", date))
    fields.append((b"content-length", str(len(body)).encode()))
    fields.append((b"connection", b"Upgrade, close" if b"upgrade" in names else b"close"))
    return render_http1_response(status, reason, fields, body)


# --- client side (§4.1) ---------------------------------------------------------------
def client_request(host: str, path: str, key: str, *, subprotocols: Iterable[str] = (),
                   extensions: str | None = None,
                   extra: Iterable[tuple[bytes, bytes]] = ()) -> bytes:
    """RFC 6455 §4.1: the client's HTTP/1.1 GET with the Upgrade fields."""
    headers: Headers = [
        (b"Host", host.encode("idna") if not host.isascii() else host.encode()),
        (b"Upgrade", b"websocket"), (b"Connection", b"Upgrade"),
        (b"Sec-WebSocket-Key", key.encode()), (b"Sec-WebSocket-Version", SUPPORTED_VERSION),
    ]
    protos = list(subprotocols)
    if protos:
        headers.append((b"Sec-WebSocket-Protocol", ", ".join(protos).encode()))
    if extensions:
        headers.append((b"Sec-WebSocket-Extensions", extensions.encode()))
    headers += list(extra)
    lines = [f"GET {path} HTTP/1.1".encode()] + [k + b": " + v for k, v in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def parse_response_head(head: bytes) -> tuple[int, str, Headers]:
    """Status, reason and headers (names lowercased) of an HTTP/1.1 response head, read
    (with or without its final empty line), read by the HTTP/1.1 core's one head
    parser (RFC 9112 §4)."""
    response = http1_head.parse_response_head(head.rstrip(b"\r\n") + b"\r\n\r\n")
    if isinstance(response, ResponseRejected):
        raise HandshakeFailed(f"not an HTTP/1.1 response: {response.reason}")
    return response.status, response.reason, response.headers


def validate_server_response(status: int, headers: Headers, key: str,
                             subprotocols: Iterable[str]) -> str | None:
    """§4.1 items 1–6 of the client's checks; returns the chosen subprotocol."""
    if status != 101:
        raise HandshakeFailed(f"server answered {status}, not 101", status, headers)
    if not _has_token(headers, b"upgrade", "websocket"):
        raise HandshakeFailed("response Upgrade is not websocket", status, headers)
    if not _has_token(headers, b"connection", "upgrade"):
        raise HandshakeFailed("response Connection lacks Upgrade", status, headers)
    accepts = header_values(headers, b"sec-websocket-accept")
    if accepts != [accept_key(key).encode()]:
        raise HandshakeFailed("Sec-WebSocket-Accept does not match the key", status, headers)
    chosen = header_tokens(headers, b"sec-websocket-protocol")
    if not chosen:
        return None
    if len(chosen) != 1 or chosen[0] not in list(subprotocols):
        raise HandshakeFailed(f"server chose a subprotocol we did not offer: {chosen}",
                              status, headers)
    return chosen[0]
