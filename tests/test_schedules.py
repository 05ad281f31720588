"""Inputs that change over time: schedules by year, read on the run's calendar."""

from __future__ import annotations

import pytest

from sim.config import ConfigError, parse_scenario
from sim.model import CareSystem
from sim.output import write_run
from sim.parameters import SCHEDULABLE
from sim.schedule import Schedule
from sim.workflows.cli import main
from tests.conftest import small


def test_a_schedule_interpolates_between_years_and_holds_flat_outside():
    s = Schedule((2010, 2016, 2021), (2.0, 1.4, 1.0))
    assert s.at(2005) == 2.0 and s.at(2010) == 2.0
    assert s.at(2013) == pytest.approx(1.7)
    assert s.at(2021) == 1.0 and s.at(2030) == 1.0


def test_years_in_annual_csv_are_reporting_years_from_the_start_year(run_model):
    years = run_model.annual_frame()["year"].tolist()
    start = run_model.params.run.start_year
    assert years == [start, start + 1]


def test_a_schedule_moves_the_lever_year_by_year_and_annual_csv_shows_it():
    scenario = small(run__years=3, run__start_year=2020).with_overrides(
        {"levers.early_help_capacity": {"2020": 1.0, "2022": 2.0}}
    )
    model = CareSystem(scenario)
    model.run()
    a = model.annual_frame()
    assert a["year"].tolist() == [2020, 2021, 2022]
    assert a["levers.early_help_capacity"].tolist() == [1.0, 1.5, 2.0]
    places = a["early_help_places"].tolist()
    assert places[0] < places[1] < places[2]  # more capacity buys more places


def test_a_flat_schedule_gives_byte_identical_outputs_to_the_plain_value(tmp_path):
    plain = small(run__years=2).with_overrides({"levers.funding": 1.2})
    flat = small(run__years=2).with_overrides({"levers.funding": {"2000": 1.2, "2050": 1.2}})
    for name, scenario in (("plain", plain), ("flat", flat)):
        model = CareSystem(scenario)
        model.run()
        write_run(model, tmp_path / name, {}, figure=None)
    for csv in ("annual.csv", "annual_by_la.csv", "placements.csv"):
        assert (tmp_path / "plain" / csv).read_bytes() == (tmp_path / "flat" / csv).read_bytes()


def test_every_lever_and_driver_accepts_a_schedule_and_run_settings_do_not():
    assert "levers.early_help_capacity" in SCHEDULABLE
    assert "population.birth_rate" in SCHEDULABLE
    assert "social_work.posts_per_10k_children" in SCHEDULABLE
    with pytest.raises(ConfigError, match=r"run\.scale takes one value"):
        parse_scenario({"run": {"scale": {"2010": 0.1}}})


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("{ abc = 1.0 }", "schedule year 'abc' is not a year from 1990 to 2100"),
        ("{ 1850 = 1.0 }", "schedule year '1850' is not a year from 1990 to 2100"),
        ('{ 2010 = "lots" }', "levers.funding = 'lots' is not allowed: a number from 0 to 5"),
        ("{ 2010 = 9.0 }", "levers.funding = 9.0 is out of range"),
        ("{}", "a schedule needs at least one year"),
    ],
)
def test_a_bad_schedule_is_refused_in_one_line_and_nothing_is_written(
    tmp_path, capsys, schedule, message
):
    path = tmp_path / "bad.toml"
    path.write_text(f"[levers]\nfunding = {schedule}\n")
    out = tmp_path / "out"
    code = main(["run", str(path), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "levers.funding" in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()
