"""Figures of a run, drawn with matplotlib (Agg backend: no screen needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

PANELS = (
    (
        "Children in care and entries",
        "per 10,000 children",
        {"cla_rate_per_10k": "in care", "care_entries_rate_per_10k": "entries"},
    ),
    (
        "The front door",
        "per 10,000 children",
        {
            "referrals_rate_per_10k": "referrals",
            "s47_rate_per_10k": "S47 enquiries",
            "cin_rate_per_10k": "in need",
            "cpp_rate_per_10k": "on plans",
        },
    ),
    (
        "Relationship breakdown",
        "share of children in care",
        {
            "share_3plus_placements": "3+ placements in year",
            "sibling_separation_share": "apart from a sibling",
            "family_contact_lost_share": "lost family contact",
            "placement_breakdown_rate": "breakdowns per child-year",
        },
    ),
    (
        "Distance from home",
        "share of children in care",
        {
            "share_over_20_miles": "over 20 miles",
            "share_out_of_area": "outside home authority",
            "for_profit_share": "with for-profit providers",
        },
    ),
)


def summary_figure(annual: pd.DataFrame, path: Path | str) -> None:
    """Six panels of the key indicators by year: flows, front door, relationships, distance,
    money, and the crisis trap (early-help places against overspend)."""
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5), constrained_layout=True)
    year = annual["year"]
    for ax, (title, unit, series) in zip(axes.flat, PANELS, strict=False):
        for col, label in series.items():
            ax.plot(year, annual[col], marker="o", ms=3, label=label)
        ax.set(title=title, ylabel=unit, xlabel="year")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
    ax = axes.flat[4]
    parts = {
        "spend_early_help_gbp": "early help",
        "spend_social_work_gbp": "social work",
        "spend_placements_gbp": "placements",
    }
    ax.stackplot(year, *[annual[c] / 1e6 for c in parts], labels=list(parts.values()), alpha=0.8)
    ax.plot(year, annual["budget_gbp"] / 1e6, "k--", label="budget")
    ax.set(title="Spending (simulated sample)", ylabel="£ million", xlabel="year")
    ax.legend(fontsize=8, loc="upper left")
    ax = axes.flat[5]
    ax.bar(year, annual["overspend_gbp"] / 1e6, color="tab:red", alpha=0.6, label="overspend (£m)")
    ax.set(title="The crisis trap", ylabel="overspend, £ million", xlabel="year")
    ax2 = ax.twinx()
    ax2.plot(year, annual["early_help_places"], "g-o", ms=3, label="early-help places")
    ax2.set_ylabel("early-help places")
    ax2.set_ylim(bottom=0)
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=8, loc="upper left")
    fig.suptitle("cscsim: key indicators by simulated year")
    fig.savefig(path, dpi=100)
    plt.close(fig)
