"""Load target files: one TOML per server implementation (conformance/targets/README.md).

:func:`load_target_file` turns a file into a :class:`~conformance.targets.base.Target`;
:func:`load_directory` reads the checked-in registry (``conformance/targets/peers/``).
A malformed file raises :class:`TargetFileError` naming the file and the key, so a
typo is found when the file is read, not as a mysterious launch failure.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conformance.targets.base import Launch, Protocol, Rfc8441Switch, Target
from conformance.targets.placeholders import placeholders, render, unknown_placeholders

TOP_KEYS = {"name", "implementation", "language", "version", "version_command",
            "version_regex", "protocols", "requires", "install", "launch", "launch_tls",
            "launch_for", "templates", "env", "ready", "paths", "asgi", "venv",
            "requirements", "isolate_repo", "apps", "rfc8441", "urls", "insecure", "ca", "bench"}
BENCH_KEYS = {"label", "venv", "supports", "command", "command_tls", "command_h2c", "env",
              "cwd", "pythonpath", "ours", "variants", "templates", "informational"}
LAUNCH_KEYS = {"command", "cwd"}
READY_KEYS = {"tcp", "http", "timeout"}
PATH_KEYS = {"http", "ws_echo", "rfc8441_echo"}
APP_SUITES = {"h2spec", "autobahn", "rfc8441", "probes"}


class TargetFileError(ValueError):
    """A target file that does not follow the schema."""


def load_target_file(path: Path) -> Target:
    """The target *path* describes (a launched server, or a running one given by ``urls``)."""
    path = Path(path).resolve()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TargetFileError(f"{path}: {exc}") from None
    return parse_target(data, path)


def parse_target(data: Mapping[str, Any], path: Path) -> Target:
    """Validate *data* (a parsed target file at *path*) and build its target."""
    where = str(path)
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise TargetFileError(f"{where}: unknown key(s) {sorted(unknown)}; known: "
                              f"{sorted(TOP_KEYS)}")
    for key in ("name", "implementation", "language", "protocols"):
        if key not in data:
            raise TargetFileError(f"{where}: missing required key {key!r}")
    name = _str(data, "name", where)
    protocols = frozenset(_protocol(p, where) for p in _strs(data, "protocols", where))
    if not protocols:
        raise TargetFileError(f"{where}: protocols is empty")
    common: dict[str, Any] = dict(
        name=name, description=_str(data, "implementation", where),
        language=_str(data, "language", where), protocols=protocols,
        version_text=str(data.get("version", "")),
        version_command=tuple(_strs(data, "version_command", where)),
        version_regex=str(data.get("version_regex", "")),
        paths=_table(data, "paths", where, PATH_KEYS), here=path.parent, source=path)
    if "urls" in data:
        from conformance.targets.external import UrlError, external_target

        if "launch" in data:
            raise TargetFileError(f"{where}: `urls` (a running server) and [launch] exclude "
                                  "each other")
        try:
            return external_target(_strs(data, "urls", where), name=name,
                                   insecure=bool(data.get("insecure", False)),
                                   ca=_ca(data, path), **{
                                       k: v for k, v in common.items() if k != "name"})
        except UrlError as exc:
            raise TargetFileError(f"{where}: {exc}") from None
    launch = _launch(data, "launch", where, required=True)
    launch_tls = _launch(data, "launch_tls", where)
    launch_for = {}
    for proto, table in _table(data, "launch_for", where).items():
        launch_for[_protocol(proto, where)] = _launch({"t": table}, "t", f"{where} [launch_for.{proto}]")
    templates = {str(k): str(v) for k, v in _table(data, "templates", where).items()}
    ready = _table(data, "ready", where, READY_KEYS)
    apps = _table(data, "apps", where, APP_SUITES)
    switch = _table(data, "rfc8441", where, {"env_on", "env_off"})
    env = {str(k): str(v) for k, v in _table(data, "env", where).items()}
    for text in [*launch["command"], *templates.values(), *env.values()]:
        bad = unknown_placeholders(text)
        if bad:
            raise TargetFileError(f"{where}: unknown placeholder(s) {bad} in {text!r}")
    bench = _bench(data, where)
    builder = _ArgvBuilder(launch["command"], launch_tls["command"] if launch_tls else None,
                           {p: t["command"] for p, t in launch_for.items()}, templates,
                           path.parent)
    return Target(
        **common, build_argv=builder,
        venv=str(data["venv"]) if "venv" in data else None,
        requirements=tuple(_strs(data, "requirements", where)), env=env,
        isolate_repo=bool(data.get("isolate_repo", False)),
        serves_app=bool(data.get("asgi", False)),
        requires=tuple(_strs(data, "requires", where)),
        install_argv=tuple(_strs(data, "install", where)),
        cwd=str(launch.get("cwd", "")),
        apps={str(k): str(v) for k, v in apps.items()},
        rfc8441=Rfc8441Switch(
            on={str(k): str(v) for k, v in dict(switch.get("env_on", {})).items()},
            off=({str(k): str(v) for k, v in dict(switch["env_off"]).items()}
                 if "env_off" in switch else None)),
        ready_http=str(ready["http"]) if "http" in ready else None,
        ready_timeout=float(ready.get("timeout", 30)),
        bench=bench,
    )


class _ArgvBuilder:
    """The argv of one launch: ``launch_for[protocol]``, else ``launch_tls`` for a TLS
    launch, else ``launch``; templates rendered into the launch's workdir first."""

    def __init__(self, plain: list[str], tls: list[str] | None,
                 per_protocol: dict[Protocol, list[str]], templates: dict[str, str],
                 here: Path) -> None:
        self.plain, self.tls, self.per_protocol = plain, tls, per_protocol
        self.templates, self.here = templates, here

    def command_for(self, spec: Launch) -> list[str]:
        if spec.protocol is not None and spec.protocol in self.per_protocol:
            return self.per_protocol[spec.protocol]
        if spec.tls and self.tls is not None:
            return self.tls
        return self.plain

    def __call__(self, spec: Launch) -> list[str]:
        values = placeholders(spec, self.here)
        if spec.workdir is not None:
            for out_name, source in self.templates.items():
                text = Path(render(source, values)).read_text(encoding="utf-8")
                (spec.workdir / out_name).write_text(render(text, values), encoding="utf-8")
        return [render(arg, values) for arg in self.command_for(spec)]


