"""Figures of a run, drawn with matplotlib (Agg backend: no screen needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

#: The four line panels: title, the columns drawn on the left axis (shares in per cent, rates
#: per 10,000) and, for relationships, breakdowns per child-year on their own right-hand axis
#: (a rate per child-year is not a share, so it does not share the share axis).
PANELS = (
    (
        "Children in care and entries",
        {"cla_rate_per_10k": "in care", "care_entries_rate_per_10k": "entries in the year"},
        None,
    ),
    (
        "The front door",
        {
            "referrals_rate_per_10k": "referrals",
            "s47_rate_per_10k": "S47 enquiries",
            "cin_rate_per_10k": "in need",
            "cpp_rate_per_10k": "on plans",
        },
        None,
    ),
    (
        "Relationship breakdown",
        {
            "share_3plus_placements_in_year": "3+ placements in year",
            "sibling_separation_share": "apart from a sibling",
            "family_contact_lost_share": "lost family contact",
        },
        ("placement_breakdown_rate", "breakdowns per child-year (right)"),
    ),
    (
        "Distance from home",
        {
            "share_over_20_miles": "over 20 miles",
            "share_out_of_area": "outside home authority",
            "for_profit_share": "with for-profit providers",
        },
        None,
    ),
)



def _unit_axis(ax, column: str) -> float:
    """Label ``ax`` with the column's unit from the registry; returns the multiplier to draw
    with (shares in per cent, money in millions)."""
    from sim.workflows.datadict import axis

    mult, label = axis(column)
    ax.set_ylabel("% of children in care at year end" if label == "%" else label)
    return mult


def summary_figure(annual: pd.DataFrame, path: Path | str | None = None,
                   title: str | None = None) -> Figure:
    """Six panels of the key indicators by year: flows, front door, relationships, distance,
    money, and the crisis trap (early-help places against overspend). Saved (and closed) if
    ``path`` is given; returned either way, so a notebook can show it."""
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5), constrained_layout=True)
    year = annual["year"]
    for ax, (name, series, right) in zip(axes.flat, PANELS, strict=False):
        mult = _unit_axis(ax, next(iter(series)))
        for col, label in series.items():
            ax.plot(year, annual[col] * mult, marker="o", ms=3, label=label)
        ax.set(title=name, xlabel="year (DfE, to 31 March)")
        ax.set_ylim(bottom=0)
        handles, labels = ax.get_legend_handles_labels()
        if right is not None:
            col, label = right
            ax2 = ax.twinx()
            m2 = _unit_axis(ax2, col)
            ax2.plot(year, annual[col] * m2, "k--", marker="s", ms=3, label=label)
            ax2.set_ylim(bottom=0)
            h2, l2 = ax2.get_legend_handles_labels()
            handles, labels = handles + h2, labels + l2
        ax.legend(handles, labels, fontsize=8)
    ax = axes.flat[4]
    parts = {
        "spend_early_help_gbp": "early help",
        "spend_social_work_gbp": "social work",
        "spend_placements_gbp": "placements",
    }
    ax.stackplot(year, *[annual[c] / 1e6 for c in parts], labels=list(parts.values()), alpha=0.8)
    ax.plot(year, annual["budget_gbp"] / 1e6, "k--", label="budget")
    ax.set(title="Spending", ylabel="£ million (simulated sample)",
           xlabel="year (DfE, to 31 March)")
    ax.legend(fontsize=8, loc="upper left")
    ax = axes.flat[5]
    ax.bar(year, annual["overspend_gbp"] / 1e6, color="tab:red", alpha=0.6, label="overspend")
    ax.set(title="The crisis trap", ylabel="overspend, £ million (simulated sample)",
           xlabel="year (DfE, to 31 March)")
    ax.set_ylim(bottom=0)
    ax2 = ax.twinx()
    ax2.plot(year, annual["early_help_places"], "g-o", ms=3, label="early-help places (right)")
    ax2.set_ylabel("early-help places (families)")
    ax2.set_ylim(bottom=0)
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=8, loc="upper left")
    for a in axes.flat:
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(title or "cscsim: key indicators by year", fontsize=13)
    if path is not None:
        fig.savefig(path, dpi=100)
        plt.close(fig)
    return fig
