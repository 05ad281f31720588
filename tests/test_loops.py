"""``cscsim loops SCENARIO.toml``: the weekly loop status of a run as CSV, without a browser.

The acceptance of issue 14 is that the measure (docs/teaching.md, the app's) shows the crisis
trap driving in the ``crisis_trap`` scenario, the market squeeze in ``market_squeeze``, and no
reinforcing loop most of the time in the default. The first two do not hold for this model
and measure (measured on 26 November 2026 from the app's 20-year warm start: R1 0 and R2 1
of 222 assessed weeks), and the measure is not tuned to make
them hold: they are marked as expected failures, strict, so they turn red the day the model
or the measure makes them true and the mark must be removed. Runs use ``--scale 0.02``: each takes
a few seconds after its warm start (about 6 CPU seconds, kept for the session: conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

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


@pytest.mark.xfail(strict=True, reason="measured 0 of 222 weeks (26 Nov 2026, 20-year warm "
                   "start; also 0 with funding cut in year 2 or over five years): "
                   "need -> entries hardly counts; the cut's effect on entries comes a year or "
                   "more later at 1-2% a quarter, below the noise of ~2.4 entries a week, and "
                   "early help sits at its floor from year 2 (docs/teaching.md)")
def test_crisis_trap_drives_most_weeks_after_the_first_year(tmp_path) -> None:
    df = _after_first_year(_loops(tmp_path, "crisis_trap"))
    assert df.R1_driving.mean() > 0.5


@pytest.mark.xfail(strict=True, reason="measured 1 of 222 weeks (26 Nov 2026, 20-year warm "
                   "start): breakdowns -> in-house places full has no mechanism (own "
                   "carers' places are refilled at once and stay full whatever the demand), "
                   "so R2 does not close")
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
