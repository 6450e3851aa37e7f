"""The servers a harness can test: ours and the peers we compare against.

Each entry says how to launch the server (argv built from a :class:`Launch`)
and which protocols it speaks.  A protocol missing from a target's set must be
reported by harnesses as ``not-supported``, never as a failure.
"""

from __future__ import annotations

from conformance.targets.base import REPO_ROOT, Launch, Protocol, Target

P = Protocol
ALL = frozenset(Protocol)

# Versions of the peers installed into their own venvs, pinned so runs compare.
DAPHNE_REQUIREMENTS = ("daphne==4.2.1", "twisted[tls,http2]>=24.7")
GRANIAN_REQUIREMENTS = ("granian==2.8.7",)
BLACKBULL081_REQUIREMENTS = ("blackbull==0.81.0",)


def _tls_flags(spec: Launch, cert_flag: str, key_flag: str) -> list[str]:
    if not spec.tls:
        return []
    return [cert_flag, str(spec.tls_cert), key_flag, str(spec.tls_key)]


def _blackbull_argv(spec: Launch) -> list[str]:
    return [spec.python, "-m", "blackbull", spec.app, "--bind", f"{spec.host}:{spec.port}",
            *_tls_flags(spec, "--certfile", "--keyfile")]


def _blackbull_missing() -> str | None:
    # The lead lands `python -m blackbull`; until then the target honestly cannot run.
    if not (REPO_ROOT / "blackbull" / "__main__.py").exists():
        return "blackbull/__main__.py does not exist yet (no `python -m blackbull` CLI)"
    return None


def _blackbull081_argv(spec: Launch) -> list[str]:
    # 0.81 ships no __main__.py; its console script is blackbull.cli:main.
    return [spec.python, "-m", "blackbull.cli", spec.app, "--bind", f"{spec.host}:{spec.port}",
            "--workers", "1", *_tls_flags(spec, "--certfile", "--keyfile")]


def _websockets_argv(spec: Launch) -> list[str]:
    return [spec.python, "-m", "conformance.targets.websockets_echo",
            "--host", spec.host, "--port", str(spec.port),
            *_tls_flags(spec, "--certfile", "--keyfile")]


def _uvicorn_argv(spec: Launch) -> list[str]:
    return [spec.python, "-m", "uvicorn", spec.app, "--host", spec.host, "--port", str(spec.port),
            "--log-level", "warning", "--no-access-log",
            *_tls_flags(spec, "--ssl-certfile", "--ssl-keyfile")]


def _hypercorn_argv(spec: Launch) -> list[str]:
    return [spec.python, "-m", "hypercorn", spec.app, "--bind", f"{spec.host}:{spec.port}",
            *_tls_flags(spec, "--certfile", "--keyfile")]


def _daphne_argv(spec: Launch) -> list[str]:
    if spec.tls:
        # Twisted endpoint syntax; daphne has no separate TLS flags.
        endpoint = (f"ssl:{spec.port}:interface={spec.host}"
                    f":privateKey={spec.tls_key}:certKey={spec.tls_cert}")
        return [spec.python, "-m", "daphne", "-e", endpoint, spec.app]
    return [spec.python, "-m", "daphne", "-b", spec.host, "-p", str(spec.port), spec.app]


def _granian_argv(spec: Launch) -> list[str]:
    return [spec.python, "-m", "granian", "--interface", "asgi", "--host", spec.host,
            "--port", str(spec.port), "--workers", "1", "--log-level", "warning",
            *_tls_flags(spec, "--ssl-certificate", "--ssl-keyfile"), spec.app]


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("blackbull", "this repository's server (python -m blackbull)", ALL,
               _blackbull_argv, check=_blackbull_missing),
        Target("websockets", "websockets' own asyncio echo server (the reference)",
               frozenset({P.WS, P.WSS}), _websockets_argv, serves_app=False),
        Target("uvicorn", "uvicorn (HTTP/1.1 only; websockets implementation)",
               frozenset({P.H1, P.H1_TLS, P.WS, P.WSS}), _uvicorn_argv),
        Target("hypercorn", "hypercorn (h11 + h2 + wsproto)", ALL, _hypercorn_argv),
        Target("daphne", "daphne (Twisted/autobahn)",
               frozenset({P.H1, P.H1_TLS, P.H2_TLS, P.WS, P.WSS}), _daphne_argv,
               venv="daphne", requirements=DAPHNE_REQUIREMENTS),
        Target("granian", "granian (Rust hyper/tungstenite)",
               frozenset({P.H1, P.H1_TLS, P.H2_TLS, P.WS, P.WSS}), _granian_argv,
               venv="granian", requirements=GRANIAN_REQUIREMENTS),
        Target("blackbull081", "published blackbull 0.81.0 from PyPI", ALL, _blackbull081_argv,
               venv="blackbull081", requirements=BLACKBULL081_REQUIREMENTS,
               env={"BB_H2_ENABLE_WEBSOCKET": "1", "BB_FORCE_ASGI_SCOPE": "1"},
               isolate_repo=True),
    )
}


def get_target(name: str) -> Target:
    """The target called *name*; ``KeyError`` lists the known names."""
    try:
        return TARGETS[name]
    except KeyError:
        raise KeyError(f"unknown target {name!r}; known: {', '.join(TARGETS)}") from None
