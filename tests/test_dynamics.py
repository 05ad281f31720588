"""Mechanisms over time: a population that holds level, risk that concentrates, repeat
involvement, court stages and a workforce that turns over. Each test states one direction."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import load_scenario
from sim.demography import age_gradient, stationary_ages
from sim.model import CareSystem
from sim.population import EVER_ASSESSED, EVER_CIN, NEVER, WEEKS_PER_YEAR, Kind, Legal
from tests.conftest import small


def _trend(values) -> float:
    """Percent a year: the slope of a least-squares line through the logs."""
    values = np.asarray(values, dtype=float)
    return float(np.expm1(np.polyfit(np.arange(len(values)), np.log(values), 1)[0]) * 100)


def _under_five_share(model: CareSystem) -> float:
    c = model.pop.children
    return float(np.mean(c.age[c.active] < 5 * WEEKS_PER_YEAR))


def test_with_drivers_flat_the_child_population_and_its_age_structure_hold_level():
    """Births, ageing out at 18 and net migration nearly balance: the child population's trend
    is under 1% a year over ten years, and the share of children under five moves by under a
    point (the starting ages are the stationary structure of the same births and migration)."""
    model = CareSystem(small(run__years=10, run__scale=0.01, run__record_events=False))
    at_start = _under_five_share(model)
    model.run()
    children = model.annual_frame()["children_0_17"]
    assert abs(_trend(children)) < 1.0
    assert abs(_under_five_share(model) - at_start) < 0.01


def test_starting_ages_are_the_stationary_structure_of_births_and_migration():
    """With births at 1/18 of children a year every age is equally common; with fewer births
    (England's 4.7%) older cohorts are larger, by the gradient k that solves
    birth_rate = k / (exp(18 k) - 1)."""
    rng = np.random.default_rng(0)
    assert abs(age_gradient(1 / 18)) < 1e-9
    k = age_gradient(0.047)
    assert k / np.expm1(18 * k) == pytest.approx(0.047, rel=1e-6)
    years = stationary_ages(rng, 200_000, 0.047) // WEEKS_PER_YEAR
    counts = np.bincount(years, minlength=18)
    assert counts[16:18].sum() / counts[0:2].sum() == pytest.approx(np.exp(16 * k), rel=0.05)
    flat = np.bincount(stationary_ages(rng, 200_000, 1 / 18) // WEEKS_PER_YEAR, minlength=18)
    assert flat.max() / flat.min() < 1.05


def test_without_migration_the_child_population_shrinks():
    """The other side of the balance: with no net migration, births (4.7% of children a year)
    do not replace the children who turn 18."""
    model = CareSystem(
        small(
            run__years=6,
            run__scale=0.01,
            run__record_events=False,
            population__net_migration_rate=0.0,
        )
    )
    model.run()
    assert _trend(model.annual_frame()["children_0_17"]) < -0.5


def test_the_england_baseline_holds_still_from_its_warm_start():
    """England at the validation's sample (5%), drivers flat, after the baseline's burn-in:
    children in care and in need and the child population trend by under 1.5% a year over
    eight years on one seed (the bar, averaged over three seeds, is 1%; docs/validation.md),
    and sibling separation in the last two years is within 4 points of the first two.

    At 1% of England the same baseline drifts up about 2% a year (seeds 1-3: +1.0, +2.0,
    +2.9), a small-sample effect documented in docs/validation.md, so the check runs at the
    scale the model is validated at."""
    scenario = load_scenario("policies/scenarios/england_baseline.toml").with_overrides(
        {"run.scale": 0.05, "run.years": 8, "run.record_events": False, "run.seed": 3}
    )
    model = CareSystem(scenario)
    model.run()
    a = model.annual_frame()
    for column in ("cla_rate_per_10k", "cin_rate_per_10k", "children_0_17"):
        assert abs(_trend(a[column])) < 1.5, column
    separation = a["sibling_separation_share"].to_numpy()
    assert abs(separation[-2:].mean() - separation[:2].mean()) < 0.04


def test_families_on_more_deprived_streets_carry_more_lasting_need():
    model = CareSystem(small(need__deprivation_effect=1.5, need__propensity_sd=0.3))
    f = model.pop.families
    deprived = f.deprivation > 0.8
    assert f.propensity[deprived].mean() > f.propensity[f.deprivation < 0.4].mean() + 0.5
    # Streets keep their neighbourhood's band: the high band holds the most deprived 19%.
    high = model.region.node_band[f.node] == 2
    assert f.deprivation[high].min() >= 0.81 and f.deprivation[~high].max() <= 0.81


def test_a_higher_lasting_propensity_means_more_involvement_and_more_repeat_referrals():
    """Spread a lasting propensity to need over families (same mean): more of them are
    referred again and again."""

    def run(sd):
        model = CareSystem(small(run__years=3, need__propensity_sd=sd, run__record_events=False))
        model.run()
        return model.annual_frame().iloc[1:]

    flat, spread = run(0.0), run(0.8)
    assert spread["referrals"].sum() > flat["referrals"].sum()
    assert spread["rereferral_share_12m"].mean() > flat["rereferral_share_12m"].mean()


def test_poverty_follows_local_deprivation_continuously():
    from agents.family import poverty_rate

    scenario = small()
    d = np.linspace(0, 1, 11)
    rate = poverty_rate(scenario, d)
    assert np.all(np.diff(rate) > 0)  # more deprived streets, more poverty, at every step
    mids = np.array([0.205, 0.61, 0.905])
    expected = [scenario.need.poverty_low, scenario.need.poverty_medium, scenario.need.poverty_high]
    assert poverty_rate(scenario, mids) == pytest.approx(expected)


def test_longer_proceedings_hold_more_children_in_care_under_interim_orders():
    def interim(weeks):
        model = CareSystem(
            small(run__years=2, court__proceedings_weeks=weeks, run__record_events=False)
        )
        model.run()
        return model.annual_frame()["cla_interim"].sum()

    assert interim(70.0) > 1.5 * interim(15.0)


def test_a_final_hearing_makes_a_care_order_or_sends_interim_children_home():
    model = CareSystem(small(run__years=2))
    model.run()
    pr, c = model.pop.proceedings, model.pop.children
    decided = pr.outcome > 0
    assert decided.any() and (pr.hearing[decided] <= model.week).all()
    assert (pr.hearing > pr.issued).all()
    # After a hearing no child of that family is still under an interim order from it.
    done = pr.family[decided & (pr.hearing < model.week - 60)]
    still = c.in_care & np.isin(c.family, done) & (c.legal == Legal.INTERIM)
    assert not still.any()


def test_teenagers_in_crisis_are_accommodated_under_section_20():
    model = CareSystem(small(run__years=1))
    model.run()
    a = model.annual_frame()
    assert a.loc[0, "adolescent_crises"] > 0 and a.loc[0, "cla_s20"] > 0


def test_ever_in_need_counts_children_found_in_need_not_merely_assessed():
    model = CareSystem(small(run__years=2))
    model.run()
    ever = model.pop.children.ever
    assessed = (ever & EVER_ASSESSED) > 0
    in_need = (ever & EVER_CIN) > 0
    assert assessed.sum() > in_need[assessed].sum() > 0  # some assessments find no need


def test_social_workers_turn_over_and_vacancies_are_covered_by_agency_staff(run_model):
    a = run_model.annual_frame()
    assert (a["sw_turnover_rate"] > 0.05).all() and (a["sw_turnover_rate"] < 0.4).all()
    assert (a["sw_vacancy_rate"] > 0.05).all() and (a["sw_agency_share"] > 0.05).all()
    assert (a["sw_caseload"] > 5).all() and (a["sw_caseload"] < 40).all()


def test_authorities_caseloads_spread_and_some_exceed_capacity(run_model):
    workload = run_model.workforce.workload
    assert workload.max() > 1.0 > workload.min()
    assert workload.max() / workload.min() > 1.3


def test_three_placements_in_a_year_come_from_bridging_placements_and_breakdowns():
    def share(bridging):
        model = CareSystem(
            small(run__years=2, placements__short_term_share=bridging, run__record_events=False)
        )
        model.run()
        return model.annual_frame()["share_3plus_placements_in_year"].mean()

    assert share(1.0) > share(0.0)


def test_children_who_were_in_care_before_count_as_re_entries():
    model = CareSystem(small(run__years=3, run__scale=0.04, run__record_events=False))
    model.run()
    a = model.annual_frame()
    assert a["care_reentries"].sum() > 0
    assert (a["care_reentries"] <= a["care_entries"]).all()


def _thirty_children_at_home():
    """A run whose returns home always break down when watched (rate 1000 a year), and 30
    children at home in it, with no one marked as back home from care or watched."""
    model = CareSystem(small(run__years=1, run__scale=0.04, care__return_breakdown_rate=1000.0))
    model.run()
    c, f = model.pop.children, model.pop.families
    at_home = model.pop.children_at_home()
    kids = np.flatnonzero(at_home)[:30]
    c.home_since[:] = NEVER
    f.return_watched[:] = False
    return model, at_home, kids, c.family[kids]


def test_a_watched_return_home_breaks_down_when_need_climbs_back_to_the_care_level():
    """A child back home comes into care again only while the family's case watches the
    return and the family's need is at the care level; the case closing ends the watch."""
    from agents.local_authority import _close
    from sim.placements import return_breakdowns

    model, at_home, kids, fam = _thirty_children_at_home()
    f = model.pop.families
    model.pop.children.home_since[kids] = model.week - 10
    care_level = model.params.care.return_breakdown_level
    f.need[fam] = care_level + 1.0
    assert len(return_breakdowns(model, at_home)) == 0  # nobody's return is watched
    f.return_watched[fam] = True
    back = return_breakdowns(model, at_home)
    assert set(back) == set(kids)
    f.need[fam] = care_level - 0.5
    assert len(return_breakdowns(model, at_home)) == 0  # need below the care level
    f.need[fam] = care_level + 1.0
    _close(model, np.unique(fam))
    assert len(return_breakdowns(model, at_home)) == 0  # the case closed: no longer watched


def test_a_return_home_made_in_the_burn_in_is_watched_like_any_other():
    """Burn-in weeks are negative: a child who went home in one is still a child back home
    (only the week an event never happened, NEVER, means no return)."""
    from sim.placements import return_breakdowns

    model, at_home, kids, fam = _thirty_children_at_home()
    f = model.pop.families
    f.return_watched[fam] = True
    f.need[fam] = model.params.care.return_breakdown_level + 1.0
    assert len(return_breakdowns(model, at_home)) == 0  # never home from care
    model.pop.children.home_since[kids] = -300  # home since a burn-in week
    assert set(return_breakdowns(model, at_home)) == set(kids)


def test_more_returns_breaking_down_means_more_children_back_within_a_year():
    def reentry_share(rate):
        model = CareSystem(
            small(run__years=3, run__scale=0.04, care__return_breakdown_rate=rate,
                  run__record_events=False)
        )
        model.run()
        a = model.annual_frame().iloc[1:]
        return a["care_reentries_12m"].sum() / a["exits_reunified"].sum()

    assert reentry_share(8.0) > reentry_share(0.0) + 0.05


def test_a_child_who_moves_joins_a_sibling_in_care_where_their_carer_has_room():
    from sim.placements import _rejoin_siblings
    from sim.population import Kind

    model = CareSystem(small(run__years=1, run__scale=0.04))
    model.run()
    c, pl, t = model.pop.children, model.pop.placements, model.providers
    care = np.flatnonzero(c.in_care)
    prov = pl.provider[c.placement[care]]
    fostered = (prov >= 0) & np.isin(
        pl.kind[c.placement[care]], [Kind.INHOUSE_FOSTER, Kind.IFA, Kind.CHILDRENS_HOME]
    )
    # A child whose brother or sister in care lives with another foster provider.
    pairs = [
        (a, b)
        for a in care
        for b in care[fostered]
        if a != b and c.family[a] == c.family[b] and prov[care == a][0] != prov[care == b][0]
    ]
    assert pairs, "the run should hold at least one separated sibling pair"
    child, sibling = pairs[0]
    t.capacity[:] = t.occupied + 5  # room everywhere
    foster = np.zeros(1, dtype=np.int64)  # foster care: suits foster carers and homes
    joined = _rejoin_siblings(model, np.array([child]), foster)
    assert joined[0]
    assert pl.provider[c.placement[child]] == pl.provider[c.placement[sibling]]


def test_families_known_to_services_are_referred_again_more_often():
    """For a year after a referral, the professionals who made it see more of the family's
    need (``known_family_effect``): a larger effect means a larger share of re-referrals."""

    def rereferral_share(effect):
        model = CareSystem(
            small(run__years=3, social_work__known_family_effect=effect, run__record_events=False)
        )
        model.run()
        a = model.annual_frame().iloc[1:]
        return a["rereferrals_12m"].sum() / a["referrals"].sum()

    assert rereferral_share(5.0) > rereferral_share(1.0) + 0.03


def test_a_sampled_provider_stands_for_the_real_homes_and_branches_it_represents():
    """At 2% of England's families a children's home of P places stands for P / 0.02 real
    places, i.e. 50 homes: it has up to 50 sites, and a child lives at the one nearest home.
    No simulated agency branch or supported service is smaller than a home."""
    model = CareSystem(small(run__scale=0.02, run__years=1))
    t, site = model.providers, model.provider_site
    homes = np.flatnonzero(t.kind == Kind.CHILDRENS_HOME)
    distinct = np.array([len(np.unique(site[h])) for h in homes])
    assert distinct.max() <= 50 and np.median(distinct) > 10
    dist = model.region.distance
    nodes = np.arange(model.region.n_nodes)
    h = homes[0]
    assert np.all(dist[nodes, site[h]] <= dist[nodes, t.node[h]])
    pools = np.isin(t.kind, [Kind.IFA, Kind.SUPPORTED])
    assert t.base_capacity[pools].min() >= model.params.placements.min_pool


def test_a_birth_joins_a_family_with_young_children_whatever_its_size():
    """Families with a child under 10 at home are equally likely to have the next baby: one
    with three or more young children is no likelier than one with one (else large families
    would grow without end). Each such family's chance is a keyed draw of its uid against the
    week's rate (sim/demography.py: births)."""
    from sim import demography

    model = CareSystem(small(run__years=1, run__record_events=False))
    c, f = model.pop.children, model.pop.families
    got: list[np.ndarray] = []
    model.pop.add_children = lambda _d, _uid, fams, _ages: got.append(np.asarray(fams))
    model.count = lambda *a, **k: None
    model.children_now = int(c.active.sum())
    n0 = f.n
    weeks = 400
    for week in range(weeks):
        model.draws.week = week
        demography.births(model)
    born = np.concatenate(got)
    born = born[born < n0]
    young = c.active & ~c.in_care & (c.age < 10 * WEEKS_PER_YEAR)
    per_family = np.bincount(c.family[young], minlength=n0)
    babies = np.bincount(born, minlength=n0)
    one, many = per_family == 1, per_family >= 3
    rate_one = babies[one].sum() / (one.sum() * weeks)
    rate_many = babies[many].sum() / (many.sum() * weeks)
    assert babies[many].sum() > 50
    assert rate_many == pytest.approx(rate_one, rel=0.2)


def test_a_child_goes_only_to_homes_that_suit_it():
    """Only a ``residential_suitable_share`` of children's homes and supported services suit a
    given child: when almost none do, almost no child is placed in one (the rest go to foster
    care or an emergency bed), and a child's verdict on a site is the same however often the
    matching asks."""
    from sim.placements import suitable

    def residential_share(share):
        model = CareSystem(
            small(run__years=1, placements__residential_suitable_share=share,
                  run__record_events=False)
        )
        model.run()
        kind = model.pop.placements.kind
        return float(np.mean(np.isin(kind, [Kind.CHILDRENS_HOME, Kind.SUPPORTED])))

    # Measured 0.066 against 0.262 (a quarter): a provider has several sites and a child's
    # verdict is per site, so a few children still find a home that suits them; the bar
    # sits where a rule that ignored suitability (a ratio near 1) fails by far.
    assert residential_share(0.01) < 0.35 * residential_share(1.0)
    model = CareSystem(small(run__years=1, run__record_events=False))
    groups, providers = np.arange(1, 51, dtype=np.uint64), np.arange(40)
    sites = np.arange(40)[None, :].repeat(50, 0)
    model.draws.week = 3
    first = suitable(model, groups, providers, sites)
    assert np.array_equal(first, suitable(model, groups, providers, sites))
    model.draws.week = 4
    assert not np.array_equal(first, suitable(model, groups, providers, sites))


def test_investigative_practice_moves_enquiries_not_referrals():
    """The 2010-2017 practice change (ODD 7.5): with the enquiry threshold 0.6 need units
    higher, as it stood in 2010, the same families are referred (the front door does not
    move) but far fewer referrals become Section 47 enquiries; today's practice (shift 0) is
    the default."""
    def run(shift: float):
        model = CareSystem(small(run__years=2, social_work__s47_practice_shift=shift))
        model.run()
        return model.annual_frame().iloc[-1]

    today, then = run(0.0), run(0.6)
    assert then["referrals"] == pytest.approx(today["referrals"], rel=0.1)
    assert then["s47_enquiries"] < 0.6 * today["s47_enquiries"]


def test_practice_moves_the_conference_threshold_by_its_share():
    """ODD 7.5: ``conference_practice_share`` of the year's practice shift stands on the
    initial conference's threshold as well as the enquiry's, so with 2010's practice fewer
    enquiries lead to a conference; at today's practice (shift 0) the share changes nothing."""
    def run(shift: float, share: float):
        model = CareSystem(small(run__years=2, social_work__s47_practice_shift=shift,
                                 social_work__conference_practice_share=share))
        model.run()
        return model.annual_frame().iloc[-1]

    off, on = run(0.6, 0.0), run(0.6, 1.0)
    assert on["icpc"] / on["s47_enquiries"] < 0.8 * off["icpc"] / off["s47_enquiries"]
    assert run(0.0, 1.0).equals(run(0.0, 0.0))


def test_a_replayed_year_follows_its_schedule_and_moves_the_population():
    """``run.replay_from``: the warm start at the first year's values (population held), then
    each replayed year on its own schedules (population moving), unreported; year 1 is
    ``run.start_year``."""
    years = []

    class Watch(CareSystem):
        def _close_year(self):
            years.append((self.calendar_year, self.params.levers.poverty, self.children_now))
            super()._close_year()

    model = Watch(small(run__years=1, run__burn_in_years=1, run__start_year=2013,
                        run__replay_from=2010, run__record_events=False,
                        levers__poverty={"2010": 0.5, "2012": 1.5},
                        population__net_migration_rate={"2010": 0.0, "2011": 0.1}))
    model.run()
    assert [(y, p) for y, p, _ in years] == [(2010, 0.5), (2010, 0.5), (2011, 1.0), (2012, 1.5),
                                             (2013, 1.5)]
    children = [n for _, _, n in years]
    assert abs(children[1] / children[0] - 1) < 0.02  # the warm start holds the population
    assert children[3] / children[2] > 1.05  # a replayed year's 10% net migration moves it
    assert model.annual_frame()["year"].tolist() == [2013]  # the replay is not reported


def test_a_replay_must_start_before_year_1():
    import pytest

    from sim.config import ConfigError

    with pytest.raises(ConfigError, match=r"run\.replay_from = 2030"):
        CareSystem(small(run__replay_from=2030))

