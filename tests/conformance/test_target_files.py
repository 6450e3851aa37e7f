"""Target files (conformance/targets/README.md) and ``--url`` targets: loading, placeholders,
launch selection, and the honest "could not run" reasons."""

from __future__ import annotations

import http.server
import sys
import threading
from pathlib import Path

import pytest

from conformance.targets import (
    TARGETS,
    Protocol,
    TargetFileError,
    TargetUnavailable,
    UrlError,
    external_target,
    load_target_file,
    parse_url,
)
from conformance.targets.base import Launch
from conformance.targets.external import target_file_text
from conformance.targets.placeholders import render
from conformance.targets.registry import PEERS_DIR

MINIMAL = '''
name = "{name}"
implementation = "python http.server"
language = "Python"
protocols = ["h1"]
{extra}
[launch]
command = {command}
'''
HTTP_SERVER = '["{python}", "-m", "http.server", "--bind", "{host}", "{port}"]'


def write(tmp_path: Path, name: str = "toy", command: str = HTTP_SERVER, extra: str = "",
          tail: str = "") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(MINIMAL.format(name=name, command=command, extra=extra) + tail)
    return path


def test_url_schemes_map_to_the_protocols_the_suites_test() -> None:
    """RFC 9113 §3.3 (h2c prior knowledge) and §3.2 (ALPN h2); RFC 6455 §3 ws/wss URIs."""
    assert parse_url("h2c://127.0.0.1:8080/").protocols == (Protocol.H2C,)
    assert Protocol.H2_TLS in parse_url("h2://127.0.0.1:8443/").protocols
    https = parse_url("https://localhost:8443/x")
    assert https.tls and https.port == 8443 and https.path == "/x"
    assert set(https.protocols) >= {Protocol.H1_TLS, Protocol.H2_TLS}
    assert parse_url("ws://127.0.0.1:9/echo?a=1").path == "/echo?a=1"
    assert parse_url("wss://127.0.0.1/").port == 443
    assert parse_url("http://[::1]:81/").host == "::1"
    for bad in ("ftp://127.0.0.1:1/", "h2c:///nohost", "ws://127.0.0.1:99999/"):
        with pytest.raises(UrlError):
            parse_url(bad)


def test_urls_of_one_server_combine_into_one_external_target() -> None:
    target = external_target(["h2c://127.0.0.1:8080/", "wss://127.0.0.1:8443/ws"],
                             name="mine", insecure=True)
    assert target.external and target.name == "mine" and target.insecure
    assert target.supports("h2c") and target.supports("wss") and not target.supports("ws")
    assert target.url_for(Protocol.WSS).port == 8443
    assert target.paths["ws_echo"] == "/ws" and target.paths["http"] == "/"
    assert external_target(["h2c://127.0.0.1:8080/"]).name == "127.0.0.1-8080"


def test_an_external_target_round_trips_through_a_target_file(tmp_path: Path) -> None:
    target = external_target(["h2://127.0.0.1:8443/", "ws://127.0.0.1:8080/"], name="x")
    path = tmp_path / "x.toml"
    path.write_text(target_file_text(target))
    again = load_target_file(path)
    assert again.external and again.protocols == target.protocols
    assert [u.url for u in again.urls] == [u.url for u in target.urls]


def test_an_external_server_is_used_as_found_and_never_stopped() -> None:
    """A server the run did not start: start() returns a handle; stop() leaves it running."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        target = external_target([f"http://127.0.0.1:{port}/index"])
        handle = target.start("ignored:app", protocol=Protocol.H1)
        assert (handle.host, handle.port, handle.path("http")) == ("127.0.0.1", port, "/index")
        assert handle.process is None and handle.running
        handle.stop()
        assert handle.running  # still accepting: we did not own it
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(TargetUnavailable, match="nothing accepts"):
        external_target([f"http://127.0.0.1:{port}/"]).start("ignored:app")


def test_placeholders_replace_only_their_own_names() -> None:
    """An nginx config's braces survive rendering; known names are replaced."""
    text = "server { listen {host}:{port} http2; location / { return 200 'x'; } {nope} }"
    out = render(text, {"host": "127.0.0.1", "port": "8080"})
    assert out == "server { listen 127.0.0.1:8080 http2; location / { return 200 'x'; } {nope} }"


def test_every_placeholder_reaches_the_command_and_templates(tmp_path: Path) -> None:
    (tmp_path / "conf.in").write_text("events {}\nlisten {host}:{port}; cert {cert}; ca {ca}\n")
    command = ('["{python}", "{here}/srv", "{workdir}/conf", "{app}", "{protocol}", "{repo}",'
               ' "{key}"]')
    path = write(tmp_path, command=command, tail='[templates]\n"conf" = "{here}/conf.in"\n')
    target = load_target_file(path)
    workdir = tmp_path / "work"
    workdir.mkdir()
    spec = Launch("/py", "m:app", "127.0.0.1", 4321, tmp_path / "c.pem", tmp_path / "k.pem",
                  tmp_path / "ca.pem", Protocol.H2C, workdir)
    argv = target.build_argv(spec)
    assert argv[:5] == ["/py", f"{tmp_path}/srv", f"{workdir}/conf", "m:app", "h2c"]
    assert argv[6] == str(tmp_path / "k.pem")
    rendered = (workdir / "conf").read_text()
    assert rendered == f"events {{}}\nlisten 127.0.0.1:4321; cert {tmp_path}/c.pem; ca {tmp_path}/ca.pem\n"


