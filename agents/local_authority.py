"""Local authorities: budgets, the front door, casework, early help and commissioning.

A :class:`LocalAuthority` holds one authority's decisions: how many early-help places its budget
buys, how high its front-door threshold sits given its social workers' workload, how it weighs
price against distance when commissioning, and, at year end, how an overspend on placements
cuts next year's early help (the crisis trap). The functions below apply those decisions to
every family of every authority at once, reading each authority's choice from an array.
"""

from __future__ import annotations

import numpy as np
from mesa.discrete_space import FixedAgent

from sim import kernels
from sim.population import EVER_CPP, WEEKS_PER_YEAR, Case, Event
from sim.util import first_per_group, scratch, weekly_probability


class LocalAuthority(FixedAgent):
    """One children's-services authority."""

    def __init__(self, model, idx: int, cell, children: int) -> None:
        super().__init__(model)
        p = model.params
        self.idx = idx
        self.cell = cell
        self.name = str(model.region.la_name[idx])
        self.code = str(model.region.la_code[idx])
        self.deprivation = float(model.region.la_deprivation[idx])
        # Early help at the start's children; it follows them (model.la_children_scale).
        per_10k = children / 1e4
        self.base_early_help = (
            p.early_help.places_per_10k_children
            * per_10k
            * p.early_help.cost_per_place_week
            * WEEKS_PER_YEAR
        )
        self.early_help_cut = 0.0  # taken from this year's early help to pay last year's overspend
        self.placement_budget = 0.0  # set once today's placements are known
        self.last_overspend = 0.0

    # --- budget ---------------------------------------------------------------------------
    @property
    def early_help_budget(self) -> float:
        """This year's early-help budget: base (places per 10,000 children, for the children
        the authority has now) x its levers (sim/levers.py), less the crisis-trap cut, with a
        floor."""
        m, i = self.model, self.idx
        p, lv = m.params, m.levers
        base = (self.base_early_help * m.la_children_scale[i] * lv.early_help_capacity[i]
                * lv.funding[i])
        return max(p.budget.early_help_floor * base, base - self.early_help_cut)

    @property
    def early_help_places(self) -> int:
        cost = self.model.params.early_help.cost_per_place_week * WEEKS_PER_YEAR
        return int(self.early_help_budget / cost) if cost > 0 else 0

    @property
    def social_workers(self) -> float:
        """Social workers at work (employed and agency FTE; agents/workforce.py)."""
        return float(self.model.workforce.working[self.idx])

    @property
    def workload(self) -> float:
        return float(self.model.workforce.workload[self.idx])

    @property
    def threshold(self) -> float:
        return float(self.model.la_thresholds()[self.idx])

    @property
    def social_work_budget(self) -> float:
        """Funded posts at the cost of an employed social worker (spending is the workforce's
        actual cost, agency premium included, so vacancies covered by agency overspend)."""
        p = self.model.params.social_work
        return float(self.model.workforce.posts[self.idx]) * p.cost_per_fte

    @property
    def budget(self) -> float:
        """The whole budget at a yearly rate, at today's lever values (the year's budget is
        accrued week by week, so a lever moved mid-year counts from that week on); the
        funding lever scales the placement line too."""
        placements = self.placement_budget * self.model.levers.funding[self.idx]
        return self.early_help_budget + self.social_work_budget + placements

    def set_placement_budget(self, children_in_care: int, weekly_cost: float) -> None:
        """Budget today's children in care at the typical weekly cost of a registered
        placement (plus any planned margin)."""
        p = self.model.params
        self.placement_budget = (
            children_in_care * weekly_cost * WEEKS_PER_YEAR * (1 + p.budget.placement_budget_margin)
        )

    def settle_year(self, overspend: float) -> None:
        """The crisis trap: a share of this year's overspend comes out of next year's early help."""
        self.last_overspend = overspend
        self.early_help_cut = self.model.params.budget.crisis_trap_strength * overspend

    @property
    def overload(self) -> float:
        return max(0.0, self.workload - 1.0)


