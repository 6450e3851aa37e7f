"""Servers someone else started: ``--url h2c://HOST:PORT/`` and friends.

An external target launches nothing: ``start()`` checks that the URL's port accepts
connections and returns a handle whose ``stop()`` leaves the server alone, so every
harness written against :class:`~conformance.targets.base.Target` runs unchanged.

Schemes and what they let the suites test:

==========  ===========================================  ===============================
scheme      protocols                                     suites
==========  ===========================================  ===============================
``h2c``     h2c (RFC 9113 §3.3, prior knowledge)          h2spec h2c, probes
``h2``      h2-tls (ALPN h2) + ws-over-h2 if advertised   h2spec tls, probes, RFC 8441
``https``   h1-tls and h2-tls (+ ws-over-h2 likewise)     h2spec tls, probes, RFC 8441
``http``    h1                                            probes
``ws``      ws (RFC 6455)                                 Autobahn ws, probes
``wss``     wss                                           Autobahn wss, probes
==========  ===========================================  ===============================
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.targets.base import (
    Launch,
    Protocol,
    ServerHandle,
    Target,
    TargetUnavailable,
    port_accepts,
)

P = Protocol
SCHEMES: dict[str, tuple[Protocol, ...]] = {
    "h2c": (P.H2C,),
    "h2": (P.H2_TLS, P.WS_OVER_H2),
    "https": (P.H1_TLS, P.H2_TLS, P.WS_OVER_H2),
    "http": (P.H1,),
    "ws": (P.WS,),
    "wss": (P.WSS,),
}
_TLS_SCHEMES = {"h2", "https", "wss"}
#: Which [paths] key a URL of each scheme sets (a ws URL's path is the echo route).
_PATH_KEYS = {"h2c": ("http",), "h2": ("http",), "https": ("http",), "http": ("http",),
              "ws": ("ws_echo", "rfc8441_echo"), "wss": ("ws_echo", "rfc8441_echo")}


class UrlError(ValueError):
    """A ``--url`` the suite cannot use."""


@dataclass(frozen=True)
class ServerUrl:
    """One parsed ``--url``."""

    url: str
    scheme: str
    host: str
    port: int
    path: str

    @property
    def tls(self) -> bool:
        return self.scheme in _TLS_SCHEMES

    @property
    def protocols(self) -> tuple[Protocol, ...]:
        return SCHEMES[self.scheme]


def parse_url(url: str) -> ServerUrl:
    """``h2c://127.0.0.1:8080/`` → its scheme, host, port (the scheme's default) and path."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UrlError(f"{url!r}: scheme must be one of {', '.join(SCHEMES)}")
    if not parts.hostname:
        raise UrlError(f"{url!r}: no host")
    try:
        port = parts.port or (443 if scheme in _TLS_SCHEMES else 80)
    except ValueError as exc:
        raise UrlError(f"{url!r}: {exc}") from None
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    return ServerUrl(url, scheme, parts.hostname, port, path)


def default_name(urls: Iterable[ServerUrl]) -> str:
    """A report label for servers given only by URL: ``host-port`` of the first one."""
    first = next(iter(urls))
    return re.sub(r"[^A-Za-z0-9_.-]", "-", f"{first.host}-{first.port}")


def _unlaunchable(spec: Launch) -> list[str]:
    raise TargetUnavailable("an external server (--url) is not launched by the suite")


