"""Runs per hour of a sweep of the default scenario on 1 and 2 workers (issue 4).

    .venv/bin/python benchmarks/sweep_scaling.py              # 100 runs, default scenario
    .venv/bin/python benchmarks/sweep_scaling.py --runs 6 --scale 0.02 --years 2   # smoke test

Each worker count runs the same experiment (the default scenario, ``--runs`` replications, one
design point) through ``cscsim sweep``'s own code path into a fresh folder, timed by wall clock
from start to merged CSVs, so pool start-up, writing part files and the merge are all counted.
It then checks that the CSVs are byte-identical across worker counts (the reproducibility
promise) and prints runs per hour, the speed-up and the parallel efficiency. Worker counts run
largest first, so anything else started on the machine later disturbs the serial baseline least.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.workflows.sweep import run_sweep  # noqa: E402


def experiment_text(runs: int, scale: float | None, years: int | None) -> str:
    lines = ['name = "sweep_scaling"', 'description = "default scenario, replications only"',
             "", "[base]"]
    if scale is not None:
        lines.append(f"run.scale = {scale}")
    if years is not None:
        lines.append(f"run.years = {years}")
    lines += ["", "[design]", 'kind = "grid"', f"replications = {runs}", "seed = 4", ""]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--workers", default="2,1", help="comma-separated worker counts")
    ap.add_argument("--scale", type=float, help="run.scale (default: the scenario's, 0.1)")
    ap.add_argument("--years", type=int, help="run.years (default: the scenario's, 10)")
    ap.add_argument("--backend", default="process", choices=("process", "dask"))
    ap.add_argument("--json", default=str(ROOT / "results" / "benchmarks" / "sweep_scaling.json"),
                    help="where to save the figures as JSON")
    args = ap.parse_args()
    counts = [int(w) for w in args.workers.split(",")]

    tmp = Path(tempfile.mkdtemp(prefix="cscsim-bench-"))
    exp = tmp / "bench.toml"
    exp.write_text(experiment_text(args.runs, args.scale, args.years))
    print(f"{args.runs} runs of the default scenario (scale {args.scale or 'default'}, years "
          f"{args.years or 'default'}), backend {args.backend}, on {os.cpu_count()} CPUs "
          f"({platform.processor() or platform.machine()})", flush=True)
    results = {}
    for w in counts:
        t0 = time.perf_counter()
        m = run_sweep(exp, tmp / f"w{w}", workers=w, backend=args.backend, quiet=True)
        wall = time.perf_counter() - t0
        assert m["complete"] and m["runs"]["failed"] == 0, m["runs"]
        assert not m["mixed_code"], "the model's code changed during the benchmark; rerun it"
        results[w] = {"wall_seconds": round(wall, 1), "runs_per_hour": round(args.runs / wall
                                                                              * 3600, 1),
                      "mean_run_seconds": m["timings_seconds"]["run_mean"]}
        print(f"  {w} worker(s): {wall:7.1f} s wall, {results[w]['runs_per_hour']:7.1f} runs/hour "
              f"(mean {m['timings_seconds']['run_mean']:.2f} s per run inside a worker)",
              flush=True)
    one = results.get(1)
    for w, r in results.items():
        if one and w != 1:
            speedup = r["runs_per_hour"] / one["runs_per_hour"]
            r["speedup"] = round(speedup, 3)
            r["efficiency"] = round(speedup / w, 3)
            print(f"  speed-up on {w} workers: {speedup:.2f}x ({speedup / w:.0%} of linear)")
    ref = tmp / f"w{counts[0]}"
    for w in counts[1:]:
        same = all(filecmp.cmp(ref / f, tmp / f"w{w}" / f, shallow=False)
                   for f in ("runs.csv", "annual.csv", "failures.csv"))
        print(f"  CSVs byte-identical, {counts[0]} vs {w} workers: {same}")
        if not same:
            return 1
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"runs": args.runs, "scale": args.scale, "years": args.years,
                               "backend": args.backend, "cpus": os.cpu_count(),
                               "results": results, "folder": str(tmp)}, indent=2) + "\n")
    print(f"  saved {out}; sweep folders kept in {tmp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