def assess(model, families: np.ndarray, mechanism: str = "assess",
           z: np.ndarray | None = None, scale: float = 1.0) -> np.ndarray:
    """Need as an assessment reads it: true need plus error that grows with overload.
    ``z``: standard normal draws to use (default: keyed draws of the families' uids for
    ``mechanism``; each kind of assessment has its own name, so the conference's reading of a
    family is not the enquiry's reading again). ``scale``: the error's size relative to an
    assessment's (a Section 47 enquiry's is ``enquiry_noise``)."""
    p = model.params.social_work
    noise_sd = scale * p.assessment_noise * (
        1.0 + p.overload_noise * model.la_overload()[model.pop.families.la[families]]
    )
    if z is None:
        z = model.draws.normal(mechanism, model.pop.families.uid[families])
    return model.pop.families.need[families] + noise_sd * z


PLAN_LONG_WEEKS = 2 * WEEKS_PER_YEAR  # DfE CIN table D7's longest band: two years or more
PLAN_SHORT_WEEKS = 13  # ... and its shortest: three months or less
PLAN_HALF_YEAR_WEEKS = 26  # ... its second band: more than three months, up to six
PLAN_YEAR_WEEKS = WEEKS_PER_YEAR  # ... and its fourth: a year or more, less than two


def week_census(model):
    """The week's census (sim/population.py HomeCensus); outside a step, as a test may call a
    counting rule, one made now."""
    return model.census if model.census is not None else model.pop.home_census()


def count_plans_ending(model, families: np.ndarray, children: np.ndarray | None = None) -> None:
    """Count the plans that end as ``families`` leave their stage (those on a plan; one row
    per family, ``children`` each, default the week's children at home), those among them
    that lasted two years or more, England's measure of plans left to drift (DfE CIN table
    D7: 3.6% of the plans ending in 2019-20, 4.4% in 2024-25), and those that lasted three
    months or less, D7's shortest band (18.7% in 2019-20, 15.9% in 2024-25): in the model
    the plans ended at the first review conference (or before it, on coming into care), most
    of them plans made for a crisis that had faded (see held_at_first_review); and D7's two
    middle bands that are not the second review's (more than three months and up to six:
    11.4% and 11.0%; a year to two: 24.0% and 25.2%), which say when plans end between the
    review conferences the timetable sets (early_reviews)."""
    f = model.pop.families
    on = f.case[families] == Case.PROTECTION_PLAN
    if not on.any():
        return
    fam = families[on]
    if children is None:
        children = week_census(model).at_home[families]
    kids = children[on].astype(float)
    la = f.la[fam]
    model.count("cpp_ended", la, kids)
    long = f.case_weeks[fam] >= PLAN_LONG_WEEKS
    model.count("cpp_ended_2y", la[long], kids[long])
    weeks = f.case_weeks[fam]
    short = weeks <= PLAN_SHORT_WEEKS
    model.count("cpp_ended_3m", la[short], kids[short])
    half = ~short & (weeks <= PLAN_HALF_YEAR_WEEKS)
    model.count("cpp_ended_3_6m", la[half], kids[half])
    year = (weeks >= PLAN_YEAR_WEEKS) & ~long
    model.count("cpp_ended_1_2y", la[year], kids[year])


def _move(model, families: np.ndarray, case: Case, event: Event | None = None) -> None:
    f = model.pop.families
    if case != Case.PROTECTION_PLAN:
        count_plans_ending(model, families)
    model.pop.set_case(families, case)
    f.case_weeks[families] = 0
    if event is not None:
        model.pop.log(model.week, event, family=families)


