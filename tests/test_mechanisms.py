"""Each mechanism pushes the way the evidence says it should.

Paired runs share a seed; every mechanism draws from its own random stream, so the pairs
differ mainly through the lever being moved.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agents.family import toxic_trio_week
from sim.config import Scenario
from sim.model import CareSystem
from sim.population import Event

from .conftest import small


def _run(**overrides) -> CareSystem:
    model = CareSystem(small(**overrides))
    model.run()
    return model


def _total(model: CareSystem, col: str) -> float:
    return float(model.annual_frame()[col].sum())


def test_more_early_help_means_less_escalation():
    """Fifteen times the early-help places: fewer Section 47 enquiries and plans, pooled over
    two seeds. (Care entries barely move within three years: early help reaches families well
    below the care threshold, so the test does not claim them.)"""

    def totals(capacity: float) -> dict[str, float]:
        runs = [
            _run(run__scale=0.04, run__years=3, run__seed=s, levers__early_help_capacity=capacity)
            for s in (7, 8)
        ]
        cols = ("early_help_started", "s47_enquiries", "cpp_starts")
        return {col: sum(_total(m, col) for m in runs) for col in cols}

    low, high = totals(0.2), totals(3.0)
    assert high["early_help_started"] > 3 * low["early_help_started"]
    assert high["s47_enquiries"] < low["s47_enquiries"]
    assert high["cpp_starts"] < low["cpp_starts"]


def test_more_distance_means_more_breakdown():
    """The same placements, moved further from home, break down more often in a week."""

    def breakdowns_this_week(miles: float) -> int:
        model = CareSystem(small(run__scale=0.05))
        pl, c = model.pop.placements, model.pop.children
        pl.miles[c.placement[c.in_care]] = miles
        model.step()
        return int(model.week_flows.get("placement_breakdowns", 0))

    near, far = breakdowns_this_week(1.0), breakdowns_this_week(120.0)
    assert far > 2 * max(near, 1)


def test_higher_health_visitor_caseload_means_fewer_needs_spotted():
    def spotted(fte: float) -> int:
        model = _run(run__years=1, levers__health_visitor_fte=fte)
        e = model.pop.events
        assert np.mean([t.caseload for t in model.hv_teams]) > 0
        return int(np.count_nonzero(e.code == Event.HV_SPOTTED))

    assert spotted(0.4) < spotted(1.0) < spotted(2.5)


def test_caseload_lowers_coverage_and_spotting():
    model = CareSystem(small())
    team = model.hv_teams[0]
    seen = []
    for under_fives in (100, 300, 600, 1200, 5000):
        team.base_fte = 1.0
        team.review_caseload(under_fives)
        seen.append((team.coverage, team.spot_probability))
    coverage, spotting = zip(*seen, strict=True)
    assert list(coverage) == sorted(coverage, reverse=True) and coverage[-1] < coverage[0]
    assert list(spotting) == sorted(spotting, reverse=True) and spotting[-1] < spotting[0]


def test_overspend_cuts_next_years_early_help():
    model = CareSystem(small())
    la = model.authorities[0]
    before = la.early_help_places
    la.settle_year(overspend=0.3 * la.early_help_budget)
    assert la.early_help_places < before
    la.settle_year(overspend=0.0)
    assert la.early_help_places == before


def test_each_year_is_budgeted_for_the_children_in_care_at_its_prices():
    """Prices up half in a year: next year's placement budget follows them, so the overspend
    is the year's change, not everything since the run began (ODD 7.11)."""
    model = _run(run__years=3, placements__price_index={"2024": 1.0, "2025": 1.5})
    a = model.annual_frame()
    assert a.loc[2, "budget_gbp"] > 1.3 * a.loc[0, "budget_gbp"]
    placement_spend = a.loc[2, "spend_placements_gbp"]
    assert a.loc[2, "overspend_gbp"] < 0.25 * placement_spend


def test_a_tighter_budget_shrinks_early_help_through_the_crisis_trap():
    off = _run(run__years=3, levers__funding=0.8, budget__crisis_trap_strength=0.0)
    on = _run(run__years=3, levers__funding=0.8, budget__crisis_trap_strength=1.0)
    assert (off.annual_frame()["overspend_gbp"] > 0).all()
    year3 = 2
    assert (
        on.annual_frame().loc[year3, "early_help_places"]
        < off.annual_frame().loc[year3, "early_help_places"]
    )


def test_overloaded_social_workers_raise_the_threshold():
    model = CareSystem(small())
    wf = model.workforce
    capacity = (
        wf.working * model.params.social_work.case_holding_share * model.params.social_work.caseload
    )
    wf.week(0.5 * capacity)
    normal = model.la_thresholds().copy()
    wf.week(2.0 * capacity)
    assert np.all(model.la_thresholds() > normal)