@dataclass(frozen=True)
class ExternalTarget(Target):
    """A target reached at fixed URLs; the protocol a suite asks for picks the URL."""

    urls: tuple[ServerUrl, ...] = ()
    insecure: bool = False   # self-signed TLS: clients do not verify the certificate
    #: A PEM file of the CA(s) that signed the server's certificate (``--ca``): the TLS
    #: clients of the probes and of the RFC 8441 matrix trust it besides the system store.
    ca: str = ""
    endpoints: Mapping[Protocol, ServerUrl] = field(default_factory=dict)

    @property
    def external(self) -> bool:
        return True

    def url_for(self, protocol: Protocol | str | None, tls: bool = False) -> ServerUrl:
        if protocol is not None:
            try:
                return self.endpoints[Protocol(protocol)]
            except KeyError:
                raise TargetUnavailable(f"{self.name}: no --url for {protocol}") from None
        order = (P.H2_TLS, P.WSS, P.H1_TLS) if tls else (P.H2C, P.WS, P.H1)
        for candidate in order:
            if candidate in self.endpoints:
                return self.endpoints[candidate]
        raise TargetUnavailable(f"{self.name}: no {'TLS' if tls else 'cleartext'} --url")

    def unavailable_reason(self) -> str | None:
        return None

    def ensure_installed(self) -> None:
        return None

    def version(self) -> str:
        return self.version_text or "unknown (started outside the suite)"

    def start(self, app_module_attr: str, port: int = 0, tls_cert: str | Path | None = None,
              tls_key: str | Path | None = None, *, env: Mapping[str, str] | None = None,
              timeout: float = 30.0, protocol: Protocol | str | None = None) -> ServerHandle:
        """A handle on the running server at the URL for *protocol*; nothing is started."""
        url = self.url_for(protocol, tls=tls_cert is not None)
        if not port_accepts(url.host, url.port, timeout=min(timeout, 5.0)):
            raise TargetUnavailable(f"{self.name}: nothing accepts connections at {url.url}")
        paths = dict(self.paths)
        for key in _PATH_KEYS[url.scheme]:
            paths.setdefault(key, url.path)
        return ServerHandle(self.name, url.host, url.port, url.tls, None, None, [url.url],
                            paths)


def external_target(urls: Iterable[str], *, name: str | None = None, insecure: bool = False,
                    ca: str | Path = "", description: str = "", language: str = "",
                    **extra: Any) -> ExternalTarget:
    """The target behind one or more ``--url`` values (all of one server)."""
    parsed = tuple(parse_url(u) for u in urls)
    if not parsed:
        raise UrlError("at least one URL is needed")
    ca_path = check_ca(ca)
    endpoints: dict[Protocol, ServerUrl] = {}
    for url in parsed:
        for protocol in url.protocols:
            if protocol in endpoints and endpoints[protocol].scheme == url.scheme:
                raise UrlError(f"two URLs for {protocol.value}: {endpoints[protocol].url} "
                               f"and {url.url}")
            # h2:// is the more specific way to say h2-tls than https://.
            if protocol not in endpoints or url.scheme == "h2":
                endpoints[protocol] = url
    paths = dict(extra.pop("paths", {}) or {})
    for url in parsed:
        for key in _PATH_KEYS[url.scheme]:
            paths.setdefault(key, url.path)
    extra.pop("protocols", None)
    return ExternalTarget(
        name=name or default_name(parsed),
        description=description or "server under test at " + ", ".join(u.url for u in parsed),
        protocols=frozenset(endpoints), build_argv=_unlaunchable, language=language,
        serves_app=False, paths=paths, urls=parsed, insecure=insecure, ca=ca_path,
        endpoints=endpoints, **extra)


def check_ca(ca: str | Path) -> str:
    """``--ca FILE``: its absolute path once it loads as PEM certificates ("" for none).

    A file that does not exist or holds no certificate is an error here, before any suite
    runs, never a silent fall-back to the system store.
    """
    if not ca:
        return ""
    path = Path(ca).expanduser().resolve()
    try:
        ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError) as exc:
        raise UrlError(f"--ca {ca}: not a readable PEM certificate file ({exc})") from None
    return str(path)


def target_file_text(target: ExternalTarget) -> str:
    """A target file describing *target*, so harness subprocesses can load it by name."""
    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [f"name = {q(target.name)}", f"implementation = {q(target.description)}",
             f"language = {q(target.language or 'unknown')}",
             "protocols = [" + ", ".join(q(p.value) for p in sorted(target.protocols)) + "]",
             "urls = [" + ", ".join(q(u.url) for u in target.urls) + "]",
             f"insecure = {'true' if target.insecure else 'false'}"]
    if target.ca:
        lines.append(f"ca = {q(target.ca)}")
    if target.version_text:
        lines.append(f"version = {q(target.version_text)}")
    return "\n".join(lines) + "\n"
