"""The for-profit share of placements from 20% to 90%, with and without a profit cap.

    .venv/bin/python experiments/for_profit_market.py [--workers 2]

Sweeps experiments/for_profit_market.toml into results/for_profit_market (or completes a sweep
left there), draws results/figures/for_profit_market.png and prints the paired effects of going
from 20% to 90% for-profit, and of a 10% profit cap at 90%. The mean weekly price is derived:
placement spend / weeks in care over the same final years.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.workflows.analyse import effect_lines, experiment_runs, plot_grid  # noqa: E402

NAME = "for_profit_market"
FP, CAP = "levers.for_profit_share", "levers.profit_cap"
DRAWN = ["mean_weekly_price_gbp", "spend_total_gbp", "mean_distance_miles",
         "placement_breakdown_rate", "early_help_places", "provider_profit_gbp"]
LABELS = {
    FP: "for-profit share of independent places", CAP: "profit cap",
    "mean_weekly_price_gbp": "mean weekly placement price, £",
    "spend_total_gbp": "total spend, £ (5% sample)",
    "mean_distance_miles": "mean distance from home, miles",
    "placement_breakdown_rate": "placement breakdowns per child-year in care",
    "early_help_places": "early-help places (after the budget loop)",
    "provider_profit_gbp": "for-profit providers' profit, £ (5% sample)",
}


def main() -> int:
    runs, fig = experiment_runs(NAME, __doc__)
    runs["mean_weekly_price_gbp"] = runs.spend_placements_gbp / runs.care_weeks
    plot_grid(runs, [FP, CAP], DRAWN, fig, "For-profit market", x=FP, hue=CAP, labels=LABELS)
    extra = ["spend_placements_gbp", "overspend_gbp", "share_over_20_miles", "for_profit_share",
             "cla_rate_per_10k", "care_entries_rate_per_10k"]
    print("\n".join(effect_lines(runs, FP, 0.2, 0.9, [*DRAWN, *extra], by=CAP)))
    print("\n".join(effect_lines(runs[runs[FP] == 0.9], CAP, 0.0, 0.1, [*DRAWN, *extra])))
    print(f"wrote {fig}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