def front_door(model, referred: np.ndarray, at_home: np.ndarray) -> None:
    """Triage referrals: assess those above the authority's threshold, signpost the rest."""
    f = model.pop.families
    if len(referred) == 0:
        return
    count_referrals(model, referred, at_home[referred])
    model.mark_ever(referred, "referred")
    model.pop.log(model.week, Event.REFERRAL, family=referred)
    perceived = assess(model, referred, "assess.front_door")
    accept = perceived >= model.la_thresholds()[f.la[referred]]
    _move(model, referred[accept], Case.ASSESSMENT, Event.ASSESSMENT)
    model.count("assessments", f.la[referred[accept]], at_home[referred[accept]])
    model.mark_ever(referred[accept], "assessed")
    rest = referred[~accept]
    signpost = rest[(f.need[rest] > model.params.early_help.level) & (f.case[rest] == Case.NONE)]
    _move(model, signpost, Case.EARLY_HELP_WAITING)


def count_referrals(model, families: np.ndarray, children: np.ndarray | None = None) -> None:
    """Count referrals of ``families`` (``children`` each; default one), noting the ones that
    come within 12 months of the family's last referral (DfE's re-referrals)."""
    f = model.pop.families
    la = f.la[families]
    model.count("referrals", la, children)
    again = model.week - f.last_referral[families] <= WEEKS_PER_YEAR
    model.count("rereferrals_12m", la[again], None if children is None else children[again])
    f.last_referral[families] = model.week


def _s47(model, families: np.ndarray, at_home: np.ndarray) -> None:
    """Section 47 enquiries; where the enquiry substantiates concern (an assessed need at
    ``icpc_level``), an initial child protection conference, which makes a plan if its own
    reading of need reaches ``cpp_level``; every other enquired family is a child in need."""
    f, p = model.pop.families, model.params.social_work
    if len(families) == 0:
        return
    model.count("s47_enquiries", f.la[families], at_home[families])
    model.pop.log(model.week, Event.S47, family=families)
    # (An enquiry gathers evidence an assessment does not: its reading errs less.)
    found = assess(model, families, "assess.s47", scale=p.enquiry_noise)
    # (The year's practice moves the conference's threshold as well as the enquiry's, by
    # conference_practice_share of it: ODD 7.5.)
    conference = families[found >= p.icpc_level
                          + p.conference_practice_share * p.s47_practice_shift]
    model.count("icpc", f.la[conference], at_home[conference])
    model.pop.log(model.week, Event.CONFERENCE, family=conference)
    # (Which of the families the conference plans for, looked up among those few rather
    # than marked in a mask of every family.)
    plan = np.isin(families,
                   conference[assess(model, conference, "assess.conference",
                                       scale=p.conference_noise) >= p.cpp_level])
    planned = families[plan & (f.case[families] != Case.PROTECTION_PLAN)]
    model.count("cpp_starts", f.la[planned], at_home[planned])
    count_repeat_plans(model, planned)
    model.mark_ever(planned, "cpp")
    _move(model, planned, Case.PROTECTION_PLAN, Event.PROTECTION_PLAN)
    stay = families[~plan & (f.case[families] != Case.CHILD_IN_NEED)]
    _move(model, stay, Case.CHILD_IN_NEED, Event.CHILD_IN_NEED)
    model.mark_ever(families, "cin")  # an enquiry's child is in need, plan or not


def count_repeat_plans(model, planned: np.ndarray) -> None:
    """Count, of the children at home in the families given a plan, those who had been on a
    plan before (DfE CIN table D3's children becoming the subject of a plan for a second or
    subsequent time: 13% in 2009-10, 16.6% in 2014-15). Why it is measured: a plan that ends
    while the family's need is still high is soon followed by another, and this share is how
    England sees that revolving door (ODD 7.5)."""
    if len(planned) == 0:
        return
    c = model.pop.children
    at_home = week_census(model).at_home_mask
    kids = model.pop.children_of(planned)
    kids = kids[at_home[kids] & ((c.ever[kids] & EVER_CPP) > 0)]
    model.count("cpp_starts_repeat", model.pop.families.la[c.family[kids]])


