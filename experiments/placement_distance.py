"""Placing children within 20 miles, with and without local sufficiency investment.

    .venv/bin/python experiments/placement_distance.py [--workers 2]

Sweeps experiments/placement_distance.toml into results/placement_distance (or completes a
sweep left there), draws results/figures/placement_distance.png (the cap on the x axis, from
"anywhere" to 20 miles) and prints the paired effect of a 20-mile cap against no cap.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.workflows.analyse import effect_lines, experiment_runs, plot_grid  # noqa: E402

NAME = "placement_distance"
CAP, LOCAL = "levers.distance_cap_miles", "levers.local_sufficiency"
DRAWN = ["placement_breakdown_rate", "placement_moves", "sibling_separation_share",
         "family_contact_lost_share", "share_over_20_miles", "spend_placements_gbp"]
LABELS = {
    CAP: "placement distance policy", LOCAL: "local sufficiency",
    0.0: "anywhere", 60.0: "within 60 mi", 40.0: "within 40 mi", 20.0: "within 20 mi",
    "placement_breakdown_rate": "placement breakdowns per child-year in care",
    "placement_moves": "placement moves a year (5% sample)",
    "sibling_separation_share": "share placed apart from a sibling in care",
    "family_contact_lost_share": "share who lost contact with birth family",
    "share_over_20_miles": "share placed over 20 miles from home",
    "spend_placements_gbp": "placement spend, £ (5% sample)",
}


def main() -> int:
    runs, fig = experiment_runs(NAME, __doc__)
    plot_grid(runs, [CAP, LOCAL], DRAWN, fig, "Placement distance", x=CAP, hue=LOCAL,
              labels=LABELS, x_order=[0.0, 60.0, 40.0, 20.0])
    extra = ["mean_distance_miles", "share_emergency", "spend_total_gbp"]
    print("\n".join(effect_lines(runs, CAP, 0.0, 20.0, [*DRAWN, *extra], by=LOCAL)))
    print("\n".join(effect_lines(runs[runs[CAP] == 20.0], LOCAL, 1.0, 1.5, [*DRAWN, *extra])))
    print(f"wrote {fig}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
