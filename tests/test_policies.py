"""Policies (docs/policies.md): timed, targeted, costed reforms, written as [[policies]] tables.

Each test states one promise a policy makes, on a small run (a 1-2% sample of the North East,
at most a year)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from policies.base import date_of_week, week_of
from sim.config import ConfigError, Scenario, load_scenario
from sim.levers import compute
from sim.model import CareSystem
from sim.output import children_frame, placements_frame
from sim.workflows.cli import main

ROOT = Path(__file__).resolve().parents[1]
START_YEAR = 2024  # the default calendar: week 0 begins on 1 April 2023


def base(years: int = 1, scale: float = 0.01) -> Scenario:
    return Scenario().with_overrides({"run.region": "North East", "run.scale": scale,
                                      "run.years": years, "run.seed": 5})


def with_policies(*tables: dict, years: int = 1) -> Scenario:
    return base(years).with_policies(list(tables))


def outputs(scenario: Scenario) -> dict[str, str]:
    """Every CSV a run writes, as text."""
    model = CareSystem(scenario)
    model.run()
    return {"annual": model.annual_frame().to_csv(index=False),
            "annual_by_la": model.annual_by_la_frame().to_csv(index=False),
            "placements": placements_frame(model).to_csv(index=False),
            "children": children_frame(model).to_csv(index=False)}


@pytest.fixture(scope="module")
def base_outputs() -> dict[str, str]:
    return outputs(base())


# --- a policy that does nothing changes nothing ------------------------------------------------
@pytest.mark.parametrize("table", [
    {"kind": "family_help", "start": "2023-04-01", "size": 0},
    {"kind": "kinship_support", "region": "North East", "start": "2023-04-01",
     "end": "2024-03-31", "budget_gbp": 0},
    {"kind": "foster_carers", "start": "2023-06-01", "end": "2024-01-31", "size": 0},
    {"kind": "social_workers", "rule": "most_deprived:20", "start": "2023-04-01", "uplift": 0},
    # Ended before the run began, or starts after it ends: never in force.
    {"kind": "family_help", "start": "2020-04-01", "end": "2023-03-31", "size": 5000},
    {"kind": "health_visitors", "start": "2030-04-01", "size": 500},
], ids=["size-0", "budget-0", "capital-size-0", "uplift-0", "ended-before-run",
        "starts-after-run"])
def test_a_policy_of_size_zero_or_never_in_force_gives_byte_identical_outputs(table,
                                                                              base_outputs):
    assert outputs(with_policies(table)) == base_outputs


# --- a policy in one authority ------------------------------------------------------------------
def test_a_policy_in_one_authority_changes_nothing_elsewhere_in_its_first_week():
    """Family help in Sunderland from the first week: Sunderland's places rise, and no family,
    child or count of any other authority differs after that week (every draw about a family
    is keyed by who it is, sim/draws.py, so one authority's extra places move no one else's
    luck)."""
    start = date_of_week(40, START_YEAR)  # Sunderland's places are full and families wait
    plain = CareSystem(base())
    reform = CareSystem(with_policies({"kind": "family_help", "authorities": ["Sunderland"],
                                       "start": start.isoformat(), "size": 2000}))
    for m in (plain, reform):
        for _ in range(41):  # weeks 0-40: the policy's first week is the last
            m.step()
    k = list(plain.region.la_name).index("Sunderland")
    assert reform.authorities[k].early_help_places > plain.authorities[k].early_help_places
    assert reform.flows["early_help_started"][k] > plain.flows["early_help_started"][k]
    f0, f1 = plain.pop.families, reform.pop.families
    elsewhere = f0.la[: f0.n] != k
    for col in ("case", "case_weeks", "need", "hv_weeks", "trio", "active"):
        assert np.array_equal(getattr(f0, col)[elsewhere], getattr(f1, col)[elsewhere]), col
    for name, counts in plain.flows.items():
        other = np.arange(plain.n_la) != k
        assert np.array_equal(counts[other], reform.flows[name][other]), name
    assert np.array_equal(plain.pop.children.in_care, reform.pop.children.in_care)


# --- eligibility, calendar and ramp -------------------------------------------------------------
def test_dates_fall_in_the_models_weeks():
    assert week_of(dt.date(2023, 4, 1), START_YEAR) == 0
    assert week_of(dt.date(2024, 3, 31), START_YEAR) == 51
    assert week_of(dt.date(2024, 4, 1), START_YEAR) == 52
    assert week_of(dt.date(2022, 4, 1), START_YEAR) == -52
    assert date_of_week(60, START_YEAR) == dt.date(2024, 5, 27)
    assert week_of(date_of_week(60, START_YEAR), START_YEAR) == 60


def test_eligibility_and_ramp_give_the_expected_lever_array_over_time():
    """Family help for two named authorities from week 10 to week 30, ramping over 4 weeks:
    the lever is the scenario's value everywhere before week 10, rises by a quarter of the
    increment a week in those two only, holds, and is back to the scenario's after week 30; a
    foster-carer recruitment policy's places are kept after its end."""
    start, end = date_of_week(10, START_YEAR), date_of_week(30, START_YEAR)
    scenario = with_policies(
        {"kind": "family_help", "authorities": ["Sunderland", "E06000001"],
         "start": start.isoformat(), "end": end.isoformat(), "ramp_weeks": 4, "size": 300},
        {"kind": "foster_carers", "region": "North East", "start": start.isoformat(),
         "end": end.isoformat(), "size": 100},
    ).with_overrides({"levers.early_help_capacity": 0.8})
    model = CareSystem(scenario)
    names = list(model.region.la_name)
    two = np.isin(names, ["Sunderland", "Hartlepool"])
    family, foster = model.policies
    places = scenario.early_help.places_per_10k_children * model.region.la_children / 1e4
    children = model.region.la_children[two]
    want = 300 * children / children.sum() / places[two]  # split by children, over today's
    assert np.allclose(family.increment[two], want) and not family.increment[~two].any()

    def lever(week):
        return compute(model.params, model.n_la, model.policies, week)

    assert np.array_equal(lever(9).early_help_capacity, np.full(model.n_la, 0.8))
    for w, share in ((10, 0.25), (11, 0.5), (13, 1.0), (30, 1.0)):
        got = lever(w).early_help_capacity
        assert np.allclose(got[two], 0.8 + share * want), w
        assert np.array_equal(got[~two], np.full((~two).sum(), 0.8)), w
    assert np.array_equal(lever(31).early_help_capacity, np.full(model.n_la, 0.8))
    # Recruitment is even over the 21 weeks and the carers stay.
    assert np.allclose(lever(20).inhouse_foster, 1.0 + foster.increment * 11 / 21)
    assert np.allclose(lever(31).inhouse_foster, 1.0 + foster.increment)
    assert np.allclose(lever(200).inhouse_foster, 1.0 + foster.increment)
    # The model's own arrays follow as it runs (none in the burn-in).
    for _ in range(12):
        model.step()
    assert np.array_equal(model.levers.early_help_capacity, lever(11).early_help_capacity)


