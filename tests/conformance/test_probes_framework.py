"""The probe framework: statuses are honest, and the exit code follows MUST-level failures.

These tests drive the runner with probes made here against a tiny TCP server on loopback
(and a closed port), so they check the framework rather than any RFC.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from conformance.probes import __main__ as cli
from conformance.probes.model import Level, Outcome, Probe, Verdict
from conformance.probes.runner import mandatory_failures, run_target, to_case
from conformance.probes.target import Target, TargetError


@pytest.fixture
def echo_server():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    stop = threading.Event()

    def serve():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    data = conn.recv(100)
                    if data:
                        conn.sendall(data)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield srv.getsockname()[1]
    stop.set()
    thread.join(2)
    srv.close()


def _probe(pid: str, func, level: Level = Level.MUST) -> Probe:
    return Probe(id=pid, level=level, requirement="r", conforming="c",
                 transports=frozenset({"h1"}), func=func)


def _echo_check(ctx):
    wire = ctx.connect()
    wire.send(b"ping")
    data = wire.recv(2.0)
    return Verdict.passed() if data == b"ping" else Verdict.failed(f"got {data!r}")


def test_statuses_map_outcomes_without_counting_anything_but_pass(echo_server):
    """A raising probe is an error, not-applicable is not-supported, undecided is an error."""
    target = Target.parse(f"http://127.0.0.1:{echo_server}/")

    def boom(ctx):
        raise RuntimeError("bug in probe")

    probes = [
        _probe("rfc9112/1/1", _echo_check),
        _probe("rfc9112/1/2", boom),
        _probe("rfc9112/1/3", lambda ctx: Verdict.not_applicable("no such route")),
        _probe("rfc9112/1/4", lambda ctx: Verdict.undecided("timed out")),
        _probe("rfc9112/1/5", lambda ctx: Verdict.failed("wrong"), level=Level.SHOULD),
    ]
    [result] = run_target(target, probes, timeout=2.0, jobs=2)
    status = {c.id: c.status for c in result.cases}
    assert status == {"rfc9112/1/1": "pass", "rfc9112/1/2": "error",
                      "rfc9112/1/3": "not-supported", "rfc9112/1/4": "error",
                      "rfc9112/1/5": "fail"}
    assert result.summary["pass"] == 1
    # the SHOULD-level failure is not a MUST-level one
    assert mandatory_failures([result]) == 0


def test_a_failed_must_keeps_what_the_probe_saw(echo_server):
    target = Target.parse(f"http://127.0.0.1:{echo_server}/")

    def wrong(ctx):
        wire = ctx.connect()
        wire.send(b"hello")
        wire.recv(2.0)
        return Verdict(Outcome.FAIL, "echo was judged wrong")

    [result] = run_target(target, [_probe("rfc9112/2/1", wrong)], timeout=2.0)
    [case] = result.cases
    assert case.status == "fail" and mandatory_failures([result]) == 1
    assert any("hello" in line for line in case.extra["seen"])


def test_unreachable_target_is_an_error_run_and_exit_2():
    """A server that is not there is COULD NOT RUN (status error), never a pass."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends
    target = Target.parse(f"http://127.0.0.1:{port}/")
    [result] = run_target(target, [_probe("rfc9112/3/1", _echo_check)], timeout=1.0)
    assert result.status == "error" and not result.cases
    assert "cannot connect" in result.message


def test_a_bad_url_is_exit_2():
    assert cli.main(["--url", "ftp://127.0.0.1/"]) == 2


def test_url_schemes_and_transports():
    assert Target.parse("https://127.0.0.1:8443/x").transports == ("h1-tls", "h2")
    assert Target.parse("h2c://[::1]:80/").authority == "[::1]:80"
    assert Target.parse("wss://localhost/ws").port == 443
    with pytest.raises(TargetError):
        Target.parse("ftp://127.0.0.1/")


def test_probe_ids_must_name_rfc_and_section():
    with pytest.raises(ValueError):
        _probe("9113-6.5", _echo_check)
    assert _probe("rfc9113/6.5.2/1", _echo_check).url.endswith("rfc9113#section-6.5.2")


def test_to_case_carries_level_and_link(echo_server):
    p = _probe("rfc9112/4/1", _echo_check)
    from conformance.probes.runner import ProbeRun
    case = to_case(ProbeRun(p, "h1", Verdict.passed(), 0.01))
    assert case.extra["level"] == "MUST" and case.extra["mandatory"] is True
    assert case.rfc == "RFC 9112" and case.section == "4"


def test_committed_coverage_document_is_what_the_probes_generate():
    """conformance/probes/COVERAGE.md is generated: regenerate it with
    ``python -m conformance.probes --coverage conformance/probes/COVERAGE.md``."""
    from conformance.probes import load_all
    from conformance.probes.coverage import render
    from conformance.probes.runner import select

    committed = (Path(__file__).resolve().parents[2] / "conformance" / "probes" / "COVERAGE.md")
    assert render(select(load_all().values(), None)) == committed.read_text(encoding="utf-8")