def _bench(data: Mapping[str, Any], where: str) -> dict[str, dict[str, Any]]:
    """``[bench]`` and ``[bench.variants.<name>]``: bench server name → its table."""
    table = _table(data, "bench", where, BENCH_KEYS)
    if not table:
        return {}
    variants = table.pop("variants", {})
    out = {str(data["name"]): table}
    if not isinstance(variants, dict):
        raise TargetFileError(f"{where}: [bench.variants] must be a table of tables")
    for name, variant in variants.items():
        out[str(name)] = _table({"v": variant}, "v", f"{where} [bench.variants.{name}]",
                                BENCH_KEYS - {"variants"})
    for name, bench in out.items():
        if "command" not in bench or "supports" not in bench:
            raise TargetFileError(f"{where}: bench server {name!r} needs command and supports")
        for text in [a for k in ("command", "command_tls", "command_h2c") for a in
                     bench.get(k, [])]:
            if bad := unknown_placeholders(str(text)):
                raise TargetFileError(f"{where}: unknown placeholder(s) {bad} in {text!r}")
    return out


def load_directory(directory: Path) -> dict[str, Target]:
    """``<directory>/*.toml`` and ``<directory>/<dir>/<dir>.toml``, by name (duplicates refused).

    Only a file named after its directory is read below the top level, so a peer's own
    ``Cargo.toml`` or ``pyproject.toml`` beside its server is not taken for a target file.
    """
    found: dict[str, Target] = {}
    files = sorted(directory.glob("*.toml")) + sorted(
        p for p in directory.glob("*/*.toml") if p.stem == p.parent.name)
    for path in files:
        try:
            target = load_target_file(path)
        except TargetFileError as exc:
            # One malformed file must not take the registry down: that target cannot run,
            # and says why (tests/conformance/test_target_files.py fails on it too).
            target = broken_target(path, str(exc))
        if target.name in found:
            raise TargetFileError(f"{path}: name {target.name!r} already used by "
                                  f"{found[target.name].source}")
        found[target.name] = target
    return found


def broken_target(path: Path, reason: str) -> Target:
    """A stand-in for a registry file that does not parse: it never runs and says why."""
    def refuse(spec: Launch) -> list[str]:
        raise TargetFileError(reason)

    return Target(name=path.stem, description=f"unreadable target file {path.name}",
                  protocols=frozenset(Protocol), build_argv=refuse, language="?",
                  check=lambda: f"target file error: {reason}", source=path, here=path.parent,
                  serves_app=False)


def _protocol(value: object, where: str) -> Protocol:
    try:
        return Protocol(str(value))
    except ValueError:
        raise TargetFileError(f"{where}: unknown protocol {value!r}; known: "
                              f"{', '.join(p.value for p in Protocol)}") from None


def _ca(data: Mapping[str, Any], path: Path) -> str:
    """``ca``: the CA file of a running server's certificate, relative to the target file."""
    if "ca" not in data:
        return ""
    return str((path.parent / _str(data, "ca", str(path))).resolve())


def _str(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data[key]
    if not isinstance(value, str) or not value:
        raise TargetFileError(f"{where}: {key} must be a non-empty string")
    return value


def _strs(data: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TargetFileError(f"{where}: {key} must be a list of strings")
    return list(value)


def _table(data: Mapping[str, Any], key: str, where: str,
           allowed: set[str] | None = None) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise TargetFileError(f"{where}: [{key}] must be a table")
    if allowed is not None and set(value) - allowed:
        raise TargetFileError(f"{where}: unknown key(s) {sorted(set(value) - allowed)} in "
                              f"[{key}]; known: {sorted(allowed)}")
    return dict(value)


def _launch(data: Mapping[str, Any], key: str, where: str,
            required: bool = False) -> dict[str, Any]:
    if key not in data:
        if required:
            raise TargetFileError(f"{where}: missing [{key}] (or `urls` for a running server)")
        return {}
    table = _table(data, key, where, LAUNCH_KEYS)
    command = _strs(table, "command", f"{where} [{key}]")
    if not command:
        raise TargetFileError(f"{where}: [{key}] needs a non-empty command")
    table["command"] = command
    return table