def test_30_percent_fewer_social_workers_raise_the_threshold_cut_assessments_and_add_crises():
    """The workload loop (R3): cutting one authority's workforce overloads it, so its front
    door closes (a higher threshold), fewer referrals are assessed, and the need left unmet
    comes back as re-referrals and care entries. Summed over three seeds."""
    totals = {}
    for cut in (1.0, 0.7):
        sums = np.zeros(4)
        for seed in (1, 2, 3):
            model = CareSystem(
                small(run__scale=0.1, run__years=4, run__seed=seed, run__record_events=False)
            )
            la = int(np.argmax(model.region.la_children))  # the largest authority
            wf = model.workforce
            for stock in (wf.share, wf.employed, wf.agency):
                stock[la] *= cut
            threshold = 0.0
            for _ in range(4 * 52):
                model.step()
                threshold += model.la_thresholds()[la]
            by_la = model.annual_by_la_frame()
            mine = by_la[by_la["authority"] == model.region.la_name[la]]
            sums += [
                threshold,
                mine["assessments"].sum(),
                mine["referrals"].sum(),
                mine["care_entries"].sum(),
            ]
        totals[cut] = sums
    full, cut = totals[1.0], totals[0.7]
    assert cut[0] > full[0]  # the threshold rises
    assert cut[1] < 0.9 * full[1]  # fewer children assessed
    assert cut[2] > full[2]  # unmet need is referred again
    assert cut[3] > full[3]  # and more children come into care


def test_a_distance_cap_keeps_children_closer():
    anywhere = _run(run__scale=0.04, levers__distance_weight=0.0)
    capped = _run(run__scale=0.04, levers__distance_weight=0.0, levers__distance_cap_miles=20.0)
    last = anywhere.annual_frame().index[-1]
    assert (
        capped.annual_frame().loc[last, "share_over_20_miles"]
        < anywhere.annual_frame().loc[last, "share_over_20_miles"]
    )


def test_kinship_care_needs_a_kin_network():
    model = _run(run__years=1)
    pl, c, f = model.pop.placements, model.pop.children, model.pop.families
    kin = model.pop.child_rows(pl.child[pl.kind == 0])  # (children still in the tables)
    kin = kin[kin >= 0]
    assert len(kin)
    assert np.all(f.kin[c.family[kin]] > 0)


def test_for_profit_share_lever_shapes_the_market():
    def for_profit_share_of_independent_places(share: float) -> float:
        t = CareSystem(small(run__region="England", levers__for_profit_share=share)).providers
        independent = (t.kind >= 2) & (t.kind <= 4)  # agencies, homes, supported accommodation
        return float(np.average(t.for_profit[independent], weights=t.capacity[independent]))

    low, high = (
        for_profit_share_of_independent_places(0.2),
        for_profit_share_of_independent_places(0.9),
    )
    assert abs(low - 0.2) < 0.1 and abs(high - 0.9) < 0.1


def test_children_in_emergency_beds_move_when_a_registered_place_is_free():
    from sim import placements
    from sim.population import End, Kind

    # Every home suits every child here, so a free registered place is one the child can take.
    model = CareSystem(small(placements__residential_suitable_share=1.0))
    c, pl = model.pop.children, model.pop.placements
    kids = np.flatnonzero(c.in_care & (pl.kind[c.placement] != Kind.EMERGENCY))[:20]
    placements.end_placements(model, c.placement[kids], End.MOVED)  # their places are now free
    placements._place_emergency(model, kids)
    assert (pl.kind[c.placement[kids]] == Kind.EMERGENCY).all()
    model.step()
    still = kids[c.in_care[kids]]
    assert (pl.kind[c.placement[still]] != Kind.EMERGENCY).mean() > 0.8
    assert model.week_flows["placement_moves"] > model.week_flows.get("placement_breakdowns", 0)


def test_sixteen_and_seventeen_year_olds_move_on_to_supported_accommodation():
    """A planned move, not a breakdown, and only into supported accommodation."""
    from sim.population import End, Kind

    def moves_on(rate: float) -> tuple[int, int]:
        model = CareSystem(
            small(run__scale=0.05, care__move_on_rate=rate, placements__short_term_share=0.0,
                  placements__inhouse_refill=False)  # (own carers first moves younger ones)
        )
        pl = model.pop.placements
        start = pl.n
        for _ in range(8):
            model.step()
        ended = np.flatnonzero((pl.end[: pl.n] >= 0) & (pl.end_reason[: pl.n] == End.MOVED))
        planned = ended[pl.kind[ended] != Kind.EMERGENCY]
        assert (pl.kind[planned] != Kind.SUPPORTED).all()
        assert (model.pop.children.age[pl.child[planned]] >= 16 * 52).all()
        new = np.arange(start, pl.n)
        into_supported = new[np.isin(pl.child[new], pl.child[planned])]
        into_supported = into_supported[pl.kind[into_supported] == Kind.SUPPORTED]
        return len(planned), len(np.unique(pl.child[into_supported]))

    assert moves_on(0.0) == (0, 0)
    planned, into_supported = moves_on(5.0)
    assert planned > 0 and into_supported == planned


def test_some_sixteen_and_seventeen_year_olds_leave_care_before_18_without_going_home():
    """DfE's other reasons for ceasing (independent living, E5/E6; any other reason, E8):
    only 16- and 17-year-olds, counted as exits of their own, and off at rate 0."""
    from sim.population import End

    def leavers(rate: float) -> tuple[np.ndarray, CareSystem]:
        model = CareSystem(small(run__scale=0.05, care__leaving_rate_16_17=rate))
        pl = model.pop.placements
        for _ in range(8):
            model.step()
        ended = np.flatnonzero((pl.end[: pl.n] >= 0) & (pl.end_reason[: pl.n] == End.LEFT))
        return pl.child[ended], model

    none, model = leavers(0.0)
    assert len(none) == 0 and model.flows.get("exits_left", np.zeros(1)).sum() == 0
    left, model = leavers(5.0)
    c = model.pop.children
    assert len(left) > 0
    # 16 or 17 when they left (ages in weeks; at most 8 weeks have passed since)
    assert (c.age[left] >= 16 * 52).all() and (c.age[left] < 18 * 52 + 8).all()
    assert not c.in_care[left].any() and not c.active[left].any()
    # counted as exits of their own, and among all exits
    assert model.flows["exits_left"].sum() == len(left)
    assert model.flows["care_exits"].sum() >= len(left)


