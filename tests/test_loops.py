"""``cscsim loops SCENARIO.toml``: the weekly loop status of a run as CSV, without a browser.

The acceptance of issue 14 is that the measure (docs/teaching.md, the app's) shows the crisis
trap driving in the ``crisis_trap`` scenario, the market squeeze in ``market_squeeze``, and no
reinforcing loop most of the time in the default. The first two do not hold for this model
and measure, and the measure is not tuned to make them hold: they are marked as expected
failures, strict, so they turn red the day the model or the measure makes them true and the
mark must be removed. Measured on 26 November 2026 with the presets' change made in year 2,
after a warm start at today's values: R1 0 and R2 0 of 208 weeks after the first year, at
the tests' scale and also at 0.1, 0.5 and the app's (North East, 0.25), where noise lights
fewer links, not more (docs/teaching.md, "What it shows today"). Runs use ``--scale 0.02``:
each takes a few seconds after its warm start (about 6 CPU seconds, kept for the session:
conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.config import Scenario, load_scenario
from sim.workflows.cli import main
from sim.workflows.loops import LOOPS

SCENARIOS = Path(__file__).resolve().parents[1] / "policies" / "scenarios"
WEEKS = 260


def _loops(tmp_path: Path, name: str, weeks: int = WEEKS) -> pd.DataFrame:
    out = tmp_path / name
    code = main(["loops", str(SCENARIOS / f"{name}.toml"), "--weeks", str(weeks),
                 "--scale", "0.02", "--out", str(out)])
    assert code == 0
    return pd.read_csv(out / "loops.csv")


def _after_first_year(df: pd.DataFrame) -> pd.DataFrame:
    return df[(df.week >= 52) & df.ready]


def test_writes_one_row_a_week_with_every_loop(tmp_path) -> None:
    df = _loops(tmp_path, "default", weeks=45)
    assert list(df.week) == list(range(45))
    for key in LOOPS:
        assert {f"{key}_driving", f"{key}_score", f"{key}_direction"} <= set(df.columns)
    # the measure needs three 13-week windows: nothing is assessed, so nothing drives, before
    assert not df.ready[:38].any() and df.ready[38:].all()
    assert not df.loc[~df.ready, [f"{k}_driving" for k in LOOPS]].any().any()


def test_default_has_no_reinforcing_loop_driving_most_of_the_time(tmp_path) -> None:
    df = _after_first_year(_loops(tmp_path, "default"))
    reinforcing = df[[f"{k}_driving" for k in LOOPS if k.startswith("R")]].any(axis=1)
    assert reinforcing.mean() < 0.5


@pytest.mark.parametrize("name, lever, later", [
    ("crisis_trap", "funding", 0.85),
    ("market_squeeze", "local_sufficiency", 0.7),
    ("market_squeeze", "for_profit_share", 0.9),
])
def test_trap_presets_make_their_change_after_the_warm_start(name, lever, later) -> None:
    """The warm start runs at the first year's values (sim/model.py: _burn_in), so a preset
    that shows a loop starting must schedule its change: today's value in year 1, the change
    from year 2. Given as one value, the change would play out before week 0."""
    s = load_scenario(SCENARIOS / f"{name}.toml")
    year = s.run.start_year
    today = getattr(Scenario().at_year(year).levers, lever)
    assert getattr(s.at_year(year).levers, lever) == today != later
    assert getattr(s.at_year(year + 1).levers, lever) == later


@pytest.mark.xfail(strict=True, reason="measured 0 of 208 weeks after the first year (26 Nov "
                   "2026, cut in year 2 after a warm start at today's funding; 0 also at scale "
                   "0.1, 0.5 and the app's North East 0.25): need -> entries transmitted in 0 "
                   "weeks at every scale: against the same run without the trap (scale 0.5) "
                   "early help is 67% lower from year 3 and entries only 1-4% higher, far below "
                   "a quarter's noise; against its twin on the same seed (27 Nov 2026, "
                   "scripts/loops_against_twin.py, scale 0.1), with the noise gone, rising need "
                   "is 0.4-1.3% higher and entries 0-6% (docs/teaching.md)")
def test_crisis_trap_drives_most_weeks_after_the_first_year(tmp_path) -> None:
    df = _after_first_year(_loops(tmp_path, "crisis_trap"))
    assert df.R1_driving.mean() > 0.5


@pytest.mark.xfail(strict=True, reason="measured 0 of 208 weeks after the first year (26 Nov "
                   "2026, squeeze from year 2; 0 also at scale 0.1, 0.5 and the app's): "
                   "for-profit, distant -> breakdowns has next to no effect in the model (share "
                   "1-5% higher than default, breakdowns -1.6% to +0.4%, scale 0.5) and "
                   "breakdowns -> in-house places full has no mechanism, so R2 does not close; "
                   "against its twin on the same seed (scale 0.1) the share placed for profit or "
                   "far away grows to +11% and breakdowns show no trend (-4% to +9%)")
def test_market_squeeze_drives_for_a_sustained_stretch(tmp_path) -> None:
    df = _after_first_year(_loops(tmp_path, "market_squeeze"))
    runs = df.R2_driving.astype(int).groupby((~df.R2_driving).cumsum()).sum()
    assert runs.max() >= 13  # a quarter in a row


@pytest.mark.parametrize("argv, message", [
    (["no_such.toml"], "no such file"),
    ([str(SCENARIOS / "default.toml"), "--weeks", "0"], "--weeks 0"),
    ([str(SCENARIOS / "default.toml"), "--scale", "7"], "run.scale"),
    ([str(SCENARIOS / "default.toml"), "--out", "/dev/null"], "not a folder"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, argv,
                                                          message) -> None:
    out = tmp_path / "out"
    if "--out" not in argv:
        argv = [*argv, "--out", str(out)]
    assert main(["loops", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert not out.exists()