def resolve_trio(model, families: np.ndarray, chance: float, mechanism: str) -> None:
    """A toxic-trio factor of ``families`` ends for good with probability ``chance`` (a keyed
    draw of the family's uid for ``mechanism``): the lasting part of what support achieves."""
    f = model.pop.families
    if chance <= 0.0 or len(families) == 0:
        return
    u = model.draws.uniform(mechanism, f.uid[families])
    f.trio[families[f.trio[families] & (u < chance)]] = False


def _close(model, families: np.ndarray) -> None:
    """Close cases; families still above the early-help level are offered early help."""
    f = model.pop.families
    step_down = families[f.need[families] > model.params.early_help.level]
    _move(model, families, Case.NONE, Event.CASE_CLOSED)
    f.return_watched[families] = False  # a return home is watched while the case is open
    _move(model, step_down, Case.EARLY_HELP_WAITING)


def close_departed(model, live: np.ndarray) -> None:
    """Close the case of every family that no longer has a child at home or in care (``live``:
    the week's census, sim/population.py HomeCensus), the week its last child leaves: turned
    18 at home, adopted or under a special guardianship order, or gone with a family that moved.

    Why: a plan or a child-in-need case is held for a child. Left open, such a family had no
    child to count, but its case was still reviewed, conferenced and taken to court, never
    closed (its need no longer moves), and kept on the list casework reads every week: eight
    years into the 2010 history, seven in ten families on a plan had no child left (1,458 of
    2,086 at scale 0.02, seed 1), and one set of care proceedings in 27 had been issued for a
    family with no child. (Not offered early help on closing, as :func:`_close` does: there is
    no child to help.)"""
    f = model.pop.families
    rows = model.pop.open_families()
    gone = rows[~live[rows]]
    _move(model, gone, Case.NONE, Event.CASE_CLOSED)
    f.return_watched[gone] = False


def casework(model, at_home: np.ndarray, at_home_mask: np.ndarray) -> np.ndarray:
    """Assessments finish, cases are reviewed, plans escalate to proceedings.

    ``at_home`` counts each family's children at home; ``at_home_mask`` marks those children.
    Returns the families for whom care proceedings were issued this week.
    """
    f, p = model.pop.families, model.params.social_work
    # Only families with an open case are looked at below: the ones whose case moves this
    # week were open at its start; the review draws are keyed by their uids. (The list is
    # kept as cases open and close: sim/population.py, open_families.)
    known = model.pop.open_families()
    # The lists below are each made in one compiled pass over these families (sim/kernels.py:
    # casework_due, casework_reviews, casework_high), the numpy expressions of
    # casework_lists_reference; the thresholds compared as numpy compares them with the
    # columns (_as_compared).
    out = np.empty(len(known), np.int64)
    min_weeks = _as_compared(f.case_weeks, p.assessment_weeks)
    # Assessments that finish this week (every open case a week older).
    m = kernels.casework_due(known, f.case, f.case_weeks, int(Case.ASSESSMENT), min_weeks, out)
    done = out[:m].copy()
    read = assess(model, done, "assess.assessment")
    s47_level = p.s47_level + p.s47_practice_shift  # the practice of the year (ODD 7.5)
    _s47(model, done[read >= s47_level], at_home)
    cin = done[(read >= p.cin_level) & (read < s47_level)]
    _move(model, cin, Case.CHILD_IN_NEED, Event.CHILD_IN_NEED)
    model.mark_ever(cin, "cin")
    _close(model, done[read < p.cin_level])
    # Reviews of open child-in-need cases and plans.
    m = kernels.casework_reviews(
        known, f.uid, np.uint64(model.draws.key("casework.review")), f.case, f.case_weeks,
        int(Case.CHILD_IN_NEED), int(Case.PROTECTION_PLAN), min_weeks,
        1.0 / p.review_weeks, *plan_review_weeks(p), out)  # (uniforms are float64: exact)
    reviewed = out[:m].copy()
    read = assess(model, reviewed, "assess.review")
    on_plan = f.case[reviewed] == Case.PROTECTION_PLAN
    _s47(model, reviewed[~on_plan & (read >= s47_level)], at_home)
    # A plan ends when its review conference reads the risk as reduced (at the first review,
    # only sometimes: first_review_end_chance); the change work it commissioned may have ended
    # a toxic-trio factor for good (plan_trio_resolution).
    ended = reviewed[on_plan & (read < p.cpp_level)]
    ended = ended[~held_at_first_review(model, ended)]
    early = early_reviews(model, known, reviewed)
    if len(early):
        read_early = assess(model, early, "assess.early_review")
        ended = np.union1d(ended, early[read_early < p.cpp_level])
    resolve_trio(model, ended, p.plan_trio_resolution, "casework.plan_trio")
    _move(model, ended, Case.CHILD_IN_NEED, Event.CHILD_IN_NEED)
    _close(model, reviewed[~on_plan & (read < p.close_level)])
    # Care proceedings for families on a plan whose need stays at the care level; sooner where
    # a child under five lives at home (the younger the child, the less harm can be waited on).
    # (Not those whose proceedings are already running.)
    m = kernels.casework_high(known, f.case, f.need, f.in_court, int(Case.PROTECTION_PLAN),
                              _as_compared(f.need, p.care_level), out)
    high = out[:m].copy()
    c = model.pop.children
    has_young = np.zeros(len(high), bool)  # (of the families in high)
    if len(high):
        # Only these few families' children are looked at (through the family index).
        kids = model.pop.children_of(high)
        kids = kids[at_home_mask[kids] & (c.age[kids] < 5 * WEEKS_PER_YEAR)]
        has_young = np.isin(high, c.family[kids])
    # ... at the year's readiness to go to court (ODD 7.5: practice, 1 today).
    rate = (p.proceedings_rate * p.proceedings_practice
            * np.exp(p.young_child_proceedings_effect * has_young))
    u = model.draws.uniform("casework.proceedings", f.uid[high])
    return high[u < weekly_probability(rate * 12)]


