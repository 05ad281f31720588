"""Soak test of crash safety: kill a sweep's coordinator and workers at random moments, resume,
and check that the result is exactly what an uninterrupted sweep writes.

Not a pytest test (it takes minutes); it prints figures. Everything runs on this machine, on
loopback only (the process pool, or a Dask LocalCluster on 127.0.0.1). Bounded: at most
``--kills`` kills and ``--minutes`` minutes.

    .venv/bin/python benchmarks/sweep_soak.py [--kills 20] [--minutes 10] [--seed 1]

Each round starts ``cscsim sweep ... --resume`` (process or dask backend, alternately), waits a
random moment, then SIGKILLs one of: the coordinator alone, one worker, or the coordinator with
all its processes. After a coordinator is killed, every process it had started must be gone
within 5 s (workers die with their coordinator); any survivor is counted, then killed. When the
kills are used up the sweep is resumed to completion. Checks: runs.csv + failures.csv hold
exactly one row per run, the CSVs are byte-identical to a serial reference sweep, each run has
exactly one record file, and no process started by the soak is left.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import psutil

ROOT = Path(__file__).resolve().parents[1]
CSVS = ("runs.csv", "annual.csv", "failures.csv")
EXPERIMENT = """
name = "soak"
[base]
run.region = "North East"
run.scale = 0.01
run.years = 2
[design]
kind = "grid"
replications = 4
seed = 3
[factors]
"levers.funding" = [0.8, 0.9, 1.0, 1.1, 1.2]
"levers.early_help_capacity" = [1.0, 2.0]
[outputs]
final_years = 2
[testing]
fail_runs = [5]
"""


def start(exp: Path, out: Path, backend: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sim.workflows.cli", "sweep", str(exp), "--out", str(out),
         "--resume", "--quiet", "--workers", "2", "--backend", backend],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True)


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def cmdline(p: psutil.Process) -> str:
    try:
        return " ".join(p.cmdline())
    except psutil.Error:  # gone, or a zombie
        return ""


def alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    sys.path.insert(0, str(ROOT))
    from sim.workflows.experiment import load_experiment
    from sim.workflows.sweep import PARTS, RUNS, run_sweep

    tmp = Path(tempfile.mkdtemp(prefix="cscsim-soak-"))
    exp_path = tmp / "soak.toml"
    exp_path.write_text(EXPERIMENT)
    n_runs = load_experiment(exp_path).n_runs
    t0 = time.monotonic()
    run_sweep(exp_path, tmp / "reference", workers=1, quiet=True)
    reference_s = time.monotonic() - t0

    started: list[psutil.Process] = []
    fig = {"kills": 0, "coordinator kills": 0, "worker kills": 0, "group kills": 0,
           "resumes": 0, "sweeps completed": 0, "survivors after 5 s": 0,
           "duplicate rows": 0, "missing rows": 0, "sweeps differing from the reference": 0,
           "runs with more than one ok record": 0, "final exit codes other than 0": 0}
    deadline = time.monotonic() + 60 * args.minutes
    round_ = 0
    cycle = 0
    while fig["kills"] < args.kills and time.monotonic() < deadline:
        cycle += 1
        out = tmp / f"soak-{cycle}"
        while fig["kills"] < args.kills and time.monotonic() < deadline:
            backend = ("process", "dask")[round_ % 2]
            round_ += 1
            proc = start(exp_path, out, backend)
            fig["resumes"] += 1
            time.sleep(rng.uniform(0.3, 5.0))
            tree = descendants(proc.pid)
            started += tree
            if proc.poll() is not None:  # finished before the kill: start another sweep
                break
            workers = [p for p in tree if "resource_tracker" not in cmdline(p)]
            what = rng.choice(["coordinator", "coordinator", "worker", "group"])
            if what == "worker" and workers:
                os.kill(rng.choice(workers).pid, signal.SIGKILL)
                fig["worker kills"] += 1
                try:
                    proc.wait(timeout=120)  # a process pool stops; Dask restarts the worker
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            elif what == "group":
                os.killpg(proc.pid, signal.SIGKILL)
                fig["group kills"] += 1
                proc.wait()
            else:
                proc.kill()
                fig["coordinator kills"] += 1
                proc.wait()
            fig["kills"] += 1
            time.sleep(5)
            left = alive(descendants(proc.pid) + tree)
            fig["survivors after 5 s"] += len(left)
            for p in left:
                p.kill()
        # Finish this sweep: resume until complete, then check it.
        final = start(exp_path, out, "process")
        fig["resumes"] += 1
        _, err = final.communicate(timeout=600)
        fig["final exit codes other than 0"] += final.returncode != 0
        if final.returncode != 0:
            print(f"sweep {cycle}: final resume exited {final.returncode}: {err.strip()}")
        runs = pd.read_csv(out / "runs.csv")
        failures = pd.read_csv(out / "failures.csv")
        ids = sorted([*runs.run_id, *failures.run_id])
        fig["sweeps completed"] += 1
        fig["duplicate rows"] += len(ids) - len(set(ids))
        fig["missing rows"] += len(set(range(n_runs)) - set(ids))
        fig["sweeps differing from the reference"] += not all(
            filecmp.cmp(tmp / "reference" / f, out / f, shallow=False) for f in CSVS)
        names = [p.name.split(".")[0] for p in (out / PARTS / RUNS).glob("*.ok.json")]
        fig["runs with more than one ok record"] += sum(names.count(r) > 1 for r in set(names))
    time.sleep(1)
    fig["processes left at the end"] = len(alive(started))
    fig["runs per sweep"] = n_runs
    fig["seconds"] = round(time.monotonic() - t0, 1)
    fig["reference sweep seconds (1 worker)"] = round(reference_s, 1)
    for k, v in fig.items():
        print(f"{k:<40} {v}")
    bad = (fig["duplicate rows"] + fig["missing rows"] + fig["survivors after 5 s"]
           + fig["processes left at the end"] + fig["sweeps differing from the reference"]
           + fig["final exit codes other than 0"] + fig["runs with more than one ok record"])
    if bad:
        print(f"FAILED; the folders are kept in {tmp}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
