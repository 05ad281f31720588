"""How far a preset's change travels round its loop, measured against its own twin.

The loop measure of the teaching app (docs/teaching.md, ``sim/workflows/loops.py``) reads
co-movement within one run, so the sample's week-to-week noise limits what it can see. This
script asks the underlying question directly: run a preset and its *twin*, the same scenario
from the same warm start with the preset's change undone (``--twin KEY=VALUE``, e.g.
``levers.funding=1.0``), side by side on the same seed. Every random decision is a keyed draw
(``sim/draws.py``), so the twins are identical until the change, and afterwards every gap
between them in a diagram variable is the change's effect and what follows from it, not
chance. It prints, quarter by quarter, each variable's gap as a share of the twin's value.

    python scripts/loops_against_twin.py crisis_trap --twin levers.funding=1.0 [--scale 0.02]
    python scripts/loops_against_twin.py market_squeeze --twin levers.for_profit_share=0.8 \\
        --twin levers.local_sufficiency=1.0

Weeks run after the app's warm start (20 years, cached like ``cscsim loops``'s).
"""

from __future__ import annotations

import argparse
import resource
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config import ConfigError, load_scenario
from sim.snapshot import TEACHING_WARM_START_YEARS, teaching_scenario, teaching_warm_start
from sim.workflows.loops import VARIABLES, observe

SCENARIOS = Path(__file__).resolve().parents[1] / "policies" / "scenarios"


def _override(text: str) -> tuple[str, float]:
    key, sep, value = text.partition("=")
    try:
        if not sep:
            raise ValueError
        return key.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--twin {text!r}: allowed: KEY=NUMBER, e.g. "
                                         "levers.funding=1.0") from None


def gaps(preset: str, twin: dict[str, float], scale: float, weeks: int,
         seed: int | None = None) -> pd.DataFrame:
    """Quarterly mean gap (preset - twin) over the twin's quarterly mean, per variable
    (overspend: the gap itself, a share of the budget)."""
    over: dict[str, object] = {"run.scale": scale, "run.record_events": False}
    if seed is not None:
        over["run.seed"] = seed
    scenario = teaching_scenario(load_scenario(SCENARIOS / f"{preset}.toml").with_overrides(
        over, where="command line"), TEACHING_WARM_START_YEARS)
    models = (teaching_warm_start(scenario),
              teaching_warm_start(scenario.with_overrides(twin, where="--twin")))
    rows: tuple[list[dict[str, float]], list[dict[str, float]]] = ([], [])
    for _ in range(weeks):
        for model, out in zip(models, rows, strict=True):
            model.step()
            out.append(observe(model))
    a, b = (pd.DataFrame(r)[list(VARIABLES)] for r in rows)
    quarter = np.arange(weeks) // 13
    base = b.groupby(quarter).mean()
    out = ((a - b).groupby(quarter).mean() / base.abs().where(base.abs() > 0)).fillna(0.0)
    # Overspend is already a share of the budget and near 0 in a twin that keeps to it: its
    # gap is given in points of the budget, not relative to the twin's.
    out["overspend"] = (a - b)["overspend"].groupby(quarter).mean()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("preset", help="a scenario in policies/scenarios (name without .toml)")
    ap.add_argument("--twin", type=_override, action="append", required=True,
                    metavar="KEY=VALUE", help="undo the preset's change in the twin")
    ap.add_argument("--scale", type=float, default=0.02)
    ap.add_argument("--weeks", type=int, default=260)
    ap.add_argument("--seed", type=int)
    args = ap.parse_args(argv)
    if not (SCENARIOS / f"{args.preset}.toml").exists():
        print(f"preset {args.preset!r}: allowed: the names of policies/scenarios/*.toml",
              file=sys.stderr)
        return 2
    if not 13 <= args.weeks <= 5200:
        print(f"--weeks {args.weeks}: allowed: a whole number from 13 to 5200", file=sys.stderr)
        return 2
    try:
        table = gaps(args.preset, dict(args.twin), args.scale, args.weeks, args.seed)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    pd.set_option("display.width", 250)
    print(f"{args.preset} against its twin ({', '.join(f'{k}={v:g}' for k, v in args.twin)}), "
          f"scale {args.scale}: quarterly mean gap over the twin's value (overspend: in "
          "shares of the budget)")
    print(table.round(3).to_string())
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    print(f"{cpu.ru_utime + cpu.ru_stime:.1f} CPU s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
