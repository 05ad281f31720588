"""``cscsim validate``: does the baseline reproduce England today? A table anyone can rerun.

The baseline scenario is run ``--reps`` times with seeds derived from one root seed. For each
replication every indicator of :func:`sim.workflows.targets.targets` is averaged over the simulated
years (years 1 to ``--years``, all of them: the baseline is meant to be "England today" from year 1,
so there is no discarded burn-in here; the first- and last-year means are reported beside the
average so that drift is visible rather than averaged away). Across replications we report the
mean and a 95% confidence interval for it (Student's t on the replication averages); an
indicator is *within* when that mean lies inside the target's tolerance
(:meth:`sim.workflows.targets.Target.within`). Targets are only read, never written into a model
output.

Besides the table it reports variation the issue asks for: authority children-in-care rates
against deprivation (pooled over replications and years, with a weighted least-squares line),
rates by deprivation decile of the family's street (:func:`deprivation_decile`), and,
for children born during a run, the share ever referred / in need / on a plan / in care by 18
(:func:`sim.indicators.cohort_at_18`; a run needs more than 18 years for that, so unless
``--years`` exceeds 18 a separate long run at a small scale is made per replication).

Every mistake in the input ends in one line on stderr, exit code 2, and nothing written; all
files appear together or not at all (:func:`sim.output.staged`). docs/validation.md has the
user's view. Heavy imports (numpy, pandas, the model) stay inside functions so that
``cscsim --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.config import ConfigError, Scenario, load_scenario

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from sim.region import Region
    from sim.workflows.targets import Target

#: The calibrated England baseline (issue 3), used by default once it exists.
BASELINE_NAME = "england_baseline.toml"
#: The documented full validation (docs/validation.md); scripts/validation_report.py uses it.
FULL = {"reps": 6, "scale": 0.05, "years": 5, "seed": 20240331,
        "cohort_years": 20, "cohort_scale": 0.002}
QUICK = {"reps": 3, "scale": 0.003, "years": 2, "seed": 20240331,
         "cohort_years": 19, "cohort_scale": 0.001}
FILES = ("validation.csv", "validation.png", "replications.csv", "by_authority.csv",
         "la_cla_vs_deprivation.png", "by_decile.csv", "decile_rates.png", "cohort.csv",
         "checks.csv", "manifest.json")
TABLE_COLUMNS = ("indicator", "group", "kind", "model_column", "target", "model_mean",
                 "ci95_lower", "ci95_upper", "model_sd", "tolerance", "within",
                 "model_first_year", "model_last_year", "source")
#: Per-decile year-end stocks and year flows collected for the decile table.
NODE_MEASURES = ("children", "cla", "cla_uasc", "entries", "entries_uasc", "cin", "cpp")
#: Decile-table rates: (column, numerator(s) summed, minus).
DECILE_RATES = {
    "cla_per_10k": ("cla", None),
    "cla_excl_uasc_per_10k": ("cla", "cla_uasc"),
    "care_entries_per_10k": ("entries", None),
    "care_entries_excl_uasc_per_10k": ("entries", "entries_uasc"),
    "cin_per_10k": ("cin", None),
    "cpp_per_10k": ("cpp", None),
}
DECILE_METHOD = (
    "each family's street has a national deprivation centile (drawn within its neighbourhood's "
    "band, sim/population.py); decile 1 holds the most deprived tenth of centiles, 10 the least"
)
#: Short labels for the figure, by model column.
LABELS = {
    "cla_rate_per_10k": "children in care", "care_entries_rate_per_10k": "care entries (starts)",
    "cin_rate_per_10k": "children in need", "cpp_rate_per_10k": "on protection plans",
    "s47_rate_per_10k": "S47 enquiries", "referrals_rate_per_10k": "referrals",
    "share_kinship": "kinship foster", "share_inhouse_foster": "in-house foster",
    "share_ifa": "agency (IFA) foster", "share_childrens_home": "children's homes",
    "share_supported": "supported accommodation", "share_with_parents": "placed with parents",
    "share_over_20_miles": "over 20 miles", "share_out_of_area": "outside home authority",
    "share_starts_age_under_1": "under 1", "share_starts_age_1_4": "1-4",
    "share_starts_age_5_9": "5-9", "share_starts_age_10_15": "10-15",
    "share_starts_age_16_plus": "16+", "early_help_spend_per_child_gbp": "early help",
    "placement_spend_per_child_gbp": "placements",
}
COHORT_MEASURES = ("ever_referred", "ever_child_in_need", "ever_protection_plan", "ever_in_care")


# --- settings ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    """What a validation runs; plain data so it goes into the manifest as it is."""

    reps: int = FULL["reps"]
    scale: float = FULL["scale"]
    years: int = FULL["years"]
    seed: int = FULL["seed"]
    scenario: str | None = None  # None: the England baseline file, or England at the defaults
    cohort_years: int = FULL["cohort_years"]  # 0: no cohort table (when years <= 18)
    cohort_scale: float = FULL["cohort_scale"]
    workers: int = 1


def baseline_path() -> Path | None:
    """The England baseline scenario file, if it has been written yet."""
    path = Path(str(resources.files("policies") / "scenarios" / BASELINE_NAME))
    return path if path.is_file() else None


def base_scenario(path: str | None) -> tuple[Scenario, str]:
    """The scenario to validate and where it came from. Until the calibrated baseline exists,
    the defaults with the region set to England stand in for it (and the manifest says so)."""
    if path is not None:
        return load_scenario(path), str(path)
    default = baseline_path()
    if default is not None:
        return load_scenario(default), f"policies/scenarios/{BASELINE_NAME}"
    scenario = Scenario().with_overrides({"run.region": "England"}, where="validation baseline")
    scenario.name = "defaults, England"
    return scenario, "defaults with run.region = 'England' (no england_baseline.toml yet)"


def replicate_seed(root: int, rep: int) -> int:
    """Seed of replication ``rep``: a function of the root seed and the index only (the same
    derivation as a sweep's common-random-number seeds), so adding reps keeps earlier ones."""
    import numpy as np

    ss = np.random.SeedSequence(root, spawn_key=(rep,))
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def resolve(settings: Settings) -> tuple[Scenario, Scenario | None, str]:
    """Check every input before anything runs; return (main, cohort or None, scenario source).

    Raises :class:`ConfigError` with a message for the user on any mistake."""
    if settings.reps < 1:
        raise ConfigError(f"--reps {settings.reps} is not allowed: a whole number, 1 or more")
    if settings.workers < 1:
        raise ConfigError(f"--workers {settings.workers} is not allowed: 1 or more")
    if settings.cohort_years != 0 and settings.cohort_years <= 18:
        raise ConfigError(f"--cohort-years {settings.cohort_years} is not allowed: more than 18 "
                          "(children born in the run must reach 18), or 0 for no cohort table")
    scenario, source = base_scenario(settings.scenario)
    run = {"run.scale": settings.scale, "run.years": settings.years, "run.seed": settings.seed,
           "run.record_events": True}  # the event log gives care entries by decile
    main = scenario.with_overrides(run, where="command line")
    cohort = None
    if settings.years <= 18 and settings.cohort_years:
        cohort = main.with_overrides({"run.scale": settings.cohort_scale,
                                      "run.years": settings.cohort_years},
                                     where="command line (cohort run)")
    return main, cohort, source


# --- one replication (runs in a worker process) --------------------------------------------
def _scenario_from(d: dict[str, Any]) -> Scenario:
    return Scenario.from_dict(d)


def deprivation_decile(deprivation: np.ndarray) -> np.ndarray:
    """Decile (0-based: 0 = the most deprived tenth) of streets' national deprivation centiles."""
    import numpy as np

    return np.clip(9 - np.floor(np.asarray(deprivation) * 10).astype(np.int64), 0, 9)


def node_state(model) -> dict[str, np.ndarray]:
    """Year-end stocks per deprivation decile of the family's street, by the same definitions as
    :func:`sim.indicators.snapshot` (children counted where their birth family lives)."""
    import numpy as np

    from sim.indicators import in_need_at_home
    from sim.population import Case

    c, f = model.pop.children, model.pop.families
    n = 10
    node = deprivation_decile(f.deprivation[c.family])
    home = c.active & ~c.in_care
    uasc = f.uasc[c.family]

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(node[mask], minlength=n).astype(float)

    case = f.case[c.family]
    return {
        "children": count(c.active | c.in_care),
        "cla": count(c.in_care),
        "cla_uasc": count(c.in_care & uasc),
        "cin": count(in_need_at_home(model)) + count(c.in_care),
        "cpp": count(home & (case == Case.PROTECTION_PLAN)),
    }


def node_entries(model, first_event: int) -> tuple[np.ndarray, np.ndarray]:
    """Care entries per deprivation decile among the events logged from index ``first_event`` on
    (all of them, and those of unaccompanied children)."""
    import numpy as np

    from sim.population import Event

    ev, f, c = model.pop.events, model.pop.families, model.pop.children
    sel = np.flatnonzero(ev.code[first_event:] == Event.CARE_ENTRY) + first_event
    fam = c.family[model.pop.child_rows(ev.child[sel])]  # (this year's: none retired yet)
    node = deprivation_decile(f.deprivation[fam])
    n = 10
    entries = np.bincount(node, minlength=n).astype(float)
    uasc = np.bincount(node[f.uasc[fam]], minlength=n).astype(float)
    return entries, uasc


def run_replication(task: dict[str, Any], progress=None) -> dict[str, Any]:
    """One replication: the main run, with decile tables taken as the model closes each year
    (an ``on_year_end`` observer, so they match its annual rows exactly), and, if asked, the long
    cohort run. Returns plain data, so it pickles to a worker pool."""
    import numpy as np

    from sim.indicators import cohort_at_18
    from sim.model import CareSystem

    t0 = time.perf_counter()
    scenario = _scenario_from(task["scenario"]).with_overrides({"run.seed": task["seed"]})
    model = CareSystem(scenario, burn_in_progress=progress)
    nodes: dict[str, list[list[float]]] = {k: [] for k in NODE_MEASURES}
    # Events logged while building are the initial stock being placed, not entries.
    last_event = [model.pop.events.n]

    @model.observers.on_year_end
    def year_end(model) -> None:  # the model has just closed a year
        state = node_state(model)
        state["entries"], state["entries_uasc"] = node_entries(model, last_event[0])
        last_event[0] = model.pop.events.n
        for k in NODE_MEASURES:
            nodes[k].append(state[k].tolist())

    model.run(progress=progress)
    annual = model.annual_frame()
    by_la = model.annual_by_la_frame()
    la_sums = by_la.groupby("gss_code", sort=False)[
        ["children", "cla", "care_entries", "cin", "cpp"]].sum()

    def same(measure: str, column: str) -> bool:
        return bool(np.allclose(np.array(nodes[measure]).sum(axis=1), annual[column]))

    checks = {"node_children_equal_model_children": same("children", "children"),
              "node_cla_equals_model_cla": same("cla", "cla"),
              "node_cin_equals_model_cin": same("cin", "cin"),
              "node_cpp_equals_model_cpp": same("cpp", "cpp"),
              "event_entries_equal_model_entries": same("entries", "care_entries")}
    cohort = cohort_at_18(model) if scenario.run.years > 18 else None
    cohort_source = "main" if cohort is not None else None
    if cohort is None and task.get("cohort"):
        long = _scenario_from(task["cohort"]).with_overrides(
            {"run.seed": task["seed"], "run.record_events": False})
        cm = CareSystem(long, burn_in_progress=progress)
        cm.run(progress=progress)
        cohort = cohort_at_18(cm)
        cohort_source = "cohort run"
    return {
        "rep": task["rep"],
        "seed": task["seed"],
        "annual": annual.to_dict(orient="list"),
        "la": {"gss_code": la_sums.index.tolist(),
               **{k: la_sums[k].tolist() for k in la_sums.columns}},
        "nodes": nodes,
        "checks": checks,
        "cohort": cohort,
        "cohort_source": cohort_source,
        "seconds": time.perf_counter() - t0,
    }


def _run_all(tasks: list[dict[str, Any]], workers: int, weeks: int, quiet: bool) -> list[dict]:
    """Run the replications, in this process or a pool; results in replication order."""
    from sim.workflows.progress import progress_bar

    results: list[dict] = []
    with progress_bar(total=weeks * len(tasks), unit="week", desc="validate",
                      disable=quiet) as bar:
        if workers == 1 or len(tasks) == 1:
            for task in tasks:
                results.append(run_replication(task, progress=lambda _w: bar.update(1)))
            return results
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=min(workers, len(tasks)),
                                 mp_context=mp.get_context("spawn")) as pool:
            futures = [pool.submit(run_replication, t) for t in tasks]
            for fut in as_completed(futures):
                results.append(fut.result())
                bar.update(weeks)
    return sorted(results, key=lambda r: r["rep"])


