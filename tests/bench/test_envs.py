"""The peer venvs are rebuilt only when their pins change (no network in these tests)."""
from __future__ import annotations

from pathlib import Path

import pytest

from bench.envs import ENVS, PeerEnv, clean_env


def test_a_venv_is_ready_only_for_exactly_its_pins(tmp_path: Path) -> None:
    env = PeerEnv("peer", ("a==1", "b==2"), root=tmp_path)
    assert not env.is_ready()
    env.path.mkdir()
    (env.path / ".bench-pins").write_text("a==1\nb==2")
    assert env.is_ready()
    assert not PeerEnv("peer", ("a==1", "b==3"), root=tmp_path).is_ready()


def test_published_blackbull_lives_in_its_own_venv() -> None:
    """blackbull==0.81.0 must never share an environment with the working tree."""
    holders = [e.name for e in ENVS.values()
               if any(r.startswith("blackbull") for r in e.requirements)]
    assert holders == ["blackbull081"]
    assert "blackbull==0.81.0" in ENVS["blackbull081"].requirements


def test_peer_processes_do_not_inherit_our_pythonpath(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", "/work/main")
    env = clean_env({"BB_X": "1"})
    assert "PYTHONPATH" not in env and env["BB_X"] == "1"
