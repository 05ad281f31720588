"""Accounting identities that must hold every week of every run."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import CareSystem
from sim.population import End

from .conftest import small


def check_week(model: CareSystem) -> None:
    c, f, pl, t = model.pop.children, model.pop.families, model.pop.placements, model.providers
    # Every child is in exactly one state: at home, looked after, or gone (18, adopted, SGO).
    at_home = c.active & ~c.in_care
    gone = ~c.active & ~c.in_care
    assert np.all(at_home.astype(int) + c.in_care + gone == 1)
    # A looked-after child has exactly one open placement, and it is theirs.
    open_ = np.flatnonzero(pl.end_reason == End.OPEN)
    assert len(open_) == c.in_care.sum()
    # (placements hold children's ids, their serials: sim/population.py, compact)
    assert np.array_equal(np.sort(pl.child[open_]), c.serial[np.flatnonzero(c.in_care)])
    assert np.all(pl.end_reason[c.placement[c.in_care]] == End.OPEN)
    # Providers: occupancy is the number of open placements with them, never above capacity.
    counted = np.bincount(pl.provider[open_][pl.provider[open_] >= 0], minlength=t.n)
    assert np.array_equal(t.occupied, counted)
    assert np.all(t.occupied <= t.capacity)
    assert np.all(t.occupied[~t.active] == 0)
    # No negative counts anywhere.
    assert (c.age >= 0).all() and (t.capacity >= 0).all() and (f.case >= 0).all()
    for name, arr in model.flows.items():
        assert (arr >= 0).all(), name


def test_identities_hold_every_week():
    model = CareSystem(small(run__years=1))
    check_week(model)
    for _ in range(52):
        model.step()
        check_week(model)


def test_regional_totals_are_the_sum_of_authorities(run_model):
    annual, by_la = run_model.annual_frame(), run_model.annual_by_la_frame()
    counts = [
        "children",
        "cla",
        "cin",
        "cpp",
        "care_entries",
        "care_exits",
        "referrals",
        "s47_enquiries",
        "placement_breakdowns",
        "spend_placements_gbp",
        "overspend_gbp",
    ]
    summed = by_la.groupby("year")[counts].sum().reset_index(drop=True)
    assert np.allclose(summed.to_numpy(), annual[counts].to_numpy())


def test_spending_parts_add_up_to_the_total(run_model):
    for df in (run_model.annual_frame(), run_model.annual_by_la_frame()):
        parts = (
            df["spend_early_help_gbp"] + df["spend_social_work_gbp"] + df["spend_placements_gbp"]
        )
        assert np.allclose(parts, df["spend_total_gbp"])


def test_overspend_is_spending_above_budget(run_model):
    by_la = run_model.annual_by_la_frame()
    assert np.allclose(
        by_la["overspend_gbp"], np.maximum(0, by_la["spend_total_gbp"] - by_la["budget_gbp"])
    )
    region = run_model.annual_frame()  # the region's overspend sums authorities' overspends
    assert (
        region["overspend_gbp"] >= region["spend_total_gbp"] - region["budget_gbp"] - 1e-6
    ).all()


def test_children_in_need_include_plans_and_children_in_care(run_model):
    df = run_model.annual_by_la_frame()
    assert (df["cin"] >= df["cpp"] + df["cla"]).all()


def test_stocks_and_flows_balance(run_model):
    """Children in care at year end = start + entries - exits (year 2, entries and exits
    counted over the same 52 weeks)."""
    a = run_model.annual_frame()
    assert a.loc[1, "cla"] == a.loc[0, "cla"] + a.loc[1, "care_entries"] - a.loc[1, "care_exits"]


def test_every_child_in_care_is_in_one_age_band_at_year_end(run_model):
    """DfE's ages at 31 March partition the children looked after: the five bands add up to
    children in care in every authority, and their shares to one."""
    df = run_model.annual_by_la_frame()
    bands = df[[c for c in df.columns if c.startswith("cla_age_")]]
    assert bands.shape[1] == 5
    assert (bands.sum(axis=1) == df["cla"]).all()
    a = run_model.annual_frame()
    shares = a[[c for c in a.columns if c.startswith("share_cla_age_")]].sum(axis=1)
    assert np.allclose(shares, 1.0)
    assert (a["cla_age_10_15"] > 0).all()


def test_every_exit_has_a_reason(run_model):
    a = run_model.annual_frame()
    reasons = a[["exits_reunified", "exits_sgo", "exits_adopted", "exits_aged_out"]].sum(axis=1)
    assert (reasons == a["care_exits"]).all()
    pl = run_model.pop.placements
    closed = pl.end_reason != End.OPEN
    assert np.all(pl.end[closed] >= pl.start[closed])
    assert np.all(pl.end[~closed] == -1)


@pytest.mark.parametrize("scale", [0.01, 0.04])
def test_rates_do_not_depend_on_scale(scale):
    """Rates per 10,000 are per child: a 1% and a 4% sample give the same picture."""
    model = CareSystem(small(run__scale=scale, run__years=1))
    model.run()
    rate = model.annual_frame().loc[0, "referrals_rate_per_10k"]
    assert 300 < rate < 1200


def test_a_burn_in_runs_before_year_one_and_is_not_reported():
    """With a burn-in, year 1 starts at week 0 from the burn-in's end state: only the years
    after it are reported, and the stocks it leaves carry into year 1's accounts."""
    from sim.output import placements_frame

    model = CareSystem(small(run__years=1, run__burn_in_years=1))
    assert model.week == -1 and model.annual == []  # the burn-in's year is not reported
    check_week(model)
    in_care = int(model.pop.children.in_care.sum())
    model.run()
    a = model.annual_frame()
    assert a["year"].tolist() == [model.params.run.start_year] and model.week == 51
    assert a.loc[0, "cla"] == in_care + a.loc[0, "care_entries"] - a.loc[0, "care_exits"]
    # Placements that ended during the burn-in ended at negative weeks; open ones have no end.
    frame = placements_frame(model)
    assert (frame["end_week"].dropna() < 0).any()
    assert frame["end_week"].isna().sum() == model.pop.children.in_care.sum()