def test_launch_for_a_protocol_wins_over_launch_tls_and_launch(tmp_path: Path) -> None:
    tail = ('[launch_tls]\ncommand = ["tls"]\n[launch_for.h2c]\ncommand = ["h2c-only"]\n')
    target = load_target_file(write(tmp_path, command='["plain"]', tail=tail))
    cert = tmp_path / "c.pem"

    def argv(protocol: Protocol | None, tls: bool) -> list[str]:
        return target.build_argv(Launch("py", "a:b", "127.0.0.1", 1, cert if tls else None,
                                        cert if tls else None, None, protocol, None))

    assert argv(Protocol.H2C, False) == ["h2c-only"]
    assert argv(Protocol.WS, False) == ["plain"]
    assert argv(Protocol.H2_TLS, True) == ["tls"]


@pytest.mark.parametrize(("extra", "tail", "message"), [
    ('colour = "red"', "", "unknown key"),
    ('protocols2 = 1', "", "unknown key"),
    ("", '[paths]\nhttp_echo = "/"\n', r"unknown key\(s\) \['http_echo'\] in \[paths\]"),
    ("", '[ready]\nhttp = "/"\nwait = 3\n', "in \\[ready\\]"),
])
def test_a_malformed_target_file_names_the_file_and_the_key(
        tmp_path: Path, extra: str, tail: str, message: str) -> None:
    with pytest.raises(TargetFileError, match=message):
        load_target_file(write(tmp_path, extra=extra, tail=tail))


def test_missing_keys_unknown_protocols_and_placeholder_typos_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('name = "x"\nlanguage = "C"\nprotocols = ["h1"]\n[launch]\ncommand=["a"]\n')
    with pytest.raises(TargetFileError, match="implementation"):
        load_target_file(path)
    h3 = tmp_path / "h3.toml"
    h3.write_text(MINIMAL.format(name="h3", command='["a"]', extra="").replace('["h1"]', '["h3"]'))
    with pytest.raises(TargetFileError, match="unknown protocol 'h3'"):
        load_target_file(h3)
    with pytest.raises(TargetFileError, match="unknown placeholder"):
        load_target_file(write(tmp_path, command='["srv", "--port", "{prot}"]'))


def test_a_target_requiring_a_missing_executable_cannot_run_and_says_why(tmp_path: Path) -> None:
    target = load_target_file(write(tmp_path, extra='requires = ["no-such-server-binary-xyz"]'))
    assert "no-such-server-binary-xyz" in (target.unavailable_reason() or "")
    with pytest.raises(TargetUnavailable, match="no-such-server-binary-xyz"):
        target.start("a:b")


def test_a_target_file_launches_a_real_server_and_waits_for_http(tmp_path: Path) -> None:
    """[ready] http: the run waits for a 2xx-4xx answer to GET before any suite starts."""
    tail = '[ready]\nhttp = "/"\ntimeout = 20\n[env]\nTOY_HOME = "{here}"\n'
    target = load_target_file(write(tmp_path, tail=tail))
    with target.start("unused:app", protocol=Protocol.H1) as server:
        assert server.running and server.workdir is not None and server.workdir.is_dir()
        import urllib.request
        with urllib.request.urlopen(server.url("http")) as response:
            assert response.status == 200
    assert not server.running and not server.workdir.exists()


def test_a_server_that_exits_at_once_is_unavailable_with_its_log(tmp_path: Path) -> None:
    command = f'["{sys.executable}", "-c", "import sys; print(\'boom-marker\'); sys.exit(3)"]'
    target = load_target_file(write(tmp_path, command=command))
    with pytest.raises(TargetUnavailable, match="(?s)exited with code 3.*boom-marker"):
        target.start("a:b", timeout=10)


def test_a_failing_install_step_makes_the_target_unavailable(tmp_path: Path) -> None:
    extra = f'install = ["{sys.executable}", "-c", "raise SystemExit(7)"]\nname2 = 1'
    with pytest.raises(TargetFileError):
        load_target_file(write(tmp_path, extra=extra))  # name2: unknown key
    extra = f'install = ["{sys.executable}", "-c", "raise SystemExit(7)"]'
    target = load_target_file(write(tmp_path, name=f"toy-install-{tmp_path.name}", extra=extra))
    with pytest.raises(TargetUnavailable, match="exited 7"):
        target.start("a:b")