def test_leavers_at_16_or_17_come_from_supported_accommodation_unless_the_other_factor_allows():
    """Independent living is the step after semi-independent accommodation: with
    ``leaving_other_factor`` 0 every leaver was in supported accommodation; with 1, others too."""
    from sim.population import End, Kind

    def kinds_left(factor: float) -> np.ndarray:
        model = CareSystem(small(run__scale=0.05, care__leaving_rate_16_17=5.0,
                                 care__leaving_other_factor=factor))
        pl = model.pop.placements
        for _ in range(8):
            model.step()
        ended = np.flatnonzero((pl.end[: pl.n] >= 0) & (pl.end_reason[: pl.n] == End.LEFT))
        return pl.kind[ended]

    only_supported = kinds_left(0.0)
    assert len(only_supported) > 0 and (only_supported == Kind.SUPPORTED).all()
    assert (kinds_left(1.0) != Kind.SUPPORTED).any()


def test_a_16_or_17_year_old_goes_home_with_the_family_only_at_the_factors_chance():
    """``care.home_16_17_factor`` thins the returns home of 16- and 17-year-olds (England's
    children mostly stay to 18): at 0 none goes home, while younger children still do; at 1
    (the default) they go as before. Exits at 16 or 17 for any reason are counted."""
    from sim.population import End

    def returns(factor: float) -> tuple[np.ndarray, CareSystem]:
        model = CareSystem(small(run__scale=0.05, care__reunification_rate=10.0,
                                 care__home_16_17_factor=factor))
        pl, c = model.pop.placements, model.pop.children
        for _ in range(8):
            model.step()
        ended = np.flatnonzero((pl.end[: pl.n] >= 0) & (pl.end_reason[: pl.n] == End.REUNIFIED))
        age_then = c.age[pl.child[ended]] - (model.week - pl.end[ended])
        return age_then, model

    never, _ = returns(0.0)
    assert len(never) > 20  # younger children still go home
    assert (never < 16 * 52).all()
    always, model = returns(1.0)
    teens = ((always >= 16 * 52) & (always < 18 * 52)).sum()
    assert teens > 0
    assert model.flows["exits_aged_16_17"].sum() >= teens
    assert model.flows["exits_aged_16_17"].sum() <= model.flows["care_exits"].sum()


def test_children_go_home_sooner_in_their_first_weeks_in_care_at_the_early_factor():
    """``care.early_return_factor`` multiplies the chance of going home in a child's first
    week in care, falling to the usual over ``care.early_return_weeks`` (a crisis that has
    passed): more of the children who leave have been in care under two weeks, and those
    exits are counted."""
    from sim.population import End

    def early_share(factor: float) -> float:
        model = CareSystem(small(run__scale=0.05, care__early_return_factor=factor,
                                 care__early_return_weeks=2.0))
        pl = model.pop.placements
        for _ in range(26):
            model.step()
        ended = np.flatnonzero((pl.end[: pl.n] >= 0) & (pl.end_reason[: pl.n] == End.REUNIFIED))
        assert len(ended) > 10
        quick = model.flows["exits_within_2_weeks"].sum()
        assert quick <= model.flows["care_exits"].sum()
        return quick / model.flows["care_exits"].sum()

    assert early_share(100.0) > early_share(1.0) + 0.05


def test_special_guardianship_follows_the_courts_practice_of_the_year():
    """``care.sgo_practice`` multiplies the hazard of a special guardianship order from
    kinship care: at 0 no child leaves care that way, at 3 more do than at 1, and each order
    is counted in ``sgo_rate_per_10k``."""

    def orders(practice: float) -> tuple[int, float]:
        model = CareSystem(small(run__scale=0.05, care__sgo_rate=1.0,
                                 care__sgo_practice=practice))
        for _ in range(52):
            model.step()
        a = model.annual_frame()
        return int(a["exits_sgo"].sum()), float(a["sgo_rate_per_10k"].sum())

    assert orders(0.0) == (0, 0.0)
    some, rate = orders(1.0)
    assert some > 0 and rate > 0
    assert orders(3.0)[0] > some


