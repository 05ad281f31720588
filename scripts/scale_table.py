"""Do rates and the placement mix hold across sample sizes? One table, same parameters.

Runs a scenario (default: the England baseline) at each ``--scales`` value with one seed and
prints, for the years after its burn-in, the validation indicators' means and whether each is
within its validation tolerance of the published target (sim/workflows/targets.py).

    python scripts/scale_table.py [SCENARIO.toml] [--scales 0.05 0.1 0.2] [--years 3]
"""

from __future__ import annotations

import argparse
import resource
import time

from sim.config import load_scenario
from sim.model import CareSystem
from sim.workflows.targets import targets

DEFAULT = "policies/scenarios/england_baseline.toml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default=DEFAULT)
    ap.add_argument("--scales", type=float, nargs="+", default=[0.05, 0.1, 0.2])
    ap.add_argument("--years", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    means, cpu = {}, {}
    for scale in args.scales:
        t0 = time.process_time()
        scenario = load_scenario(args.scenario).with_overrides(
            {"run.scale": scale, "run.years": args.years, "run.seed": args.seed,
             "run.record_events": False}
        )
        model = CareSystem(scenario)
        model.run()
        means[scale] = model.annual_frame().mean(numeric_only=True)
        cpu[scale] = time.process_time() - t0
    print("| indicator | target | " + " | ".join(f"scale {s:g}" for s in args.scales) + " |")
    print("|---|---|" + "---|" * len(args.scales))
    for t in targets():
        cells = []
        for s in args.scales:
            v = float(means[s][t.column])
            mark = "" if t.within(v) else " (out)"
            cells.append((f"{v:.1%}" if t.kind == "share" else f"{v:,.1f}") + mark)
        target = f"{t.value:.1%}" if t.kind == "share" else f"{t.value:,.1f}"
        print(f"| {t.column} | {target} | " + " | ".join(cells) + " |")
    print("CPU seconds: " + ", ".join(f"{s:g}: {cpu[s]:.0f}" for s in args.scales)
          + f" (peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