def held_at_first_review(model, families: np.ndarray) -> np.ndarray:
    """Of ``families``, whose plan a review conference reads as no longer needed, those at
    their first review (``plan_first_review_weeks`` into the plan) whose plan goes on all the
    same: each such plan ends with chance ``first_review_end_chance`` (a keyed draw of the
    family's uid). Why: a plan is made at a crisis, and by the first review the crisis has often
    faded while what caused it has not changed; Working Together asks a review conference
    whether change is sustained, not whether risk is lower this week. In the model a plan whose
    first review found need below ``cpp_level`` always ended, and 35-41% of the plans that
    ended had lasted three months or less, against England's 15.9% (DfE CIN table D7,
    2024-25). At 1 (the default) every such plan ends and no draw is made."""
    f, p = model.pop.families, model.params.social_work
    held = np.zeros(len(families), bool)
    if p.first_review_end_chance >= 1.0 or len(families) == 0:
        return held
    first = f.case_weeks[families] == plan_review_weeks(p)[0]
    u = model.draws.uniform("casework.first_review", f.uid[families[first]])
    held[np.flatnonzero(first)[u >= p.first_review_end_chance]] = True
    return held


def early_reviews(model, known: np.ndarray, reviewed: np.ndarray) -> np.ndarray:
    """Of the open cases ``known``, the plans past their first review conference, not at a
    scheduled one this week (``reviewed``), whose review is brought forward this week
    (``social_work.early_review_rate`` a plan-year, a keyed draw of the family's uid); the
    review conference then ends the plan if it reads the risk as reduced, as at any review.

    Why: Working Together's timetable sets the latest date of each review conference, not the
    only one; a core group that sees the plan's aims met asks for the review to be brought
    forward. With reviews only at the timetable's weeks (three months, then every six), a
    plan past its first review could end only at nine months, fifteen, and so on: of the
    plans ending, 2-3% had lasted more than three months and up to six, against 11.0% in
    England in 2024-25, and 56% six months to a year, against 43.5% (DfE CIN table D7; run
    40 run on from 2024 with placements for adoption, one seed at 0.02, twenty-third
    session). Off (0) by default: no draw is made."""
    rate = model.params.social_work.early_review_rate
    if rate <= 0 or len(known) == 0:
        return np.zeros(0, dtype=np.int64)
    f = model.pop.families
    first, _ = plan_review_weeks(model.params.social_work)
    cand = known[(f.case[known] == Case.PROTECTION_PLAN) & (f.case_weeks[known] > first)]
    cand = cand[~np.isin(cand, reviewed)]
    u = model.draws.uniform("casework.early_review", f.uid[cand])
    return cand[u < weekly_probability(rate)]


