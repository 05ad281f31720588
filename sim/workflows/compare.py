"""``cscsim compare BASE.toml OTHER.toml [MORE.toml ...]``: scenarios against a base, paired.

Every scenario is run on the same ``--reps`` seeds as the base. Because every decision about
a family or a child is a keyed draw (sim/draws.py: common random numbers), the two runs on a
seed differ only where the scenario acts and in what follows from it, so the difference of
each pair is mostly the scenario's effect, not luck, and the children whose paths differ are
the children the scenario changed. docs/compare.md has the user's view.

Writes, to ``--out`` (all or nothing: staged, then moved into place, sim/output.py: staged):

- ``compare.csv``: for each scenario, indicator and year, the base's and the scenario's mean
  over seeds, the mean paired difference, its 95% interval (Student t over the pairs) and the
  relative change; year ``all`` rows total the reported years for the money and entries, with
  the cost per care entry averted;
- ``compare_by_la.csv``: the same by authority for the headline indicators;
- ``children.csv``: one row per child (and seed) whose path differed: entered care in one arm
  and not the other, fewer or more placement moves, family contact kept or lost; with the
  child's and family's uid and authority (uids are the same in both arms);
- ``compare.png``: the paired differences with their intervals for the headline indicators;
- ``manifest.json``: what was run (scenarios, seeds, settings, versions).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from sim.config import ConfigError, Scenario, load_scenario, one_line

#: Indicators in compare_by_la.csv and the figure (the by-year table has every indicator).
HEADLINE = (
    "care_entries", "cla", "referrals", "cpp_starts", "early_help_started",
    "placement_moves", "placement_breakdowns", "family_contact_lost_share",
    "spend_total_gbp",
)
FIGURE = ("care_entries", "cla", "placement_moves", "spend_total_gbp")
FILES = ("compare.csv", "compare_by_la.csv", "children.csv", "compare.png", "manifest.json")
COMPARE_COLUMNS = ("scenario", "indicator", "year", "base_mean", "scenario_mean",
                   "paired_difference", "ci_low", "ci_high", "relative_change", "reps")
CHILD_COLUMNS = ("scenario", "replicate", "seed", "child_uid", "family_uid", "authority",
                 "what", "base_entries", "scenario_entries", "base_moves", "scenario_moves",
                 "base_contact_lost", "scenario_contact_lost")
RUN_FLAGS = {"years": "run.years", "scale": "run.scale", "region": "run.region"}


def seeds(root: int, reps: int) -> list[int]:
    """The replications' seeds, shared by every scenario: ``SeedSequence(root,
    spawn_key=(i,))``'s first 32-bit word, as a sweep with ``seeds = "common"`` makes them."""
    return [int(np.random.SeedSequence(root, spawn_key=(i,)).generate_state(1)[0])
            for i in range(reps)]


def _scenarios(paths: list[str], overrides: dict[str, Any]) -> list[Scenario]:
    """Load every scenario (a bad path or file is a one-line ConfigError before any run)."""
    out = []
    for path in paths:
        if not Path(path).is_file():
            raise ConfigError(f"scenario file {path!r} does not exist"
                              if not Path(path).exists() else
                              f"scenario {path!r} is not a file")
        out.append(load_scenario(path).with_overrides(overrides, where="command line"))
    return out


def run_arm(task: tuple[int, int, int, Scenario]) -> dict[str, Any]:
    """One scenario on one seed (in a worker): its annual tables and its children's paths."""
    import pandas as pd

    from sim.model import CareSystem
    from sim.population import Event

    arm, rep, seed, scenario = task
    scenario = scenario.with_overrides({"run.seed": seed, "run.record_events": True})
    model = CareSystem(scenario)
    model.run()
    c, e = model.pop.children, model.pop.events
    rows = np.flatnonzero((e.week >= 0) & (e.child >= 0))
    child, code = e.child[rows], e.code[rows]
    n = c.next_serial  # (children by id: their serials, live or retired)
    entries = np.bincount(child[code == Event.CARE_ENTRY], minlength=n)
    placements = np.bincount(child[code == Event.PLACEMENT], minlength=n)
    lost = np.bincount(child[code == Event.CONTACT_LOST], minlength=n) > 0
    # A move is a placement that is not the first of a care entry.
    moves = np.maximum(placements - entries, 0)
    # Children placed before year 1 and still moving count their moves too.
    touched = np.flatnonzero((entries > 0) | (moves > 0) | lost)
    who = model.pop.child_info(touched, model.week)
    paths = pd.DataFrame({
        "child_uid": who["uid"], "family_uid": who["family_uid"],
        "authority": model.region.la_name[who["la"]],
        "entries": entries[touched], "moves": moves[touched], "contact_lost": lost[touched],
    })
    return {"arm": arm, "rep": rep, "seed": seed, "annual": model.annual_frame(),
            "by_la": model.annual_by_la_frame(), "paths": paths}


