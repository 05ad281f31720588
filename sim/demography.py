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

import numpy as np

from agents.family import long_run_need
from sim.population import WEEKS_PER_YEAR, Case, Population
from sim.util import stochastic_round, weighted_sample

#: Approximate age profile of children looked after at 31 March (DfE CLA 2024): under 1, 1-4,
#: 5-9, 10-15, 16-17, as shares; divided by years in the band for a per-year weight.
CLA_AGE_SHARE = np.array([0.05, 0.13, 0.17, 0.38, 0.27]) / np.array([1, 4, 5, 6, 2])
#: Ages of unaccompanied children on arrival (14, 15, 16, 17): four in five aged 16-17
#: (assumption, in line with DfE's picture of UASC as mostly 16-17-year-old boys).
UASC_AGE_SHARE = np.array([0.05, 0.15, 0.35, 0.45])


def populate(model) -> Population:
    """Create the sample of families and children for every authority in the region."""
    p, r = model.params, model.region
    rng = model.streams["demography"]
    n_children = stochastic_round(rng, r.la_children * p.run.scale)
    n_families = np.maximum(1, np.round(n_children / p.population.children_per_family)).astype(int)
    pop = Population(int(n_families.sum()), int(n_children.sum()), p.run.record_events)
    la = np.repeat(np.arange(r.n_la), n_families)
    node = _pick_nodes(model, la)
    fam = pop.add_families(rng, node, la, r.node_band[node], p)
    # Every family has a child; the rest are spread over the authority's families at random.
    first = fam
    extra_n = np.maximum(n_children - n_families, 0)
    offsets = np.r_[0, np.cumsum(n_families)[:-1]]
    extra = np.repeat(offsets, extra_n) + (
        rng.random(extra_n.sum()) * np.repeat(n_families, extra_n)
    ).astype(int)
    members = np.concatenate([first, extra])
    members.sort(kind="stable")
    ages = stationary_ages(rng, len(members), p.population.birth_rate)
    model.pop = pop
    pop.add_children(rng, members, ages)
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


def stationary_ages(rng: np.random.Generator, n: int, birth_rate: float) -> np.ndarray:
    """Ages in weeks for ``n`` children, drawn from the stationary age structure of the
    model's own births and migration (:func:`age_gradient`), so that the structure does not
    shift as the run goes on (England's single-year-of-age estimates are not shipped: see
    sim/data/DRIVERS_SOURCES.md). Inverse-CDF sampling of the density exp(k a) on [0, 18)."""
    k, u = age_gradient(birth_rate), rng.random(n)
    years = 18 * u if abs(k) < 1e-9 else np.log1p(u * np.expm1(18 * k)) / k
    return np.minimum(years * WEEKS_PER_YEAR, 18 * WEEKS_PER_YEAR - 1).astype(np.int16)


def _pick_nodes(model, la: np.ndarray) -> np.ndarray:
    """A neighbourhood for each family of authority ``la``, by the bands' population shares."""
    r, rng = model.region, model.streams["demography"]
    shares = r.node_share.reshape(-1, 3)[la]
    band = (rng.random(len(la))[:, None] > np.cumsum(shares, axis=1)).sum(axis=1)
    return (3 * la + np.minimum(band, 2)).astype(np.int16)


def stationary_need(model, families: np.ndarray) -> np.ndarray:
    """Need drawn from its long-run distribution for each family (no support received)."""
    p = model.params.need
    long_run = long_run_need(model, families)
    noise = p.noise_sd * model.streams["demography"].standard_normal(len(families))
    return (long_run + noise).astype(np.float32)


def births(model) -> None:
    """This week's births: first births found new families, the rest join young families."""
    p, pop = model.params.population, model.pop
    rng = model.streams["demography"]
    c = pop.children
    n = rng.poisson(p.birth_rate / WEEKS_PER_YEAR * model.children_now)
    if n == 0:
        return
    n_first = rng.binomial(n, p.first_birth_share)
    young = np.flatnonzero(c.active & ~c.in_care & (c.age < 10 * WEEKS_PER_YEAR))
    if len(young) == 0:
        n_first = n
    older_sibs = _families_with_young_children(rng, c.family[young], n - n_first)
    node = (
        model.streams["demography"]
        .choice(
            model.region.n_nodes, size=n_first, p=model.node_children / model.node_children.sum()
        )
        .astype(np.int16)
    )
    r = model.region
    new = pop.add_families(rng, node, r.node_la[node], r.node_band[node], model.params)
    pop.families.need[new] = stationary_need(model, new)
    fams = np.concatenate([new, np.asarray(older_sibs, dtype=np.int64)])
    pop.add_children(rng, fams, np.zeros(len(fams), np.int16))
    model.count("births", pop.families.la[fams])


def _families_with_young_children(rng: np.random.Generator, young_family: np.ndarray,
                                  k: int) -> np.ndarray:
    """``k`` families drawn with equal chances from those with a child under 10 at home
    (``young_family``: the family of each such child). Drawing a young *child* instead would
    favour families with more of them, and large families would keep growing (children in
    families of three or more rose from 30% to 42% over 25 years)."""
    if k <= 0 or len(young_family) == 0:
        return np.zeros(0, dtype=np.int64)
    per_family = np.bincount(young_family)
    chosen: list[np.ndarray] = []
    while sum(len(x) for x in chosen) < k:  # rejection: accept a child's family w.p. 1/size
        cand = young_family[rng.integers(0, len(young_family), 2 * k + 8)]
        chosen.append(cand[rng.random(len(cand)) * per_family[cand] < 1.0])
    return np.concatenate(chosen)[:k]