# --- summaries -----------------------------------------------------------------------------
def interval(values: np.ndarray) -> tuple[float, float, float, float]:
    """Mean, sample sd and the 95% t-interval of the mean of replication values (NaN-free
    values only; with one value the interval is undefined, NaN)."""
    import numpy as np
    from scipy import stats

    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return math.nan, math.nan, math.nan, math.nan
    mean = float(v.mean())
    if len(v) == 1:
        return mean, math.nan, math.nan, math.nan
    sd = float(v.std(ddof=1))
    half = float(stats.t.ppf(0.975, len(v) - 1)) * sd / math.sqrt(len(v))
    return mean, sd, mean - half, mean + half


def is_within(target: Target, model_mean: float) -> bool:
    """A model mean that is missing (NaN: e.g. no care entries to share out) is not within."""
    return bool(math.isfinite(model_mean) and target.within(model_mean))


def strict_exit_code(table: pd.DataFrame) -> int:
    """``--strict``: 1 if any indicator is outside its tolerance, else 0."""
    return 0 if bool(table["within"].astype(bool).all()) else 1


def comparison_table(annuals: list[pd.DataFrame], targets: tuple[Target, ...]) -> pd.DataFrame:
    """One row per target: the replications' means over the simulated years, summarised."""
    import numpy as np
    import pandas as pd

    rows = []
    for t in targets:
        per_rep = np.array([np.nanmean(a[t.column].to_numpy(float)) if a[t.column].notna().any()
                            else np.nan for a in annuals])
        # (the means of the known values: a share with nothing to count in a small sample,
        # such as plans ended in a year of a tiny run, is NaN)
        first = interval([a[t.column].iloc[0] for a in annuals])[0]
        last = interval([a[t.column].iloc[-1] for a in annuals])[0]
        mean, sd, lo, hi = interval(per_rep)
        rows.append({"indicator": t.indicator, "group": t.group, "kind": t.kind,
                     "model_column": t.column, "target": t.value, "model_mean": mean,
                     "ci95_lower": lo, "ci95_upper": hi, "model_sd": sd,
                     "tolerance": t.tolerance, "within": is_within(t, mean),
                     "model_first_year": first, "model_last_year": last, "source": t.source})
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def replications_frame(results: list[dict], targets: tuple[Target, ...]) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    rows = []
    for r in results:
        a = pd.DataFrame(r["annual"])
        row: dict[str, Any] = {"replication": r["rep"], "seed": r["seed"]}
        for t in targets:
            row[t.column] = float(np.nanmean(a[t.column])) if a[t.column].notna().any() else None
        rows.append(row)
    return pd.DataFrame(rows)


