"""Scenario files and the command line: every mistake gets one clear message, exit 2, and
nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from policies import preset_scenarios
from sim.config import ConfigError, Scenario, load_scenario
from sim.workflows.cli import default_toml, main

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.toml"
    path.write_text(text)
    return path


def error_of(tmp_path, text: str) -> str:
    with pytest.raises(ConfigError) as err:
        load_scenario(write(tmp_path, text))
    return str(err.value)


def test_a_typo_names_the_key_and_suggests_the_nearest(tmp_path):
    msg = error_of(tmp_path, "[levers]\nearly_help_capcity = 2.0\n")
    assert "levers.early_help_capcity" in msg and "levers.early_help_capacity" in msg


def test_an_unknown_section_lists_the_sections(tmp_path):
    msg = error_of(tmp_path, "[lever]\nfunding = 1.0\n")
    assert "[lever]" in msg and "'levers'" in msg


def test_a_value_out_of_range_names_key_value_and_range(tmp_path):
    msg = error_of(tmp_path, "[run]\nscale = 3.0\n")
    assert "run.scale" in msg and "3.0" in msg and "0.0005 to 1" in msg


def test_a_value_of_the_wrong_type_is_refused(tmp_path):
    assert "run.years" in error_of(tmp_path, '[run]\nyears = "ten"\n')
    assert "run.years" in error_of(tmp_path, "[run]\nyears = 2.5\n")
    assert "run.record_events" in error_of(tmp_path, "[run]\nrecord_events = 1\n")


def test_an_unknown_region_suggests_the_nearest(tmp_path):
    msg = error_of(tmp_path, '[run]\nregion = "North Wast"\n')
    assert "'North West'" in msg


def test_a_malformed_file_says_where(tmp_path):
    msg = error_of(tmp_path, "[levers]\nfunding = = 2\n")
    assert "malformed TOML" in msg and "line 2" in msg


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_scenario(tmp_path / "nope.toml")


def test_values_are_kept_and_the_rest_defaulted(tmp_path):
    s = load_scenario(write(tmp_path, 'name = "x"\n[levers]\nfunding = 0.9\n'))
    assert s.name == "x" and s.levers.funding == 0.9 and s.run.years == Scenario().run.years


@pytest.mark.parametrize(
    "argv, key",
    [
        (["--years", "0"], "run.years"),
        (["--scale", "2"], "run.scale"),
        (["--region", "Narnia"], "run.region"),
    ],
)
def test_the_command_line_refuses_bad_values_and_writes_nothing(tmp_path, capsys, argv, key):
    out = tmp_path / "out"
    assert main(["run", "--out", str(out), *argv]) == 2
    err = capsys.readouterr().err
    assert key in err and err.count("\n") == 1
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_a_bad_scenario_file_on_the_command_line_exits_2(tmp_path, capsys):
    bad = write(tmp_path, "[need]\npovrety_effect = 1\n")
    assert main(["run", str(bad), "--out", str(tmp_path / "out")]) == 2
    assert "need.poverty_effect" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_argparse_mistakes_also_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--years", "many"])
    assert exit_.value.code == 2


def test_every_preset_scenario_loads():
    presets = preset_scenarios()
    assert {"default", "double_early_help", "within_20_miles", "market_squeeze"} <= set(presets)
    for path in presets.values():
        load_scenario(path)


def test_the_default_scenario_file_lists_every_parameter_as_generated():
    assert (ROOT / "policies/scenarios/default.toml").read_text() == default_toml()
    assert load_scenario(ROOT / "policies/scenarios/default.toml").values == Scenario().values
