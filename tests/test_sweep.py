"""Specification of ``cscsim sweep``, ``merge`` and ``analyse`` (issue 4).

Runs are tiny (2% of the North West's families for 2 years, about half a second each) so the
whole file takes well under two minutes on two cores. One run is made to raise through the
documented test hook ``[testing] fail_runs`` in the experiment file, which raises
``InjectedFailureError`` inside the worker instead of running the model: the same path any model
error takes.
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.workflows.cli import main
from sim.workflows.experiment import load_experiment
from sim.workflows.sweep import PARTS, finalize, make_plan, read_records, run_sweep

ROOT = Path(__file__).resolve().parent.parent
CSVS = ("runs.csv", "annual.csv", "failures.csv")

TINY = """
name = "tiny"
description = "two factors, two values each, two replications"

[base]
run.scale = 0.02
run.years = 2

[design]
kind = "grid"
replications = 2
seed = 11

[factors]
"levers.early_help_capacity" = [1.0, 2.0]
levers.profit_cap = { min = 0.0, max = 0.2, steps = 2 }

[outputs]
final_years = 2
outcomes = ["cla", "care_entries", "placement_breakdowns", "spend_total_gbp"]

[testing]
fail_runs = [5]
"""
N_RUNS = 8


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def same_csvs(a: Path, b: Path) -> bool:
    return all(filecmp.cmp(a / f, b / f, shallow=False) for f in CSVS)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return write(tmp_path_factory.mktemp("exp") / "tiny.toml", TINY)


@pytest.fixture(scope="module")
def reference(tiny, tmp_path_factory) -> Path:
    """The tiny experiment swept serially, in-process: what every other way must reproduce."""
    out = tmp_path_factory.mktemp("ref") / "sweep"
    run_sweep(tiny, out, workers=1, quiet=True)
    return out


# --- experiment files and seeds ------------------------------------------------------------
def test_seeds_depend_only_on_root_seed_point_and_replicate(tiny):
    exp = load_experiment(tiny)
    runs = exp.runs()
    assert [r[0] for r in runs] == list(range(N_RUNS))
    seeds = [r[3] for r in runs]
    assert len(set(seeds)) == N_RUNS  # independent streams by default
    assert exp.run_seed(3, 1) == exp.run_seed(3, 1)
    assert seeds[3 * 2 + 1] == exp.run_seed(3, 1)
    exp.seeds = "common"  # common random numbers: the same seed for a replicate at every point
    assert exp.run_seed(0, 1) == exp.run_seed(3, 1) != exp.run_seed(3, 0)


def test_grid_points_are_the_full_factorial(tiny):
    exp = load_experiment(tiny)
    assert exp.points == [
        {"levers.early_help_capacity": a, "levers.profit_cap": b}
        for a in (1.0, 2.0) for b in (0.0, 0.2)
    ]


# --- the reproducibility promise -----------------------------------------------------------
def test_reference_sweep_has_one_row_per_run_and_records_the_failure(reference):
    runs = pd.read_csv(reference / "runs.csv")
    annual = pd.read_csv(reference / "annual.csv")
    failures = pd.read_csv(reference / "failures.csv")
    manifest = json.loads((reference / "manifest.json").read_text())
    assert list(runs.run_id) == [0, 1, 2, 3, 4, 6, 7]  # run 5 raised; the others finished
    assert list(failures.run_id) == [5]
    assert failures.error_type[0] == "InjectedFailureError"
    assert len(annual) == 7 * 2 and set(annual.run_id) == set(runs.run_id)
    assert manifest["runs"] == {"planned": 8, "ok": 7, "failed": 1, "missing": 0}
    assert manifest["complete"]
    # summary outcomes are the means of the final years of annual.csv
    a0 = annual[annual.run_id == 0]
    assert runs.loc[0, "care_entries"] == pytest.approx(a0.care_entries.mean())
    # different seeds give different runs (a sweep of copies would pass everything else)
    assert runs.cla.nunique() > 1


def test_two_workers_give_byte_identical_csvs(tiny, reference, tmp_path):
    run_sweep(tiny, tmp_path / "w2", workers=2, quiet=True)
    assert same_csvs(reference, tmp_path / "w2")


def test_dask_local_cluster_gives_byte_identical_csvs(tiny, reference, tmp_path):
    m = run_sweep(tiny, tmp_path / "dask", workers=2, backend="dask", quiet=True)
    assert m["sessions"][-1]["backend"] == "dask"
    assert same_csvs(reference, tmp_path / "dask")


def test_existing_dask_scheduler_runs_a_shard_identically(tiny, reference, tmp_path):
    """--scheduler ADDRESS: a cluster started elsewhere (here, on loopback) runs shard 1/4."""
    import logging

    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster:
        assert main(["sweep", str(tiny), "--out", str(tmp_path / "remote"), "--backend", "dask",
                     "--scheduler", cluster.scheduler_address, "--shard", "1/4",
                     "--quiet"]) == 0
    for name in ("runs.csv", "annual.csv"):
        ref = (reference / name).read_text().splitlines()
        got = (tmp_path / "remote" / name).read_text().splitlines()
        assert got[0] == ref[0]
        assert got[1:] == [line for line in ref[1:] if line.split(",")[0] in ("0", "4")]


def test_shards_merge_to_the_same_csvs(tiny, reference, tmp_path, capsys):
    for i in (1, 2):
        assert main(["sweep", str(tiny), "--out", str(tmp_path / f"s{i}"), "--shard", f"{i}/2",
                     "--workers", "1", "--quiet"]) == 0
    # shard 2 holds run 5, which raised: the sweep still exits 0 and says so
    assert "1 run(s) raised" in capsys.readouterr().err
    assert len(pd.read_csv(tmp_path / "s1" / "runs.csv")) + len(
        pd.read_csv(tmp_path / "s2" / "failures.csv")) == 4 + 1  # 0,2,4,6 and failed 5
    # one shard alone is refused, naming what is missing, and nothing is written
    assert main(["merge", str(tmp_path / "s1"), "--out", str(tmp_path / "half")]) == 2
    assert not (tmp_path / "half").exists()
    assert main(["merge", str(tmp_path / "s1"), str(tmp_path / "s2"),
                 "--out", str(tmp_path / "merged")]) == 0
    assert same_csvs(reference, tmp_path / "merged")


# --- crashes and resume --------------------------------------------------------------------
def _records(out: Path) -> int:
    runs = out / PARTS / "runs"
    return len(list(runs.glob("*.json"))) if runs.exists() else 0


def _start(tiny: Path, out: Path, *extra: str) -> subprocess.Popen:
    # Ctrl-C must reach the sweep whatever SIGINT disposition the tests inherited: a shell
    # without job control starts background jobs (``nohup make test &``) with SIGINT ignored.
    # (Under such a launch this test failed three times with exit 0; in the foreground it passes.)
    return subprocess.Popen(
        [sys.executable, "-m", "sim.workflows.cli", "sweep", str(tiny), "--out", str(out),
         "--quiet", *extra], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for(out: Path, n: int, proc: subprocess.Popen, timeout: float = 180) -> None:
    t0 = time.time()
    while _records(out) < n:
        assert proc.poll() is None, f"sweep ended early: {proc.communicate()}"
        assert time.time() - t0 < timeout
        time.sleep(0.05)


def test_interrupted_and_killed_sweep_resumes_with_one_row_per_run(tiny, reference, tmp_path):
    out = tmp_path / "crash"
    # Ctrl-C on two workers: exit 130, finished runs kept, no CSVs yet.
    proc = _start(tiny, out, "--workers", "2")
    _wait_for(out, 2, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "--resume" in err
    done_1 = _records(out)
    assert 2 <= done_1 < N_RUNS and not (out / "runs.csv").exists()

    # Without --resume the folder is refused, untouched.
    assert main(["sweep", str(tiny), "--out", str(out), "--quiet"]) == 2

    # Resume, then kill -9 mid-sweep; also tear a record as a crash mid-write would.
    proc = _start(tiny, out, "--workers", "1", "--resume")
    _wait_for(out, done_1 + 1, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    done_2 = len(read_records(out / PARTS, json.loads((out / PARTS / "experiment.json")
                                                      .read_text())["digest"]))
    assert done_1 < done_2 < N_RUNS, "the kill must land midway for this test to mean anything"
    with open(out / PARTS / "torn.jsonl", "wb") as fh:
        fh.write(b'{"exp": "x", "run_id": 7, "status": "ok", "outco')

    assert main(["sweep", str(tiny), "--out", str(out), "--workers", "1", "--quiet",
                 "--resume"]) == 0
    runs = pd.read_csv(out / "runs.csv")
    failures = pd.read_csv(out / "failures.csv")
    ids = sorted([*runs.run_id, *failures.run_id])
    assert ids == list(range(N_RUNS))  # exactly one row per run
    sessions = [json.loads(s) for s in (out / PARTS / "sessions.jsonl").read_text().splitlines()]
    assert sessions[-1]["already_done"] == done_2  # finished runs were not run again
    assert sessions[-1]["executed"] == N_RUNS - done_2
    assert same_csvs(reference, out)


def test_resume_refuses_a_changed_experiment(tiny, reference, tmp_path, capsys):
    changed = write(tmp_path / "tiny.toml", TINY.replace("seed = 11", "seed = 12"))
    out = tmp_path / "copy"
    shutil.copytree(reference, out)
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert main(["sweep", str(changed), "--out", str(out), "--resume"]) == 2
    assert "different experiment" in capsys.readouterr().err
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    # the unchanged experiment resumes a complete sweep by running nothing
    assert main(["sweep", str(tiny), "--out", str(out), "--resume", "--quiet"]) == 0
    last = (out / PARTS / "sessions.jsonl").read_text().splitlines()[-1]
    assert json.loads(last)["executed"] == 0
    assert same_csvs(reference, out)


# --- malformed experiment files ------------------------------------------------------------
BAD = {
    "malformed TOML": ("[design\nkind = 'grid'", "malformed TOML"),
    "unknown factor": (TINY.replace('"levers.early_help_capacity"', '"levers.early_help_capasity"'),
                       "did you mean 'levers.early_help_capacity'"),
    "unknown section": (TINY.replace("levers.profit_cap", "lever.profit_cap"),
                        "unknown section"),
    "out of range": (TINY.replace("[1.0, 2.0]", "[1.0, 9.0]"),
                     "levers.early_help_capacity = 9.0 is out of range"),
    "range end out of range": (TINY.replace("max = 0.2", "max = 1.5"), "levers.profit_cap.max"),
    "unknown design": (TINY.replace('kind = "grid"', 'kind = "gird"'), "did you mean 'grid'"),
    "unknown design key": (TINY.replace("replications = 2", "replicates = 2"),
                           "did you mean 'replications'"),
    "unknown top-level key": (TINY + "\n[output]\nfinal_years = 1\n", "did you mean 'outputs'"),
    "sobol not a power of 2": (
        TINY.replace('kind = "grid"', 'kind = "sobol"\nsamples = 6')
        .replace("[1.0, 2.0]", "{ min = 1.0, max = 2.0 }").replace(", steps = 2", ""),
        "power of 2"),
    "list in a sampled design": (TINY.replace('kind = "grid"', 'kind = "lhs"\nsamples = 4'),
                                 "samples a range"),
    "seed as a factor": (TINY + '\n[factors.run]\nseed = [1, 2]\n', "run.seed cannot be a factor"),
    "unknown outcome": (TINY.replace('"cla",', '"cal",'), "did you mean 'cla'"),
    "missing base scenario": (TINY.replace("[base]", '[base]\nscenario = "nowhere.toml"'),
                              "no such file"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_malformed_experiment_is_refused_with_one_clear_line_and_nothing_written(
        case, tmp_path, capsys):
    text, expected = BAD[case]
    path = write(tmp_path / "bad.toml", text)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert expected in err, err
    assert err.count("\n") == 1 and err.startswith("cscsim: error:")
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.toml"]


def test_bad_shard_is_refused(tiny, tmp_path, capsys):
    assert main(["sweep", str(tiny), "--out", str(tmp_path / "o"), "--shard", "3/2"]) == 2
    assert "--shard" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


# --- analysis ------------------------------------------------------------------------------
def test_analyse_grid_writes_means_with_confidence_bands(reference, tmp_path):
    assert main(["analyse", str(reference), "--out", str(tmp_path / "a")]) == 0
    summary = pd.read_csv(tmp_path / "a" / "grid_summary.csv")
    runs = pd.read_csv(reference / "runs.csv")
    row = summary[(summary.outcome == "cla") & (summary["levers.early_help_capacity"] == 1.0)
                  & (summary["levers.profit_cap"] == 0.0)].iloc[0]
    sel = runs[(runs["levers.early_help_capacity"] == 1.0) & (runs["levers.profit_cap"] == 0.0)]
    assert row.n == 2 and row["mean"] == pytest.approx(sel.cla.mean())
    assert row.ci_low < row["mean"] < row.ci_high
    assert (tmp_path / "a" / "grid.png").stat().st_size > 10_000


def _synthetic_sweep(tmp_path: Path, kind: str, extra: str) -> Path:
    """A sobol/morris sweep whose 'model' is y = 3 x1 + 0 x2 (+ noise): the answer is known."""
    text = f"""