def decile_table(results: list[dict]) -> pd.DataFrame:
    """Rates per 10,000 children by deprivation decile of the family's street: pooled over years
    within each replication (sum of numerators / sum of year-end children), then mean and 95%
    interval across replications."""
    import numpy as np
    import pandas as pd

    per_rep = [{k: np.array(r["nodes"][k]).sum(axis=0) for k in NODE_MEASURES} for r in results]
    rows = []
    n_years = len(results[0]["nodes"]["children"])
    total = float(np.mean([s["children"].sum() for s in per_rep]))
    for d in range(10):
        children = float(np.mean([s["children"][d] for s in per_rep]))
        row: dict[str, Any] = {
            "decile": d + 1,
            "population_share": children / total if total > 0 else np.nan,
            "children_simulated": children / n_years,
        }
        for name, (num, minus) in DECILE_RATES.items():
            vals = []
            for s in per_rep:
                n = s[num][d] - (s[minus][d] if minus else 0.0)
                vals.append(n / s["children"][d] * 1e4 if s["children"][d] > 0 else np.nan)
            mean, _, lo, hi = interval(np.array(vals))
            row[name] = mean
            row[f"{name}_ci95_lower"] = lo
            row[f"{name}_ci95_upper"] = hi
        rows.append(row)
    return pd.DataFrame(rows)


