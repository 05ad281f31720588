"""CareSystem: England's children's social care as a Mesa model, one step per week.

The few decision-makers are Mesa agents on the regional network (a ``mesa.discrete_space.Network``
over :mod:`sim.region`'s graph): a :class:`~agents.local_authority.LocalAuthority` and a
:class:`~agents.health_visitor.HealthVisitorTeam` per authority, and a
:class:`~agents.provider.PlacementProvider` per provider. The many (families, children,
placements) are numpy columns in :class:`~sim.population.Population`, moved by vectorised rules.

A week, in stages (see docs/ODD.md):

1. demography: ageing, 18th birthdays, births, unaccompanied children arriving;
2. need evolves with poverty, the toxic trio and support received;
3. health visitors make contacts and spot rising need;
4. referrals reach each authority's front door, whose threshold follows social-work workload;
5. casework: assessments, Section 47 enquiries, plans, proceedings; teenagers' crises;
6. early help: places filled from the waiting list;
7. placements: breakdowns and moves, contact, exits, then commissioning for everyone who needs
   a placement;
8. market (every 4 weeks): providers review prices and capacity; for-profit entry and exit;
9. accounting, and at year end: budgets settle (the crisis trap) and indicators are recorded.

Tools that need to see the run as it goes (the teaching app's weekly series, validation's
per-year tables) do not subclass the model: they register observers, ``model.observers.on_week(f)``
and ``model.observers.on_year_end(f)``, called with the model (see :class:`Observers`).
"""

from __future__ import annotations

from collections.abc import Callable

import mesa
import networkx as nx
import numpy as np
import pandas as pd
from mesa.discrete_space import Network

from agents import court, family, health_visitor, local_authority
from agents.family import Child, Family
from agents.health_visitor import HealthVisitorTeam
from agents.local_authority import LocalAuthority
from agents.provider import PROVIDER_SCHEMA, PlacementProvider, build_market, review_market
from agents.workforce import Workforce
from sim import demography, indicators, kernels, placements
from sim import levers as lever_arrays
from sim.config import Scenario
from sim.draws import Draws
from sim.population import (
    EVER_ASSESSED,
    EVER_CIN,
    EVER_CPP,
    EVER_REFERRED,
    WEEKS_PER_YEAR,
    Case,
    End,
    Event,
    Kind,
    Legal,
    Table,
)
from sim.region import Region, england
from sim.util import scratch, union_ints, unique_ints

#: Sequential streams, spawned from the root seed, for the few random decisions that concern
#: no individual: the population's structure at build, and the placement market (providers'
#: prices, quality, sites and entry). Every decision about a family, a child or a placement is
#: a keyed draw of ``model.draws`` instead (sim/draws.py: common random numbers), so a policy
#: that changes one family's path shifts no one else's luck. The two never share numbers.
STREAMS = ("build", "market")
EVER_BITS = {
    "referred": EVER_REFERRED,
    "assessed": EVER_ASSESSED,
    "cin": EVER_CIN,
    "cpp": EVER_CPP,
}
MARKET_EVERY = 4  # weeks


class Observers:
    """Callables a :class:`CareSystem` calls with itself as it runs, so that a tool can watch a
    run without subclassing the model or wrapping its step.

    - ``on_week(f)``: ``f(model)`` at the end of every week's step (after the year's close, if
      the week ends a year);
    - ``on_year_end(f)``: ``f(model)`` when a year closes, once its rows are in
      ``model.annual`` and ``model.annual_by_la`` and before next year's flows start.

    Both return ``f``, so they can be used as decorators, and are called in the order they were
    added. Observers are added to a built model, so they see no burn-in week (the burn-in runs
    in the constructor): ``model.week`` is 0 or more in every call. Observers are meant to read
    the model; one that changes its state changes the run (draws are keyed, so reading never
    does). They are kept with the model: a model that is pickled (a warm start, a snapshot)
    needs picklable observers (a module-level function or a bound method of a module-level
    class, not a closure).
    """

    def __init__(self) -> None:
        self.week: list[Callable[[CareSystem], None]] = []
        self.year_end: list[Callable[[CareSystem], None]] = []

    def on_week(self, f: Callable[[CareSystem], None]) -> Callable[[CareSystem], None]:
        self.week.append(f)
        return f

    def on_year_end(self, f: Callable[[CareSystem], None]) -> Callable[[CareSystem], None]:
        self.year_end.append(f)
        return f

    def remove(self, f: Callable[[CareSystem], None]) -> None:
        """Stop calling ``f`` (from whichever list holds it)."""
        for hooks in (self.week, self.year_end):
            while f in hooks:
                hooks.remove(f)


