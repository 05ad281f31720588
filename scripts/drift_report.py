"""Does the model hold still when nothing changes? Slopes of the key stocks over a long run.

Runs a scenario (default: the England baseline, its warm start and drivers held flat) for
``--years`` years on ``--seeds`` seeds and prints, for each indicator, its value in the first
and last year and its trend in % a year (the slope of a straight line through log values,
averaged over seeds), plus sibling separation's change in points. The issue's bar: the
children-in-care rate, the child-in-need rate and the child population each under 1% a year,
and sibling separation within 3 points of year 1.

    python scripts/drift_report.py [SCENARIO.toml] [--years 10] [--scale 0.05] [--seeds 1 2 3]
"""

from __future__ import annotations

import argparse
import resource
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from sim.config import load_scenario
from sim.model import CareSystem

DEFAULT = "policies/scenarios/england_baseline.toml"
TRENDED = ("cla_rate_per_10k", "cin_rate_per_10k", "children_0_17", "care_entries_rate_per_10k",
           "cpp_rate_per_10k", "referrals_rate_per_10k", "spend_total_gbp", "sw_caseload")


def run_one(task: tuple[str, int, float, int]) -> pd.DataFrame:
    path, years, scale, seed = task
    scenario = load_scenario(path).with_overrides(
        {"run.years": years, "run.scale": scale, "run.seed": seed, "run.record_events": False}
    )
    model = CareSystem(scenario)
    model.run()
    return model.annual_frame().assign(seed=seed)


def trend(values: np.ndarray) -> float:
    """Percent a year: the slope of a least-squares line through the logs."""
    x = np.arange(len(values))
    return float(np.expm1(np.polyfit(x, np.log(values), 1)[0]) * 100)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default=DEFAULT)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--scale", type=float, default=0.05)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    tasks = [(args.scenario, args.years, args.scale, s) for s in args.seeds]
    with ProcessPoolExecutor(args.workers) as pool:
        runs = list(pool.map(run_one, tasks))
    cpu = sum(
        resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    print(f"{args.scenario}: {args.years} years at scale {args.scale}, seeds {args.seeds}")
    print("| indicator | first year | last year | trend, % a year |")
    print("|---|---|---|---|")
    for col in TRENDED:
        first = np.mean([r[col].iloc[0] for r in runs])
        last = np.mean([r[col].iloc[-1] for r in runs])
        slope = np.mean([trend(r[col].to_numpy(float)) for r in runs])
        print(f"| `{col}` | {first:,.1f} | {last:,.1f} | {slope:+.2f} |")
    sep0 = np.mean([r["sibling_separation_share"].iloc[0] for r in runs]) * 100
    sep1 = np.mean([r["sibling_separation_share"].iloc[-1] for r in runs]) * 100
    print(f"| `sibling_separation_share` | {sep0:.1f}% | {sep1:.1f}% | {sep1 - sep0:+.1f} points |")
    print(f"CPU seconds (all processes): {cpu:.0f}")


if __name__ == "__main__":
    main()
