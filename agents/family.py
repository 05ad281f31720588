"""Families: how need evolves, when families and teenagers come to notice, and object views.

Need is one latent number per family (higher = more harm or risk to its children). Each week it
reverts towards the family's long-run level, set by poverty and the toxic trio, wanders with
noise, and is pushed down by support received (early help, targeted health visiting, social
work). A teenager also carries a propensity to harm outside the home (exploitation, family
breakdown) that can bring a crisis on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from sim import kernels
from sim.population import (
    BAND_CENTILES,
    TEEN_WEEKS,
    WEEKS_PER_YEAR,
    Case,
    Event,
    Kind,
)
from sim.util import scratch

ADOLESCENT_WEEKS = TEEN_WEEKS  # 11 years: the week's census lists these (sim/population.py)
#: Referral sources and their shares of referrals (approximately DfE CIN 2024: police 29%,
#: schools 21%, health 14%, other 36%); schools refer only families with school-age children.
SOURCES = ("police", "schools", "health", "other")
SOURCE_SHARES = np.array([0.29, 0.21, 0.14, 0.36])


def poverty_rate(p, deprivation: np.ndarray, lever: np.ndarray | float | None = None
                 ) -> np.ndarray:
    """The share of families in poverty on a street of this deprivation centile: a line
    through the three bands' rates at their middle centiles, so poverty follows local
    deprivation continuously (and keeps each band's mean rate); times the poverty lever of
    each family's authority (``lever``; default: the scenario's own value)."""
    mids = (BAND_CENTILES[:-1] + BAND_CENTILES[1:]) / 2
    rates = np.array([p.need.poverty_low, p.need.poverty_medium, p.need.poverty_high])
    slope_lo = (rates[1] - rates[0]) / (mids[1] - mids[0])
    slope_hi = (rates[2] - rates[1]) / (mids[2] - mids[1])
    d = deprivation
    rate = np.where(d < mids[1], rates[1] + slope_lo * (d - mids[1]),
                    rates[1] + slope_hi * (d - mids[1]))
    return np.clip(rate, 0.0, 1.0) * (p.levers.poverty if lever is None else lever)


def _poverty_lever(model, families) -> np.ndarray | float:
    """The poverty lever of each family's authority (sim/levers.py); a stand-in model without
    per-authority levers (a test's) uses the scenario's value."""
    levers = getattr(model, "levers", None)
    if levers is None:
        return model.params.levers.poverty
    return levers.poverty[model.pop.families.la[families]]


def poverty(model, families: np.ndarray | None = None) -> np.ndarray:
    """Which families are poor this week: a fixed draw per family against its street's rate
    (``families``: only those; default every family).

    The draw and the street never change, so the answer changes only when the rates do (the
    poverty lever, the bands' rates) or families are added: it is kept per model and only new
    rows are computed, rather than a pass over every family several times a week."""
    f = model.pop.families
    if families is not None:
        return f.poverty_draw[families] < poverty_rate(model.params, f.deprivation[families],
                                                        _poverty_lever(model, families))
    p = model.params
    levers = getattr(model, "levers", None)
    by_la = p.levers.poverty if levers is None else levers.poverty.tobytes()
    key = (p.need.poverty_low, p.need.poverty_medium, p.need.poverty_high, by_la)
    cache = model.__dict__.get("_poverty")
    if cache is None or cache[0] != key or len(cache[1]) > f.n:
        cache = (key, np.zeros(0, dtype=bool))
    poor = cache[1]
    if len(poor) < f.n:
        new = np.arange(len(poor), f.n)
        rate = poverty_rate(p, f.deprivation[new], _poverty_lever(model, new))
        poor = np.concatenate([poor, f.poverty_draw[new] < rate])
        model.__dict__["_poverty"] = (key, poor)
    return poor


def long_run_need(model, families: np.ndarray | None = None) -> np.ndarray:
    """Each family's long-run need, the level its need reverts to: poverty, the toxic trio, and
    the family's lasting propensity (which follows local deprivation and differs between
    families; set once, when the family forms). ``families``: only those (default: all)."""
    p = model.params.need
    f = model.pop.families
    if families is not None:
        return (p.poverty_effect * poverty(model, families)
                + p.toxic_trio_effect * f.trio[families] + f.propensity[families])
    return p.poverty_effect * poverty(model) + p.toxic_trio_effect * f.trio + f.propensity


def toxic_trio_week(p, trio: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A week of toxic-trio factors starting and ending (``u``: one uniform draw per family).

    Factors end at the rate that keeps the share of families with one at its prevalence
    (a two-state chain started at its stationary share): were they only to start, as an
    earlier version had it, the share would creep up year on year with the families already
    alive at the start, and every rate with it, a transient rather than England today."""
    onset_w, end_w = _trio_thresholds(p)
    start = ~trio & (u < onset_w)
    end = trio & (u < end_w)
    return (trio | start) & ~end


def evolve_need(model, support: np.ndarray) -> None:
    """One week of need: mean reversion to the long-run level, noise, minus support received.

    ``need + (long_run - need) / tau + shock - support``, with long-run need as in
    :func:`long_run_need` and the toxic trio as in :func:`toxic_trio_week`. The toxic-trio
    uniform and the shock are keyed draws of each active family's uid (one hash gives both,
    sim/draws.py); families no longer active (every child grown up, moved away or adopted) draw
    nothing: their trio stays as it was and the shock is zero.

    Computed by one compiled pass over the family rows, block by block (sim/kernels.py:
    need_week: need_draws, the draws and their inverse normal, made as the float32 the rule
    uses, exactly scipy's; then need_update, the trio and need in place), bit for bit the
    numpy expressions of
    :func:`evolve_need_reference` (tests/test_exact.py): a change to the rule goes into both."""
    f = model.pop.families
    p = model.params.need
    onset_w, end_w = _trio_thresholds(p)
    tau = p.persistence_weeks
    kernels.need_week(f.uid, np.uint64(model.draws.key("need")), *kernels.tail_table(),
                      f.active, f.trio, poverty(model), f.propensity, f.need,
                      np.ascontiguousarray(support), onset_w, end_w,
                      float(p.poverty_effect), float(p.toxic_trio_effect), float(tau),
                      float(p.noise_sd * np.sqrt(2.0 / tau)))


def _trio_thresholds(p) -> tuple[float, float]:
    """The weekly chances of a toxic-trio factor starting and ending (:func:`toxic_trio_week`)."""
    prevalence = p.toxic_trio_prevalence
    end_rate = p.toxic_trio_onset * (1 - prevalence) / prevalence if prevalence > 0 else 1.0
    return p.toxic_trio_onset / WEEKS_PER_YEAR, end_rate / WEEKS_PER_YEAR


def evolve_need_reference(model, support: np.ndarray) -> None:
    """:func:`evolve_need` as numpy operations in reused buffers (the definition the compiled
    version must equal)."""
    f = model.pop.families
    p = model.params.need
    buf, n = scratch(model), f.n
    u, z = need_draws(model, buf)
    f.trio[:] = toxic_trio_week(p, f.trio, u)
    long_run = buf.get("need_long_run", n, np.float64)
    tmp = buf.get("need_tmp", n, np.float64)
    np.multiply(poverty(model), p.poverty_effect, out=long_run)
    long_run += np.multiply(f.trio, p.toxic_trio_effect, out=tmp)
    long_run += f.propensity
    tau = p.persistence_weeks
    z32 = buf.get("need_z32", n, np.float32)
    z32[:] = z
    shock = np.multiply(z32, p.noise_sd * np.sqrt(2.0 / tau), out=tmp)
    step = np.subtract(long_run, f.need, out=long_run)
    step /= tau
    np.add(f.need, step, out=step)
    step += shock
    step -= support
    f.need[:] = step


def need_draws(model, buf=None) -> tuple[np.ndarray, np.ndarray]:
    """This week's toxic-trio uniform and need shock (standard normal) for every family row:
    keyed draws of the active families' uids (``need``, one hash for both); for the others,
    1.0 (nothing starts or ends) and 0.0 (no shock)."""
    f = model.pop.families
    n = f.n
    buf = buf or scratch(model)
    u = buf.get("u", n, np.float64)
    z = buf.get("need_z", n, np.float64)
    u.fill(1.0)
    z.fill(0.0)
    active = np.flatnonzero(f.active)
    u_trio, u_shock = model.draws.pair("need", f.uid[active])
    u[active] = u_trio
    z[active] = special.ndtri(u_shock)
    return u, z


def referrals(model, at_home: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Families referred this week by schools, police, health and others, and their sources.

    The weekly hazard rises exponentially with need, centred on the front-door threshold, plus
    a small background of referrals that reflect worry rather than need. For a year after a
    referral the hazard is ``known_family_effect`` times higher: the professionals who referred
    the family before are alert to it, one reason re-referrals are a fifth of all referrals.
    """
    f = model.pop.families
    # The draw (keyed by the family's uid) is made for every family open to referral, in one
    # compiled pass that keeps only those whose draw falls below an upper bound of their
    # chance (2.01 times the larger of its two terms, compared by the draw's logarithm:
    # sim/kernels.py, referral_candidates); the exact chance is worked out for those few, so
    # the referred families are the ones the full computation refers.
    buf = scratch(model)
    rows = buf.get("referral_rows", f.n, np.int64)
    us = buf.get("referral_u", f.n, np.float64)
    m = kernels.referral_candidates(
        f.active, f.case, at_home, f.need, f.uid, np.uint64(model.draws.key("referral")),
        int(Case.EARLY_HELP), f.last_referral, *_referral_test(model), rows, us)
    cand, u = rows[:m], us[:m]
    referred = cand[u < _referral_chance(model, f.need[cand], f.last_referral[cand])]
    source = model.draws.choice("referral.source", f.uid[referred], SOURCE_SHARES)
    return referred, source


def _referral_chance(model, need: np.ndarray, last_referral: np.ndarray) -> np.ndarray:
    """Each family's chance of a referral this week from its ``need`` (float32; the array is
    used as the result) and the week of its ``last_referral``: rate * exp(slope * (need -
    threshold)), times ``known_family_effect`` within a year of a referral, plus the
    background rate, then 1 - exp(-yearly / 52), as float32 operations."""
    p = model.params.social_work
    yearly = need
    yearly -= p.threshold
    yearly *= p.referral_slope
    np.exp(yearly, out=yearly)
    yearly *= p.referral_rate
    # Whoever referred a family in the last year is watching it: more of its need is seen.
    known = model.week - last_referral <= WEEKS_PER_YEAR
    np.multiply(yearly, p.known_family_effect, out=yearly, where=known)
    yearly += p.background_referral_rate
    prob = np.negative(yearly, out=yearly)
    prob /= WEEKS_PER_YEAR
    np.exp(prob, out=prob)
    np.subtract(1.0, prob, out=prob)
    return prob


def _referral_test(model) -> tuple[int, float, float, float, float, float]:
    """The terms of referral_candidates' test (sim/kernels.py): the first week of the year
    in which a referral makes a family known, the threshold and slope, and log2 of 2.01
    times each of the chance's terms' scale per week (the rate for a family not known, the
    rate times the larger of 1 and the known-family effect for one known; the background),
    -inf for a term never above zero; every family kept (the background's term infinite)
    where the threshold or slope are so large that the float32 exponent's rounding could
    pass the test's margin."""
    p = model.params.social_work
    rate, background = float(p.referral_rate), float(p.background_referral_rate)
    slope, threshold = float(p.referral_slope), float(p.threshold)

    def log2_term(x: float) -> float:
        return float(np.log2(x / WEEKS_PER_YEAR)) + 1.01 if x > 0 else -np.inf

    log2_rate = log2_term(rate)
    log2_known = log2_term(rate * max(1.0, float(p.known_family_effect)))
    log2_background = log2_term(background)
    if not (abs(slope) < 1000.0 and abs(slope * threshold) < 1000.0):
        log2_background = np.inf
    known_since = model.week - WEEKS_PER_YEAR  # (referred since: known to services)
    return known_since, threshold, slope, log2_rate, log2_known, log2_background


def referrals_reference(model, at_home: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`referrals` computing every open family's chance (the definition)."""
    f = model.pop.families
    cand = np.flatnonzero(f.active & (f.case <= Case.EARLY_HELP) & (at_home > 0))
    u = model.draws.uniform("referral", f.uid[cand])
    referred = cand[u < _referral_chance(model, f.need[cand], f.last_referral[cand])]
    source = model.draws.choice("referral.source", f.uid[referred], SOURCE_SHARES)
    return referred, source


def adolescent_crises(model, at_home_mask: np.ndarray) -> np.ndarray:
    """Teenagers at home whose harm outside the home brings them into care this week."""
    c = model.pop.children
    f = model.pop.families
    p = model.params.need
    rate = float(p.adolescent_risk_rate)
    if not rate > 0:  # (no chance above zero, or not a number: nobody, as the definition)
        return np.zeros(0, np.int64)
    if len(at_home_mask) != c.n:
        raise ValueError("adolescent_crises: the mask must mark every child row")
    # Every teenager's keyed draw, in one compiled pass over the children that keeps only
    # the draws below an upper bound of the teenager's chance (twice its first-order term,
    # compared by the draw's power of two: sim/kernels.py, crisis_candidates); the exact
    # chance for those few.
    buf = scratch(model)
    rows = buf.get("crisis_rows", c.n, np.int64)  # (only the pages written are touched)
    us = buf.get("crisis_u", c.n, np.float64)
    m = kernels.crisis_candidates(
        np.ascontiguousarray(at_home_mask, dtype=np.bool_), c.age, ADOLESCENT_WEEKS, c.family,
        f.need, c.risk, c.uid, np.uint64(model.draws.key("adolescent")),
        float(p.adolescent_age_slope), float(p.adolescent_family_weight),
        float(np.log2(rate / WEEKS_PER_YEAR)) + 1.0 + 1e-9, rows, us)
    cand, u = rows[:m], us[:m]
    return cand[u < _crisis_chance(model, cand)]


def _crisis_chance(model, teen: np.ndarray) -> np.ndarray:
    """Each teenager's weekly chance of a crisis: risk + weight * max(need, 0) (float32) +
    slope * (age / 52 - 11), then 1 - exp(-rate * exp(log_h) / 52), in reused buffers."""
    c, f, p = model.pop.children, model.pop.families, model.params.need
    n = len(teen)
    log_h = np.divide(c.age[teen], WEEKS_PER_YEAR, out=scratch(model).get("teen_a", n,
                                                                            np.float64))
    log_h -= 11.0
    log_h *= p.adolescent_age_slope
    family_part = f.need[c.family[teen]]
    np.maximum(family_part, 0, out=family_part)
    family_part *= p.adolescent_family_weight
    family_part += c.risk[teen]
    np.add(family_part, log_h, out=log_h)
    return _chance_of_log_hazard(model, log_h)


def _chance_of_log_hazard(model, log_h: np.ndarray) -> np.ndarray:
    """1 - exp(-rate * exp(log_h) / 52), in place in the float64 ``log_h``. At rate 0 every
    chance is 0 (computed, a log-hazard large enough for exp to overflow would make inf * 0,
    not a number)."""
    if model.params.need.adolescent_risk_rate <= 0:
        log_h.fill(0.0)
        return log_h
    prob = np.exp(log_h, out=log_h)
    prob *= -model.params.need.adolescent_risk_rate
    prob /= WEEKS_PER_YEAR
    np.exp(prob, out=prob)
    np.subtract(1.0, prob, out=prob)
    return prob


def adolescent_crises_reference(model, at_home_mask: np.ndarray) -> np.ndarray:
    """:func:`adolescent_crises` computing every teenager's chance (the definition)."""
    c = model.pop.children
    teen = np.flatnonzero((c.age >= ADOLESCENT_WEEKS) & at_home_mask)
    return teen[model.draws.uniform("adolescent", c.uid[teen]) < _crisis_chance(model, teen)]


# --- object views (read-only) ------------------------------------------------------------


def _history(model, mask: np.ndarray) -> pd.DataFrame:
    e = model.pop.events
    rows = np.flatnonzero(mask)
    return pd.DataFrame(
        {
            "week": e.week[rows],
            "event": [Event(int(x)).name.lower() for x in e.code[rows]],
            "child": e.child[rows],
            "value": e.value[rows],
        }
    )


def _row(rows_of, i: int, what: str) -> int:
    """The row of the child or family with id (serial) ``i``; an error if it was retired."""
    row = int(rows_of([i])[0])
    if row < 0:
        raise KeyError(f"{what} {i} is not in the tables (never added, or retired after "
                       "leaving: run with CareSystem(..., compact=False) to keep every row)")
    return row


@dataclass(frozen=True)
class Child:
    """One child as an object: a snapshot of its row plus its history and placements."""

    id: int
    family: int
    age_years: float
    active: bool
    in_care: bool
    contact_lost: bool
    history: pd.DataFrame
    placements: pd.DataFrame

    @classmethod
    def of(cls, model, j: int) -> Child:
        c, pl = model.pop.children, model.pop.placements
        e = model.pop.events
        row = _row(model.pop.child_rows, j, "child")
        fam = int(model.pop.families.serial[c.family[row]])
        rows = np.flatnonzero(pl.child == j)
        cols = (
            "provider",
            "kind",
            "for_profit",
            "start",
            "end",
            "end_reason",
            "miles",
            "out_of_area",
            "with_siblings",
            "price",
        )
        placements = pd.DataFrame({k: getattr(pl, k)[rows] for k in cols})
        placements["kind"] = [Kind(int(k)).name.lower() for k in placements["kind"]]
        return cls(
            id=int(j),
            family=fam,
            age_years=float(c.age[row]) / WEEKS_PER_YEAR,
            active=bool(c.active[row]),
            in_care=bool(c.in_care[row]),
            contact_lost=bool(c.contact_lost[row]),
            history=_history(model, (e.child == j) | ((e.family == fam) & (e.child < 0))),
            placements=placements,
        )


@dataclass(frozen=True)
class Family:
    """One family as an object: its state this week, its children and its history."""

    id: int
    authority: str
    neighbourhood: int
    need: float
    case: Case
    poor: bool
    toxic_trio: bool
    kin_network: float
    children: tuple[int, ...]
    history: pd.DataFrame

    @classmethod
    def of(cls, model, i: int) -> Family:
        f, c, e = model.pop.families, model.pop.children, model.pop.events
        row = _row(model.pop.family_rows, i, "family")
        kids = np.flatnonzero(c.family == row)
        return cls(
            id=int(i),
            authority=str(model.region.la_name[f.la[row]]),
            neighbourhood=int(f.node[row]),
            need=float(f.need[row]),
            case=Case(int(f.case[row])),
            poor=bool(poverty(model)[row]),
            toxic_trio=bool(f.trio[row]),
            kin_network=float(f.kin[row]),
            children=tuple(int(j) for j in c.serial[kids]),
            history=_history(model, e.family == i),
        )