def decile_ratios(by_decile: pd.DataFrame) -> dict[str, float]:
    """How many times the most deprived decile's rate is the least deprived's, for children in
    care and for children in care or on a plan (the Child Welfare Inequalities Project's
    measure, which found over ten in England)."""
    first, last = by_decile.iloc[0], by_decile.iloc[-1]
    both = (first["cla_per_10k"] + first["cpp_per_10k"]) / (last["cla_per_10k"]
                                                            + last["cpp_per_10k"])
    return {"cla": float(first["cla_per_10k"] / last["cla_per_10k"]),
            "cla_or_cpp": float(both),
            "cla_excl_uasc": float(first["cla_excl_uasc_per_10k"]
                                   / last["cla_excl_uasc_per_10k"])}


def authority_table(results: list[dict], region: Region) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per authority, rates pooled over replications and years, and a weighted least-squares
    line of the children-in-care rate on the deprivation score (weights: children simulated,
    so that authorities with a handful of sampled children do not steer it)."""
    import numpy as np
    import pandas as pd

    sums = None
    for r in results:
        df = pd.DataFrame(r["la"]).set_index("gss_code")
        sums = df if sums is None else sums.add(df, fill_value=0.0)
    sums = sums.reindex(region.la_code)
    n_runs_years = len(results) * len(results[0]["nodes"]["children"])
    ch = sums["children"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        table = pd.DataFrame({
            "gss_code": region.la_code,
            "authority": region.la_name,
            "region": region.la_region,
            "deprivation_score": region.la_deprivation,
            "deprivation_decile": region.la_deprivation_decile,
            "children_simulated": ch / n_runs_years,
            "cla_rate_per_10k": np.where(ch > 0, sums["cla"] / ch * 1e4, np.nan),
            "care_entries_rate_per_10k": np.where(ch > 0, sums["care_entries"] / ch * 1e4, np.nan),
            "cin_rate_per_10k": np.where(ch > 0, sums["cin"] / ch * 1e4, np.nan),
            "cpp_rate_per_10k": np.where(ch > 0, sums["cpp"] / ch * 1e4, np.nan),
        })
    ok = np.isfinite(table["cla_rate_per_10k"]) & (ch > 0)
    x = table.loc[ok, "deprivation_score"].to_numpy(float)
    y = table.loc[ok, "cla_rate_per_10k"].to_numpy(float)
    w = ch[ok.to_numpy()]
    fit: dict[str, float] = {"authorities": int(ok.sum())}
    if ok.sum() >= 3 and np.ptp(x) > 0:
        slope, intercept = np.polyfit(x, y, 1, w=np.sqrt(w))
        xm, ym = np.average(x, weights=w), np.average(y, weights=w)
        r = np.sum(w * (x - xm) * (y - ym)) / math.sqrt(
            np.sum(w * (x - xm) ** 2) * np.sum(w * (y - ym) ** 2))
        fit.update({"slope_per_score_point": float(slope), "intercept": float(intercept),
                    "weighted_correlation": float(r),
                    "cla_rate_min": float(y.min()), "cla_rate_max": float(y.max())})
    table["cla_rate_fitted"] = (fit.get("intercept", np.nan)
                                + fit.get("slope_per_score_point", np.nan)
                                * table["deprivation_score"])
    return table, fit


def cohort_table(results: list[dict], settings: Settings, main_years: int) -> pd.DataFrame:
    """Shares of the cohort ever referred / in need / on a plan / in care by 18, across reps."""
    import numpy as np
    import pandas as pd

    got = [r["cohort"] for r in results if r["cohort"]]
    columns = ["measure", "share_mean", "ci95_lower", "ci95_upper", "cohort_children", "reps",
               "run", "years", "scale", "born_in_years"]
    if not got:
        return pd.DataFrame(columns=columns)
    main = results[0]["cohort_source"] == "main"
    years = main_years if main else settings.cohort_years
    rows = []
    for m in COHORT_MEASURES:
        mean, _, lo, hi = interval(np.array([g[m] for g in got]))
        rows.append({"measure": m, "share_mean": mean, "ci95_lower": lo, "ci95_upper": hi,
                     "cohort_children": int(sum(g["children"] for g in got)), "reps": len(got),
                     "run": "main run" if main else "separate cohort run", "years": years,
                     "scale": settings.scale if main else settings.cohort_scale,
                     "born_in_years": "1" if years == 19 else f"1-{years - 18}"})
    return pd.DataFrame(rows, columns=columns)


# --- figures -------------------------------------------------------------------------------
def _display(kind: str) -> tuple[float, str]:
    return {"share": (100.0, "% of children in care or of starts"),
            "spend": (1.0, "£ per child per year"),
            "rate": (1.0, "per 10,000 children")}[kind]


def validation_figure(table: pd.DataFrame, path: Path, subtitle: str) -> None:
    """One panel per group: each target with its tolerance band, the model mean with its 95%
    interval, green when within tolerance and red when not."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    groups = list(dict.fromkeys(table["group"]))
    ncols = 3
    nrows = math.ceil(len(groups) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(16, 4.2 * nrows), constrained_layout=True,
                             squeeze=False)
    for ax, group in zip(axes.flat, groups, strict=False):
        g = table[table["group"] == group].reset_index(drop=True)
        k, unit = _display(g["kind"].iloc[0])
        y = np.arange(len(g))[::-1]
        for i, row in g.iterrows():
            yi = y[i]
            ax.barh(yi, 2 * row["tolerance"] * k, left=(row["target"] - row["tolerance"]) * k,
                    height=0.5, color="0.85")
            ax.plot(row["target"] * k, yi, "kd", ms=7)
            colour = "tab:green" if row["within"] else "tab:red"
            err = None
            if math.isfinite(row["ci95_lower"]):
                err = [[(row["model_mean"] - row["ci95_lower"]) * k],
                       [(row["ci95_upper"] - row["model_mean"]) * k]]
            ax.errorbar(row["model_mean"] * k, yi, xerr=err, fmt="o", color=colour, ms=6,
                        capsize=3)
        ax.set_yticks(y, [LABELS.get(c, c) for c in g["model_column"]], fontsize=9)
        ax.set(title=group, xlabel=unit)
        ax.set_xlim(left=0)
        ax.grid(axis="x", alpha=0.3)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Line2D([], [], color="k", marker="d", ls="", ms=7),
               Patch(color="0.85"),
               Line2D([], [], color="tab:green", marker="o", ls="-", ms=6),
               Line2D([], [], color="tab:red", marker="o", ls="-", ms=6)]
    labels = ["target", "target ± tolerance", "model mean, 95% CI: within",
              "model mean, 95% CI: outside"]
    for ax in list(axes.flat)[len(groups):]:
        ax.axis("off")
    spare = list(axes.flat)[len(groups):]
    (spare[0] if spare else fig).legend(handles, labels, loc="center", fontsize=10)
    fig.suptitle(f"cscsim validation: model vs England targets\n{subtitle}", fontsize=11)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def authority_figure(table: pd.DataFrame, fit: dict[str, float], path: Path,
                     subtitle: str) -> None:
    """Authorities' children-in-care rate against deprivation, sized by children simulated."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(9, 6), constrained_layout=True)
    ok = table["cla_rate_per_10k"].notna()
    t = table[ok]
    for region_name, g in t.groupby("region"):
        ax.scatter(g["deprivation_score"], g["cla_rate_per_10k"],
                   s=8 + 60 * g["children_simulated"] / t["children_simulated"].max(),
                   alpha=0.7, label=region_name)
    if "slope_per_score_point" in fit:
        xs = np.linspace(t["deprivation_score"].min(), t["deprivation_score"].max(), 50)
        ax.plot(xs, fit["intercept"] + fit["slope_per_score_point"] * xs, "k-",
                label=(f"weighted fit: {fit['slope_per_score_point']:+.2f} per point, "
                       f"r = {fit['weighted_correlation']:.2f}"))
    ax.set(xlabel="authority deprivation score (composite IMD; higher = more deprived)",
           ylabel="children in care per 10,000 children",
           title=f"Children in care by authority against deprivation\n{subtitle}")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, ncol=2)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def decile_figure(table: pd.DataFrame, path: Path, subtitle: str) -> None:
    """Rates by deprivation decile of the street, with 95% intervals across replications."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    panels = (("Children in care", ("cla_per_10k", "cla_excl_uasc_per_10k")),
              ("Care entries in the year", ("care_entries_per_10k",
                                            "care_entries_excl_uasc_per_10k")),
              ("Children in need and on plans", ("cin_per_10k", "cpp_per_10k")))
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8), constrained_layout=True)
    x = table["decile"].to_numpy()
    for ax, (title, cols) in zip(axes, panels, strict=True):
        width = 0.4
        for j, col in enumerate(cols):
            mean = table[col].to_numpy(float)
            lo = table[f"{col}_ci95_lower"].to_numpy(float)
            hi = table[f"{col}_ci95_upper"].to_numpy(float)
            err = None
            if np.isfinite(lo).all():
                err = [mean - lo, hi - mean]
            ax.bar(x + (j - 0.5) * width, mean, width, yerr=err, capsize=2,
                   label=col.replace("_per_10k", "").replace("_", " "))
        ax.set(title=title, xlabel="deprivation decile of the street (1 = most deprived)",
               ylabel="per 10,000 children")
        ax.set_xticks(x)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
    fig.suptitle(f"Rates by deprivation decile of the family's street\n{subtitle}", fontsize=11)
    fig.savefig(path, dpi=100)
    plt.close(fig)