def _interval(d: np.ndarray) -> tuple[float, float, float]:
    """Mean of paired differences and its 95% Student-t interval (the mean twice if n < 2)."""
    from scipy import stats

    d = np.asarray(d, dtype=float)
    m = float(d.mean())
    if len(d) < 2:
        return m, m, m
    half = float(stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d)))
    return m, m - half, m + half


def _rows(name: str, base, other, key_cols: list[str], indicators: list[str]) -> list[dict]:
    """compare rows for matching (rep, *key_cols) of two long tables."""
    merged = base.merge(other, on=["rep", *key_cols], suffixes=("_b", "_s"))
    out = []
    for key, g in merged.groupby(key_cols, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        for ind in indicators:
            b, s = g[f"{ind}_b"].to_numpy(float), g[f"{ind}_s"].to_numpy(float)
            if np.all(np.isnan(b)) and np.all(np.isnan(s)):
                continue
            m, lo, hi = _interval(s - b)
            bm = float(np.nanmean(b))
            out.append({"scenario": name, **dict(zip(key_cols, key, strict=True)),
                        "indicator": ind, "base_mean": bm, "scenario_mean": float(np.nanmean(s)),
                        "paired_difference": m, "ci_low": lo, "ci_high": hi,
                        "relative_change": m / bm if bm else float("nan"), "reps": len(b)})
    return out


def _totals(name: str, base, other) -> list[dict]:
    """Year ``all``: entries and spending summed over the reported years, and the cost per
    care entry averted (the mean spending difference over the mean entries averted; empty
    when the scenario averts none)."""
    cols = ["care_entries", "spend_total_gbp", "spend_early_help_gbp", "spend_social_work_gbp",
            "spend_placements_gbp"]
    b = base.groupby("rep")[cols].sum()
    s = other.groupby("rep")[cols].sum().loc[b.index]
    out = []
    for ind in cols:
        m, lo, hi = _interval(s[ind] - b[ind])
        bm = float(b[ind].mean())
        out.append({"scenario": name, "indicator": ind, "year": "all", "base_mean": bm,
                    "scenario_mean": float(s[ind].mean()), "paired_difference": m,
                    "ci_low": lo, "ci_high": hi, "relative_change": m / bm if bm else np.nan,
                    "reps": len(b)})
    averted = float((b["care_entries"] - s["care_entries"]).mean())
    spend = float((s["spend_total_gbp"] - b["spend_total_gbp"]).mean())
    cost = spend / averted if averted > 0 else float("nan")
    out.append({"scenario": name, "indicator": "cost_per_care_entry_averted_gbp", "year": "all",
                "base_mean": float("nan"), "scenario_mean": float("nan"),
                "paired_difference": cost, "ci_low": float("nan"), "ci_high": float("nan"),
                "relative_change": float("nan"), "reps": len(b)})
    return out


def _children(name: str, base: dict[int, Any], other: dict[int, Any],
              rep_seed: dict[int, int]):
    """The children whose paths differ between the arms on each seed."""
    import pandas as pd

    frames = []
    for rep, b in base.items():
        s = other[rep]
        m = b.merge(s, on=["child_uid", "family_uid", "authority"], how="outer",
                    suffixes=("_b", "_s"))
        for col in ("entries", "moves"):
            for arm in ("_b", "_s"):
                m[col + arm] = m[col + arm].fillna(0).astype(int)
        for arm in ("_b", "_s"):
            m["contact_lost" + arm] = m["contact_lost" + arm].astype("boolean").fillna(False)\
                .astype(bool)
        what = np.full(len(m), "", dtype=object)
        eb, es = m["entries_b"] > 0, m["entries_s"] > 0
        what = np.where(eb & ~es, "care entry averted", what)
        what = np.where(~eb & es, "entered care (not in base)", what)
        rest = what == ""
        what = np.where(rest & (m["moves_s"] < m["moves_b"]), "fewer placement moves", what)
        what = np.where(rest & (m["moves_s"] > m["moves_b"]), "more placement moves", what)
        rest = what == ""
        what = np.where(rest & m["contact_lost_b"] & ~m["contact_lost_s"], "family contact kept",
                        what)
        what = np.where(rest & ~m["contact_lost_b"] & m["contact_lost_s"], "family contact lost",
                        what)
        m["what"] = what
        m = m[m["what"] != ""]
        frames.append(pd.DataFrame({
            "scenario": name, "replicate": rep, "seed": rep_seed[rep],
            "child_uid": m["child_uid"].astype(np.uint64), "family_uid":
            m["family_uid"].astype(np.uint64), "authority": m["authority"], "what": m["what"],
            "base_entries": m["entries_b"], "scenario_entries": m["entries_s"],
            "base_moves": m["moves_b"], "scenario_moves": m["moves_s"],
            "base_contact_lost": m["contact_lost_b"], "scenario_contact_lost":
            m["contact_lost_s"]}))
    if not frames:
        return pd.DataFrame(columns=list(CHILD_COLUMNS))
    return pd.concat(frames, ignore_index=True).sort_values(
        ["scenario", "replicate", "what", "child_uid"], kind="stable")


def figure(table, path: Path) -> None:
    """Paired differences by year with 95% intervals, one panel per headline indicator."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = table[(table["year"] != "all") & table["indicator"].isin(FIGURE)].copy()
    t["year"] = t["year"].astype(int)
    fig, axes = plt.subplots(1, len(FIGURE), figsize=(4 * len(FIGURE), 3.4), squeeze=False)
    for ax, ind in zip(axes[0], FIGURE, strict=True):
        for name, g in t[t["indicator"] == ind].groupby("scenario", sort=False):
            g = g.sort_values("year")
            ax.errorbar(g["year"], g["paired_difference"],
                        yerr=[g["paired_difference"] - g["ci_low"],
                              g["ci_high"] - g["paired_difference"]],
                        marker="o", capsize=3, label=name)
        ax.axhline(0, color="#888", lw=0.8)
        ax.set_title(ind, fontsize=9)
        ax.set_xlabel("year")
    axes[0][0].set_ylabel("scenario - base (paired, 95% interval)")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


PARTS = ".compare-runs"  # finished runs kept inside --out until the files are written


def _part_key(task: tuple[int, int, int, Scenario]) -> str:
    """A hash of everything a run depends on: arm, replicate, seed and the scenario."""
    import hashlib

    arm, rep, seed, scenario = task
    text = json.dumps({"arm": arm, "rep": rep, "seed": seed, "scenario": scenario.to_dict()},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _keep(parts: Path, task: tuple[int, int, int, Scenario], result: dict[str, Any]) -> None:
    """Save a finished run (written then renamed, so a crash never leaves half a file)."""
    import pickle

    path = parts / f"arm{task[0]}-rep{task[1]}-{_part_key(task)}.pkl"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps(result, protocol=5))
    tmp.replace(path)


def _kept(parts: Path, task: tuple[int, int, int, Scenario]) -> dict[str, Any] | None:
    """The saved run of ``task`` if this comparison finished it before (same key)."""
    import pickle

    path = parts / f"arm{task[0]}-rep{task[1]}-{_part_key(task)}.pkl"
    if not path.exists():
        return None
    return pickle.loads(path.read_bytes())  # our own file, named by its task's key


def compare(paths: list[str], out: str | Path, reps: int = 4, seed: int = 1, workers: int = 1,
            overrides: dict[str, Any] | None = None, progress: bool = True,
            resume: bool = False) -> Path:
    """Run the comparison and write its files (see the module docstring); returns ``out``.

    Each finished run is kept in ``out/.compare-runs/`` until the files are written, so a
    comparison cut short (a crash, Ctrl-C, a job's time limit) is completed with ``resume``:
    runs whose scenario, seed and place match are loaded, not run again. Without ``resume``
    kept runs are discarded and every run is made afresh."""
    import pandas as pd

    from sim.output import staged, write_csv
    from sim.workflows.preflight import check_out, run_bytes
    from sim.workflows.progress import progress_bar

    if len(paths) < 2:
        raise ConfigError("compare needs a base scenario and at least one other")
    if reps < 1:
        raise ConfigError(f"--reps {reps}: give at least 1 replication")
    if workers < 1:
        raise ConfigError(f"--workers {workers}: give at least 1 worker")
    scenarios = _scenarios(paths, overrides or {})
    # Arms must be comparable: the same region, scale, calendar and years.
    run0 = scenarios[0].run
    for path, sc in zip(paths[1:], scenarios[1:], strict=True):
        for key in ("region", "scale", "years", "start_year", "burn_in_years"):
            if getattr(sc.run, key) != getattr(run0, key):
                raise ConfigError(f"{path}: run.{key} is {getattr(sc.run, key)!r} but the base "
                                  f"has {getattr(run0, key)!r}; paired runs need the same "
                                  f"(set it with --{key.replace('_', '-')} or in the files)")
    check_out(out, len(paths) * reps * run_bytes(scenarios[0]) // 4)
    rep_seeds = seeds(seed, reps)
    names = []
    for p in paths:
        stem = Path(p).stem
        names.append(stem if stem not in names else f"{stem}_{len(names)}")
    tasks = [(arm, rep, s, sc) for rep, s in enumerate(rep_seeds)
             for arm, sc in enumerate(scenarios)]
    import shutil

    parts = Path(out) / PARTS
    if parts.exists() and not resume:
        shutil.rmtree(parts)
    parts.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, Any]] = []
    todo = []
    for task in tasks:
        done = _kept(parts, task) if resume else None
        if done is None:
            todo.append(task)
        else:
            results.append(done)
    t0 = time.perf_counter()
    bar = progress_bar(total=len(tasks), initial=len(results), unit="run", desc="compare",
                       disable=not progress)
    try:
        if workers == 1:
            for task in todo:
                results.append(run_arm(task))
                _keep(parts, task, results[-1])
                bar.update(1)
        else:
            from multiprocessing import get_context

            from sim.workflows.sweep import _worker_init

            with ProcessPoolExecutor(workers, mp_context=get_context("spawn"),
                                     initializer=_worker_init,
                                     initargs=(os.getpid(),)) as pool:
                for task, res in zip(todo, pool.map(run_arm, todo), strict=True):
                    results.append(res)
                    _keep(parts, task, res)
                    bar.update(1)
    finally:
        bar.close()
    by = {(r["arm"], r["rep"]): r for r in results}

    def long(arm: int, key: str):
        return pd.concat([by[(arm, rep)][key].assign(rep=rep) for rep in range(reps)],
                         ignore_index=True)

    base_a, base_la = long(0, "annual"), long(0, "by_la")
    inds = [c for c in base_a.columns if c not in ("year", "rep")
            and pd.api.types.is_numeric_dtype(base_a[c])]
    rows, la_rows, kids = [], [], []
    for arm in range(1, len(scenarios)):
        other_a, other_la = long(arm, "annual"), long(arm, "by_la")
        rows += _rows(names[arm], base_a, other_a, ["year"], inds)
        rows += _totals(names[arm], base_a, other_a)
        la_inds = [i for i in HEADLINE if i in base_la.columns]
        la_rows += _rows(names[arm], base_la, other_la, ["authority", "year"], la_inds)
        kids.append(_children(names[arm], {r: by[(0, r)]["paths"] for r in range(reps)},
                              {r: by[(arm, r)]["paths"] for r in range(reps)},
                              dict(enumerate(rep_seeds))))
    table = pd.DataFrame(rows, columns=list(COMPARE_COLUMNS))
    la_cols = ["scenario", "authority", *COMPARE_COLUMNS[1:]]
    la_table = pd.DataFrame(la_rows, columns=la_cols)
    children = pd.concat(kids, ignore_index=True) if kids else pd.DataFrame(
        columns=list(CHILD_COLUMNS))
    manifest = {
        "command": "compare", "scenarios": dict(zip(names, map(str, paths), strict=True)),
        "base": names[0], "reps": reps, "root_seed": seed, "seeds": rep_seeds,
        "workers": workers, "run": {k: getattr(run0, k) for k in
                                    ("region", "scale", "years", "start_year", "burn_in_years")},
        "note": "counts and money are for the simulated sample; divide by run.scale for the "
                "whole area",
        "wall_seconds": round(time.perf_counter() - t0, 2), "resumed_runs": len(tasks) - len(todo),
    }
    with staged(out) as stage:
        write_csv(table, stage / "compare.csv")
        write_csv(la_table, stage / "compare_by_la.csv")
        write_csv(children, stage / "children.csv")
        figure(table, stage / "compare.png")
        (stage / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    shutil.rmtree(parts, ignore_errors=True)  # the files are written: the runs are not needed
    return Path(out)


def _summary(out: Path) -> str:
    import pandas as pd

    t = pd.read_csv(out / "compare.csv")
    k = pd.read_csv(out / "children.csv")
    lines = []
    for name, g in t[t["year"] == "all"].groupby("scenario", sort=False):
        e = g[g.indicator == "care_entries"].iloc[0]
        s = g[g.indicator == "spend_total_gbp"].iloc[0]
        c = g[g.indicator == "cost_per_care_entry_averted_gbp"].iloc[0]
        averted = (k[(k.scenario == name) & (k.what == "care entry averted")].shape[0],
                   k[(k.scenario == name) & (k.what == "entered care (not in base)")].shape[0])
        cost = ("" if not np.isfinite(c.paired_difference)
                else f"; £{c.paired_difference:,.0f} per care entry averted")
        lines.append(
            f"{name}: care entries {e.paired_difference:+.1f} ({e.ci_low:+.1f} to "
            f"{e.ci_high:+.1f}), spending £{s.paired_difference:+,.0f}{cost}; "
            f"children kept out of care / brought in: {averted[0]} / {averted[1]} "
            f"(over {int(e.reps)} seeds, simulated sample)")
    return "\n".join(lines)


def cmd_compare(args: argparse.Namespace) -> int:
    overrides = {RUN_FLAGS[k]: getattr(args, k) for k in RUN_FLAGS
                 if getattr(args, k) is not None}
    out = compare([args.base, *args.others], args.out, reps=args.reps, seed=args.seed,
                  workers=args.workers, overrides=overrides, progress=not args.quiet,
                  resume=args.resume)
    if not args.quiet:
        print(_summary(out))
        print(f"wrote {out}/: {' '.join(FILES)}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    cp = sub.add_parser("compare", help="scenarios against a base on the same seeds (common "
                        "random numbers): paired differences, the children whose paths differ")
    cp.add_argument("base", metavar="BASE.toml", help="the base scenario")
    cp.add_argument("others", nargs="+", metavar="OTHER.toml", help="scenarios to compare")
    cp.add_argument("--reps", type=int, default=4, help="replications (seeds) per scenario")
    cp.add_argument("--seed", type=int, default=1, help="root seed of the replications' seeds")
    cp.add_argument("--scale", type=float, help="share of families simulated (0-1]")
    cp.add_argument("--years", type=int, help="simulated years")
    cp.add_argument("--region", help="'England' or a region, e.g. 'North East'")
    cp.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    cp.add_argument("--out", default="results/compare", help="output folder")
    cp.add_argument("--resume", action="store_true",
                    help="complete a comparison cut short in --out (its finished runs are kept)")
    cp.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    cp.set_defaults(func=cmd_compare)


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - thin wrapper
    from sim.workflows.cli import main as cli_main

    return cli_main(["compare", *(argv or sys.argv[1:])])


__all__ = ["compare", "one_line", "register", "seeds"]