class CareSystem(mesa.Model):
    """Children's social care in a region of England, one step per week."""

    def __init__(
        self,
        scenario: Scenario | None = None,
        region: Region | None = None,
        burn_in_progress: Callable[[int], None] | None = None,
        compact: bool = True,
    ) -> None:
        scenario = scenario or Scenario()
        super().__init__(rng=scenario.run.seed)
        # Retire the rows of individuals no rule reads again at every year's end (the burn-in's
        # too: sim/population.py, Population.compact). Every output is the same either way
        # (tests/test_exact.py); ``compact=False`` keeps every row ever added.
        self.compact_rows = compact
        self.observers = Observers()
        # The scenario as given (schedules and all) and its values in force this year: the
        # burn-in runs at the first year's values, so the warm state is in balance with them.
        # (Not ``self.scenario``: Mesa 3.5 keeps that name for its own experimental Scenario.)
        self.inputs = scenario
        # A replay (``run.replay_from``): the warm start is in balance with that earlier year,
        # and the years from it to year 1 run on their own schedules before year 1, unreported,
        # so year 1 carries the state the history left (a forward baseline "run on from 2024").
        self.replay_years = _replay_years(scenario)
        self.params = scenario.at_year(scenario.run.start_year - self.replay_years)
        seeds = np.random.SeedSequence(scenario.run.seed).spawn(len(STREAMS))
        self.streams = {n: np.random.default_rng(s) for n, s in zip(STREAMS, seeds, strict=True)}
        self.draws = Draws(scenario.run.seed)  # week = BUILD_WEEK until the first step
        self.region = region or england(scenario.run.region)
        self.n_la = self.region.n_la
        # Each lever's value in each authority (sim/levers.py), which the mechanisms read;
        # the scenario's [[policies]] move them from year 1 (built once the market exists).
        self.policies: list = []
        self._policy_state: tuple[float, ...] = ()
        self.levers = lever_arrays.compute(self.params, self.n_la)
        r = self.region
        self.grid = Network(
            r.graph, layout={i: (r.node_lon[i], r.node_lat[i]) for i in r.graph}, random=self.random
        )
        adj = nx.to_scipy_sparse_array(r.graph, nodelist=range(r.n_nodes), format="csr")
        self.neighbours = (adj.indptr.astype(np.int64), adj.indices.astype(np.int64))
        self.flows: dict[str, np.ndarray] = {}  # this year's counts per authority, by name
        self.week_flows: dict[str, float] = {}
        # Burn-in weeks are numbered -N..-1, so year 1 always starts at week 0.
        self.burn_weeks = WEEKS_PER_YEAR * (scenario.run.burn_in_years + self.replay_years)
        self.census = None  # the week's HomeCensus, while a week is being stepped
        self.week = -self.burn_weeks
        self.annual: list[pd.Series] = []
        self.annual_by_la: list[pd.DataFrame] = []

        self.pop = demography.populate(self)
        c, f = self.pop.children, self.pop.families
        la_children = np.bincount(f.la[c.family], minlength=self.n_la)
        # Capacities set per 10,000 children follow each authority's children (monthly:
        # sim/demography.py plan_for_children).
        self.la_children_at_build = la_children
        self.la_children_scale = np.ones(self.n_la)
        self.node_children = np.bincount(f.node[c.family], minlength=r.n_nodes).astype(float)
        self.authorities = [
            LocalAuthority(self, i, self.grid[3 * i + 1], int(la_children[i]))
            for i in range(self.n_la)
        ]
        fte = scenario.health_visiting.fte_per_10k_children * la_children / 1e4
        self.hv_teams = [
            HealthVisitorTeam(self, i, self.grid[3 * i + 1], float(fte[i]))
            for i in range(self.n_la)
        ]
        self.providers = Table(PROVIDER_SCHEMA, 256)
        self.provider_agents: list[PlacementProvider] = []
        # Each provider's site nearest each neighbourhood (agents/provider.py: represented_sites)
        self.provider_site = np.zeros((0, r.n_nodes), dtype=np.int16)
        build_market(self)
        self._place_initial_stock()
        self.workforce = Workforce(self, la_children, self.open_children())
        self.flows = {}  # the initial stock is not this year's entries
        self._init_policies()
        self._burn_in(burn_in_progress)

    def _burn_in(self, progress: Callable[[int], None] | None = None) -> None:
        """Run the burn-in years and forget their outputs. The drawn stocks are near England's
        published levels but not in the model's own balance (which children are in care, in
        which placements, for how long), and relaxing towards it takes years; the burn-in lets
        that happen before year 1. Its events stay in the log, at negative weeks. Budgets are
        then set afresh for the children in care as year 1 begins, as at the start of a run
        without a burn-in (the year's budget is "today's" children in care at today's prices);
        after a replay they stand as its last year left them, with the overspend it carries
        into year 1's early help (the crisis trap), as any year's end leaves them."""
        if self.burn_weeks == 0:
            return
        for _ in range(self.burn_weeks):
            self.step()
            if progress:
                progress(self.week)
        self.annual, self.annual_by_la = [], []
        if not self.replay_years:
            self._set_budgets()

    def _place_initial_stock(self) -> None:
        """Today's children in care, placed by the ordinary rules, dated back to when they
        entered; each authority's placement budget is its children in care at the typical
        weekly cost of a registered placement (emergency beds excluded)."""
        c, pl, e = self.pop.children, self.pop.placements, self.pop.events
        care, weeks = demography.initial_stocks(self)
        first_event = e.n
        d = self.draws
        s20 = d.uniform("build.s20", c.uid[care]) < self.params.care.initial_s20_share
        placements.enter_care(self, care, legal=np.where(s20, Legal.S20, Legal.CARE_ORDER))
        order = np.argsort(care)
        rows = np.arange(first_event, e.n)
        rows = rows[e.child[rows] >= 0]
        # The current placement began somewhere within the child's time in care so far.
        began = np.floor(weeks * d.uniform("build.began", c.uid[care])).astype(np.int32)
        at = np.searchsorted(care[order], self.pop.child_rows(e.child[rows]))
        is_entry = e.code[rows] == Event.CARE_ENTRY
        e.week[rows] = self.week - np.where(is_entry, weeks[order][at], began[order][at])
        c.care_weeks[care] = weeks
        ids = c.placement[care]
        pl.start[ids] = self.week - began
        c.placements_year[care] = 1
        self._set_budgets()

    def _set_budgets(self, settle: bool = True) -> None:
        """Each authority's placement budget: its children in care now at the typical weekly
        cost of a registered placement (emergency beds excluded). ``settle``: no overspend
        carried (a run's start); at a year's end the overspend just settled stands."""
        c, pl = self.pop.children, self.pop.placements
        ids = c.placement[c.in_care]
        registered = pl.kind[ids] != Kind.EMERGENCY
        typical = float(np.mean(pl.price[ids][registered])) if registered.any() else 0.0
        typical += self.params.placements.other_costs_per_week * self.params.placements.price_index
        in_care = np.bincount(pl.home_la[ids], minlength=self.n_la)
        for la in self.authorities:
            la.set_placement_budget(int(in_care[la.idx]), typical)
            if settle:
                la.settle_year(0.0)

    # --- policies and levers ----------------------------------------------------------------
    def _init_policies(self) -> None:
        """Build the scenario's policies (policies/base.py) against today's system: each
        resolves its authorities, dates and size once, here."""
        from policies.base import build

        self.policies = [build(spec) for spec in self.inputs.policies]
        for policy in self.policies:
            policy.init(self)

    def refresh_levers(self) -> None:
        """Rebuild the per-authority lever arrays now (a lever moved by the app, a new year's
        schedules)."""
        self.levers = lever_arrays.compute(self.params, self.n_la, self.policies, self.week)
        self._policy_state = tuple(p.fraction(self.week, reported_only=True)
                                   for p in self.policies)

    def _update_levers(self, new_year: bool) -> None:
        """Rebuild the lever arrays when a year's schedules start or a policy starts, ramps
        or ends (a loop over the scenario's few policies, not over families)."""
        if self.policies:
            state = tuple(p.fraction(self.week, reported_only=True) for p in self.policies)
            if new_year or state != self._policy_state:
                self.refresh_levers()
        elif new_year:
            self.refresh_levers()

    def finalize_policies(self) -> list[dict]:
        """Each policy's summary of what it did (written to manifest.json)."""
        return [p.finalize(self) for p in self.policies]

    # --- helpers the mechanisms share ----------------------------------------------------
    def count(self, name: str, la: np.ndarray, weights: np.ndarray | None = None) -> None:
        """Add to this year's flow ``name`` per authority (``weights`` default to 1 each)."""
        add = np.bincount(np.asarray(la, dtype=np.int64), weights=weights, minlength=self.n_la)
        self.count_by_la(name, add)

    def count_by_la(self, name: str, add: np.ndarray) -> None:
        """Add ``add[la]`` to this year's flow ``name`` for each authority: :meth:`count` for
        a compiled pass that has already counted by authority (int64, as ``np.bincount``)."""
        if name not in self.flows:
            if name not in indicators.FLOWS:
                raise KeyError(f"unknown flow {name!r}; add it to sim/indicators.py")
            self.flows[name] = np.zeros(self.n_la)
        self.flows[name] += add
        self.week_flows[name] = self.week_flows.get(name, 0.0) + float(add.sum())

    def mark_ever(self, families: np.ndarray, what: str) -> None:
        """Flag the children at home in ``families`` as ever referred / in need / on a plan
        (applied once at the end of the week, in one pass over the children)."""
        self._ever[families] |= EVER_BITS[what]
        self._ever_marked.append(np.asarray(families, dtype=np.int64))

    def _apply_ever(self) -> None:
        """Only the flagged families' children are visited (a few thousand a week at full
        scale), not every child ever born."""
        c = self.pop.children
        if not self._ever_marked:
            return
        marked = unique_ints(np.concatenate(self._ever_marked))
        kids = self.pop.children_of(marked)
        kids = kids[c.active[kids] & ~c.in_care[kids]]
        c.ever[kids] |= self._ever[c.family[kids]]
        self._ever[marked] = 0  # (the buffer kept zero: Scratch.zeroed)

    def la_thresholds(self) -> np.ndarray:
        """Each authority's front-door threshold: it drifts up when social workers hold more
        children than they can (the workload loop)."""
        p = self.params.social_work
        return p.threshold + p.threshold_drift * self.workforce.overload

    def la_overload(self) -> np.ndarray:
        return self.workforce.overload

    def open_children(self, at_home_mask: np.ndarray | None = None) -> np.ndarray:
        """Children with an open social-work case per authority: at home in a family being
        assessed, in need or on a plan, or looked after."""
        c, f = self.pop.children, self.pop.families
        home = self.pop.children_at_home() if at_home_mask is None else at_home_mask
        if len(home) != c.n:
            raise ValueError("open_children: the mask must mark every child row")
        # One compiled pass over the children: those marked at home whose family's case is
        # open, plus those in care, by authority.
        counts = np.zeros(self.n_la, np.int64)
        kernels.open_children_by_la(home, c.in_care, c.family, f.case, int(Case.ASSESSMENT),
                                    f.la, counts)
        return counts

    def open_children_reference(self, at_home_mask: np.ndarray | None = None) -> np.ndarray:
        """:meth:`open_children` as numpy operations (the definition)."""
        c, f = self.pop.children, self.pop.families
        home = self.pop.children_at_home() if at_home_mask is None else at_home_mask
        kids = self.pop.children_of(np.flatnonzero(f.case >= Case.ASSESSMENT))
        open_home = kids[home[kids]]
        care = np.flatnonzero(c.in_care)
        return np.bincount(f.la[c.family[open_home]], minlength=self.n_la) + np.bincount(
            f.la[c.family[care]], minlength=self.n_la
        )

    @property
    def warming(self) -> bool:
        """A warm-start week: the burn-in before any replayed year, run at the first year's
        values with the population held at the size the build drew."""
        return self.week < -WEEKS_PER_YEAR * self.replay_years

    @property
    def calendar_year(self) -> int:
        """The DfE reporting year the current week belongs to: a warm-start week belongs to the
        year the warm start is at (year 1's, or the year a replay starts from)."""
        start = self.params.run.start_year
        return max(start - self.replay_years, start + self.week // WEEKS_PER_YEAR)

    def family(self, i: int) -> Family:
        """Family ``i`` (its id in the outputs and events: its serial, the row it would have
        had were rows never retired) as a read-only object, with its history."""
        return Family.of(self, i)

    def child(self, j: int) -> Child:
        """Child ``j`` (its id in the outputs, events and placements: its serial) as a
        read-only object, with its history and placements."""
        return Child.of(self, j)

    # --- the week ---------------------------------------------------------------------------
    def step(self) -> None:
        # Mesa advances time before the step runs; burn-in weeks are negative.
        self.week = int(self.time) - 1 - self.burn_weeks
        self.draws.week = self.week  # every keyed draw of this step belongs to this week
        self.week_flows: dict[str, float] = {}  # this week's regional totals, for live charts
        # (A replayed year begins as a reported one does: its schedules come into force.)
        new_year = not self.warming and self.week % WEEKS_PER_YEAR == 0
        if new_year:
            self._new_year()
        self._update_levers(new_year)
        for policy in self.policies:
            policy.step(self)  # books the week's policy spending
        pop = self.pop
        # 1. Demography.
        # The families with a young child at home, whom the births may grow, are marked as
        # everyone ages (the 18th birthdays' exits from care below concern no young child),
        # and the week's shared masks (sim/population.py: HomeCensus) are made in the same
        # pass over the children, then completed with the demography's new rows; need does
        # not move children, so they hold until the casework.
        young = scratch(self).get("births_young", pop.families.n, np.bool_)
        young.fill(False)
        adults, self.children_now, aged = pop.age_and_census(
            scratch(self), young, demography.YOUNG_WEEKS, self.n_la, health_visitor.CONTACTS)
        self.new_children_from = pop.children.n  # (rows added from here on are this week's)
        placements.leave_care(self, adults[pop.children.in_care[adults]], End.AGED_OUT)
        demography.births(self, young)
        moved_away = demography.migration(self)
        arrivals = demography.uasc_arrivals(self)
        # Families flagged this week (cleared where set once applied: _apply_ever).
        self._ever = scratch(self).zeroed("ever_flags", pop.families.n, np.uint8)
        self._ever_marked: list[np.ndarray] = []  # and which they are
        c, f = pop.children, pop.families
        self.census = census = pop.finish_census(aged, moved_away)
        # Families with a child at home or in care stay active.
        np.logical_and(f.active, census.live, out=f.active)  # (not &=: Table keeps a copy)
        local_authority.close_departed(self, census.live)
        # 2. Need.
        family.evolve_need(self, local_authority.support_received(self))
        at_home_mask = census.at_home_mask
        at_home = census.at_home
        # 3-4. Health visitors, referrals, the front door.
        hv = health_visitor.visit(self, at_home_mask)
        referred, _ = family.referrals(self, at_home)
        hv = hv[f.case[hv] <= Case.EARLY_HELP]
        self.count("referrals_health_visitors", f.la[hv], at_home[hv])
        # Children with an open case, as counted by the census: the rules since (need,
        # health visiting, referrals) move no child and open no case at assessment or above
        # (health visitors put families on the early-help waiting list only).
        self.workforce.week(census.open_by_la)
        local_authority.front_door(self, union_ints(referred, hv), at_home)
        # 5. Casework and crises.
        issued = local_authority.casework(self, at_home, at_home_mask)
        court.issue(self, issued)
        placements.enter_care(self, court.interim_removals(self, issued, at_home_mask),
                              legal=Legal.INTERIM)
        placements.enter_care(self, placements.return_breakdowns(self, at_home_mask))
        teens = family.adolescent_crises(self, at_home_mask)
        teens = teens[~c.in_care[teens]]  # not those taken into care earlier this week
        local_authority.count_referrals(self, c.family[teens])
        self.count("adolescent_crises", f.la[c.family[teens]])
        self.count("s47_enquiries", f.la[c.family[teens]])
        placements.enter_care(self, teens, legal=Legal.S20)
        # Babies removed at birth: proceedings issued, the baby under an interim order.
        babies = local_authority.pre_birth(self)
        babies = babies[~c.in_care[babies]]
        court.issue(self, unique_ints(c.family[babies]))
        placements.enter_care(self, babies, legal=Legal.INTERIM)
        placements.enter_care(self, arrivals, uasc=True, legal=Legal.S20)
        court.issue(self, court.s20_proceedings(self))
        court.final_hearings(self, at_home_mask)
        # 6. Early help.
        local_authority.early_help(self)
        # 7. Placements: breakdowns, contact, exits, moves.
        placements.placement_week(self)
        placements.settle_families(self)
        # 8. The month's plans and market.
        if self.week % MARKET_EVERY == MARKET_EVERY - 1:
            demography.plan_for_children(self)
            review_market(self)
        # 9. Accounting and the year's end.
        self._apply_ever()
        self._account_week()
        if (self.week + 1) % WEEKS_PER_YEAR == 0:
            self._close_year()
        self.census = None  # its arrays are work buffers, reused next week
        self.new_children_from = 0
        for observe in self.observers.week:
            observe(self)
        if self.compact_rows and (self.week + 1) % WEEKS_PER_YEAR == 0:
            self.compact()

    def compact(self) -> None:
        """Retire the rows no rule reads again (sim/population.py: Population.compact) and
        carry the caches kept by family row along."""
        keep = self.pop.compact(self.week)
        cache = self.__dict__.get("_poverty")
        if cache is not None and len(cache[1]) <= len(keep):
            self.__dict__["_poverty"] = (cache[0], cache[1][keep[: len(cache[1])]])

    def _account_week(self) -> None:
        c, pl = self.pop.children, self.pop.placements
        ids = c.placement[self.pop.care_rows()]
        la = pl.home_la[ids]
        other = self.params.placements.other_costs_per_week * self.params.placements.price_index
        self.count("spend_placements_gbp", la, pl.price[ids].astype(float) + other)
        profit = np.where(pl.for_profit[ids], pl.price[ids] - pl.cost[ids], 0.0)
        self.count("provider_profit_gbp", la, profit)
        idx = np.arange(self.n_la)
        budget = np.array([a.budget for a in self.authorities]) / WEEKS_PER_YEAR
        self.count("budget_gbp", idx, budget)
        self.count(
            "spend_early_help_gbp",
            idx,
            np.array([a.early_help_budget for a in self.authorities]) / WEEKS_PER_YEAR,
        )
        self.count("spend_social_work_gbp", idx, self.workforce.cost() / WEEKS_PER_YEAR)

    def _new_year(self) -> None:
        """A reported year begins: schedules move to this year's values. A change in the
        price index reprices the whole market, open placements included (prices are cash)."""
        old = self.params.placements.price_index
        self.params = self.inputs.at_year(self.calendar_year)
        ratio = self.params.placements.price_index / old
        if ratio != 1.0:
            t, pl = self.providers, self.pop.placements
            for table in (t, pl):
                table.price[:] *= ratio
                table.cost[:] *= ratio
            t.list_price[:] *= ratio

    def _close_year(self) -> None:
        year = self.calendar_year
        flows = {k: self.flows.get(k, np.zeros(self.n_la)) for k in indicators.FLOWS}
        spend = (
            flows["spend_early_help_gbp"]
            + flows["spend_social_work_gbp"]
            + flows["spend_placements_gbp"]
        )
        flows["overspend_gbp"] = np.maximum(0.0, spend - flows["budget_gbp"])
        by_la, total = indicators.year_tables(self, flows, year)
        self.annual_by_la.append(by_la)
        self.annual.append(total)
        for la, over in zip(self.authorities, flows["overspend_gbp"], strict=True):
            la.settle_year(over)
        self._set_budgets(settle=False)  # next year's: the children in care now, today's prices
        self.flows = {}
        c = self.pop.children
        c.placements_year[:] = c.in_care
        for observe in self.observers.year_end:
            observe(self)

    # --- running ----------------------------------------------------------------------------
    def run(self, years: int | None = None, progress: Callable[[int], None] | None = None) -> None:
        """Run ``years`` simulated years (default: the scenario's), calling ``progress(week)``."""
        for _ in range(WEEKS_PER_YEAR * (years or self.params.run.years)):
            self.step()
            if progress:
                progress(self.week)

    def annual_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.annual).reset_index(drop=True).astype({"year": int})
        return frame.copy()  # one block, not one per column (pandas warns on later inserts)

    def annual_by_la_frame(self) -> pd.DataFrame:
        return (
            pd.concat(self.annual_by_la, ignore_index=True) if self.annual_by_la else pd.DataFrame()
        )


def _replay_years(scenario: Scenario) -> int:
    """The years a run replays before year 1 (``run.replay_from`` to ``run.start_year``, which
    the scenario has checked; 0 when it replays none)."""
    run = scenario.run
    return run.start_year - run.replay_from if run.replay_from else 0

