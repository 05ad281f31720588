"""One Mesa agent per family against cscsim's vectorised rules: what the structure of arrays buys.

The subset of rules (issue 13): poverty (a fixed draw per family against its street's rate),
the toxic trio starting and ending, need (mean reversion to its long-run level, plus noise)
and the weekly referral draw (a hazard rising with need, higher for a year after a referral).
Both versions run the same families from the same state for the same weeks with the England
baseline's parameters:

- per agent: one ``mesa.Agent`` per family, a Python ``step()`` using ``self.random``, run by
  ``model.agents.do("step")`` (Mesa 3.5);
- vectorised: cscsim's own functions, :func:`agents.family.evolve_need` (which calls
  ``toxic_trio_week``, ``long_run_need`` and ``poverty``) and :func:`agents.family.referrals`,
  on the same families as rows of :class:`sim.population.Population`.

Their random numbers differ, so they are checked to agree statistically (mean need at the end
and referrals per family-week, within four standard errors). Prints family-weeks per CPU second
of each and the ratio. Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/per_agent.py [--families 20000 200000] [--weeks 20]
"""

from __future__ import annotations

import argparse
import math
import time
from types import SimpleNamespace

import mesa
import numpy as np

from agents import family as rules
from sim.config import load_scenario
from sim.draws import Draws
from sim.population import BAND_CENTILES, WEEKS_PER_YEAR, Population

SCENARIO = "policies/scenarios/england_baseline.toml"
BAND_SHARES = np.diff(BAND_CENTILES)  # people in low-, medium-, high-deprivation streets


class FamilyAgent(mesa.Agent):
    """One family: the same rules as cscsim's, one family at a time."""

    def __init__(self, model: PerAgentModel, row: dict) -> None:
        super().__init__(model)
        self.poverty_draw = row["poverty_draw"]
        self.deprivation = row["deprivation"]
        self.propensity = row["propensity"]
        self.trio = row["trio"]
        self.need = row["need"]
        self.last_referral = -(2**30)

    def poverty_rate(self) -> float:
        """agents.family.poverty_rate for one street: a line through the bands' rates."""
        k = self.model.k
        d = self.deprivation
        rate = k.r1 + (k.slope_lo if d < k.mid1 else k.slope_hi) * (d - k.mid1)
        return min(max(rate, 0.0), 1.0) * k.lever

    def step(self) -> None:
        k, r = self.model.k, self.random
        # Toxic trio: starts and ends (one draw, as agents.family.toxic_trio_week).
        u = r.random()
        if self.trio:
            self.trio = not (u < k.trio_end)
        else:
            self.trio = u < k.trio_start
        # Need reverts to its long-run level (poverty, trio, propensity), with noise.
        poor = self.poverty_draw < self.poverty_rate()
        long_run = k.poverty_effect * poor + k.trio_effect * self.trio + self.propensity
        shock = r.gauss(0.0, 1.0) * k.shock_sd
        self.need += (long_run - self.need) / k.tau + shock
        # The referral draw.
        yearly = k.referral_rate * math.exp(k.referral_slope * (self.need - k.threshold))
        if self.model.week - self.last_referral <= WEEKS_PER_YEAR:
            yearly *= k.known_effect
        if r.random() < 1.0 - math.exp(-(yearly + k.background) / WEEKS_PER_YEAR):
            self.last_referral = self.model.week
            self.model.referrals += 1


class PerAgentModel(mesa.Model):
    """The families as Mesa agents; one step is one week."""

    def __init__(self, rows: list[dict], params, seed: int) -> None:
        super().__init__(rng=seed)
        n, sw = params.need, params.social_work
        mids = (BAND_CENTILES[:-1] + BAND_CENTILES[1:]) / 2
        rates = [n.poverty_low, n.poverty_medium, n.poverty_high]
        end_rate = n.toxic_trio_onset * (1 - n.toxic_trio_prevalence) / n.toxic_trio_prevalence
        self.k = SimpleNamespace(
            r1=rates[1], mid1=mids[1], lever=params.levers.poverty,
            slope_lo=(rates[1] - rates[0]) / (mids[1] - mids[0]),
            slope_hi=(rates[2] - rates[1]) / (mids[2] - mids[1]),
            trio_start=n.toxic_trio_onset / WEEKS_PER_YEAR, trio_end=end_rate / WEEKS_PER_YEAR,
            poverty_effect=n.poverty_effect, trio_effect=n.toxic_trio_effect,
            tau=n.persistence_weeks, shock_sd=n.noise_sd * math.sqrt(2.0 / n.persistence_weeks),
            referral_rate=sw.referral_rate, referral_slope=sw.referral_slope,
            threshold=sw.threshold, known_effect=sw.known_family_effect,
            background=sw.background_referral_rate,
        )
        self.week = 0
        self.referrals = 0
        for row in rows:
            FamilyAgent(self, row)

    def step(self) -> None:
        self.agents.do("step")
        self.week += 1


