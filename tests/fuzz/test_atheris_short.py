"""A short budget of the coverage-guided fuzzing (``python -m fuzz``) in the normal test
run: each target under atheris for a few seconds, with no finding."""
from __future__ import annotations

import pytest

from fuzz.__main__ import run_target
from fuzz.targets import TARGETS

SECONDS = 4


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_target_survives_a_short_fuzzing_budget(name: str) -> None:
    """Coverage-guided fuzzing: no exception escapes the target (protocol errors are
    values) during the budget, and the fuzzer really ran."""
    result = run_target(name, SECONDS)
    assert result["status"] == "ok", result
    assert int(result["runs"]) > 100, result  # type: ignore[call-overload]
