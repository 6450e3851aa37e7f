"""docker-compose.yml (issue 14 §7): the peer services are generated from the target files
(one description), every independent implementation has one, h2spec services exist for
the transports each lists, the RFC 8441 matrix runs as `interop`, and the file validates
with Docker Compose itself (`docker compose config`, or Debian's `docker-compose`, which
scripts/install-peers.sh installs)."""
from __future__ import annotations

import os
import shutil
import subprocess

import yaml

from conformance import compose
from conformance.compose import COMPOSE_FILE, IMAGES, PEERS_DIR, REPO, load, render


def _services() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


def test_peer_services_are_generated_from_the_target_files() -> None:
    """The block between the markers is what `python -m conformance.compose` generates now."""
    assert compose.current_block(COMPOSE_FILE.read_text()) == compose.block(), (
        "stale: run python -m conformance.compose --write")
    assert compose.main(["--check"]) == 0


def test_every_independent_peer_has_a_service_running_its_launches() -> None:
    """Each non-Python target file in the registry has a service in its official image that
    runs that file's install and both launches, with the contract ports 8080 and 8443."""
    others = sorted(p.stem for p in PEERS_DIR.glob("*.toml") if load(p.stem)["language"] != "Python")
    assert others == sorted(IMAGES), "a peer target file without a compose image, or vice versa"
    services = _services()
    for name in others:
        data, svc = load(name), services[name]
        assert svc["image"] == IMAGES[name].image
        assert svc["labels"]["org.blackbull.protocols"] == ",".join(data["protocols"])
        command = svc["command"][0]
        values = {**compose.CONTAINER, "port": "8080", "workdir": "/tmp/work-8080",
                  "cert": "", "key": "", "protocol": "h2c"}
        assert " ".join(render(a, values) for a in data["launch"]["command"]) in command
        if "install" in data:
            assert " ".join(render(a, compose.CONTAINER) for a in data["install"]) in command
        tls_values = {**compose.CONTAINER, "port": "8443", "workdir": "/tmp/work-8443",
                      "protocol": "h2-tls"}
        launch_tls = data.get("launch_tls", data["launch"])["command"]
        assert " ".join(render(a, tls_values) for a in launch_tls) in command


def test_h2spec_services_cover_each_peers_http2_transports() -> None:
    """h2spec 2.6.0 strict (-S) against every h2c / h2-tls a peer lists, in profile `peers`."""
    services = _services()
    for name in IMAGES:
        protocols = load(name)["protocols"]
        for proto, svc_name, port in (("h2c", f"h2spec-{name}", "8080"),
                                      ("h2-tls", f"h2spec-{name}-tls", "8443")):
            assert (svc_name in services) == (proto in protocols), svc_name
            if proto in protocols:
                svc = services[svc_name]
                assert svc["image"] == compose.H2SPEC_IMAGE and "-S" in svc["command"]
                assert svc["command"][svc["command"].index("-p") + 1] == port
                assert svc["profiles"] == ["peers"]


def test_interop_service_runs_the_rfc8441_matrix() -> None:
    """`docker compose up interop` builds conformance/interop/Dockerfile and runs the matrix."""
    svc = _services()["interop"]
    dockerfile = REPO / svc["build"]["dockerfile"]
    assert "python\", \"-m\", \"conformance.interop" in dockerfile.read_text()
    assert "npm ci --prefix conformance/targets/peers/node" in dockerfile.read_text()


def _compose_available() -> bool:
    if shutil.which("docker-compose"):
        return True
    return shutil.which("docker") is not None and subprocess.run(
        ["docker", "compose", "version"], capture_output=True, timeout=60).returncode == 0


def test_docker_compose_validates_the_file() -> None:
    """The Compose implementation's own validation (no engine needed)."""
    if not _compose_available():
        # scripts/install-peers.sh installs Debian's docker-compose (BB_PEERS=none: only that).
        subprocess.run([str(REPO / "scripts" / "install-peers.sh")], capture_output=True,
                       timeout=900, env={**os.environ, "BB_PEERS": "none"})
    if shutil.which("docker-compose"):
        argv = ["docker-compose", "-f", str(COMPOSE_FILE), "config", "-q"]
    else:
        argv = ["docker", "compose", "-f", str(COMPOSE_FILE), "config", "-q"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, (argv, proc.stdout, proc.stderr,
                                  "install Debian docker-compose: scripts/install-peers.sh")