def test_a_final_hearing_may_make_a_special_guardianship_order_instead_of_a_care_order():
    """With ``court.sgo_at_hearing`` on, some final hearings that would have made a care order
    make a special guardianship order to a relative: only for families with kin, whose
    children in care then leave it under the order (counted as DfE counts them) and whose
    children at home go to the guardian without coming into care. Off (0), none is made."""
    from agents.court import SPECIAL_GUARDIANSHIP
    from sim.population import Legal

    def run(chance: float) -> tuple[CareSystem, pd.DataFrame]:
        model = CareSystem(small(run__scale=0.05, court__sgo_at_hearing=chance))
        for _ in range(52):
            model.step()
        return model, model.annual_frame()

    off, a_off = run(0.0)
    assert a_off["hearing_sgos"].sum() == 0
    assert not (off.pop.proceedings.outcome == SPECIAL_GUARDIANSHIP).any()
    on, a_on = run(1.0)
    pr, f, c = on.pop.proceedings, on.pop.families, on.pop.children
    decided = pr.outcome == SPECIAL_GUARDIANSHIP
    assert decided.sum() == a_on["hearing_sgos"].sum() > 0
    # (A family left with no child and no case is retired from the tables: row -1.)
    rows = on.pop.family_rows(pr.family[decided])
    fam, since = rows[rows >= 0], (on.week - pr.hearing[decided])[rows >= 0]
    assert len(fam) and (f.kin[fam] > 0).all()
    # Their children neither in care nor at home since the hearing (but a baby born after it,
    # and a 16- or 17-year-old, whom a care order would not have brought into care either).
    kids = on.pop.children_of(fam)
    owner = np.searchsorted(np.sort(fam), c.family[kids])
    weeks_since = since[np.argsort(fam)][owner]
    placed_for_adoption = c.legal[kids] == Legal.PLACEMENT_ORDER  # (they stay, to adoption)
    assert not (c.in_care[kids] & (c.care_weeks[kids] > weeks_since) & ~placed_for_adoption).any()
    under_16_then = (c.age[kids] > weeks_since) & (c.age[kids] - weeks_since < 16 * 52)
    assert not (c.active[kids] & ~c.in_care[kids] & under_16_then).any()
    assert a_on["exits_sgo"].sum() > a_off["exits_sgo"].sum()
    assert a_on["care_orders"].sum() < a_off["care_orders"].sum()


def test_adoption_comes_only_within_its_window_after_the_first_year_in_care():
    """With ``care.adoption_window_years`` short, no child is matched with adopters after that
    many years beyond its first in care, and fewer are adopted than with no window."""
    from sim import placements
    from sim.population import End

    def adopted(window: float) -> tuple[int, np.ndarray]:
        model = CareSystem(small(run__scale=0.05, care__adoption_rate=2.0,
                                 care__adoption_window_years=window))
        pl, c = model.pop.placements, model.pop.children
        weeks = []
        orig = placements.leave_care

        def spy(m, children, reason):
            if reason == End.ADOPTED:
                weeks.extend(c.care_weeks[children])
            return orig(m, children, reason)

        placements.leave_care = spy
        try:
            for _ in range(52):
                model.step()
        finally:
            placements.leave_care = orig
        assert (pl.end_reason[: pl.n] == End.ADOPTED).sum() == len(weeks)
        return len(weeks), np.array(weeks)

    n_open, _ = adopted(17.0)
    n_window, weeks = adopted(0.5)
    assert n_window > 0
    assert (weeks < 1.5 * 52).all()
    assert n_window < n_open


def test_only_children_with_an_adoption_plan_are_adopted():
    """``care.adoption_plan_share`` is the share of children who entered care under 4 who
    have an adoption plan: at 0 no child is adopted, and more are at 1 than at a half."""

    def adoptions(share: float) -> int:
        model = CareSystem(small(run__scale=0.05, care__adoption_rate=2.0,
                                 care__adoption_plan_share=share))
        for _ in range(52):
            model.step()
        return int(model.annual_frame()["exits_adopted"].sum())

    assert adoptions(0.0) == 0
    assert adoptions(1.0) > adoptions(0.5) > 0


def test_a_child_placed_for_adoption_stays_looked_after_until_the_order():
    """With ``care.placed_for_adoption_weeks`` on, a child drawn for adoption moves in with
    prospective adopters under a placement order and is still looked after, neither going
    home nor leaving by another order, until the adoption order that many weeks later, when
    DfE counts the adoption; off (0), the order is made at once."""
    from sim.population import End, Kind, Legal

    wait = 6
    fast = {"run__scale": 0.05, "care__adoption_rate": 5.0, "care__reunification_rate": 5.0,
            "care__sgo_rate": 5.0}
    model = CareSystem(small(care__placed_for_adoption_weeks=wait, **fast))
    pl, c = model.pop.placements, model.pop.children
    for _ in range(26):
        model.step()
    pfa = np.flatnonzero(pl.kind[: pl.n] == Kind.PLACED_FOR_ADOPTION)
    assert len(pfa) > 25
    assert model.flows["placed_for_adoption"].sum() == len(pfa)
    waiting = pfa[pl.end[pfa] < 0]
    ended = pfa[pl.end[pfa] >= 0]
    # Still waiting: looked after, under a placement order.
    assert len(waiting) and c.in_care[pl.child[waiting]].all()
    assert (c.legal[pl.child[waiting]] == Legal.PLACEMENT_ORDER).all()
    assert (model.week - pl.start[waiting] < wait).all()
    # Ended: by the order, ``wait`` weeks after the move (or a disruption, before it); never
    # by a return home or another order.
    adopted = ended[pl.end_reason[ended] == End.ADOPTED]
    assert len(adopted) > 10
    assert set(pl.end_reason[ended].tolist()) <= {int(End.ADOPTED), int(End.BREAKDOWN)}
    assert (pl.end[adopted] - pl.start[adopted] == wait).all()
    assert not c.in_care[pl.child[adopted]].any() and not c.active[pl.child[adopted]].any()
    assert model.flows["exits_adopted"].sum() == len(adopted)
    # Off: adopted at once, nobody placed with adopters.
    off = CareSystem(small(**fast))
    for _ in range(26):
        off.step()
    assert not (off.pop.placements.kind[: off.pop.placements.n] == Kind.PLACED_FOR_ADOPTION).any()
    assert off.flows["exits_adopted"].sum() > 10


