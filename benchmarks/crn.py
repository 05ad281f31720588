"""How much common random numbers sharpen a comparison (issue 12).

A modest policy: 20% more early-help capacity in one region (the North East) for three years.
Until per-authority policies land, the run is the region alone with ``early_help_capacity``
1.0 against 1.2. For each replication ``i`` the base runs on seed ``s_i``; the policy runs

- on the same seed ``s_i`` (common random numbers: paired), and
- on a different seed ``t_i`` (independent arms, what a comparison without common random
  numbers amounts to).

It prints the standard error of the mean difference in care entries (over the three years)
each way at the same number of replications, the variance ratio (independent / paired; the
bar is 10), an F-based 95% interval for it, and the replications each needs for a standard
error of 1% of the base's entries. CPU seconds are from ``resource.getrusage``.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/crn.py [--reps 8] [--scale 0.1] [--years 3]
        [--region "North East"] [--indicator care_entries]
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time

import numpy as np

POLICY = {"levers.early_help_capacity": 1.2}


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run(region: str, scale: float, years: int, seed: int, overrides: dict) -> dict[str, float]:
    """One run's totals over its years for a few indicators."""
    from sim.config import Scenario
    from sim.model import CareSystem

    scenario = Scenario().with_overrides({"run.region": region, "run.scale": scale,
                                          "run.years": years, "run.seed": seed,
                                          "run.record_events": False, **overrides})
    model = CareSystem(scenario)
    model.run()
    a = model.annual_frame()
    return {k: float(a[k].sum()) for k in ("care_entries", "referrals", "placement_moves",
                                           "early_help_started")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=8)
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--years", type=int, default=3)
    ap.add_argument("--region", default="North East")
    ap.add_argument("--indicator", default="care_entries")
    a = ap.parse_args(argv)
    from scipy import stats

    t0, w0 = cpu(), time.perf_counter()
    base, paired, indep = [], [], []
    for i in range(a.reps):
        s, t = 1000 + i, 5000 + i
        base.append(run(a.region, a.scale, a.years, s, {}))
        paired.append(run(a.region, a.scale, a.years, s, POLICY))
        indep.append(run(a.region, a.scale, a.years, t, POLICY))
        print(f"rep {i + 1}/{a.reps}: {a.indicator} base {base[-1][a.indicator]:.0f}, "
              f"policy (same seed) {paired[-1][a.indicator]:.0f}, "
              f"policy (other seed) {indep[-1][a.indicator]:.0f}", file=sys.stderr)
    cpu_s, wall = cpu() - t0, time.perf_counter() - w0
    k = a.indicator
    b = np.array([r[k] for r in base])
    d_crn = np.array([r[k] for r in paired]) - b
    d_ind = np.array([r[k] for r in indep]) - b
    n = a.reps
    var_crn, var_ind = d_crn.var(ddof=1), d_ind.var(ddof=1)
    se_crn, se_ind = math.sqrt(var_crn / n), math.sqrt(var_ind / n)
    ratio = var_ind / var_crn if var_crn > 0 else math.inf
    lo_f, hi_f = stats.f.ppf([0.025, 0.975], n - 1, n - 1)
    target = 0.01 * b.mean()  # a standard error of 1% of the base's entries
    need_crn = math.ceil(var_crn / target**2) if var_crn > 0 else 1
    need_ind = math.ceil(var_ind / target**2)
    print(f"\n{a.region}, scale {a.scale:g}, {a.years} years, early_help_capacity 1.0 vs 1.2, "
          f"{n} replications each way; {k} summed over the years")
    print(f"  base mean {b.mean():.1f}")
    print(f"  common random numbers: mean difference {d_crn.mean():+.2f}, SE {se_crn:.2f} "
          f"(sd of paired differences {math.sqrt(var_crn):.2f})")
    print(f"  independent seeds:     mean difference {d_ind.mean():+.2f}, SE {se_ind:.2f} "
          f"(sd of differences {math.sqrt(var_ind):.2f})")
    print(f"  variance ratio (independent / common): {ratio:.1f} "
          f"(95% interval {ratio / hi_f:.1f} to {ratio / lo_f:.1f}, F with {n - 1}, {n - 1} df)")
    print(f"  replications for an SE of 1% of base ({target:.1f}): common {need_crn}, "
          f"independent {need_ind}")
    print(f"  {3 * n} runs: {cpu_s:.1f} CPU s ({wall:.1f} s wall)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
