"""cscsim calibrate: a real optimiser that moves parameters, reproducibly, and writes its fit."""

from __future__ import annotations

import filecmp
import math
import tomllib

import pandas as pd
import pytest

from sim.config import load_scenario
from sim.parameters import BY_NAME
from sim.workflows.calibration import FREE, loss_terms
from sim.workflows.cli import main
from sim.workflows.targets import targets

TINY = ["--scale", "0.002", "--years", "1", "--burn-in", "0", "--workers", "2", "--quiet"]


def test_a_small_fit_is_reproducible_and_writes_a_loadable_scenario(tmp_path):
    for name in ("a", "b"):
        args = ["calibrate", "--out", str(tmp_path / name), "--seed", "5", "--trials", "3"]
        assert main([*args, "--sampler", "tpe", *TINY, "--burn-in", "1"]) == 0
    assert filecmp.cmp(tmp_path / "a/trials.csv", tmp_path / "b/trials.csv", shallow=False)
    trials = pd.read_csv(tmp_path / "a/trials.csv")
    assert len(trials) == 3 and trials["loss"].gt(0).all()
    assert trials[list(FREE)].nunique().max() > 1  # the optimiser really moved parameters
    fitted = load_scenario(tmp_path / "a/fitted.toml")
    best = trials.loc[trials["loss"].idxmin()]
    for key in FREE:
        assert abs(fitted.get(key) - best[key]) <= 1e-5 * max(1.0, abs(best[key]))
    assert set(tomllib.loads((tmp_path / "a/fitted.toml").read_text())) >= {"run", "need"}
    assert fitted.run.burn_in_years == 1  # validation runs the burn-in the fit was scored after


def test_cma_es_starts_from_the_current_values_and_runs_whole_generations(tmp_path):
    assert main(["calibrate", "--out", str(tmp_path), "--trials", "2", *TINY]) == 0
    trials = pd.read_csv(tmp_path / "trials.csv")
    start = load_scenario(None)
    assert all(trials.loc[0, k] == start.get(k) for k in FREE)  # trial 0 is the start itself
    population = 4 + int(3 * math.log(len(FREE)))  # CMA-ES's default population size
    assert len(trials) == 1 + population  # the starting point, then one whole generation
    assert trials.loc[1:, list(FREE)].std().gt(0).all()


def test_free_parameters_are_searched_inside_their_allowed_ranges():
    for key, (lo, hi, _) in FREE.items():
        p = BY_NAME[key]
        assert p.lo <= lo < hi <= p.hi, key
        assert p.basis in ("calibrated", "assumption"), f"{key} is {p.basis}: should be fixed"


def test_the_loss_is_zero_only_on_target():
    on_target = pd.DataFrame({t.column: [t.value, t.value] for t in targets()})
    assert sum(loss_terms(on_target).values()) == 0
    off = on_target.copy()
    off["cla_rate_per_10k"] = [70.0, 84.0]  # drifting upwards and off on average
    terms = loss_terms(off)
    assert terms["drift_cla_rate_per_10k"] > 0 and terms["cla_rate_per_10k"] > 0
    assert terms["drift_share_ifa"] == 0


def test_bad_settings_are_refused(tmp_path, capsys):
    assert main(["calibrate", "--trials", "0", "--out", str(tmp_path / "x")]) == 2
    assert "--trials" in capsys.readouterr().err
    assert main(["calibrate", "--scale", "7", "--out", str(tmp_path / "x")]) == 2
    assert "run.scale" in capsys.readouterr().err
    typo = ["calibrate", "--free", "care.reunification_rat", "--out", str(tmp_path / "x")]
    assert main(typo) == 2
    err = capsys.readouterr().err
    assert "care.reunification_rat" in err and "care.reunification_rate" in err
    assert not (tmp_path / "x").exists()


def test_every_target_is_a_model_indicator_with_a_source():
    from sim.indicators import BY_NAME as INDICATORS

    for t in targets():
        assert t.column in INDICATORS, t.column
        assert t.source and t.value > 0 and t.tolerance > 0


def test_fitting_a_scheduled_driver_sets_its_level_today_and_keeps_its_path():
    """Adoption practice follows England's adoptions per child in care (a driver's path, data);
    what the history fits is today's hazard, so every year of the path scales with it."""
    from sim.workflows.calibration import current, with_fitted
    from sim.workflows.history import history_scenario

    start, _ = history_scenario(None)
    path = start.get("care.adoption_rate")
    assert current(start, "care.adoption_rate") == path.at(2024)
    fitted = with_fitted(start, {"care.adoption_rate": path.at(2024) / 2})
    halved = fitted.get("care.adoption_rate")
    assert halved.years == path.years
    for year in (2010, 2015, 2020, 2024):
        assert halved.at(year) == pytest.approx(path.at(year) / 2, rel=1e-5)


def test_a_start_outside_a_keys_range_starts_the_search_at_its_edge():
    """A scenario may set a rate to 0 (allowed for the parameter, below a log range's floor):
    the search starts at the range's edge rather than failing on log(0)."""
    from sim.workflows.calibration import RANGES, _from_unit, _to_unit

    lo, hi, _ = RANGES["care.adoption_rate"]
    assert _to_unit("care.adoption_rate", 0.0) == 0.0
    assert _to_unit("care.adoption_rate", 5.0) == 1.0
    assert _from_unit("care.adoption_rate", _to_unit("care.adoption_rate", 0.3)) == (
        pytest.approx(0.3))
    assert (lo, hi) == (0.05, 1.0)


def test_fitting_two_points_of_one_schedule_keeps_both_and_the_rest():
    """A history fit may set several points of one schedule ("key@year"); each keeps the
    others, and the schedule's unfitted points (2024's anchor) stay as they were."""
    from sim.schedule import Schedule
    from sim.workflows.calibration import current, with_fitted
    from sim.workflows.history import history_scenario

    start, _ = history_scenario(None)
    fitted = with_fitted(start, {"social_work.s47_practice_shift@2010": 0.7,
                                 "social_work.s47_practice_shift@2017": 0.2,
                                 "social_work.cpp_level": 2.8})
    practice = fitted.get("social_work.s47_practice_shift")
    assert isinstance(practice, Schedule)
    assert (practice.at(2010), practice.at(2017), practice.at(2024)) == (0.7, 0.2, 0.0)
    assert fitted.get("social_work.cpp_level") == 2.8
    assert current(fitted, "social_work.s47_practice_shift@2017") == 0.2


def test_a_point_the_start_lacks_is_added_between_its_neighbours():
    """The 2014 point of practice (free since the twenty-second session) is not in the 2010
    start's schedule: fitting it adds a point, and the years on either side keep their
    values, so the path bends at 2014 instead of running straight from 2010 to 2017."""
    from sim.workflows.calibration import HISTORY_FREE, current, with_fitted
    from sim.workflows.history import history_scenario

    assert "social_work.s47_practice_shift@2014" in HISTORY_FREE
    start, _ = history_scenario(None)
    before = start.get("social_work.s47_practice_shift")
    assert 2014 not in before.years
    fitted = with_fitted(start, {"social_work.s47_practice_shift@2014": 0.05})
    practice = fitted.get("social_work.s47_practice_shift")
    assert practice.years == tuple(sorted({*before.years, 2014}))
    for year in (2008, 2010, 2017, 2024):
        assert practice.at(year) == before.at(year)
    assert current(fitted, "social_work.s47_practice_shift@2014") == 0.05
    assert practice.at(2012) == pytest.approx((before.at(2010) + 0.05) / 2)