def test_a_care_order_for_the_family_leaves_a_child_placed_for_adoption_under_its_placement_order():
    """A final hearing that makes a care order for a family (a brother or sister's
    proceedings) puts its children in care under the full order, but not a child already
    placed for adoption, whose placement order stands."""
    from agents import court
    from sim.population import Kind, Legal

    model = CareSystem(small(run__scale=0.05, care__adoption_rate=5.0,
                             care__placed_for_adoption_weeks=39))
    pl, c, f = model.pop.placements, model.pop.children, model.pop.families
    for _ in range(8):
        model.step()
    waiting = pl.child[np.flatnonzero((pl.kind[: pl.n] == Kind.PLACED_FOR_ADOPTION)
                                      & (pl.end[: pl.n] < 0))]
    assert len(waiting) > 3
    fam = np.unique(c.family[waiting])
    fam = fam[~f.in_court[fam]]
    court.issue(model, fam)
    model.pop.proceedings.hearing[: model.pop.proceedings.n] = model.week
    f.need[fam] = model.params.care.reunification_level + 1.0  # (a care order)
    court.final_hearings(model, model.pop.home_census().at_home_mask)
    kept = waiting[np.isin(c.family[waiting], fam)]
    assert len(kept) and (c.legal[kept] == Legal.PLACEMENT_ORDER).all()
    assert c.in_care[kept].all()


def test_a_foster_breakdown_can_step_an_older_child_up_to_a_childrens_home():
    """Ofsted (2022): 41% of the children in the homes it studied came after a foster
    breakdown. At probability 0 a child keeps its kind of care; at 1 every 10- to 17-year-old
    leaving a foster family is placed in a children's home (or, with none free, an emergency
    placement), counted as a step-up."""
    from sim.population import IS_FOSTER_FAMILY, End, Kind

    def after_foster_breakdowns(probability: float):
        model = CareSystem(small(run__scale=0.05, care__step_up_probability=probability,
                                 placements__breakdown_inhouse=1.0, placements__breakdown_ifa=1.0))
        pl = model.pop.placements
        start = pl.n
        for _ in range(8):
            model.step()
        broke = np.flatnonzero((pl.end[:start] >= 0) & (pl.end_reason[:start] == End.BREAKDOWN))
        broke = broke[IS_FOSTER_FAMILY[pl.kind[broke]]]
        new = np.arange(start, pl.n)
        # each foster breakdown's next placement: the first one opened after it for that child
        nxt = []
        for b in broke:
            later = new[(pl.child[new] == pl.child[b]) & (pl.start[new] >= pl.end[b])]
            if len(later):
                nxt.append((b, later[0]))
        return model, pl, nxt

    model, pl, nxt = after_foster_breakdowns(0.0)
    assert nxt and all(pl.kind[n] != Kind.CHILDRENS_HOME for _, n in nxt)
    assert model.flows["home_step_ups"].sum() == 0
    model, pl, nxt = after_foster_breakdowns(1.0)
    older = [(b, n) for b, n in nxt if pl.kind[n] != Kind.WITH_PARENTS
             and model.pop.children.age[model.pop.child_rows(pl.child[[b]])[0]] >= 10 * 52 + 8]
    assert older
    assert all(pl.kind[n] in (Kind.CHILDRENS_HOME, Kind.EMERGENCY) for _, n in older)
    stepped = sum(pl.kind[n] == Kind.CHILDRENS_HOME for _, n in older)
    assert stepped > 0 and model.flows["home_step_ups"].sum() >= stepped
    # each new placement remembers the kind of care whose breakdown led to it (Ofsted's measure)
    assert all(pl.after_breakdown[n] == pl.kind[b] for b, n in nxt)


def test_the_homes_residents_after_a_foster_breakdown_are_counted_as_ofsted_counts_them():
    """share_home_after_foster_breakdown: of the children in a children's home at year end,
    those whose placement there followed a foster breakdown. Step-ups raise it; without them a
    foster breakdown leads to another foster family, so it is near 0."""

    def share(probability: float) -> float:
        model = _run(run__scale=0.05, run__years=1, care__step_up_probability=probability)
        a = model.annual_frame().iloc[-1]
        return float(a["share_home_after_foster_breakdown"])

    off, on = share(0.0), share(1.0)
    assert off < 0.05 and on > off + 0.1


def test_carers_across_the_boundary_make_out_of_area_placements_for_their_own_authority():
    from sim.population import Kind

    def inhouse_out_of_area(share: float) -> float:
        model = CareSystem(small(run__scale=0.05, placements__inhouse_outside_share=share))
        pl, t = model.pop.placements, model.providers
        own = pl.kind[: pl.n] == Kind.INHOUSE_FOSTER
        assert (t.la[pl.provider[: pl.n][own]] == pl.home_la[: pl.n][own]).all()
        return float(pl.out_of_area[: pl.n][own].mean())

    assert inhouse_out_of_area(0.0) == 0.0
    assert inhouse_out_of_area(0.5) > 0.2


def test_a_young_child_at_home_brings_proceedings_sooner():
    def share_of_starts_aged_1_to_4(effect: float) -> float:
        model = _run(
            run__scale=0.05, run__years=3, social_work__young_child_proceedings_effect=effect
        )
        return _total(model, "entries_age_1_4") / _total(model, "care_entries")

    assert share_of_starts_aged_1_to_4(2.0) > share_of_starts_aged_1_to_4(0.0) + 0.02


def test_children_placed_with_parents_are_no_distance_from_home():
    from sim.population import Kind

    model = _run(run__years=1)
    pl = model.pop.placements
    home = pl.kind[: pl.n] == Kind.WITH_PARENTS
    assert home.any() and (pl.miles[: pl.n][home] == 0).all()


