"""Building the population, births, arrivals, and today's caseload at the start of a run.

The population is a ``run.scale`` sample of each authority's families: children are 21% of the
2020 population (see :data:`sim.region.CHILD_SHARE`), families have ``children_per_family`` on
average, and each family lives in one of its authority's three neighbourhoods in proportion to
their populations. Need starts at its stationary distribution so year 1 is not a transient.

Start of the run (stocks, not a burn-in): the children in care, on plans and in need at the
start are set to the published rates (DfE 2024-25), drawn from the families with the highest
need (for children in care, persistently high need weighs most), weighting children in care by
the published age profile of children looked after, and
placed through the ordinary commissioning rules, so the placement mix and distances at the
start are the model's own.
"""

from __future__ import annotations

import functools

import numpy as np

from agents.family import long_run_need
from sim import kernels
from sim.population import WEEKS_PER_YEAR, Case, Population
from sim.util import scratch, stochastic_round, weighted_sample

#: Age bands of the children in care at the start (under 1, 1-4, 5-9, 10-15, 16-17): their
#: weights are parameters (``care.initial_age_share_*``), divided by years in the band.
CLA_AGE_BANDS = ("under_1", "1_4", "5_9", "10_15", "16_17")
CLA_BAND_YEARS = np.array([1, 4, 5, 6, 2])
#: Ages of unaccompanied children on arrival; their weights are ``care.uasc_age_share_*``.
UASC_AGES = (14, 15, 16, 17)
#: A family with a child at home younger than this may have a baby (births).
YOUNG_WEEKS = 10 * WEEKS_PER_YEAR


def cla_age_weight(p) -> np.ndarray:
    """Weight per year of age of each band of the children in care at the start."""
    share = np.array([getattr(p, f"initial_age_share_{b}") for b in CLA_AGE_BANDS])
    return share / CLA_BAND_YEARS


def uasc_age_share(p) -> np.ndarray:
    """Relative weights of the ages (14-17) of unaccompanied children on arrival."""
    return np.array([getattr(p, f"uasc_age_share_{a}") for a in UASC_AGES])


def populate(model) -> Population:
    """Create the sample of families and children for every authority in the region.

    The structure (how many children each authority has, which family each extra child joins)
    is an aggregate draw from the build stream; each family's and child's uid is derived from
    the seed and its row at build, and everything about it from its uid (sim/draws.py), so
    the initial population is the same in every scenario run on the seed."""
    p, r, d = model.params, model.region, model.draws
    rng = model.streams["build"]
    n_children = stochastic_round(
        rng, r.la_children * (p.run.scale * p.population.child_population_index))
    n_families = np.maximum(1, np.round(n_children / p.population.children_per_family)).astype(int)
    pop = Population(int(n_families.sum()), int(n_children.sum()), p.run.record_events)
    la = np.repeat(np.arange(r.n_la), n_families)
    uid = d.child_ids("uid.family", np.arange(len(la)), week=0)
    node = _pick_nodes(model, la, uid)
    fam = pop.add_families(d, uid, node, la, r.node_band[node], p)
    # Every family has a child; the rest are spread over the authority's families at random.
    first = fam
    extra_n = np.maximum(n_children - n_families, 0)
    offsets = np.r_[0, np.cumsum(n_families)[:-1]]
    extra = np.repeat(offsets, extra_n) + (
        rng.random(extra_n.sum()) * np.repeat(n_families, extra_n)
    ).astype(int)
    members = np.concatenate([first, extra])
    members.sort(kind="stable")
    kid_uid = d.child_ids("uid.child", np.arange(len(members)), week=0)
    ages = stationary_ages(d.uniform("child.initial_age", kid_uid, week=0), len(members),
                           p.population.birth_rate)
    model.pop = pop
    pop.add_children(d, kid_uid, members, ages)
    pop.families.need[:] = stationary_need(model, fam)
    return pop


def age_gradient(birth_rate: float) -> float:
    """The slope k (per year) of the log age structure that births alone sustain.

    In a population of children whose births are ``birth_rate`` times its size a year, and
    whose arrivals and departures take the ages of the children already there (net
    migration), the age structure settles to a density proportional to exp(k a) over ages
    0-18, with k the root of ``birth_rate = k / (exp(18 k) - 1)``: k > 0 (older cohorts
    larger) when births are below 1/18 of children, as in England since 2020. The population
    then changes by ``net_migration_rate - k`` a year, whatever its starting size."""
    b = float(birth_rate)
    if b <= 0:
        raise ValueError("population.birth_rate must be positive for a stationary age structure")
    if abs(b - 1 / 18) < 1e-9:
        return 0.0
    lo, hi = -2.0, 2.0  # bisection: the right side falls monotonically in k
    for _ in range(80):
        mid = (lo + hi) / 2
        if (mid / np.expm1(18 * mid) if mid else 1 / 18) > b:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


