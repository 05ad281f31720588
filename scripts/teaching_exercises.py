"""Run the three exercises of docs/teaching.md as the teaching page runs them, and print the
figures the guide quotes, beside the page's no-change baseline.

Each exercise is the page's default model (the app's region and scale, preset ``default``,
seed 1) with the guide's lever moves made at the guide's weeks through
``TeachingModel.move_lever`` (what the page's sliders call), stepped week by week as Play
does; its no-change run is the same model without the moves (what the page's faint line
shows). No browser is needed: the page draws these same series.

    .venv/bin/python scripts/teaching_exercises.py [--exercise 1|2|3] [--seed 1] [--scale X]

Prints, for each exercise: each loop variable's mean over the quarter before the first move
and over the last quarter, with the no-change run's last quarter; children in care and each
year's final overspend (estimates for the region: the sample divided by the scale); and in how
many weeks each link transmitted and each loop drove after the move.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: exercise -> (lever moves as (page week, {lever: value}), weeks to run)
EXERCISES: dict[str, tuple[list[tuple[int, dict[str, float]]], int]] = {
    "1": ([(40, {"early_help_capacity": 0.3, "health_visitor_fte": 0.5})], 40 + 156),
    "2": ([(40, {"poverty": 1.6, "funding": 0.7})], 40 + 156),
    "3": ([(40, {"local_sufficiency": 0.5}),
           (40 + 104, {"distance_cap_miles": 20.0, "local_sufficiency": 1.5})], 40 + 208),
}
Q = 13  # a quarter


def run(moves, weeks: int, seed: int, scale: float | None):
    from sim.workflows.mapview import AppConfig, TeachingModel

    config = AppConfig() if scale is None else AppConfig(scale=scale)
    m = TeachingModel(seed=seed, config=config)
    todo = dict(moves)
    m.statuses = []  # (week, {link: status}, {loop: driving}) as the page's diagram showed
    while m.weeks_run < weeks:
        for key, value in todo.pop(m.weeks_run, {}).items():
            m.move_lever(key, value)
        m.step()
        a = m.assessment
        m.statuses.append((m.weeks_run, {k: st.status for k, st in a.links.items()},
                           {k: st.driving for k, st in a.loops.items()}))
    return m


def _lab(key: str) -> str:
    from sim.workflows.loops import VARIABLES

    return VARIABLES[key].label.replace("\n", " ")


def report(name: str, seed: int, scale: float | None) -> None:
    from sim.workflows.loops import LINKS, LOOPS, VARIABLES

    moves, weeks = EXERCISES[name]
    t = time.process_time()
    m = run(moves, weeks, seed, scale)
    base = run([], weeks, seed, scale)
    cpu = time.process_time() - t
    first = moves[0][0]
    up = 1.0 / m.scale
    print(f"\nExercise {name}: moves {moves}; {weeks} weeks; {m.region.name}, scale {m.scale:g}, "
          f"seed {seed} ({cpu:.0f} CPU s for both runs)")
    later = [w for w, _ in moves[1:]]  # the quarter before each later move, too
    print(f"  {'loop variable (the sample)':34s} {'before':>10s} "
          + "".join(f"{f'to wk {w}':>10s}" for w in later)
          + f"{'last qtr':>10s} {'no change':>10s} {'change':>8s}")
    for k, var in VARIABLES.items():
        x, b = np.asarray(m.monitor.series[k]), np.asarray(base.monitor.series[k])
        pre, now, ref = x[first - Q:first].mean(), x[-Q:].mean(), b[-Q:].mean()
        mid = "".join(f"{x[w - Q:w].mean():10.3g}" for w in later)
        rel = f"{100 * (now / pre - 1):+.0f}%" if pre else ""
        label = var.label.replace("\n", " ")[:34]
        print(f"  {label:34s} {pre:10.3g} {mid}{now:10.3g} {ref:10.3g} {rel:>8s}")
    cla, cla0 = np.asarray(m.history["in_care"]) * up, np.asarray(base.history["in_care"]) * up
    print(f"  children in care (est.): week {first} {cla[first - 1]:,.0f}; end {cla[-1]:,.0f} "
          f"(no change: {cla0[-1]:,.0f})")
    ent, ent0 = np.asarray(m.history["entries"]) * up, np.asarray(base.history["entries"]) * up
    print(f"  entries a week, last year (est.): {ent[-52:].mean():.1f} "
          f"(no change {ent0[-52:].mean():.1f})")
    over = [y["overspend_gbp"] * up / 1e6 for y in m.annual]
    over0 = [y["overspend_gbp"] * up / 1e6 for y in base.annual]
    print("  overspend at each year end, £m (est.): "
          + ", ".join(f"{a:.0f} (no change {b:.0f})" for a, b in zip(over, over0, strict=True)))
    after = [(links, loops) for w, links, loops in m.statuses if w > first]
    on = {k: sum(links[k] == "transmitting" for links, _ in after) for k in LINKS}
    drove = {k: sum(loops[k] for _, loops in after) for k in LOOPS}
    weeks_after = after
    n = len(weeks_after)
    print(f"  weeks (of {n} after the move) each loop drove: "
          + ", ".join(f"{k} {v}" for k, v in drove.items()))
    print("  links transmitting in the most weeks: " + ", ".join(
        f"{_lab(c)} -> {_lab(e)} {v}" for (c, e), v in sorted(
            on.items(), key=lambda kv: -kv[1])[:5] if v))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exercise", choices=sorted(EXERCISES), action="append")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scale", type=float, default=None,
                    help="share of families simulated (default: the app's, 0.25)")
    args = ap.parse_args()
    if args.scale is not None and not 0.0005 <= args.scale <= 1.0:
        print(f"teaching_exercises: --scale {args.scale}: allowed: 0.0005 to 1", file=sys.stderr)
        return 2
    for name in args.exercise or sorted(EXERCISES):
        report(name, args.seed, args.scale)
    return 0


if __name__ == "__main__":
    sys.exit(main())