def test_the_checked_in_registry_loads_and_keeps_the_built_in_peers() -> None:
    """The Python peers are registry entries: same names, protocols and venvs as before."""
    for name in ("blackbull", "blackbull081", "hypercorn", "uvicorn", "daphne", "granian",
                 "websockets"):
        assert name in TARGETS, name
        assert TARGETS[name].source is not None and TARGETS[name].source.is_relative_to(PEERS_DIR)
    assert next(iter(TARGETS)) == "blackbull"
    assert TARGETS["blackbull081"].isolate_repo and TARGETS["daphne"].venv == "daphne"
    assert TARGETS["blackbull"].rfc8441.off == {"BB_H2_ENABLE_WEBSOCKET": "0"}
    assert TARGETS["hypercorn"].rfc8441.off is None
    assert all(t.language and t.description for t in TARGETS.values())
    broken = {n: t.unavailable_reason() for n, t in TARGETS.items()
              if (t.unavailable_reason() or "").startswith("target file error")}
    assert not broken, broken


def test_the_registry_reads_dir_named_files_and_ignores_a_peers_own_toml(tmp_path: Path) -> None:
    from conformance.targets.files import load_directory

    write(tmp_path, name="top")
    (tmp_path / "rusty").mkdir()
    write(tmp_path / "rusty", name="rusty")
    (tmp_path / "rusty" / "Cargo.toml").write_text('[package]\nname = "x"\n')
    assert set(load_directory(tmp_path)) == {"top", "rusty"}
    (tmp_path / "bad.toml").write_text('name = "bad"\n')
    found = load_directory(tmp_path)
    assert "missing required key" in (found["bad"].unavailable_reason() or "")
    with pytest.raises(TargetUnavailable, match="target file error"):
        found["bad"].start("a:b")
    write(tmp_path / "rusty", name="top").rename(tmp_path / "rusty" / "rusty.toml")
    with pytest.raises(TargetFileError, match="already used"):
        load_directory(tmp_path)


def test_bench_servers_are_the_registrys_bench_tables() -> None:
    """One registry: `python -m bench` builds its servers from the target files' [bench]."""
    from bench.servers import SERVERS, Launch

    for name in ("blackbull", "blackbull081", "blackbull081-asgi", "uvicorn", "uvicorn-h11",
                 "uvicorn-wslegacy", "hypercorn", "granian", "daphne", "websockets"):
        assert name in SERVERS, name
    assert SERVERS["blackbull"].ours and SERVERS["blackbull"].extra_env["BB_LOOP"] == "uvloop"
    granian = SERVERS["granian"]
    assert granian.build(Launch(4321, h2_only=True))[granian.build(Launch(4321)).index("--http") + 1] == "2"
    tls = SERVERS["hypercorn"].build(Launch(4321, Path("/c.pem"), Path("/k.pem")))
    assert tls[-4:] == ["--certfile", "/c.pem", "--keyfile", "/k.pem"]
    assert "wsdeflate" not in SERVERS["daphne"].supports


def test_a_bench_table_needs_a_command_and_what_it_supports(tmp_path: Path) -> None:
    with pytest.raises(TargetFileError, match="needs command and supports"):
        load_target_file(write(tmp_path, tail='[bench]\nlabel = "x"\n'))
    with pytest.raises(TargetFileError, match="unknown key"):
        load_target_file(write(tmp_path, tail='[bench]\ncommand = ["a"]\nsupports = []\nspeed = 1\n'))
    ok = load_target_file(write(tmp_path, tail='[bench]\ncommand = ["{bin}/toy", "{port}"]\n'
                                               'supports = ["http1"]\n'
                                               '[bench.variants.toy-fast]\n'
                                               'command = ["{bin}/toy", "--fast"]\n'
                                               'supports = ["http1"]\n'))
    assert set(ok.bench) == {"toy", "toy-fast"}


def test_the_probe_launcher_starts_one_server_per_launch_and_names_its_urls(tmp_path: Path) -> None:
    """h1 and h2c share the cleartext launch, h2-tls and wss the TLS one, a launch_for
    protocol gets its own; https:// when one TLS server speaks HTTP/1.1 and h2 (ALPN)."""
    from conformance.probe_launch import launch_groups, urls_for
    from conformance.targets.base import ServerHandle

    tail = '[launch_tls]\ncommand = ["tls"]\n[launch_for.h2c]\ncommand = ["h2c-only"]\n'
    path = write(tmp_path, command='["plain"]', tail=tail)
    assert launch_groups(load_target_file(path)) == {"plain": [Protocol.H1]}
    multi = load_target_file(path)
    object.__setattr__(multi, "protocols", frozenset(
        {Protocol.H1, Protocol.H2C, Protocol.H1_TLS, Protocol.H2_TLS, Protocol.WSS,
         Protocol.WS_OVER_H2}))
    groups = launch_groups(multi)
    assert groups == {"plain": [Protocol.H1], "for-h2c": [Protocol.H2C],
                      "tls": [Protocol.H1_TLS, Protocol.H2_TLS, Protocol.WSS]}
    handle = ServerHandle("toy", "127.0.0.1", 9, True, None, None, paths={"ws_echo": "/ws"})
    assert urls_for(handle, groups["tls"]) == ["https://127.0.0.1:9/", "wss://127.0.0.1:9/ws"]
    assert urls_for(handle, [Protocol.H2_TLS]) == ["h2://127.0.0.1:9/"]