@functools.lru_cache(maxsize=64)
def burn_in_migration_rate(birth_rate: float) -> float:
    """The net migration rate (per child per year) at which the child population neither grows
    nor shrinks: k of :func:`age_gradient`, since the population changes by
    ``net_migration_rate - k`` a year. The burn-in runs at it. Run at the first year's own
    migration instead, a 20-year warm start at 2010's births (5.9% a year, above the 1/18
    that replaces children turning 18) grew the sample's children by about 13% before 2010
    began, so counts in England's units came out a quarter too high by 2024; held, the
    population the run starts from is the published one the build drew."""
    return float(age_gradient(birth_rate))


def stationary_ages(u: np.random.Generator | np.ndarray, n: int, birth_rate: float) -> np.ndarray:
    """Ages in weeks for ``n`` children, drawn from the stationary age structure of the
    model's own births and migration (:func:`age_gradient`), so that the structure does not
    shift as the run goes on (England's single-year-of-age estimates are not shipped: see
    sim/data/DRIVERS_SOURCES.md). Inverse-CDF sampling of the density exp(k a) on [0, 18);
    ``u``: the children's uniforms (keyed draws), or a stream to draw ``n`` from."""
    k = age_gradient(birth_rate)
    u = u.random(n) if isinstance(u, np.random.Generator) else np.asarray(u, dtype=float)
    years = 18 * u if abs(k) < 1e-9 else np.log1p(u * np.expm1(18 * k)) / k
    return np.minimum(years * WEEKS_PER_YEAR, 18 * WEEKS_PER_YEAR - 1).astype(np.int16)


def _pick_nodes(model, la: np.ndarray, uid: np.ndarray) -> np.ndarray:
    """A neighbourhood for each family of authority ``la``, by the bands' population shares
    (a keyed draw of the family's uid)."""
    r = model.region
    shares = r.node_share.reshape(-1, 3)[la]
    u = model.draws.uniform("family.node", uid, week=0)
    band = (u[:, None] > np.cumsum(shares, axis=1)).sum(axis=1)
    return (3 * la + np.minimum(band, 2)).astype(np.int16)


def stationary_need(model, families: np.ndarray) -> np.ndarray:
    """Need drawn from its long-run distribution for each family (no support received); the
    noise is a keyed draw of the family's uid."""
    p = model.params.need
    long_run = long_run_need(model, families)
    uid = model.pop.families.uid[families]
    noise = p.noise_sd * model.draws.normal("family.stationary_need", uid, week=0)
    return (long_run + noise).astype(np.float32)


def _node_weights(model) -> np.ndarray:
    return model.node_children / model.node_children.sum()


def births(model, has_young: np.ndarray | None = None) -> None:
    """This week's births: first births found new families, the rest join young families.

    Common random numbers (sim/draws.py): the number of first births is a keyed Poisson draw
    of the week (a slightly different child population gives the same count, or one more);
    the founders' ids come from (week, ordinal) and the babies' from their family's uid and the
    week, so a baby is the same baby in every scenario. Each family with a child under 10 at
    home has a baby this week with the same chance (a keyed draw of its uid against the week's
    rate): drawing a young *child* instead would favour families with more of them, and large
    families would keep growing (children in families of three or more rose from 30% to 42%
    over 25 years). ``has_young``: those families, if already marked this week (a mask of
    the families: sim/population.py, age_and_census)."""
    p, pop, d = model.params.population, model.pop, model.draws
    c, f = pop.children, pop.families
    r = model.region
    expected = p.birth_rate / WEEKS_PER_YEAR * model.children_now
    if expected <= 0:
        return
    if has_young is None:
        has_young = scratch(model).get("births_young", f.n, np.bool_)  # (a reused buffer)
        has_young.fill(False)  # then a child under 10 at home marks its family
        kernels.mark_young_at_home(c.active, c.in_care, c.age, c.family, YOUNG_WEEKS,
                                   has_young)
    n_young = int(np.count_nonzero(has_young))
    share = p.first_birth_share if n_young else 1.0
    n_first = d.poisson("births.first", expected * share)
    older = np.zeros(0, np.int64)
    if n_young:
        # Each young family's keyed draw against the week's one chance, in a compiled pass.
        chance = expected * (1.0 - share) / n_young
        rows = np.empty(f.n, np.int64)  # (only the pages written are touched)
        m = kernels.keyed_below(has_young, f.uid, np.uint64(d.key("births.sibling")),
                                float(chance), rows)
        older = rows[:m].copy()
    new = np.zeros(0, np.int64)
    if n_first:
        uid = d.child_ids("uid.birth_family", np.arange(n_first))
        node = d.choice("births.node", uid, _node_weights(model)).astype(np.int16)
        new = pop.add_families(d, uid, node, r.node_la[node], r.node_band[node], model.params)
        f.need[new] = stationary_need(model, new)
    fams = np.concatenate([new, older])
    if len(fams) == 0:
        return
    pop.add_children(d, d.child_ids("uid.baby", f.uid[fams]), fams, np.zeros(len(fams), np.int16))
    model.count("births", f.la[fams])