def test_toxic_trio_factors_come_and_go_and_their_share_holds_steady():
    """Families gain and lose toxic-trio factors at rates that keep the share with one at its
    prevalence. (When factors only began, the share crept up year on year, and every rate of
    referral, plans and care with it: a transient, not England today.)"""
    p = Scenario().need
    rng = np.random.default_rng(3)
    trio = rng.random(200_000) < p.toxic_trio_prevalence
    start = trio.copy()
    for _ in range(10 * 52):
        trio = toxic_trio_week(p, trio, rng.random(len(trio)))
    assert abs(trio.mean() - p.toxic_trio_prevalence) < 0.005
    assert (trio & ~start).mean() > 0.03 and (start & ~trio).mean() > 0.03


def test_room_with_own_carers_goes_to_agency_fostered_children_without_splitting_siblings():
    """Own carers first: room opened in one authority's in-house pool is taken that week by
    its children in agency foster care (whole sibling groups, never part of one), and not at
    all with the rule switched off."""
    from sim import placements
    from sim.population import Kind

    def after_room(refill: bool):
        model = CareSystem(small(run__scale=0.05, placements__inhouse_refill=refill))
        c, f, pl, t = model.pop.children, model.pop.families, model.pop.placements, model.providers
        care = np.flatnonzero(c.in_care)
        agency = care[pl.kind[c.placement[care]] == Kind.IFA]
        la = int(np.bincount(f.la[c.family[agency]]).argmax())  # most agency-fostered children
        pool = np.flatnonzero((t.kind == Kind.INHOUSE_FOSTER) & (t.la == la) & t.active)[0]
        t.capacity[pool] = t.occupied[pool] + 6  # six places fall free
        before = c.placement.copy()
        placements._refill_inhouse(model)
        moved = np.flatnonzero(c.placement[: c.n] != before[: c.n])
        return model, la, moved, before

    model, la, moved, before = after_room(True)
    c, f, pl = model.pop.children, model.pop.families, model.pop.placements
    assert 0 < len(moved) <= 6
    assert (pl.kind[before[moved]] == Kind.IFA).all()  # out of agency care
    assert (pl.kind[c.placement[moved]] == Kind.INHOUSE_FOSTER).all()  # into their own carers'
    assert (f.la[c.family[moved]] == la).all()
    # Every brother or sister in care of a moved child moved with it, to the same carer.
    sibs = model.pop.children_of(np.unique(c.family[moved]))
    sibs = sibs[c.in_care[sibs]]
    assert np.isin(sibs, moved).all()
    assert not placements.separated(model, moved).any()
    assert len(after_room(False)[2]) == 0


def test_capacities_set_per_child_follow_each_authoritys_children():
    """Every capacity published per 10,000 children is planned for the children an authority
    has now: when its children fall in number by a fifth, it has a fifth fewer in-house places
    (above those in use) at the next monthly review, a fifth fewer funded social-work posts,
    early-help places and health-visitor FTE."""
    from agents.provider import review_market
    from sim import demography
    from sim.population import Kind

    model = CareSystem(small(run__scale=0.05))
    t = model.providers
    own = np.flatnonzero((t.kind == Kind.INHOUSE_FOSTER) & t.active)
    demography.plan_for_children(model)
    review_market(model)  # (new agency branches may open: own is kept by index)
    before = {
        "places": t.capacity[own].sum(),
        "posts": model.workforce._posts().sum(),
        "early help": sum(la.early_help_budget for la in model.authorities),
        "health visitors": sum(team.fte for team in model.hv_teams),
    }
    model.la_children_at_build = np.round(model.la_children_at_build * 1.25).astype(int)
    t.occupied[own] = 0  # so no pool is held up by the children it has
    demography.plan_for_children(model)
    review_market(model)
    after = {
        "places": t.capacity[own].sum(),
        "posts": model.workforce._posts().sum(),
        "early help": sum(la.early_help_budget for la in model.authorities),
        "health visitors": sum(team.fte for team in model.hv_teams),
    }
    for key, value in before.items():
        assert after[key] == pytest.approx(value * 0.8, rel=0.05), key


def test_the_warm_start_holds_the_child_population_the_build_drew():
    """At 2010's births (5.9% of children a year, above the 1/18 that replaces those turning
    18) and its own net migration the population would grow about 0.6% a year; the burn-in
    runs at the migration that holds it, so five years of it leave the size where it was."""
    scenario = small(run__burn_in_years=5, population__birth_rate=0.0589,
                     population__net_migration_rate=0.0007)
    model = CareSystem(scenario)
    built = model.la_children_at_build.sum()
    assert abs(np.count_nonzero(model.pop.children.active) / built - 1) < 0.01
    model.run(years=2)  # after the burn-in the scenario's own migration applies again
    assert np.count_nonzero(model.pop.children.active) / built > 1.005


def test_the_2010_start_draws_2010s_children():
    today = CareSystem(small(run__years=1))
    then = CareSystem(small(run__years=1, population__child_population_index=0.935))
    ratio = then.la_children_at_build.sum() / today.la_children_at_build.sum()
    assert ratio == pytest.approx(0.935, abs=0.005)


