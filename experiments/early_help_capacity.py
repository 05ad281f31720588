"""Early help from today's level to double: what happens to care, relationships and spend?

    .venv/bin/python experiments/early_help_capacity.py [--workers 2]

Sweeps experiments/early_help_capacity.toml into results/early_help_capacity (or completes a
sweep left there), draws results/figures/early_help_capacity.png and prints the paired effect
of doubling early help (same seeds at both levels) with 95% intervals.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.workflows.analyse import effect_lines, experiment_runs, plot_grid  # noqa: E402

NAME = "early_help_capacity"
EH, HV = "levers.early_help_capacity", "levers.health_visitor_fte"
DRAWN = ["care_entries_rate_per_10k", "cla_rate_per_10k", "placement_breakdown_rate",
         "share_3plus_placements_in_year", "spend_total_gbp", "early_help_places"]
LABELS = {
    EH: "early-help capacity (x today)", HV: "health visitors",
    "care_entries_rate_per_10k": "entries into care per 10,000 children",
    "cla_rate_per_10k": "children in care per 10,000",
    "placement_breakdown_rate": "placement breakdowns per child-year in care",
    "share_3plus_placements_in_year": "share of children in care with 3+ placements",
    "spend_total_gbp": "total spend, £ (5% sample)",
    "early_help_places": "early-help places (after the budget loop)",
}


def main() -> int:
    runs, fig = experiment_runs(NAME, __doc__)
    plot_grid(runs, [EH, HV], DRAWN, fig, "Early-help capacity", x=EH, hue=HV, labels=LABELS)
    print("\n".join(effect_lines(runs, EH, 1.0, 2.0, [*DRAWN, "placement_moves"], by=HV)))
    print(f"wrote {fig}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