def test_a_rule_picks_englands_most_deprived_authorities():
    from policies.base import eligibility
    from sim.region import load_authorities

    rows = load_authorities()
    top = sorted(rows, key=lambda r: -float(r["deprivation_score"]))[:12]
    codes, share = eligibility({"rule": "most_deprived:12"})
    assert codes == {r["gss_code"] for r in top}
    assert abs(sum(share.values()) - 1.0) < 1e-12
    codes, share = eligibility({"region": "North East", "split": "equal"})
    assert len(codes) == 12 and set(share.values()) == {1 / 12}


# --- money ----------------------------------------------------------------------------------
def test_money_converts_at_the_unit_cost_and_is_booked_as_spent():
    """A budget of GBP 5.2m a year for health visitors buys 5.2m / the registry's cost of an
    FTE, the same lever as that size in FTE; GBP 1m over a year of family help buys as many
    places as 1m / (52 x the cost of a place-week); the year's spend_policy_gbp is the money
    times the sample's scale."""
    p = base()
    fte_cost = p.policy_costs.health_visitor_fte_year
    place_year = p.early_help.cost_per_place_week * 52
    by_money = CareSystem(with_policies(
        {"kind": "health_visitors", "region": "North East", "start": "2023-04-01",
         "budget_gbp_per_year": 5.2e6},
        {"kind": "family_help", "authorities": ["Gateshead"], "start": "2023-04-01",
         "end": "2024-03-31", "budget_gbp": 1e6}))
    by_size = CareSystem(with_policies(
        {"kind": "health_visitors", "region": "North East", "start": "2023-04-01",
         "size": 5.2e6 / fte_cost},
        {"kind": "family_help", "authorities": ["Gateshead"], "start": "2023-04-01",
         "end": "2024-03-31", "size": 1e6 / place_year}))
    for a, b in zip(by_money.policies, by_size.policies, strict=True):
        assert np.allclose(a.increment, b.increment) and a.increment.any()
        assert np.isclose(a.units.sum(), b.units.sum())
    by_money.run()
    spent = by_money.annual_frame()["spend_policy_gbp"].iloc[0]
    assert np.isclose(spent, (5.2e6 + 1e6) * p.run.scale)
    # Only in the authorities it is for.
    by_la = by_money.annual_by_la_frame().set_index("authority")["spend_policy_gbp"]
    assert np.isclose(by_la["Gateshead"], (1e6 + 5.2e6 * by_money.policies[0].units[
        list(by_money.region.la_name).index("Gateshead")] / by_money.policies[0].units.sum())
        * p.run.scale)