name = "synthetic"
[design]
kind = "{kind}"
seed = 5
replications = 2
{extra}
[factors]
"levers.funding" = {{ min = 0.5, max = 1.5 }}
"levers.poverty" = {{ min = 0.5, max = 1.5 }}
[outputs]
outcomes = ["cla"]
"""
    exp = load_experiment(write(tmp_path / f"{kind}.toml", text))
    plan = make_plan(exp, None)
    rng = np.random.default_rng(0)
    records = {}
    for rid, p, rep, seed in exp.runs():
        y = 3 * exp.points[p]["levers.funding"] + 0.01 * rng.standard_normal()
        records[rid] = {"exp": plan["digest"], "run_id": rid, "point": p, "replicate": rep,
                        "seed": seed, "status": "ok", "outcomes": {"cla": y},
                        "annual": {"year": [1], "cla": [y]}, "seconds": 0.0}
    finalize(plan, records, tmp_path / kind, [], None)
    return tmp_path / kind


def test_sobol_indices_find_the_factor_that_matters(tmp_path):
    folder = _synthetic_sweep(tmp_path, "sobol", "samples = 64")
    assert main(["analyse", str(folder)]) == 0
    s = pd.read_csv(folder / "analysis" / "sobol_indices.csv").set_index("factor")
    assert s.loc["levers.funding", "ST"] > 0.9 and s.loc["levers.funding", "S1"] > 0.9
    assert abs(s.loc["levers.poverty", "ST"]) < 0.05
    assert (folder / "analysis" / "sobol.png").exists()


def test_morris_screening_ranks_the_factor_that_matters(tmp_path):
    folder = _synthetic_sweep(tmp_path, "morris", "samples = 10\nlevels = 4")
    assert main(["analyse", str(folder)]) == 0
    m = pd.read_csv(folder / "analysis" / "morris_indices.csv").set_index("factor")
    assert m.loc["levers.funding", "mu_star"] == pytest.approx(3.0, rel=0.05)
    assert m.loc["levers.poverty", "mu_star"] < 0.1


def test_analyse_pairs_runs_by_seed_when_seeds_are_common(tmp_path):
    """With common seeds replicate r of every point shares its luck, so the effect of a point
    is the mean of the differences within pairs: here the luck (one shock per replicate, as
    large as the effect) cancels exactly, and the paired interval is far narrower than the
    bands of the two means."""
    text = """