# --- text ----------------------------------------------------------------------------------
def _fmt(kind: str, v: float) -> str:
    if not math.isfinite(v):
        return "n/a"
    if kind == "share":
        return f"{100 * v:.1f}%"
    if kind == "spend":
        return f"£{v:,.0f}"
    return f"{v:,.1f}"


def format_rows(table: pd.DataFrame) -> list[list[str]]:
    """The table as strings: indicator, group, target, model mean, 95% CI, tolerance, within."""
    rows = []
    for _, r in table.iterrows():
        k = r["kind"]
        ci = (f"{_fmt(k, r['ci95_lower'])} to {_fmt(k, r['ci95_upper'])}"
              if math.isfinite(r["ci95_lower"]) else "n/a")
        tol = f"±{100 * r['tolerance']:.0f} pp" if k == "share" else f"±{_fmt(k, r['tolerance'])}"
        rows.append([r["indicator"], r["group"], _fmt(k, r["target"]), _fmt(k, r["model_mean"]),
                     ci, tol, "yes" if r["within"] else "NO"])
    return rows


HEADER = ["indicator", "group", "target", "model mean", "95% CI", "tolerance", "within"]


def text_table(table: pd.DataFrame) -> str:
    rows = [HEADER, *format_rows(table)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)


def markdown_table(table: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r) + " |" for r in format_rows(table)]
    return "\n".join(lines)


