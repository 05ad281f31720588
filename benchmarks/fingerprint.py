"""A hash of a small run's outputs and final state, to check that an optimisation is exact.

An exact optimisation (same draws, same arithmetic) must leave every output byte-identical.
Run this before and after the change and compare the printed hashes; a stored hash would go
stale with every legitimate model change, so none is kept in the tests. Besides the run's
files (annual, by authority, placements, children), it hashes every column of every state
table at the end, which catches differences the written files would not show yet.

Rows no rule reads again are retired at each year's end (sim/population.py: compact), which
changes the families' and children's tables but no output and no other table;
``--no-compact`` keeps every row, and then the tables hash as they did before rows were
retired (the ``serial`` column, each row's id, equal to its row when nothing is retired, is
not hashed).

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/fingerprint.py [--scale 0.01] [--years 2]
        [--burn-in 1] [--seed 7] [--scenario policies/scenarios/england_baseline.toml]
        [--no-compact]
"""

from __future__ import annotations

import argparse
import hashlib
import time

import numpy as np


def fingerprint(scenario_path: str | None, scale: float, years: int, burn_in: int,
                seed: int, compact: bool = True) -> dict[str, str]:
    """Run the scenario and return one short hash per output and state table."""
    from sim.config import load_scenario
    from sim.model import CareSystem
    from sim.output import children_frame, placements_frame

    scenario = load_scenario(scenario_path).with_overrides(
        {"run.scale": scale, "run.years": years, "run.burn_in_years": burn_in, "run.seed": seed}
    )
    model = CareSystem(scenario, compact=compact)
    model.run()
    out: dict[str, str] = {}
    frames = {
        "annual": model.annual_frame(),
        "annual_by_la": model.annual_by_la_frame(),
        "placements": placements_frame(model),
        "children": children_frame(model),
    }
    for name, df in frames.items():
        out[name] = hashlib.sha256(df.to_csv(index=False).encode()).hexdigest()[:16]
    pop = model.pop
    tables = {
        "families": pop.families,
        "children_state": pop.children,
        "placements_state": pop.placements,
        "events": pop.events,
        "proceedings": pop.proceedings,
        "providers": model.providers,
    }
    for name, table in tables.items():
        h = hashlib.sha256()
        for col, arr in sorted(table.columns().items()):
            if col == "serial":
                continue
            h.update(col.encode())
            h.update(np.ascontiguousarray(arr).tobytes())
        out[name] = h.hexdigest()[:16]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="policies/scenarios/england_baseline.toml")
    ap.add_argument("--scale", type=float, default=0.01)
    ap.add_argument("--years", type=int, default=2)
    ap.add_argument("--burn-in", type=int, default=1)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-compact", action="store_true", help="keep every row ever added")
    a = ap.parse_args()
    t = time.process_time()
    fp = fingerprint(a.scenario, a.scale, a.years, a.burn_in, a.seed, compact=not a.no_compact)
    for k, v in fp.items():
        print(f"{k:<18} {v}")
    whole = hashlib.sha256("".join(fp.values()).encode()).hexdigest()[:16]
    print(f"{'ALL':<18} {whole}   ({time.process_time() - t:.1f} CPU s)")


if __name__ == "__main__":
    main()
