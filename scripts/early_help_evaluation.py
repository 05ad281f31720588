"""The model's own Troubled Families evaluation: is early help as effective here as in England?

MHCLG's national evaluation of the Troubled Families Programme 2015-2020 (Findings, March 2019)
compared families on the programme with a matched comparison group: 19-24 months after joining,
1.7% of the programme group's children were looked after against 2.5% of the comparison
group's, a 32% difference. This script runs the same comparison inside the model, where a
natural experiment exists: families signposted to early help wait for a place, places are
filled longest wait first within each authority's capacity, and those still waiting after
``early_help.max_wait_weeks`` give up. Families who started early help are the programme
group; families who gave up waiting, the comparison group. For each family the share of its
children looked after 91 weeks (21 months) later is recorded.

The figure is a check the model never saw (no parameter is fitted to it): it says whether the
model's early help (its ``effect`` on need while it lasts and its chance of resolving a
toxic-trio factor) is as strong as England's evidence suggests.

    python scripts/early_help_evaluation.py [SCENARIO.toml] [--scale 0.02] [--years 2] [--seed 1]
"""

from __future__ import annotations

import argparse
import resource
import sys

import numpy as np

from sim.config import ConfigError, load_scenario
from sim.model import CareSystem
from sim.population import WEEKS_PER_YEAR, Case

DEFAULT = "policies/scenarios/england_baseline.toml"
FOLLOW_UP_WEEKS = 91  # 21 months: the middle of the evaluation's 19-24 months


def _share_in_care(model: CareSystem, families: np.ndarray) -> float:
    """Of the children of ``families`` still under 18, the share looked after now."""
    c = model.pop.children
    mine = np.isin(c.family, families) & (c.active | c.in_care)
    return float(c.in_care[mine].mean()) if mine.any() else float("nan")


def evaluate(path: str, scale: float, years: int, seed: int) -> dict[str, float]:
    """Enrol programme and comparison families for ``years`` years after the warm start, then
    follow each cohort for :data:`FOLLOW_UP_WEEKS` weeks."""
    scenario = load_scenario(path).with_overrides(
        {"run.scale": scale, "run.seed": seed, "run.years": years + 2, "run.record_events": False}
    )
    model = CareSystem(scenario)
    f, p = model.pop.families, model.params.early_help
    enrolled: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    results = {"programme": [], "comparison": []}
    for week in range(WEEKS_PER_YEAR * (years + 2)):
        waiting = np.flatnonzero(f.case == Case.EARLY_HELP_WAITING)
        last_chance = waiting[f.case_weeks[waiting] >= p.max_wait_weeks - 1]
        model.step()
        if week < WEEKS_PER_YEAR * years:
            started = waiting[f.case[waiting] == Case.EARLY_HELP]
            gave_up = last_chance[f.case[last_chance] == Case.NONE]
            enrolled[week + FOLLOW_UP_WEEKS] = (started, gave_up)
        if week in enrolled:
            started, gave_up = enrolled.pop(week)
            results["programme"].append((len(started), _share_in_care(model, started)))
            results["comparison"].append((len(gave_up), _share_in_care(model, gave_up)))
    out = {}
    for group, rows in results.items():
        n = np.array([r[0] for r in rows], float)
        share = np.array([r[1] for r in rows], float)
        ok = (n > 0) & np.isfinite(share)  # a cohort with no child under 18 left has no share
        out[f"{group}_families"] = float(n.sum())
        out[f"{group}_share_looked_after"] = float(np.average(share[ok], weights=n[ok]))
    out["difference"] = 1 - out["programme_share_looked_after"] / out[
        "comparison_share_looked_after"
    ]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default=DEFAULT)
    ap.add_argument("--scale", type=float, default=0.02)
    ap.add_argument("--years", type=int, default=2, help="years of enrolment (default 2)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.years < 1:
        ap.error("--years must be at least 1")
    try:
        r = evaluate(args.scenario, args.scale, args.years, args.seed)
    except ConfigError as e:
        sys.exit(f"early_help_evaluation: error: {e}")
    print(f"{args.scenario} at scale {args.scale}, seed {args.seed}, {args.years} years enrolled")
    print("| group | families | children looked after 21 months later |")
    print("|---|---|---|")
    for group in ("programme", "comparison"):
        print(f"| {group} | {r[group + '_families']:,.0f} | "
              f"{r[group + '_share_looked_after']:.2%} |")
    print(f"Programme vs comparison: {r['difference']:.0%} fewer looked after "
          "(Troubled Families evaluation, MHCLG 2019: 1.7% vs 2.5%, 32% fewer)")
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    print(f"CPU seconds: {cpu.ru_utime + cpu.ru_stime:.0f}")


if __name__ == "__main__":
    main()