def families(n: int, params, seed: int) -> Population:
    """``n`` families made by cscsim's own constructor, need at its long-run level plus noise."""
    rng = np.random.default_rng(seed)
    pop = Population(n, n)
    band = rng.choice(3, size=n, p=BAND_SHARES)
    draws = Draws(seed)
    uid = draws.child_ids("uid.family", np.arange(n), week=0)
    pop.add_families(draws, uid, np.zeros(n, np.int16), np.zeros(n, np.int16), band, params)
    model = SimpleNamespace(pop=pop, params=params)
    pop.families.need[:] = rules.long_run_need(model) + params.need.noise_sd * (
        rng.standard_normal(n))
    return pop


def run_vectorised(pop: Population, params, weeks: int, seed: int) -> tuple[float, float, int]:
    """cscsim's functions for the subset: returns (CPU s, mean need at the end, referrals)."""
    model = SimpleNamespace(pop=pop, params=params, week=0, draws=Draws(seed))
    f = pop.families
    at_home = np.ones(f.n, np.int64)
    no_support = np.zeros(f.n, np.float32)
    referrals = 0
    t0 = time.process_time()
    for week in range(weeks):
        model.week = model.draws.week = week
        rules.evolve_need(model, no_support)
        referred, _ = rules.referrals(model, at_home)
        f.last_referral[referred] = week
        referrals += len(referred)
    return time.process_time() - t0, float(f.need.mean()), referrals


def run_per_agent(pop: Population, params, weeks: int, seed: int) -> tuple[float, float, float,
                                                                            int]:
    """The Mesa version: returns (build CPU s, run CPU s, mean need at the end, referrals)."""
    f = pop.families
    cols = {k: getattr(f, k).tolist() for k in
            ("poverty_draw", "deprivation", "propensity", "trio", "need")}
    rows = [dict(zip(cols, vals, strict=True)) for vals in zip(*cols.values(), strict=True)]
    t0 = time.process_time()
    model = PerAgentModel(rows, params, seed)
    t1 = time.process_time()
    for _ in range(weeks):
        model.step()
    t2 = time.process_time()
    need = float(np.mean([a.need for a in model.agents]))
    return t1 - t0, t2 - t1, need, model.referrals


def main() -> None:
    ap = argparse.ArgumentParser(description="per-agent Mesa against cscsim's vectorised rules")
    ap.add_argument("--families", type=int, nargs="+", default=[20_000, 200_000])
    ap.add_argument("--weeks", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    params = load_scenario(SCENARIO).at_year(2024)
    print(f"{'families':>9} {'weeks':>5} {'agent fw/CPU s':>15} {'vector fw/CPU s':>16} "
          f"{'ratio':>6}  {'mean need a / v (z)':>26}  {'referrals a / v (z)':>24}")
    # The compiled kernels (sim/kernels.py) are loaded from numba's cache on their first call
    # in a process, a one-off cost (about 0.3 CPU s) that is no family-week's: as Mesa's own
    # import is not timed, a week on a few families loads them before anything is measured.
    run_vectorised(families(1000, params, a.seed), params, 1, a.seed)
    for n in a.families:
        pop = families(n, params, a.seed)
        start = pop.families.need.copy()
        _, t_a, need_a, ref_a = run_per_agent(pop, params, a.weeks, a.seed + 1)
        pop.families.need[:] = start
        t_v, need_v, ref_v = run_vectorised(pop, params, a.weeks, a.seed + 2)
        fw = n * a.weeks
        # Standard errors: the end need's spread over families (two independent samples), and
        # Poisson counts of referrals.
        se_need = float(np.std(pop.families.need)) * math.sqrt(2.0 / n)
        z_need = (need_a - need_v) / se_need
        z_ref = (ref_a - ref_v) / math.sqrt(max(ref_a + ref_v, 1))
        ok = abs(z_need) < 4 and abs(z_ref) < 4
        print(f"{n:>9,} {a.weeks:>5} {fw / t_a:>15,.0f} {fw / t_v:>16,.0f} {t_a / t_v:>6.0f}x "
              f" {need_a:>8.4f} / {need_v:>8.4f} ({z_need:+.1f})  {ref_a:>7,} / {ref_v:>7,} "
              f"({z_ref:+.1f})  {'agree' if ok else 'DISAGREE'}", flush=True)


if __name__ == "__main__":
    main()