def command_line(settings: Settings) -> str:
    """The ``cscsim validate`` command that reproduces ``settings`` (workers aside: results do
    not depend on them)."""
    parts = ["cscsim validate", f"--reps {settings.reps}", f"--scale {settings.scale:g}",
             f"--years {settings.years}", f"--seed {settings.seed}"]
    if settings.scenario:
        parts.append(f"--scenario {settings.scenario}")
    if settings.years <= 18:
        parts += [f"--cohort-years {settings.cohort_years}",
                  f"--cohort-scale {settings.cohort_scale:g}"]
    return " ".join(parts)


def describe(manifest: dict[str, Any]) -> str:
    """One line saying what was run, for figure titles and the README."""
    s = manifest["settings"]
    return (f"{manifest['scenario_name']} ({manifest['scenario_region']}), {s['reps']} reps, "
            f"scale {s['scale']:g}, years 1-{s['years']} averaged, root seed {s['seed']}")


# --- the whole validation ------------------------------------------------------------------
def validate(settings: Settings, out: str | Path, quiet: bool = False) -> dict[str, Any]:
    """Run the validation and write every file in :data:`FILES` into ``out`` (all or nothing).
    Returns the manifest, with the comparison table under ``"table"`` (not written to JSON)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} exists and is not a folder")
    main, cohort, source = resolve(settings)
    if main.run.region != "England" and not quiet:
        print(f"cscsim: warning: validating region {main.run.region!r} against targets for "
              "all of England", file=sys.stderr)

    import pandas as pd

    from sim.output import provenance, staged, write_csv
    from sim.population import WEEKS_PER_YEAR
    from sim.region import england
    from sim.workflows.targets import checks, targets

    t0 = time.perf_counter()
    tgts = targets()
    seeds = [replicate_seed(settings.seed, r) for r in range(settings.reps)]
    tasks = [{"rep": r, "seed": s, "scenario": main.to_dict(),
              "cohort": cohort.to_dict() if cohort else None} for r, s in enumerate(seeds)]
    weeks = WEEKS_PER_YEAR * (main.run.years + main.run.burn_in_years
                              + (cohort.run.years + cohort.run.burn_in_years if cohort else 0))
    results = _run_all(tasks, settings.workers, weeks, quiet)
    t1 = time.perf_counter()

    region = england(main.run.region)
    annuals = [pd.DataFrame(r["annual"]) for r in results]
    table = comparison_table(annuals, tgts)
    published = checks()  # reported, never judged (--strict)
    check_table = comparison_table(annuals, published)
    by_la, fit = authority_table(results, region)
    by_decile = decile_table(results)
    cohort_df = cohort_table(results, settings, main.run.years)
    consistency = {k: all(r["checks"][k] for r in results) for k in results[0]["checks"]}
    if not all(consistency.values()):  # the decile tables would not describe the model's counts
        print(f"cscsim: warning: consistency checks failed: {consistency}", file=sys.stderr)
    manifest: dict[str, Any] = {
        **provenance("cscsim validate", settings, source, main, seeds),
        "years_compared": f"1-{main.run.years} (each replication's mean of its annual values)",
        "interval": "95% Student-t confidence interval of the mean across replications",
        "within_rule": "model mean inside target ± tolerance (sim/workflows/targets.py); "
                       "missing = not",
        "indicators": len(table),
        "indicators_within": int(table["within"].sum()),
        "strict_exit_code": strict_exit_code(table),
        "published_checks": len(check_table),
        "published_checks_within": int(check_table["within"].sum()),
        "authority_fit": fit,
        "decile_method": DECILE_METHOD,
        "decile_ratio": decile_ratios(by_decile),
        "cohort_run": ({"years": cohort.run.years, "scale": cohort.run.scale}
                       if cohort else ("main run" if main.run.years > 18 else None)),
        "consistency_checks": consistency,
        "timings_seconds": {"replications": round(t1 - t0, 3),
                            "per_replication": [round(r["seconds"], 3) for r in results]},
    }
    subtitle = describe(manifest)
    with staged(out) as stage:
        write_csv(table, stage / "validation.csv")
        write_csv(replications_frame(results, tgts + published), stage / "replications.csv")
        write_csv(by_la, stage / "by_authority.csv")
        write_csv(by_decile, stage / "by_decile.csv")
        write_csv(cohort_df, stage / "cohort.csv")
        write_csv(check_table, stage / "checks.csv")
        validation_figure(table, stage / "validation.png", subtitle)
        authority_figure(by_la, fit, stage / "la_cla_vs_deprivation.png", subtitle)
        decile_figure(by_decile, stage / "decile_rates.png", subtitle)
        manifest["timings_seconds"]["total"] = round(time.perf_counter() - t0, 3)
        manifest["files"] = list(FILES)
        (stage / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    manifest["table"] = table
    manifest["check_table"] = check_table
    manifest["cohort_table"] = cohort_df
    return manifest


# --- CLI -----------------------------------------------------------------------------------
def cmd_validate(args: argparse.Namespace) -> int:
    if args.history:
        from sim.workflows.history import cmd_validate_history

        return cmd_validate_history(args)
    if args.region is not None:
        raise ConfigError("--region is only for --history (the England validation compares "
                          "all of England; give a --scenario with another run.region instead)")
    years = FULL["years"] if args.years is None else args.years
    settings = Settings(reps=args.reps, scale=args.scale, years=years, seed=args.seed,
                        scenario=args.scenario, cohort_years=args.cohort_years,
                        cohort_scale=args.cohort_scale, workers=args.workers)
    m = validate(settings, args.out, quiet=args.quiet)
    table = m["table"]
    print(f"\nValidation: {describe(m)}\n")
    print(text_table(table))
    c = m["cohort_table"]
    if len(c):
        shares = ", ".join(f"{r.measure.replace('ever_', '')} {100 * r.share_mean:.1f}%"
                           for r in c.itertuples())
        print(f"\nBy their 18th birthday ({c['run'].iloc[0]}, {int(c['cohort_children'].iloc[0])}"
              f" children): ever {shares}")
    print("\nPublished checks (reported, not judged by --strict; the group says whether a fit "
          "reads one):\n")
    print(text_table(m["check_table"]))
    print(f"\n{m['indicators_within']} of {m['indicators']} indicators within tolerance "
          f"({m['published_checks_within']} of {m['published_checks']} published checks); "
          f"wrote {args.out}/: {' '.join(FILES)} ({m['timings_seconds']['total']:.0f} s)")
    if args.strict and m["strict_exit_code"]:
        outside = ", ".join(table.loc[~table["within"].astype(bool), "indicator"])
        print(f"cscsim: --strict: outside tolerance: {outside}", file=sys.stderr)
        return 1
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    v = sub.add_parser("validate", help="run the baseline N times and compare it with England's "
                       "published statistics")
    v.add_argument("--reps", type=int, default=FULL["reps"],
                   help=f"replications (default {FULL['reps']})")
    v.add_argument("--scale", type=float, default=FULL["scale"],
                   help=f"share of families simulated (default {FULL['scale']})")
    v.add_argument("--years", type=int, default=None,
                   help=f"simulated years, all averaged (default {FULL['years']}; with "
                   "--history: from 2010, default to 2024)")
    v.add_argument("--seed", type=int, default=FULL["seed"],
                   help=f"root seed; replication seeds derive from it (default {FULL['seed']})")
    v.add_argument("--scenario", help="scenario file (default: policies/scenarios/"
                   f"{BASELINE_NAME}, or the defaults with region England until it exists)")
    v.add_argument("--out", default="results/validation",
                   help="output folder (default results/validation)")
    v.add_argument("--strict", action="store_true",
                   help="exit 1 if any indicator is outside its tolerance")
    v.add_argument("--workers", type=int, default=1,
                   help="worker processes, one replication each (default 1)")
    v.add_argument("--cohort-years", type=int, default=FULL["cohort_years"],
                   help="length of the separate cohort run when --years is 18 or less "
                   f"(> 18; 0 = no cohort table; default {FULL['cohort_years']})")
    v.add_argument("--cohort-scale", type=float, default=FULL["cohort_scale"],
                   help=f"scale of the cohort run (default {FULL['cohort_scale']})")
    v.add_argument("--history", action="store_true",
                   help="run England from 2010 to 2024 (policies/scenarios/england_2010.toml) "
                   "and compare each year with the published series; writes history.csv, "
                   "history.png (docs/validation.md); --strict then judges the test window")
    v.add_argument("--region", help="with --history: run one region instead of England "
                   "(a smaller, faster check)")
    v.add_argument("--quiet", action="store_true", help="no progress bar")
    v.set_defaults(func=cmd_validate)