def test_children_in_need_include_disabled_children_at_their_share_the_same_every_year():
    from sim.indicators import disabled_in_need, snapshot

    def built(per_10k: float) -> CareSystem:
        return CareSystem(small(run__scale=0.05, social_work__disability_cin_per_10k=per_10k))

    without, model = built(0.0), built(32.0)
    c = model.pop.children
    disabled = disabled_in_need(model)
    assert disabled.sum() / np.count_nonzero(c.active) * 1e4 == pytest.approx(32.0, rel=0.15)
    assert not disabled_in_need(without).any()
    # The start still holds the published children in need: fewer family cases are drawn.
    assert snapshot(model)["cin"].sum() == pytest.approx(snapshot(without)["cin"].sum(),
                                                         rel=0.03)
    first = c.uid[disabled]
    model.run(years=1)
    c = model.pop.children
    again = c.uid[disabled_in_need(model)]
    stayed = np.isin(first, c.uid[c.active])
    assert stayed.mean() > 0.8
    assert np.isin(first[stayed], again).all()  # the same children, as they age


def test_a_family_whose_last_child_has_left_has_no_open_case():
    """Once no child of a family is at home or in care (turned 18, adopted, moved away), its
    case is closed: no family on a plan or in need is left without a child."""
    from sim.population import Case

    model = CareSystem(small(run__years=3, run__burn_in_years=2))
    seen = 0
    for _ in range(3 * 52):
        model.step()
        f = model.pop.families
        open_rows = model.pop.open_families()
        gone = open_rows[~f.active[open_rows]]
        assert len(gone) == 0, f"week {model.week}: {len(gone)} inactive families with a case"
        seen += int(np.count_nonzero(f.case[open_rows] == Case.PROTECTION_PLAN))
    assert seen  # (families were on plans)


def test_plans_are_reviewed_at_review_conferences_not_every_few_weeks():
    """A plan comes up for review 3 months after the initial conference and every 6 months
    after that (Working Together); a child-in-need case at its keyed chance each week."""
    from agents.local_authority import plan_review_weeks
    from sim import kernels
    from sim.population import Case

    p = small().social_work
    first, every = plan_review_weeks(p)
    assert (first, every) == (13, 26)
    weeks = np.arange(0, 200, dtype=np.int16)
    n = len(weeks)
    case = np.full(n, int(Case.PROTECTION_PLAN), np.int8)
    out = np.empty(n, np.int64)
    m = kernels.casework_reviews(np.arange(n), np.arange(n, dtype=np.uint64), np.uint64(1),
                                 case, weeks, int(Case.CHILD_IN_NEED),
                                 int(Case.PROTECTION_PLAN), 6.0, 1.0, first, every, out)
    assert list(weeks[out[:m]]) == [13, 39, 65, 91, 117, 143, 169, 195]
    case[:] = int(Case.CHILD_IN_NEED)  # (chance 1: every case past its assessment weeks)
    m = kernels.casework_reviews(np.arange(n), np.arange(n, dtype=np.uint64), np.uint64(1),
                                 case, weeks, int(Case.CHILD_IN_NEED),
                                 int(Case.PROTECTION_PLAN), 6.0, 1.0, first, every, out)
    assert m == n - 6


def _families_at_their_first_review(model: CareSystem, n: int = 40) -> np.ndarray:
    """``n`` families with a child at home and a toxic-trio factor, put on a plan a week before
    its first review conference, with need so low that the conference ends the plan."""
    from sim.population import Case

    census = model.pop.home_census()
    f = model.pop.families
    rows = np.flatnonzero(f.active & ~f.uasc & (census.at_home > 0) & (f.case == Case.NONE))[:n]
    model.pop.set_case(rows, Case.PROTECTION_PLAN)
    f.case_weeks[rows] = model.params.social_work.plan_first_review_weeks - 1
    f.trio[rows] = True
    f.need[rows] = -5.0
    return rows


@pytest.mark.parametrize("chance, trio_left", [(0.0, 1.0), (1.0, 0.0)])
def test_a_plan_ended_at_review_has_resolved_a_toxic_trio_factor_at_its_chance(chance,
                                                                             trio_left):
    """The change work a plan commissions can end a toxic-trio factor for good; when it does is
    the review conference that ends the plan (``plan_trio_resolution``), not before."""
    from agents.local_authority import casework
    from sim.population import Case

    model = CareSystem(small(run__burn_in_years=0, social_work__plan_trio_resolution=chance))
    model.step()  # (a week stepped: the week's buffers exist)
    rows = _families_at_their_first_review(model)
    census = model.pop.home_census()
    casework(model, census.at_home, census.at_home_mask)
    f = model.pop.families
    assert (f.case[rows] == Case.CHILD_IN_NEED).all()  # (every plan ended at its review)
    assert f.trio[rows].mean() == trio_left


def test_repeat_plans_count_the_children_at_home_who_were_on_a_plan_before() -> None:
    """DfE's second-or-subsequent plans are counted child by child: of the children at home in
    the families given a plan, those with an earlier plan."""
    from agents.local_authority import count_repeat_plans
    from sim.population import EVER_CPP

    model = CareSystem(small(run__burn_in_years=0))
    census = model.pop.home_census()
    c = model.pop.children
    kids = np.flatnonzero(census.at_home_mask)
    fams = np.unique(c.family[kids])[:30]
    at_home = model.pop.children_of(fams)
    at_home = at_home[census.at_home_mask[at_home]]
    c.ever[at_home[::3]] |= EVER_CPP  # a third of them were on a plan before
    counted = []
    model.count = lambda name, la, weights=None: counted.append((name, len(la)))
    count_repeat_plans(model, fams)
    assert counted == [("cpp_starts_repeat", len(at_home[::3]))]