def plan_review_weeks(p) -> tuple[int, int]:
    """The weeks of a plan's review conferences: the first ``plan_first_review_weeks`` after
    the initial conference, then every ``plan_review_interval_weeks`` (Working Together to
    Safeguard Children: within three months, then at intervals of not more than six). Why a
    timetable rather than a chance each week: a plan ends only at a review conference, so
    England's plans end in clusters (42% of those ending in 2019-20 had lasted six months to
    a year, 11% three to six months: DfE CIN table D7), and a family on a plan is not
    looked at again every few weeks as a child-in-need case is."""
    return int(p.plan_first_review_weeks), int(p.plan_review_interval_weeks)  # (whole, >= 1)


def _as_compared(column: np.ndarray, value) -> float:
    """``value`` as numpy compares it with ``column`` (``column >= value``): in the two's
    result type (a Python float against float32 need is rounded to float32 first, NEP 50),
    returned as the float64 holding it exactly, so a compiled comparison of the column's
    values as float64 gives numpy's answer."""
    return float(np.result_type(column.dtype, value).type(value))


def casework_lists_reference(model, known: np.ndarray) -> tuple[np.ndarray, ...]:
    """The numpy definitions of casework's three lists over the open cases ``known``, each
    read at its point of the week (tests/test_exact.py): assessments done (after the week
    is added to every open case), reviews due and candidates for proceedings."""
    f, p = model.pop.families, model.params.social_work
    done = known[(f.case[known] == Case.ASSESSMENT) & (f.case_weeks[known] >= p.assessment_weeks)]
    u = model.draws.uniform("casework.review", f.uid[known])
    case = f.case[known]
    weeks = f.case_weeks[known].astype(np.int64)
    first, every = plan_review_weeks(p)
    reviewed = known[
        ((case == Case.CHILD_IN_NEED) & (weeks >= p.assessment_weeks) & (u < 1.0 / p.review_weeks))
        | ((case == Case.PROTECTION_PLAN) & (weeks >= first) & ((weeks - first) % every == 0))
    ]
    high = known[(f.case[known] == Case.PROTECTION_PLAN) & (f.need[known] >= p.care_level)]
    return done, reviewed, high[~f.in_court[high]]


def pre_birth(model) -> np.ndarray:
    """Babies born this week into families whose need is at the pre-birth level: removed at
    birth after a pre-birth assessment (midwives and the antenatal health-visitor contact see
    every pregnancy, so the family need not already be known). Returns the babies."""
    c, f = model.pop.children, model.pop.families
    # Every child older than a week has aged past 0: in the model's step only the rows
    # added since its ageing (sim/model.py: new_children_from) are looked at.
    start = model.__dict__.get("new_children_from", 0)
    newborn = start + np.flatnonzero(c.active[start:] & (c.age[start:] == 0))
    fam = c.family[newborn]
    return newborn[~f.uasc[fam] & (f.need[fam] >= model.params.social_work.pre_birth_level)]


