"""How fast a run is, and how much memory it needs.

Prints family-weeks per second (families simulated x weeks, over the simulation time, not the
build) and peak resident memory for:

- the default run (`cscsim run` with no arguments: North West, scale 0.1, 10 years);
- all of England at scale 1.0 (every family) for one simulated year.

Each case runs in its own process so peak memory is its own. Usage::

    .venv/bin/python benchmarks/run_speed.py            # both cases
    .venv/bin/python benchmarks/run_speed.py default    # one case
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

CASES = {
    "default": {},
    "england": {"run.region": "England", "run.scale": 1.0, "run.years": 1},
}


def measure(overrides: dict) -> dict:
    """Build and run one model in this process; return timings and peak memory."""
    from sim.config import Scenario
    from sim.model import CareSystem

    scenario = Scenario().with_overrides(overrides)
    t0 = time.perf_counter()
    model = CareSystem(scenario)
    t1 = time.perf_counter()
    weeks = 52 * scenario.run.years
    families = []
    for _ in range(weeks):
        families.append(int(model.pop.families.active.sum()))
        model.step()
    t2 = time.perf_counter()
    return {
        "region": scenario.run.region,
        "scale": scenario.run.scale,
        "years": scenario.run.years,
        "families": model.pop.families.n,
        "children": model.pop.children.n,
        "build_s": t1 - t0,
        "simulate_s": t2 - t1,
        "family_weeks_per_s": sum(families) / (t2 - t1),
        "weeks_per_s": weeks / (t2 - t1),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(names: list[str]) -> None:
    if names and names[0] == "--child":
        print(json.dumps(measure(CASES[names[1]])))
        return
    print(
        f"{'case':<8} {'families':>10} {'children':>11} {'build s':>8} {'sim s':>8} "
        f"{'family-weeks/s':>15} {'weeks/s':>8} {'peak MB':>8}"
    )
    for name in names or list(CASES):
        out = subprocess.run(
            [sys.executable, __file__, "--child", name], capture_output=True, text=True, check=True
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{name:<8} {r['families']:>10,} {r['children']:>11,} {r['build_s']:>8.1f} "
            f"{r['simulate_s']:>8.1f} {r['family_weeks_per_s']:>15,.0f} {r['weeks_per_s']:>8.2f} "
            f"{r['peak_rss_mb']:>8,.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