def migration(model) -> None:
    """Net migration of children this week (``population.net_migration_rate``).

    Arriving families take the ages of children already here, so migration moves the size of
    the child population and not its age structure; they settle where children live and start
    with need at its stationary level. Leaving families are drawn at random from those not
    known to children's services (a family with an open case, or a child in care, stays)."""
    p, pop = model.params.population, model.pop
    if p.net_migration_rate == 0:
        return
    rng = model.streams["migration"]
    c, f = pop.children, pop.families
    n = rng.poisson(abs(p.net_migration_rate) / WEEKS_PER_YEAR * model.children_now)
    if n == 0:
        return
    if p.net_migration_rate > 0:
        _arrive(model, rng, n)
    else:
        # Rejection sampling: a few random candidates are cheaper than a pass over everyone.
        cand = rng.integers(0, f.n, 4 * n + 16)
        cand = np.unique(cand[f.active[cand] & ~f.uasc[cand] & (f.case[cand] == Case.NONE)])
        rng.shuffle(cand)
        leaving = cand[: max(1, round(n / p.children_per_family))]
        kids = np.flatnonzero(np.isin(c.family, leaving) & c.active & ~c.in_care)
        c.active[kids] = False
        c.moved_away[kids] = True
        f.active[leaving] = False


def _arrive(model, rng: np.random.Generator, n: int) -> None:
    pop, p = model.pop, model.params.population
    c = pop.children
    n_fam = max(1, min(n, round(n / p.children_per_family)))
    node = rng.choice(
        model.region.n_nodes, size=n_fam, p=model.node_children / model.node_children.sum()
    ).astype(np.int16)
    r = model.region
    fam = pop.add_families(rng, node, r.node_la[node], r.node_band[node], model.params)
    pop.families.need[fam] = stationary_need(model, fam)
    members = np.concatenate([fam, fam[rng.integers(0, n_fam, n - n_fam)]])
    ages = c.age[rng.integers(0, c.n, 4 * n + 16)]
    ages = ages[ages < 18 * WEEKS_PER_YEAR]
    if len(ages) < n:
        ages = rng.integers(0, 18 * WEEKS_PER_YEAR, n)
    pop.add_children(rng, np.sort(members), ages[:n].astype(np.int16))


def uasc_arrivals(model) -> np.ndarray:
    """Unaccompanied asylum-seeking children arriving this week (an exogenous inflow), placed
    with authorities in proportion to their child population (as the National Transfer Scheme
    aims to do). Each gets a placeholder family so the arrays stay uniform."""
    p, pop = model.params.care, model.pop
    rng = model.streams["arrivals"]
    expected = p.uasc_per_10k_children * model.node_children.sum() / 1e4 / WEEKS_PER_YEAR
    n = rng.poisson(expected)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    node = rng.choice(
        model.region.n_nodes, size=n, p=model.node_children / model.node_children.sum()
    )
    fam = pop.families.append(
        n, la=model.region.node_la[node], node=node, uasc=True, kin=0.0, case=Case.CARE, need=0.0
    )
    age = (14 + rng.choice(4, size=n, p=UASC_AGE_SHARE)) * WEEKS_PER_YEAR + rng.integers(0, 52, n)
    return pop.add_children(rng, fam, age.astype(np.int16))


def initial_stocks(model) -> tuple[np.ndarray, np.ndarray]:
    """Children in care, on plans and in need at the start; returns (in care, care weeks)."""
    p, pop = model.params.care, model.pop
    c, f = pop.children, pop.families
    rng = model.streams["demography"]
    n = c.n
    need = f.need[c.family]
    persistent = long_run_need(model)[c.family]
    # Children in care: high family need (or an older child's own risk), weighted by age. Need
    # that is persistently high (poverty and the toxic trio) weighs more than this week's
    # level: children in care at any moment are mostly from families whose need stays high
    # (they go home once it falls), so drawing on this week's need alone starts the run with
    # children who go home within months and the stock dips in year 1.
    band = np.searchsorted(np.array([1, 5, 10, 16]), c.age // WEEKS_PER_YEAR, side="right")
    weight = CLA_AGE_SHARE[band] * np.exp(
        np.maximum(need, 0) + 2.0 * persistent + 0.5 * c.risk
    )
    care = weighted_sample(rng, weight, round(p.initial_cla_per_10k * n / 1e4))
    # Time in care so far: up to four years, never more than the child's age.
    weeks = np.minimum(rng.integers(0, 4 * WEEKS_PER_YEAR, len(care)), c.age[care]).astype(np.int16)
    f.case[c.family[care]] = Case.CARE
    # Plans, then other children in need, from the highest-need families not already known.
    for case, rate in (
        (Case.PROTECTION_PLAN, p.initial_cpp_per_10k),
        (Case.CHILD_IN_NEED, p.initial_cin_per_10k - p.initial_cla_per_10k - p.initial_cpp_per_10k),
    ):
        home_kids = np.bincount(c.family[c.active], minlength=f.n)
        free = (f.case == Case.NONE) & (home_kids > 0)
        w = np.where(free, np.exp(2.5 * f.need), 0.0) * home_kids
        target = max(0.0, rate) * n / 1e4
        mean_kids = home_kids[free].mean() if free.any() else 1.0
        fams = weighted_sample(rng, w, round(target / mean_kids))
        f.case[fams] = case
        f.case_weeks[fams] = rng.integers(0, 26, len(fams))
    return care, weeks