def early_help(model) -> None:
    """Fill free early-help places from the waiting list (longest wait first); end episodes."""
    f, p = model.pop.families, model.params.early_help
    # The episodes ending, the waits given up, the places still in use by authority and the
    # families still waiting, in one compiled pass over the families with an open case
    # (sim/population.py: open_families; those ending and giving up are the ones the last
    # two leave out: sim/kernels.py, early_help_lists).
    rows = model.pop.open_families()
    ending, gave_up, waiting = (np.empty(len(rows), np.int64) for _ in range(3))
    in_use = np.zeros(model.n_la, np.int64)
    n_end, n_gave, n_wait = kernels.early_help_lists(
        rows, f.case, f.case_weeks, f.la, int(Case.EARLY_HELP), int(Case.EARLY_HELP_WAITING),
        float(p.weeks), float(p.max_wait_weeks), ending, gave_up, waiting, in_use)
    ending, gave_up, waiting = ending[:n_end], gave_up[:n_gave], waiting[:n_wait]
    resolve_trio(model, ending, p.trio_resolution, "early_help.trio")
    _move(model, ending, Case.NONE)
    _move(model, gave_up, Case.NONE)
    places = np.array([la.early_help_places for la in model.authorities])
    start = waiting[
        first_per_group(f.la[waiting], np.maximum(places - in_use, 0), -f.case_weeks[waiting])
    ]
    _move(model, start, Case.EARLY_HELP, Event.EARLY_HELP)
    model.count("early_help_started", f.la[start])


def early_help_reference(model) -> None:
    """:func:`early_help` as numpy passes over the families (the definition)."""
    f, p = model.pop.families, model.params.early_help
    ending = np.flatnonzero((f.case == Case.EARLY_HELP) & (f.case_weeks >= p.weeks))
    resolve_trio(model, ending, p.trio_resolution, "early_help.trio")
    _move(model, ending, Case.NONE)
    gave_up = np.flatnonzero(
        (f.case == Case.EARLY_HELP_WAITING) & (f.case_weeks >= p.max_wait_weeks)
    )
    _move(model, gave_up, Case.NONE)
    places = np.array([la.early_help_places for la in model.authorities])
    in_use = np.bincount(f.la[f.case == Case.EARLY_HELP], minlength=model.n_la)
    waiting = np.flatnonzero(f.case == Case.EARLY_HELP_WAITING)
    start = waiting[
        first_per_group(f.la[waiting], np.maximum(places - in_use, 0), -f.case_weeks[waiting])
    ]
    _move(model, start, Case.EARLY_HELP, Event.EARLY_HELP)
    model.count("early_help_started", f.la[start])


def support_received(model) -> np.ndarray:
    """Need reduced this week by the support each family receives.

    What a family receives depends only on its authority (the quality of overloaded social
    work) and its case stage, so it is worked out once per authority and stage and looked up
    (the same products as family by family); the result is valid until the next call."""
    f, p = model.pop.families, model.params
    # Looked up family by family in one compiled pass (sim/kernels.py: support_lookup), the
    # same operations as table[la, case] + (hv_weeks > 0) * targeted_effect, as float32.
    out = scratch(model).get("support", f.n, np.float32)
    kernels.support_lookup(support_table(model), f.la, f.case, f.hv_weeks,
                           float(p.health_visiting.targeted_effect), out)
    return out


def support_table(model) -> np.ndarray:
    """The support a family receives by authority (rows) and case stage (columns), before
    targeted health visiting: a stage's effect, times the quality of the authority's social
    work from an assessment on (float64; :func:`support_received`)."""
    p = model.params
    quality = 1.0 / (1.0 + model.la_overload())
    effect = np.zeros(len(Case), dtype=np.float32)
    effect[Case.EARLY_HELP] = p.early_help.effect
    effect[Case.CHILD_IN_NEED] = p.social_work.cin_effect
    effect[Case.PROTECTION_PLAN] = p.social_work.cpp_effect
    effect[Case.CARE] = p.social_work.cin_effect
    social_work = np.arange(len(effect)) >= Case.ASSESSMENT
    table = effect[None, :] * np.where(social_work[None, :], quality[:, None], 1.0)
    return np.ascontiguousarray(table, dtype=np.float64)