# --- bad input ----------------------------------------------------------------------------------
def write(tmp_path: Path, policy: str) -> Path:
    path = tmp_path / "reform.toml"
    path.write_text('[run]\nregion = "North East"\nscale = 0.01\nyears = 1\n\n[[policies]]\n'
                    + policy)
    return path


@pytest.mark.parametrize("policy, expect", [
    ('kind = "family_hepl"\nstart = 2025-04-01\nsize = 10\n',
     ["unknown policy kind 'family_hepl'", "'family_help'", "health_visitors"]),
    ('kind = "family_help"\nauthorities = ["Sunderlnd"]\nstart = 2025-04-01\nsize = 10\n',
     ["unknown authority 'Sunderlnd'", "'Sunderland'"]),
    ('kind = "family_help"\nstart = 2025-04-01\nend = 2024-04-01\nsize = 10\n',
     ["end 2024-04-01 is before start 2025-04-01"]),
    ('kind = "family_help"\nstart = 2025-04-01\nend = 2026-03-31\nbudget_gbp = -5\n',
     ["budget_gbp = -5 is negative", "cannot be negative"]),
    ('kind = "family_help"\nstart = 2025-04-01\nsize = 10\nbudgit = 5\n',
     ["unknown key 'budgit'", "'budget_gbp'", "Allowed keys"]),
    ('kind = "family_help"\nregion = "North Est"\nstart = 2025-04-01\nsize = 10\n',
     ["unknown region 'North Est'", "'North East'"]),
    ('kind = "distance_cap"\nstart = 2025-04-01\nbudget_gbp = 10\nend = 2026-01-01\n',
     ["budget_gbp does not apply to distance_cap"]),
    ('kind = "family_help"\nstart = 2025-04-01\n', ["no size"]),
], ids=["kind", "authority", "end-before-start", "negative-budget", "unknown-key", "region",
        "budget-for-a-regulation", "no-size"])
def test_bad_input_is_refused_in_one_line_naming_it_and_nothing_is_written(
        tmp_path, capsys, policy, expect):
    out = tmp_path / "out"
    assert main(["run", str(write(tmp_path, policy)), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "[[policies]] 1" in err, err
    for text in expect:
        assert text in err, (text, err)
    assert not out.exists()


# --- scenario files --------------------------------------------------------------------------
def test_the_reform_scenarios_build_on_the_england_baseline():
    baseline = load_scenario(ROOT / "policies/scenarios/england_baseline.toml")
    no_reform = load_scenario(ROOT / "policies/scenarios/no_reform.toml")
    assert no_reform.policies == ()
    for name in ("review_2022", "stable_homes_2023", "delay_2y"):
        s = load_scenario(ROOT / f"policies/scenarios/{name}.toml")
        assert s.policies and s.values == no_reform.values, name
    assert no_reform.with_overrides({"run.start_year": 2024}).values == baseline.values


def test_delay_2y_is_the_review_two_years_later():
    review = load_scenario(ROOT / "policies/scenarios/review_2022.toml").policies
    delay = load_scenario(ROOT / "policies/scenarios/delay_2y.toml").policies

    def later(d: str) -> str:
        day = dt.date.fromisoformat(d)
        return day.replace(year=day.year + 2).isoformat()

    assert len(review) == len(delay)
    for r, d in zip(review, delay, strict=True):
        moved = {**r, "start": later(r["start"])} | ({"end": later(r["end"])} if "end" in r
                                                      else {})
        assert {k: v for k, v in d.items() if k != "name"} == {k: v for k, v in moved.items()
                                                               if k != "name"}


def test_policies_travel_with_the_scenario_to_workers_and_manifests():
    s = load_scenario(ROOT / "policies/scenarios/stable_homes_2023.toml")
    again = Scenario.from_dict(s.to_dict())
    assert again.policies == s.policies and again.values == s.values
    assert "policies" not in Scenario().to_dict()  # unchanged for scenarios without any


def test_extends_refuses_a_loop(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    with pytest.raises(ConfigError, match="loop"):
        load_scenario(tmp_path / "a.toml")