def plan_for_children(model) -> None:
    """Each authority's children now as a share of those it had at the start
    (``model.la_children_scale``), which every capacity set per 10,000 children follows:
    funded social-work posts, early-help places, health-visitor FTE and LA-run placements.

    Why: these are published as rates per child (posts per 10,000 children, places per 10,000)
    and authorities plan and are funded for the children they have (funding formulas, the
    sufficiency duty of the Children Act 1989 s22G). Held at the start's numbers, a child
    population that grows (the 2010s' births) or falls (today's) would change every rate per
    child it was set at: after a 20-year warm start at 2010's births the sample's children had
    grown by half, and its social workers per child fallen by a third."""
    c, f = model.pop.children, model.pop.families
    now = np.zeros(model.n_la, np.int64)  # children active, by authority (a compiled pass)
    kernels.count_by_la(c.active, c.family, f.la, now)
    model.la_children_scale = now / np.maximum(model.la_children_at_build, 1)


def migration(model) -> int:
    """Net migration of children this week (``population.net_migration_rate``); returns how
    many children left with families moving away (0 if none did, as when the rate is
    positive).

    Arriving families take the ages of children already here, so migration moves the size of
    the child population and not its age structure; they settle where children live and start
    with need at its stationary level. Leaving families are drawn at random from those not
    known to children's services (a family with an open case, or a child in care, stays): each
    such family leaves with the same chance, a keyed draw of its uid (sim/draws.py).

    During the warm start (the burn-in's weeks before any replayed year: sim/model.py) the
    rate is the one that holds the child population at its size
    (:func:`burn_in_migration_rate`), plus the log of the drawn size over today's, which
    returns any drift (children leaving through care, rounding of ages) within about a year:
    the warm start settles who is where, not how many children there are."""
    p, pop, d = model.params.population, model.pop, model.draws
    if model.warming:  # the warm start holds the population the build drew
        held = float(model.la_children_at_build.sum())
        rate = burn_in_migration_rate(p.birth_rate) + np.log(held / max(model.children_now, 1))
    else:
        rate = p.net_migration_rate
    if rate == 0:
        return 0
    c, f = pop.children, pop.families
    expected = abs(rate) / WEEKS_PER_YEAR * model.children_now
    if rate > 0:
        n = d.poisson("migration.arrivals", expected)
        if n:
            _arrive(model, n)
        return 0
    free = np.flatnonzero(f.active & ~f.uasc & (f.case == Case.NONE))
    if len(free) == 0:
        return 0
    chance = expected / p.children_per_family / len(free)
    leaving = free[d.uniform("migration.leave", f.uid[free]) < chance]
    if len(leaving) == 0:
        return 0
    kids = np.sort(pop.children_of(leaving))
    kids = kids[c.active[kids] & ~c.in_care[kids]]
    c.active[kids] = False
    c.moved_away[kids] = True
    f.active[leaving] = False
    return len(kids)


def _arrive(model, n: int) -> None:
    """``n`` children arrive in families of ``children_per_family`` on average; ids from the
    week and their ordinal, ages those of children already here (a keyed pick of a child row,
    up to four tries, else an age drawn evenly over 0-17)."""
    pop, p, d = model.pop, model.params.population, model.draws
    c = pop.children
    r = model.region
    n_fam = max(1, min(n, round(n / p.children_per_family)))
    uid = d.child_ids("uid.migrant_family", np.arange(n_fam))
    node = d.choice("migration.node", uid, _node_weights(model)).astype(np.int16)
    fam = pop.add_families(d, uid, node, r.node_la[node], r.node_band[node], model.params)
    pop.families.need[fam] = stationary_need(model, fam)
    kid_uid = d.child_ids("uid.migrant_child", np.arange(n))
    extra = d.integers("migration.family_of", kid_uid[n_fam:], n_fam)
    members = np.concatenate([fam, fam[extra]])
    ages = np.full(n, -1, np.int64)
    n_ids = c.next_serial  # (a pick among every child's id, retired or not: as before rows
    # were retired, sim/population.py: compact)
    for attempt in range(4):
        todo = ages < 0
        if not todo.any() or n_ids == 0:
            break
        donor = pop.child_ages(d.integers("migration.age_donor", kid_uid[todo], n_ids,
                                          sub=attempt), model.week)
        ages[todo] = np.where(donor < 18 * WEEKS_PER_YEAR, donor, -1)
    todo = ages < 0
    ages[todo] = d.integers("migration.age", kid_uid[todo], 18 * WEEKS_PER_YEAR)
    order = np.argsort(members, kind="stable")
    pop.add_children(d, kid_uid[order], members[order], ages[order].astype(np.int16))