name = "paired"
[design]
kind = "grid"
seed = 5
seeds = "common"
replications = 4
[factors]
"levers.funding" = [1.0, 2.0]
[outputs]
outcomes = ["cla"]
"""
    exp = load_experiment(write(tmp_path / "paired.toml", text))
    plan = make_plan(exp, None)
    luck = [-3.0, 1.0, 2.5, -0.5]
    records = {}
    for rid, p, rep, seed in exp.runs():
        y = 100 + 2 * exp.points[p]["levers.funding"] + luck[rep]
        records[rid] = {"exp": plan["digest"], "run_id": rid, "point": p, "replicate": rep,
                        "seed": seed, "status": "ok", "outcomes": {"cla": y},
                        "annual": {"year": [2024, 2025], "cla": [y, y]}, "seconds": 0.0}
    finalize(plan, records, tmp_path / "sweep", [], None)
    assert main(["analyse", str(tmp_path / "sweep")]) == 0
    out = tmp_path / "sweep" / "analysis"
    e = pd.read_csv(out / "paired_effects.csv").iloc[0]
    assert e.n_pairs == 4 and e.change == pytest.approx(2.0)
    assert e.ci_high - e.ci_low == pytest.approx(0.0, abs=1e-9)
    grid = pd.read_csv(out / "grid_summary.csv")
    assert (grid.ci_high - grid.ci_low > 5).all()
    assert {"paired.png", "fan.png", "grid.png"} <= {p.name for p in out.iterdir()}


def test_bands_stay_within_the_range_a_quantity_can_take():
    """Two replications give t = 12.7: an unclipped band for a share near zero would run below
    zero and one for a count below no children at all."""
    from sim.workflows.analyse import clip_band

    s = pd.DataFrame({"outcome": ["x"], "mean": [0.02], "ci_low": [-0.3], "ci_high": [1.4]})
    share = clip_band(s, "share_over_20_miles").iloc[0]
    assert (share.ci_low, share.ci_high) == (0.0, 1.0)
    count = clip_band(s, "cla").iloc[0]
    assert (count.ci_low, count.ci_high) == (0.0, 1.4)
    profit = clip_band(s, "provider_profit_gbp").iloc[0]  # a profit can be a loss
    assert profit.ci_low == -0.3


def test_analyse_refuses_a_folder_that_is_not_a_sweep(tmp_path, capsys):
    assert main(["analyse", str(tmp_path)]) == 2
    assert "not a finished sweep" in capsys.readouterr().err


def test_a_run_is_reproducible_alone_from_its_seed(tiny, reference, tmp_path):
    """The seed in runs.csv plus the factor values rebuild the run outside any sweep."""
    from sim.model import CareSystem
    from sim.output import write_csv

    exp = load_experiment(tiny)
    runs = pd.read_csv(reference / "runs.csv")
    row = runs[runs.run_id == 6].iloc[0]
    model = CareSystem(exp.scenario(int(row.point), int(row.seed)))
    model.run()
    alone = model.annual_frame()
    # The sweep's annual.csv puts the run's ids before the run's own annual table (both
    # factors are schedulable inputs, so they are already columns of it).
    ids = {"run_id": 6, "point": int(row.point), "replicate": int(row.replicate),
           "seed": int(row.seed)}
    alone = pd.concat([pd.DataFrame(ids, index=alone.index), alone], axis=1)
    write_csv(alone, tmp_path / "alone.csv")
    annual = (reference / "annual.csv").read_text().splitlines()
    mine = (tmp_path / "alone.csv").read_text().splitlines()
    assert mine[0] == annual[0]
    assert mine[1:] == [line for line in annual[1:] if line.startswith("6,")]


def test_a_sweeps_annual_csv_carries_each_runs_factors_once(reference, tmp_path):
    """Every row says which run, design point, replicate, seed and factor values it belongs to,
    so the annual table groups by design point without a join. A factor that is a schedulable
    input (levers.early_help_capacity) is already a column of the run's annual table, holding
    the factor's value: it is not written twice. A factor that is not one is added."""
    annual = pd.read_csv(reference / "annual.csv")
    runs = pd.read_csv(reference / "runs.csv")
    header = list(annual.columns)
    assert header[:5] == ["run_id", "point", "replicate", "seed", "year"]
    joined = annual.merge(runs, on="run_id", suffixes=("", "_runs"))
    for col in ("point", "replicate", "seed", "levers.profit_cap", "levers.early_help_capacity"):
        assert header.count(col) == 1, col
        assert (joined[col] == joined[col + "_runs"]).all(), col
    folder = _synthetic_sweep(tmp_path, "morris", "samples = 4\nlevels = 4")  # no inputs in it
    annual = pd.read_csv(folder / "annual.csv")
    joined = annual.merge(pd.read_csv(folder / "runs.csv"), on="run_id", suffixes=("", "_r"))
    assert list(annual.columns[:7]) == ["run_id", "point", "replicate", "seed", "levers.funding",
                                        "levers.poverty", "year"]
    assert (joined["levers.funding"] == joined["levers.funding_r"]).all()


def test_parquet_tables_hold_what_the_csvs_hold(reference, tmp_path):
    out = tmp_path / "pq"
    assert main(["merge", str(reference), "--out", str(out), "--format", "parquet"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == "parquet" and "annual.parquet" in manifest["files"]
    assert not list(out.glob("*.csv"))
    for table in ("runs", "annual", "failures"):
        pq = pd.read_parquet(out / f"{table}.parquet")
        csv = pd.read_csv(reference / f"{table}.csv")
        assert list(pq.columns) == list(csv.columns), table
        if len(csv):
            pd.testing.assert_frame_equal(pq.reset_index(drop=True), csv, check_dtype=False,
                                          check_exact=False, rtol=1e-9)
    assert main(["analyse", str(out), "--out", str(tmp_path / "a")]) == 0


def test_an_unknown_table_format_is_refused_before_anything_is_written(tiny, tmp_path, capsys):
    out = tmp_path / "never"
    assert main(["sweep", str(tiny), "--out", str(out), "--format", "xlsx"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["cscsim: error: --format 'xlsx' is not allowed: csv or parquet"]
    assert not out.exists()
