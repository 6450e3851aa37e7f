"""The Autobahn harness: report conversion, runner choice, compose file, and one real run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.autobahn.fuzz import client_spec, not_supported
from conformance.autobahn.install import suite_requirements
from conformance.autobahn.results import (
    RunInfo,
    behavior_counts,
    case_status,
    convert,
    resolve_patterns,
)
from conformance.autobahn.runners import Probe, RunnerUnavailable, select_runner

ROOT = Path(__file__).resolve().parents[2]
INFO = RunInfo("demo", "ws", "python2.7", "25.10.1", "2026-11-21T07:00:00Z", 1.0)


def _write_index(tmp_path: Path, entries: dict[str, tuple[str, str]]) -> Path:
    """A miniature Autobahn report directory: index.json plus one JSON per case."""
    index: dict[str, Any] = {"demo": {}}
    for case_id, (behavior, close) in entries.items():
        name = f"demo_case_{case_id.replace('.', '_')}.json"
        index["demo"][case_id] = {"behavior": behavior, "behaviorClose": close, "duration": 3,
                                  "remoteCloseCode": 1000, "reportfile": name}
        (tmp_path / name).write_text(json.dumps({
            "description": f"description of {case_id}", "result": f"result of {case_id}",
            "resultClose": "close result"}))
    path = tmp_path / "index.json"
    path.write_text(json.dumps(index))
    return path


@pytest.mark.parametrize(("behavior", "close", "status"), [
    ("OK", "OK", "pass"),
    ("INFORMATIONAL", "OK", "informational"),
    ("INFORMATIONAL", "INFORMATIONAL", "informational"),
    ("OK", "INFORMATIONAL", "informational"),
    ("NON-STRICT", "OK", "fail"),
    ("FAILED", "OK", "fail"),
    ("UNIMPLEMENTED", "OK", "fail"),
    ("OK", "FAILED", "fail"),
    ("OK", "WRONG CODE", "fail"),
    ("OK", "UNCLEAN", "fail"),
])
def test_case_status_maps_autobahn_verdicts(behavior: str, close: str, status: str) -> None:
    assert case_status(behavior, close) == status


def test_convert_builds_common_schema_with_descriptions_and_sections(tmp_path: Path) -> None:
    index = _write_index(tmp_path, {
        "1.1.1": ("OK", "OK"), "6.4.1": ("NON-STRICT", "OK"), "7.1.6": ("INFORMATIONAL", "OK"),
        "12.1.1": ("UNIMPLEMENTED", "OK"), "9.3.1": ("FAILED", "OK")})
    doc = convert(index, "demo", None, INFO)
    assert doc["schema"] == 1 and doc["suite"] == "autobahn" and doc["status"] == "ok"
    assert doc["tool"] == {"name": "autobahntestsuite", "version": "25.10.1", "runner": "python2.7"}
    by_id = {c["id"]: c for c in doc["cases"]}
    assert [c["id"] for c in doc["cases"]] == ["1.1.1", "6.4.1", "7.1.6", "9.3.1", "12.1.1"]
    assert by_id["1.1.1"]["status"] == "pass" and by_id["1.1.1"]["message"] == ""
    assert by_id["1.1.1"]["description"] == "description of 1.1.1"
    assert (by_id["1.1.1"]["rfc"], by_id["1.1.1"]["section"]) == ("RFC 6455", "5.6")
    assert (by_id["12.1.1"]["rfc"], by_id["12.1.1"]["group"]) == ("RFC 7692", "12")
    assert by_id["6.4.1"]["status"] == "fail"
    assert "NON-STRICT" in by_id["6.4.1"]["message"] and "result of 6.4.1" in by_id["6.4.1"]["message"]
    assert by_id["7.1.6"]["status"] == "informational"
    assert "UNIMPLEMENTED" in by_id["12.1.1"]["message"]
    assert doc["summary"] == {"pass": 1, "fail": 3, "error": 0, "not-supported": 0,
                              "informational": 1, "skipped": 0, "total": 5}
    assert behavior_counts(doc) == {"OK": 1, "NON-STRICT": 1, "INFORMATIONAL": 1,
                                    "UNIMPLEMENTED": 1, "FAILED": 1}


def test_convert_reports_requested_but_missing_cases_as_errors(tmp_path: Path) -> None:
    index = _write_index(tmp_path, {"1.1.1": ("OK", "OK")})
    doc = convert(index, "demo", ["1.1.1", "1.1.2"], INFO)
    missing = next(c for c in doc["cases"] if c["id"] == "1.1.2")
    assert missing["status"] == "error" and "did not run" in missing["message"]
    assert doc["summary"]["pass"] == 1 and doc["summary"]["error"] == 1


def test_convert_without_results_for_agent_is_an_error_document(tmp_path: Path) -> None:
    index = _write_index(tmp_path, {"1.1.1": ("OK", "OK")})
    doc = convert(index, "someone-else", ["1.1.1"], INFO)
    assert doc["status"] == "error" and doc["summary"]["error"] == 1


def test_resolve_patterns_matches_by_prefix_like_wstest_and_excludes() -> None:
    ids = ["1.1.1", "1.1.2", "1.2.1", "10.1.1", "2.1", "2.10"]
    assert resolve_patterns(ids, ["1.*"]) == ["1.1.1", "1.1.2", "1.2.1"]
    assert resolve_patterns(ids, ["1.1.*", "2.*"], ["2.10"]) == ["1.1.1", "1.1.2", "2.1"]
    assert resolve_patterns(ids, ["*"]) == ["1.1.1", "1.1.2", "1.2.1", "2.1", "2.10", "10.1.1"]


def test_not_supported_marks_every_requested_case_and_never_passes() -> None:
    doc = not_supported(INFO, ["1.1.1", "12.1.1"], "demo does not serve wss")
    assert {c["status"] for c in doc["cases"]} == {"not-supported"}
    assert doc["summary"]["pass"] == 0 and doc["summary"]["not-supported"] == 2


def _probe(docker: bool, py27: bool, lib2to3: bool = True) -> Probe:
    return Probe(docker=lambda: docker, python27=lambda: Path("/x/python2.7") if py27 else None,
                 lib2to3=lambda: lib2to3)


def test_runner_selection_prefers_docker_then_python27_then_port() -> None:
    assert select_runner(probe=_probe(True, True)).name == "docker"
    chosen = select_runner(probe=_probe(False, True))
    assert chosen.name == "python2.7" and "docker" in chosen.reasons
    chosen = select_runner(probe=_probe(False, False))
    assert chosen.name == "python3-port" and set(chosen.reasons) == {"docker", "python2.7"}


def test_runner_selection_fails_loudly_when_nothing_can_run() -> None:
    with pytest.raises(RunnerUnavailable):
        select_runner(probe=_probe(False, False, lib2to3=False))


def test_forced_runner_is_checked_not_trusted() -> None:
    assert select_runner("python3-port", _probe(True, True)).name == "python3-port"
    with pytest.raises(RunnerUnavailable, match="docker"):
        select_runner("docker", _probe(False, True))
    with pytest.raises(ValueError):
        select_runner("java", _probe(True, True))


def test_suite_requirements_reads_pins_from_egg_info_and_skips_extras(tmp_path: Path) -> None:
    egg = tmp_path / "autobahntestsuite.egg-info"
    egg.mkdir()
    (egg / "requires.txt").write_text("Twisted==19.10.0\n\nautobahn[twisted]==0.10.9\n\n[dev]\npytest\n")
    assert suite_requirements(tmp_path) == ["Twisted==19.10.0", "autobahn[twisted]==0.10.9"]


def test_client_spec_fills_the_template_with_this_runs_server() -> None:
    spec = client_spec("websockets", "ws://127.0.0.1:1234/", ["1.*"], ["1.2.*"])
    assert spec["servers"] == [{"agent": "websockets", "url": "ws://127.0.0.1:1234/"}]
    assert spec["cases"] == ["1.*"] and spec["exclude-cases"] == ["1.2.*"]
    assert spec["outdir"] == "./reports/servers"


def test_compose_file_parses_and_references_existing_paths() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"blackbull", "autobahn", "h2spec"} <= set(services)
    build = services["blackbull"]["build"]
    assert (ROOT / build["context"] / build["dockerfile"]).is_file()
    assert services["autobahn"]["image"].startswith("crossbario/autobahn-testsuite")
    assert services["h2spec"]["image"].startswith("summerwind/h2spec")
    mounts = [v.split(":") for s in services.values() for v in s.get("volumes", [])]
    named = set(compose.get("volumes") or {})  # Docker-managed volumes, not host paths
    for host, _container, *_mode in mounts:
        if host in named:
            continue
        if host != "./reports":  # created by the run itself
            assert (ROOT / host).exists(), host
    # The mounted config is the one the autobahn service is told to read.
    config_dir = dict((c, h) for h, c, *_ in mounts)["/config"]
    assert (ROOT / config_dir / "fuzzingclient.json").is_file()
    spec = json.loads((ROOT / config_dir / "fuzzingclient.json").read_text())
    assert spec["servers"][0]["url"] == "ws://blackbull:9001"


def test_dockerfile_installs_the_package_and_serves_the_echo_app() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r'pip install .*"\.\[speed\]"', text)
    assert '"blackbull", "conformance.autobahn.echo_app:app", "--bind", "0.0.0.0:9001"' in text


@pytest.mark.slow
def test_real_run_against_websockets_reference_passes_framing_cases(tmp_path: Path) -> None:
    """RFC 6455 §5.6: the reference server echoes Autobahn 1.1.* text messages, all OK."""
    out = tmp_path / "result.json"
    proc = subprocess.run([sys.executable, "-m", "conformance.autobahn", "--target", "websockets",
                           "--cases", "1.1.*", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=1200)
    assert out.exists(), proc.stderr
    doc = json.loads(out.read_text())
    assert doc["status"] == "ok", doc["message"]
    assert doc["tool"]["runner"] in ("docker", "python2.7", "python3-port")
    assert [c["id"] for c in doc["cases"]] == [f"1.1.{i}" for i in range(1, 9)]
    assert doc["summary"]["pass"] == 8 and doc["summary"]["total"] == 8


def test_port_fix_that_no_longer_matches_fails_loudly(tmp_path: Path) -> None:
    from conformance.autobahn.port_py3 import Fix

    (tmp_path / "a.py").write_text("x = range(n / 2)\n")
    assert Fix("*.py", "range(n / 2)", "range(n // 2)").apply(tmp_path) == 1
    assert (tmp_path / "a.py").read_text() == "x = range(n // 2)\n"
    with pytest.raises(RunnerUnavailable, match="did not apply"):
        Fix("*.py", "range(n / 2)", "range(n // 2)").apply(tmp_path)


def test_port_compat_shims_keep_payload_bytes_exact() -> None:
    """RFC 6455 §5.6: payload octets survive the str<->bytes round trip unchanged."""
    from conformance.autobahn.port_py3 import COMPAT_MODULE

    ns: dict[str, Any] = {}
    exec(compile(COMPAT_MODULE, "_py3compat.py", "exec"), ns)
    every_octet = "".join(chr(i) for i in range(256))
    assert ns["to_bytes"](every_octet) == bytes(range(256))
    assert ns["to_bytes"](ns["Utf8Payload"]("µ".encode())) == b"\xc2\xb5"
    assert str(ns["Utf8Payload"]("µ".encode())) == "µ"
    sent = [("message", "\xce\xba", False)]
    received = [("message", b"\xce\xba", False)]
    assert ns["to_bytes_deep"](sent) == ns["to_bytes_deep"](received)
    assert ns["to_text_deep"]({"received": received}) == {"received": [("message", "\xce\xba", False)]}
    assert ns["b2a_hex"]("\xff") == "ff" and ns["b2a_hex"](b"\x01") == "01"


def test_compare_lists_only_cases_whose_verdict_differs() -> None:
    from conformance.autobahn.compare import differences

    def doc(*cases: tuple[str, str]) -> dict[str, Any]:
        return {"cases": [{"id": i, "behavior": b, "behaviorClose": "OK", "status": case_status(b, "OK")}
                          for i, b in cases]}

    a = doc(("1.1.1", "OK"), ("3.4", "NON-STRICT"), ("9.1.1", "OK"))
    b = doc(("1.1.1", "OK"), ("3.4", "OK"))
    assert [d[0] for d in differences(a, b)] == ["3.4", "9.1.1"]


@pytest.mark.slow
@pytest.mark.parametrize("client", ["websockets", "blackbull"])
def test_real_client_mode_run_echoes_through_the_fuzzingserver(tmp_path: Path, client: str) -> None:
    """RFC 6455 §5.3: a client under test echoes Autobahn 1.1.* as a masking client, all OK."""
    out = tmp_path / "result.json"
    proc = subprocess.run([sys.executable, "-m", "conformance.autobahn", "--mode", "client",
                           "--target", client, "--cases", "1.1.*", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=1200)
    assert out.exists(), proc.stderr
    doc = json.loads(out.read_text())
    assert doc["status"] == "ok", doc["message"]
    assert doc["variant"] == "client" and doc["target"] == client
    assert doc["summary"]["pass"] == 8 and doc["summary"]["total"] == 8


def test_client_mode_for_a_target_without_driver_is_not_supported(tmp_path: Path) -> None:
    from conformance.autobahn.client_mode import run_client_mode
    from conformance.autobahn.fuzz import RunOptions
    from conformance.autobahn.runners import Runner

    class KnownCases(Runner):
        def case_ids(self) -> list[str] | None:
            return ["1.1.1", "1.1.2", "2.1"]

    opts = RunOptions(target="uvicorn", mode="client", cases=["1.*"])
    doc = run_client_mode(opts, KnownCases("python2.7", "25.10.1", ("wstest",)), tmp_path, INFO)
    assert [c["status"] for c in doc["cases"]] == ["not-supported", "not-supported"]
    assert doc["summary"]["pass"] == 0


def test_docker_runner_mounts_the_run_directory_and_uses_the_official_image(tmp_path: Path) -> None:
    from conformance.autobahn.runners import DOCKER_IMAGE, prepare_runner

    runner = prepare_runner("docker", tmp_path)
    argv = runner.argv("fuzzingclient", "fuzzingclient.json")
    assert argv[:2] == ["docker", "run"] and DOCKER_IMAGE in argv
    assert f"{tmp_path.resolve()}:/work" in argv and "--network" in argv
    assert argv[-4:] == ["-m", "fuzzingclient", "-s", "fuzzingclient.json"]
    assert runner.case_ids() is None  # no local interpreter to list the suite's cases