def uasc_arrivals(model) -> np.ndarray:
    """Unaccompanied asylum-seeking children arriving this week (an exogenous inflow), placed
    with authorities in proportion to their child population (as the National Transfer Scheme
    aims to do). Each gets a placeholder family so the arrays stay uniform. The count is a
    keyed Poisson draw of the week, the ids come from (week, ordinal): the same children arrive
    in every scenario."""
    p, pop, d = model.params.care, model.pop, model.draws
    expected = p.uasc_per_10k_children * model.node_children.sum() / 1e4 / WEEKS_PER_YEAR
    n = d.poisson("uasc.arrivals", expected)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    fam_uid = d.child_ids("uid.uasc_family", np.arange(n))
    kid_uid = d.child_ids("uid.uasc_child", np.arange(n))
    node = d.choice("uasc.node", kid_uid, _node_weights(model))
    fam = pop.families.append(
        n, uid=fam_uid, la=model.region.node_la[node], node=node, uasc=True, kin=0.0,
        need=0.0,
    )
    pop.set_case(fam, Case.CARE)  # (noted for Population.open_families)
    share = uasc_age_share(model.params.care)
    age = (UASC_AGES[0] + d.choice("uasc.age", kid_uid, share)) * WEEKS_PER_YEAR + d.integers(
        "uasc.age_weeks", kid_uid, 52)
    return pop.add_children(d, kid_uid, fam, age.astype(np.int16))


def initial_stocks(model) -> tuple[np.ndarray, np.ndarray]:
    """Children in care, on plans and in need at the start; returns (in care, care weeks)."""
    p, pop = model.params.care, model.pop
    c, f, d = pop.children, pop.families, model.draws
    n = c.n
    need = f.need[c.family]
    persistent = long_run_need(model)[c.family]
    # Children in care: high family need (or an older child's own risk), weighted by age. Need
    # that is persistently high (poverty and the toxic trio) weighs more than this week's
    # level: children in care at any moment are mostly from families whose need stays high
    # (they go home once it falls), so drawing on this week's need alone starts the run with
    # children who go home within months and the stock dips in year 1.
    band = np.searchsorted(np.array([1, 5, 10, 16]), c.age // WEEKS_PER_YEAR, side="right")
    weight = cla_age_weight(p)[band] * np.exp(
        np.maximum(need, 0) + p.initial_persistent_weight * persistent
        + p.initial_risk_weight * c.risk
    )
    care = weighted_sample(d.uniform("build.in_care", c.uid), weight,
                           round(p.initial_cla_per_10k * n / 1e4))
    # Time in care so far: up to initial_max_care_years, never more than the child's age.
    weeks = np.minimum(d.integers("build.care_weeks", c.uid[care],
                                  p.initial_max_care_years * WEEKS_PER_YEAR),
                       c.age[care]).astype(np.int16)
    model.pop.set_case(c.family[care], Case.CARE)
    # Plans, then other children in need, from the highest-need families not already known
    # (children in need because of their own disability are counted apart: ODD 7.5).
    in_need = (p.initial_cin_per_10k - p.initial_cla_per_10k - p.initial_cpp_per_10k
               - model.params.social_work.disability_cin_per_10k)
    for case, rate in ((Case.PROTECTION_PLAN, p.initial_cpp_per_10k),
                       (Case.CHILD_IN_NEED, in_need)):
        home_kids = np.bincount(c.family[c.active], minlength=f.n)
        free = (f.case == Case.NONE) & (home_kids > 0)
        w = np.where(free, np.exp(p.initial_case_need_weight * f.need), 0.0) * home_kids
        target = max(0.0, rate) * n / 1e4
        mean_kids = home_kids[free].mean() if free.any() else 1.0
        fams = weighted_sample(d.uniform(f"build.case_{case.name.lower()}", f.uid), w,
                               round(target / mean_kids))
        model.pop.set_case(fams, case)
        f.case_weeks[fams] = d.integers(f"build.case_weeks_{case.name.lower()}", f.uid[fams], 26)
    return care, weeks
