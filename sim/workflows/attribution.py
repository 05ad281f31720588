"""``cscsim attribute``: what, in the model, drove the change since 2010?

The history (:mod:`sim.workflows.history`) replays 2010-2024 with every driver on its published
path. A counterfactual replays it with one driver held at its 2010 value throughout and everything
else as published. The part of the 2010-to-last-year change that the counterfactual loses is
what the model attributes to that driver:

    attributed(driver) = change(history) - change(history with the driver held at 2010)

Each counterfactual is paired with the full history on the same seeds (common random numbers),
so the difference is measured replication by replication and its 95% interval (Student's t over
replications) reflects the driver, not the luck of different draws. Changes are in England's
units: counts divided by ``run.scale`` (children in care at 31 March, S47 enquiries in the
year) and cash spending (early help + social work + placements, in the year's prices).

The drivers held are the history's schedules (:data:`DRIVERS`). Attributions need not add up to
the whole change: drivers interact (the crisis trap, the workload loop), and what no driver
explains is the model's own dynamics from its 2010 state. Writes ``attribution.csv``,
``attribution.md`` and ``manifest.json`` (all or nothing).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.config import ConfigError, Scenario

if TYPE_CHECKING:
    import pandas as pd

#: Driver name -> the scheduled inputs held at their first year's values. The child population
#: is births and net migration together (sim/workflows/drivers.py: migration closes the gap
#: between births and England's published child population).
DRIVERS: dict[str, tuple[str, ...]] = {
    "early_help": ("levers.early_help_capacity",),
    "health_visitors": ("levers.health_visitor_fte",),
    "child_poverty": ("levers.poverty",),
    "unaccompanied_arrivals": ("care.uasc_per_10k_children",),
    "child_population": ("population.birth_rate", "population.net_migration_rate"),
    "social_work_workforce": ("social_work.posts_per_10k_children",),
    "placement_prices": ("placements.price_index",),
    "court_delays": ("court.proceedings_weeks",),
    "investigative_practice": ("social_work.s47_practice_shift",),
    "adoption_practice": ("care.adoption_rate",),
}
#: Outcome name -> (annual.csv column, how it is read: "count" is divided by run.scale).
OUTCOMES: dict[str, tuple[str, str]] = {
    "children_in_care": ("cla", "count"),
    "s47_enquiries": ("s47_enquiries", "count"),
    "spending_gbp": ("spend_total_gbp", "count"),
}
FILES = ("attribution.csv", "attribution.md", "manifest.json")
FULL = {"reps": 4, "scale": 0.05, "seed": 20240331}


@dataclass(frozen=True)
class AttributionSettings:
    """What ``cscsim attribute`` runs; plain data, written to the manifest."""

    reps: int = FULL["reps"]
    scale: float = FULL["scale"]
    seed: int = FULL["seed"]
    years: int | None = None  # None: the scenario's (2010 to 2024)
    region: str | None = None
    scenario: str | None = None
    drivers: tuple[str, ...] = tuple(DRIVERS)
    workers: int = 1


def held_at_start(scenario: Scenario, keys: tuple[str, ...]) -> Scenario:
    """``scenario`` with inputs ``keys`` held at their values in the first reported year."""
    from sim.schedule import resolve

    year = scenario.run.start_year
    held = {key: float(resolve(scenario.get(key), year)) for key in keys}
    return scenario.with_overrides(held, where="counterfactual")


def resolve_settings(settings: AttributionSettings) -> tuple[Scenario, str]:
    """Check every input before anything runs; return the history to run and its source."""
    from sim.workflows.history import history_scenario

    if settings.reps < 1:
        raise ConfigError(f"--reps {settings.reps} is not allowed: a whole number, 1 or more")
    if settings.workers < 1:
        raise ConfigError(f"--workers {settings.workers} is not allowed: 1 or more")
    if not settings.drivers:
        raise ConfigError(f"--drivers is empty; allowed: {', '.join(DRIVERS)}")
    for d in settings.drivers:
        if d not in DRIVERS:
            raise ConfigError(f"--drivers names {d!r}, which is not a driver; allowed: "
                              f"{', '.join(DRIVERS)}")
    scenario, source = history_scenario(settings.scenario)
    overrides = {"run.scale": settings.scale, "run.seed": settings.seed,
                 "run.years": settings.years, "run.region": settings.region}
    scenario = scenario.with_overrides(overrides, where="command line")
    if scenario.run.years < 2:
        raise ConfigError(f"--years {scenario.run.years} is not allowed: 2 or more (a change "
                          "needs a first and a last year)")
    return scenario, source


def changes(annual: pd.DataFrame, scale: float) -> dict[str, float]:
    """Each outcome's change from the first reported year to the last, in England's units."""
    a = annual.sort_values("year")
    return {name: float(a[col].iloc[-1] - a[col].iloc[0]) / scale
            for name, (col, _how) in OUTCOMES.items()}


def attribution_table(full: list[dict[str, float]],
                      counterfactual: dict[str, list[dict[str, float]]]) -> pd.DataFrame:
    """Per driver and outcome: the full change, the change with the driver held, their paired
    difference (mean and 95% interval over replications) and its share of the full change."""
    import numpy as np
    import pandas as pd

    from sim.workflows.validation import interval

    rows = []
    for driver, cf in counterfactual.items():
        for outcome in OUTCOMES:
            f = np.array([r[outcome] for r in full])
            c = np.array([r[outcome] for r in cf])
            mean, sd, lo, hi = interval(f - c)
            full_mean = float(f.mean())
            rows.append({
                "driver": driver, "input_held": " + ".join(DRIVERS[driver]), "outcome": outcome,
                "change_history": full_mean, "change_held": float(c.mean()),
                "attributed": mean, "ci95_lower": lo, "ci95_upper": hi, "sd": sd,
                "share_of_change": mean / full_mean if full_mean else math.nan,
                "reps": len(f),
            })
    return pd.DataFrame(rows)


def _num(v: float) -> str:
    return "n/a" if not math.isfinite(v) else f"{v:,.0f}"


def markdown(table: pd.DataFrame, subtitle: str) -> str:
    """The table for people: one row per driver and outcome."""
    lines = [f"# What drove the change, in the model ({subtitle})", "",
             "Attributed = change with every driver as published minus the change with this "
             "driver held at its first-year value, paired on seeds; 95% interval over "
             "replications (n/a with one).", "",
             "| driver | outcome | change (history) | change (held) | attributed | 95% interval "
             "| share |", "|---|---|---|---|---|---|---|"]
    for r in table.itertuples():
        ci = (f"{_num(r.ci95_lower)} to {_num(r.ci95_upper)}"
              if math.isfinite(r.ci95_lower) else "n/a")
        share = (f"{round(100 * r.share_of_change):d}%" if math.isfinite(r.share_of_change)
                 else "n/a")
        lines.append(f"| {r.driver} | {r.outcome} | {_num(r.change_history)} | "
                     f"{_num(r.change_held)} | {_num(r.attributed)} | {ci} | {share} |")
    return "\n".join(lines) + "\n"


def attribute(settings: AttributionSettings, out: str | Path,
              quiet: bool = False) -> dict[str, Any]:
    """Run the history and each counterfactual ``reps`` times and write :data:`FILES`."""
    from sim.workflows.history import run_many
    from sim.workflows.preflight import check_out

    out = Path(out)  # check_out below refuses a file or device as --out
    history, source = resolve_settings(settings)
    check_out(out, 200_000)

    import pandas as pd

    from sim.output import cscsim_version, git_commit, staged, write_csv
    from sim.population import WEEKS_PER_YEAR
    from sim.workflows.validation import replicate_seed

    t0 = time.perf_counter()
    seeds = [replicate_seed(settings.seed, r) for r in range(settings.reps)]
    variants = {"history": history} | {d: held_at_start(history, DRIVERS[d])
                                       for d in settings.drivers}
    tasks = [{"key": (name, r), "seed": s, "scenario": sc.to_dict()}
             for name, sc in variants.items() for r, s in enumerate(seeds)]
    weeks = WEEKS_PER_YEAR * (history.run.years + history.run.burn_in_years)
    results = run_many(tasks, settings.workers, weeks, quiet, "attribute")
    by: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    for r in results:
        by[r["key"][0]].append(changes(pd.DataFrame(r["annual"]), history.run.scale))
    full = by.pop("history")
    table = attribution_table(full, by)
    first = history.run.start_year
    last = first + history.run.years - 1
    subtitle = (f"{history.name}, {history.run.region}, {first}-{last}, {settings.reps} reps, "
                f"scale {settings.scale:g}, root seed {settings.seed}")
    manifest = {
        "command": "cscsim attribute",
        "cscsim_version": cscsim_version(),
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "settings": asdict(settings),
        "scenario_source": source,
        "scenario": history.to_dict(),
        "replication_seeds": seeds,
        "years": f"{first}-{last}",
        "held_values": {d: {k: variants[d].get(k) for k in DRIVERS[d]}
                        for d in settings.drivers},
        "units": "counts divided by run.scale (England); spending in cash of each year",
        "subtitle": subtitle,
        "seconds": round(time.perf_counter() - t0, 3),
        "files": list(FILES),
    }
    with staged(out) as stage:
        write_csv(table, stage / "attribution.csv")
        (stage / "attribution.md").write_text(markdown(table, subtitle))
        (stage / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    manifest["table"] = table
    return manifest


def cmd_attribute(args: argparse.Namespace) -> int:
    drivers = tuple(dict.fromkeys(d.strip() for d in args.drivers.split(",") if d.strip()))
    settings = AttributionSettings(reps=args.reps, scale=args.scale, seed=args.seed,
                                   years=args.years, region=args.region,
                                   scenario=args.scenario, drivers=drivers,
                                   workers=args.workers)
    m = attribute(settings, args.out, quiet=args.quiet)
    print("\n" + markdown(m["table"], m["subtitle"]))
    print(f"wrote {args.out}/: {' '.join(FILES)} ({m['seconds']:.0f} s)", file=sys.stderr)
    return 0


def register(sub) -> None:
    p = sub.add_parser("attribute", help="what drove the change since 2010: the history "
                       "against counterfactuals with one driver held at its 2010 value")
    p.add_argument("--reps", type=int, default=FULL["reps"],
                   help=f"replications, paired on seeds (default {FULL['reps']})")
    p.add_argument("--scale", type=float, default=FULL["scale"],
                   help=f"share of families simulated (default {FULL['scale']})")
    p.add_argument("--seed", type=int, default=FULL["seed"],
                   help=f"root seed; replication seeds derive from it (default {FULL['seed']})")
    p.add_argument("--years", type=int, help="years from 2010 (default: to 2024)")
    p.add_argument("--region", help="run one region instead of England (faster, smaller)")
    p.add_argument("--scenario", help="a 2010 start (default policies/scenarios/"
                   "england_2010.toml; e.g. the fitted.toml of cscsim calibrate --history)")
    p.add_argument("--drivers", default=",".join(DRIVERS),
                   help=f"drivers held one at a time (default all: {','.join(DRIVERS)})")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--out", default="results/attribution",
                   help="output folder (default results/attribution)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_attribute)
