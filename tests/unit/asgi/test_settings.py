"""Settings: one object from BB_* variables, documented in the README."""
from __future__ import annotations

import pytest

from blackbull.config import Settings
from tests.conftest import ROOT


def test_every_setting_is_documented_in_the_readme_table():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("<!-- settings-table -->")[1].split("<!-- /settings-table -->")[0]
    documented = {line.split("`")[1] for line in table.splitlines() if line.startswith("| `")}
    assert documented == {env for env, _, _ in Settings.describe()}


def test_environment_values_are_converted_by_type():
    s = Settings.from_env({"BB_H2_ENABLE_WEBSOCKET": "1", "BB_H1_MAX_BODY": "1024",
                           "BB_GRACEFUL_TIMEOUT": "2.5", "BB_WS_PERMESSAGE_DEFLATE": "off"})
    assert s.h2_enable_websocket is True and s.h1_max_body == 1024
    assert s.graceful_timeout == 2.5 and s.ws_permessage_deflate is False


def test_invalid_environment_value_is_a_clear_error():
    with pytest.raises(ValueError, match="BB_H1_MAX_BODY"):
        Settings.from_env({"BB_H1_MAX_BODY": "lots"})


def test_overrides_win_over_the_environment():
    s = Settings.from_env({"BB_H1_MAX_BODY": "1"}, h1_max_body=5)
    assert s.h1_max_body == 5


def test_readme_table_is_exactly_what_the_generator_writes():
    """Defaults and meanings too, not only the names: ``python scripts/settings_table.py``."""
    import runpy

    generator = runpy.run_path(str(ROOT / "scripts" / "settings_table.py"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert generator["render"](readme) == readme, "run: python scripts/settings_table.py"