def test_a_less_sure_conference_makes_fewer_plans_of_the_conferences_it_holds() -> None:
    """The conference decides on its own reading of need (``conference_noise`` times an
    assessment's error): the less sure it is, the more of the families brought to it by an
    enquiry it reads below the plan level."""
    def conversion(noise: float) -> float:
        m = _run(run__years=2, run__burn_in_years=1, social_work__conference_noise=noise)
        return _total(m, "cpp_starts") / _total(m, "icpc")

    sure, unsure = conversion(0.0), conversion(4.0)
    assert unsure < sure - 0.05


def test_a_readier_practice_of_going_to_court_brings_more_children_into_care() -> None:
    """``proceedings_practice`` scales the hazard of proceedings for families on a plan at the
    care level (the history schedules it: care applications rose faster than plans,
    2009-2017). Three times today's readiness: more proceedings, and more children enter
    care."""
    def run(practice: float) -> CareSystem:
        return _run(run__years=2, run__burn_in_years=1,
                    social_work__proceedings_practice=practice)

    today, readier = run(1.0), run(3.0)
    assert _total(readier, "proceedings_issued") > 1.5 * _total(today, "proceedings_issued")
    assert _total(readier, "care_entries") > _total(today, "care_entries")


def test_plans_ending_are_counted_in_dfe_d7s_bands() -> None:
    """A plan ended at its first review conference (13 weeks) counts as lasting three months
    or less, as DfE CIN table D7 bands it; one ended at 14 weeks is in the next band (to six
    months, 26 weeks); six months to a year is counted only as ended; a year to two and two
    years or more are bands of their own; every ended plan counts its children at home."""
    from agents.local_authority import count_plans_ending
    from sim.population import Case

    model = CareSystem(small(run__burn_in_years=0))
    f = model.pop.families
    fams = np.flatnonzero(f.active)[:7]
    f.case[fams] = Case.PROTECTION_PLAN
    f.case_weeks[fams] = [5, 13, 14, 26, 27, 52, 104]
    children = np.array([1, 2, 3, 4, 5, 6, 7])
    counted: dict[str, float] = {}

    def count(name, la, weights=None):
        counted[name] = counted.get(name, 0.0) + float(np.sum(weights))

    model.count = count
    count_plans_ending(model, fams, children)
    assert counted == {"cpp_ended": 28.0, "cpp_ended_2y": 7.0, "cpp_ended_3m": 3.0,
                       "cpp_ended_3_6m": 7.0, "cpp_ended_1_2y": 6.0}


def test_a_review_is_brought_forward_only_for_plans_past_their_first_at_its_rate() -> None:
    """Early reviews (``social_work.early_review_rate``) are drawn among plans past their
    first review conference that are not at a scheduled one this week, at the weekly chance
    of the yearly rate; off (0), none are."""
    from agents.local_authority import early_reviews, plan_review_weeks
    from sim.population import Case
    from sim.util import weekly_probability

    model = CareSystem(small(run__scale=0.05, social_work__early_review_rate=8.0))
    for _ in range(2):
        model.step()
    f = model.pop.families
    known = model.pop.open_families()
    first, _ = plan_review_weeks(model.params.social_work)
    eligible = known[(f.case[known] == Case.PROTECTION_PLAN) & (f.case_weeks[known] > first)]
    early = early_reviews(model, known, np.zeros(0, np.int64))
    assert len(eligible) > 50 and np.isin(early, eligible).all()
    chance = float(weekly_probability(8.0))
    sd = np.sqrt(chance * (1 - chance) / len(eligible))
    assert abs(len(early) / len(eligible) - chance) < 4 * sd
    # A plan at its scheduled review this week is read there, not again.
    assert not np.isin(early_reviews(model, known, eligible[::2]), eligible[::2]).any()
    off = CareSystem(small(run__scale=0.05))
    off.step()
    assert len(early_reviews(off, off.pop.open_families(), np.zeros(0, np.int64))) == 0


def test_reviews_brought_forward_end_plans_between_the_timetables_and_shorten_them() -> None:
    """With reviews brought forward, more of the plans ending have lasted three to six months
    (DfE D7's second band, which the timetable's reviews at 13 and 39 weeks miss), and fewer
    children are on a plan at the year's end."""
    def run(rate: float) -> pd.DataFrame:
        model = CareSystem(small(social_work__early_review_rate=rate))
        model.run()
        return model.annual_frame()

    timetable, early = run(0.0), run(3.0)
    assert early["share_cpp_ended_3_6m"].mean() > timetable["share_cpp_ended_3_6m"].mean() + 0.05
    assert early["cpp"].iloc[-1] < timetable["cpp"].iloc[-1]


@pytest.mark.parametrize("chance", [0.0, 0.4, 1.0])
def test_a_first_review_that_finds_the_crisis_over_ends_the_plan_at_its_chance(chance) -> None:
    """Of the plans a review reads as no longer needed, those at their first review end with
    chance ``first_review_end_chance`` (the rest go on); at a later review every one ends."""
    from agents.local_authority import held_at_first_review

    model = CareSystem(small(run__burn_in_years=0,
                             social_work__first_review_end_chance=chance))
    f = model.pop.families
    fams = np.flatnonzero(f.active)[:400]
    first = fams[:300]
    f.case_weeks[first] = model.params.social_work.plan_first_review_weeks
    f.case_weeks[fams[300:]] = 39  # a later review
    held = held_at_first_review(model, fams)
    assert not held[300:].any()
    assert held[:300].mean() == pytest.approx(1 - chance, abs=0.08)
    assert np.array_equal(held, held_at_first_review(model, fams))  # keyed: the same again
