"""``cscsim analyse DIR``: sensitivity indices and outcome-against-factor plots of a finished sweep.

What is computed depends on the design recorded in ``DIR/manifest.json``:

- **sobol**: first-order and total Sobol indices (SALib, Saltelli/Jansen estimators, bootstrap
  95% intervals) per outcome -> ``sobol_indices.csv`` and ``sobol.png``;
- **morris**: elementary effects mu, mu*, sigma (SALib) per outcome -> ``morris_indices.csv``
  and ``morris.png``;
- **grid** and **rows**: the mean of each outcome at every design point with a 95% confidence
  band across replications (Student t) -> ``grid_summary.csv`` and ``grid.png``; outcome against
  the first factor, one line per value of the second, other factors averaged (and said so);
- **lhs**: Spearman rank correlations of each outcome with each factor ->
  ``lhs_correlations.csv`` and ``lhs.png`` (scatter plots).

Sobol and Morris indices need one value per design point: the outcome is averaged over the
replications of each point first, so replications reduce the model's stochastic noise rather
than being mistaken for sensitivity. Everything is written atomically into ``DIR/analysis``.
"""

from __future__ import annotations

import argparse
import json
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.config import ConfigError

if TYPE_CHECKING:  # pandas is imported where it is used, to keep `cscsim --help` fast
    import pandas as pd

#: Outcomes drawn by default (when the sweep has them): the brief's headline indicators.
KEY_OUTCOMES = ("care_entries_rate_per_10k", "cla_rate_per_10k", "placement_breakdown_rate",
                "share_over_20_miles", "spend_total_gbp", "early_help_places")
MAX_PANELS = 6


def load_sweep(folder: str | Path) -> tuple[dict[str, Any], pd.DataFrame]:
    """The manifest and runs table of a finished sweep, or a ConfigError saying what is
    missing."""
    import pandas as pd

    from sim.workflows.sweep import read_table

    folder = Path(folder)
    mpath = folder / "manifest.json"
    rpath = folder / ("runs.parquet" if (folder / "runs.parquet").is_file() else "runs.csv")
    if not mpath.is_file() or not rpath.is_file():
        raise ConfigError(f"{folder} is not a finished sweep (no manifest.json and runs.csv); "
                          f"run cscsim sweep, or --resume it, first")
    rebuild = "rebuild it with the same cscsim sweep command and --resume"
    try:
        manifest = json.loads(mpath.read_bytes())
    except (OSError, ValueError):
        raise ConfigError(f"{mpath} is empty or damaged (not JSON); {rebuild}") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != "cscsim sweep":
        raise ConfigError(f"{mpath} is not the manifest of a sweep")
    exp = manifest.get("experiment")
    if not (isinstance(exp, dict) and exp.get("kind") in ("grid", "rows", "lhs", "sobol",
                                                            "morris")
            and isinstance(exp.get("factors"), list)
            and all(isinstance(f, dict) and isinstance(f.get("name"), str)
                    for f in exp["factors"])
            and isinstance(exp.get("outcomes"), list) and exp["outcomes"]
            and isinstance(manifest.get("design_points"), list)):
        raise ConfigError(f"{mpath} is damaged (its experiment is incomplete); {rebuild}")
    try:
        runs = read_table(folder, "runs")
    except pd.errors.EmptyDataError:
        raise ConfigError(f"{rpath} is empty (not even a header); {rebuild}") from None
    except (OSError, ValueError, pd.errors.ParserError) as e:
        raise ConfigError(f"{rpath} is damaged ({type(e).__name__}); {rebuild}") from None
    factors = [f["name"] for f in exp["factors"]]
    needed = ["run_id", "point", "replicate", *factors, *exp["outcomes"]]
    missing = [c for c in needed if c not in runs.columns]
    if missing:
        raise ConfigError(f"{rpath} lacks the column(s) {', '.join(missing[:5])} that its "
                          f"manifest lists; {rebuild}")
    numeric = ["point", "replicate", *exp["outcomes"]]
    if exp["kind"] in ("lhs", "sobol", "morris"):
        numeric += factors
    bad = [c for c in numeric if not pd.api.types.is_numeric_dtype(runs[c])]
    if bad:
        raise ConfigError(f"{rpath}: column(s) {', '.join(bad[:5])} hold non-numbers; {rebuild}")
    return manifest, runs


def choose_outcomes(runs: pd.DataFrame, manifest: dict[str, Any],
                    wanted: list[str] | None) -> list[str]:
    available = manifest["experiment"]["outcomes"]
    if wanted:
        bad = [o for o in wanted if o not in available]
        if bad:
            raise ConfigError(f"--outcomes: {', '.join(bad)} not in this sweep's runs.csv; "
                              f"available: {', '.join(available)}")
        return wanted
    key = [o for o in KEY_OUTCOMES if o in available]
    return key or available[:MAX_PANELS]


def _t95(n: np.ndarray) -> np.ndarray:
    from scipy import stats

    n = np.asarray(n, float)
    out = np.full(n.shape, np.nan)
    ok = n > 1
    out[ok] = stats.t.ppf(0.975, n[ok] - 1)
    return out


def summarise(runs: pd.DataFrame, by: list[str], outcomes: list[str]) -> pd.DataFrame:
    """Mean, sd, n and a 95% t confidence interval of each outcome for each group of ``by``."""
    import pandas as pd

    rows = []
    groups = runs.groupby(by, sort=True, dropna=False) if by else [((), runs)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        for o in outcomes:
            y = g[o].dropna().to_numpy(float)
            n = len(y)
            mean = float(y.mean()) if n else math.nan
            sd = float(y.std(ddof=1)) if n > 1 else math.nan
            half = float(_t95(np.array([n]))[0] * sd / math.sqrt(n)) if n > 1 else math.nan
            rows.append({**dict(zip(by, key, strict=True)), "outcome": o, "n": n, "mean": mean,
                         "sd": sd, "ci_low": mean - half, "ci_high": mean + half})
    return pd.DataFrame(rows)


def _numeric(values: pd.Series) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(values)


def plot_grid(runs: pd.DataFrame, factors: list[str], outcomes: list[str], path: Path,
              title: str, x: str | None = None, hue: str | None = None,
              labels: dict[str, str] | None = None, x_order: list[Any] | None = None) -> None:
    """Outcome against factor ``x`` with a 95% band across replications, a line per ``hue``.

    ``x_order`` draws ``x`` as evenly spaced categories in that order (e.g. a distance cap where
    0 means "no cap" and belongs at the far end, not at zero miles).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.workflows.datadict import axis, bounds
    from sim.workflows.datadict import label as registry_label

    labels = {**{f: _short(f) for f in factors}, **{o: registry_label(o) for o in outcomes},
              **(labels or {})}
    x = x or (factors[0] if factors else None)
    hue = hue if hue is not None else next((f for f in factors if f != x), None)
    others = [f for f in factors if f not in (x, hue)]
    n = len(outcomes)
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.8 * rows), squeeze=False,
                             constrained_layout=True)
    if x is None:  # no factors: replications only
        s = summarise(runs, [], outcomes)
        for ax, o in zip(axes.flat, outcomes, strict=False):
            r = clip_band(s[s.outcome == o], o).iloc[0]
            mult, unit = axis(o)
            ax.errorbar([0], [r["mean"] * mult], yerr=[[(r["mean"] - r.ci_low) * mult],
                                                       [(r.ci_high - r["mean"]) * mult]], fmt="o")
            ax.set(title=labels.get(o, o), xticks=[], ylabel=unit)
    else:
        hues = sorted(runs[hue].unique()) if hue else [None]
        xs_all = list(x_order) if x_order is not None else sorted(runs[x].unique())
        numeric = x_order is None and _numeric(runs[x])
        for ax, o in zip(axes.flat, outcomes, strict=False):
            mult, unit = axis(o)
            for h in hues:
                sub = runs if h is None else runs[runs[hue] == h]
                s = clip_band(summarise(sub, [x], [o]), o)
                if not numeric:
                    s = s.assign(_pos=[xs_all.index(v) for v in s[x]]).sort_values("_pos")
                xv = s[x].to_numpy() if numeric else s["_pos"].to_numpy()
                label = None if h is None else f"{labels.get(hue, hue)} = {h:g}" if isinstance(
                    h, int | float) else f"{labels.get(hue, hue)} = {h}"
                line, = ax.plot(xv, s["mean"] * mult, marker="o", ms=4, label=label)
                ax.fill_between(xv, s["ci_low"] * mult, s["ci_high"] * mult,
                                color=line.get_color(), alpha=0.2, lw=0)
                if s["n"].max() <= 5:  # so few runs that each is worth seeing
                    pos = dict(zip(s[x], xv, strict=True))
                    ax.scatter([pos[v] for v in sub[x] if v in pos],
                               sub.loc[sub[x].isin(pos), o] * mult, s=8,
                               color=line.get_color(), alpha=0.6, lw=0)
            if not numeric:
                ax.set_xticks(range(len(xs_all)), [str(labels.get(v, v)) for v in xs_all])
            ax.set(title=labels.get(o, o), xlabel=_with_unit(labels.get(x, x), x), ylabel=unit)
            if bounds(o)[0] == 0:
                ax.set_ylim(bottom=0)
            if hue:
                ax.legend(fontsize=7)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    note = f" (averaged over {', '.join(labels.get(o, o) for o in others)})" if others else ""
    fig.suptitle(f"{title}: mean of final years, 95% band across replications (clipped to "
                 f"each quantity's range; dots: single runs){note}", fontsize=10)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _with_unit(text: str, name: str) -> str:
    """'label (unit)' for an axis, the unit from the registry."""
    from sim.workflows.datadict import unit

    u = unit(name)
    return f"{text} ({u})" if u and u not in text else text


def clip_band(summary: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """The t interval clipped to the range the quantity can take (a share stays in [0, 1], a
    count above 0): with two replications t is 12.7 and an unclipped band says nothing true
    about where the quantity could be."""
    from sim.workflows.datadict import bounds

    lo, hi = bounds(outcome)
    return summary.assign(ci_low=summary["ci_low"].clip(lower=lo, upper=hi),
                          ci_high=summary["ci_high"].clip(lower=lo, upper=hi))


def paired_effects(runs: pd.DataFrame, factors: list[str], outcomes: list[str],
                   reference: int | None = None) -> pd.DataFrame:
    """Each design point's effect against the reference point (the first), paired by
    replicate: with ``seeds = "common"`` replicate r of every point has the same seed, so the
    difference within a pair carries far less luck than the difference of two means. A 95% t
    interval over the pairs."""
    import pandas as pd

    ref = int(runs["point"].min()) if reference is None else reference
    base = runs[runs.point == ref].set_index("replicate")
    rows = []
    for point, g in runs.groupby("point", sort=True):
        if point == ref:
            continue
        g = g.set_index("replicate")
        for o in outcomes:
            d = (g[o] - base[o]).dropna().to_numpy(float)
            n = len(d)
            mean = float(d.mean()) if n else math.nan
            half = float(_t95(np.array([n]))[0] * d.std(ddof=1) / math.sqrt(n)) if n > 1 \
                else math.nan
            b = float(base[o].mean())
            rows.append({"point": point, **{f: g[f].iloc[0] for f in factors},
                         "reference_point": ref, "outcome": o, "n_pairs": n,
                         "reference_mean": b, "change": mean, "ci_low": mean - half,
                         "ci_high": mean + half,
                         "relative": mean / b if b else math.nan})
    return pd.DataFrame(rows)


def _paired_plot(effects: pd.DataFrame, factors: list[str], outcomes: list[str],
                 path: Path, title: str, reference: str = "the first point") -> None:
    """Change against the reference point with its paired 95% interval, one panel per
    outcome, one row per design point."""
    from sim.workflows.datadict import axis
    from sim.workflows.datadict import label as registry_label

    n = len(outcomes)
    fig, axes = _panel_grid(n, 1.2 + 0.22 * len(factors) * effects["point"].nunique(), ncol=2)
    for ax, o in zip(axes.flat, outcomes, strict=False):
        e = effects[effects.outcome == o].reset_index(drop=True)
        mult, unit = axis(o)
        y = np.arange(len(e))
        ax.errorbar(e["change"] * mult, y, xerr=[(e["change"] - e["ci_low"]) * mult,
                                                 (e["ci_high"] - e["change"]) * mult],
                    fmt="o", capsize=2)
        ax.axvline(0, color="k", lw=0.6)
        ax.set_yticks(y, [point_label(r, factors, "\n") for _, r in e.iterrows()], fontsize=7)
        ax.invert_yaxis()
        ax.margins(y=0.3)
        ax.set(title=registry_label(o),
               xlabel=f"change ({'percentage points' if unit == '%' else unit})")
    _save_panels(fig, axes, n, f"{title}: paired change from {reference} (common seeds: "
                 f"replicate r against replicate r), 95% interval over the pairs", path)


def _short(factor: str) -> str:
    return factor.split(".", 1)[-1]


def point_label(row: Any, factors: list[str], sep: str = ", ") -> str:
    """'early_help_capacity=2, distance_cap_miles=20': a design point by its factor values."""
    return sep.join(f"{_short(f)}={row[f]:g}" if isinstance(row[f], int | float | np.number)
                    else f"{_short(f)}={row[f]}" for f in factors)


def fan_chart(annual: pd.DataFrame, outcomes: list[str], path: Path, title: str,
              max_points: int = 8, names: dict[int, str] | None = None) -> None:
    """Each outcome over time: per design point (up to ``max_points``) the median across
    replications and the band from the lowest to the highest run; with more points, the
    runs pooled in nested quantile bands (5-95% and 25-75%) around the median. The bands
    show spread between runs, not a confidence interval."""
    from sim.workflows.datadict import axis
    from sim.workflows.datadict import label as registry_label

    n = len(outcomes)
    fig, axes = _panel_grid(n, 3.6)
    points = sorted(annual["point"].unique()) if "point" in annual else [0]
    per_point = len(points) <= max_points
    for ax, o in zip(axes.flat, outcomes, strict=False):
        mult, unit = axis(o)
        if per_point:
            for p in points:
                g = annual[annual.point == p] if "point" in annual else annual
                q = g.groupby("year")[o].quantile([0.0, 0.5, 1.0]).unstack() * mult
                line, = ax.plot(q.index, q[0.5], marker="o", ms=3,
                                label=(names or {}).get(p, f"point {p}"))
                ax.fill_between(q.index, q[0.0], q[1.0], color=line.get_color(), alpha=0.15,
                                lw=0)
            if len(points) > 1:
                ax.legend(fontsize=6)
        else:
            q = annual.groupby("year")[o].quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
            q = q * mult
            ax.fill_between(q.index, q[0.05], q[0.95], alpha=0.2, lw=0, label="5-95%")
            ax.fill_between(q.index, q[0.25], q[0.75], alpha=0.35, lw=0, label="25-75%")
            ax.plot(q.index, q[0.5], "k-", lw=1.2, label="median")
            ax.legend(fontsize=7)
        ax.set(title=registry_label(o), ylabel=unit, xlabel="year (DfE, to 31 March)")
        ax.xaxis.get_major_locator().set_params(integer=True)
    what = ("per design point: median and range across replications" if per_point
            else f"all {annual['run_id'].nunique()} runs: median and quantile bands")
    _save_panels(fig, axes, n, f"{title}: over time, {what}", path)


def point_means(runs: pd.DataFrame, n_points: int, outcome: str) -> np.ndarray:
    """One value per design point (mean over replications), in design order; all must exist."""
    means = runs.groupby("point")[outcome].mean()
    missing = sorted(set(range(n_points)) - set(means.index))
    if missing:
        raise ConfigError(f"{outcome}: design points {missing[:10]} have no successful run "
                          f"(see failures.csv), so the {n_points}-point design is incomplete; "
                          f"a run that raised raises again with the same seed, so fix its cause "
                          f"first, then rerun it with --resume --retry-failed")
    return means.reindex(range(n_points)).to_numpy(float)


def sobol_indices(manifest: dict[str, Any], runs: pd.DataFrame,
                  outcomes: list[str]) -> pd.DataFrame:
    import pandas as pd
    from SALib.analyze import sobol

    exp = manifest["experiment"]
    problem = _problem(exp)
    rows = []
    for o in outcomes:
        Y = point_means(runs, len(manifest["design_points"]), o)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            S = sobol.analyze(problem, Y, calc_second_order=exp["second_order"],
                              seed=exp["seed"], print_to_console=False)
        for i, f in enumerate(problem["names"]):
            rows.append({"outcome": o, "factor": f, "S1": S["S1"][i], "S1_conf": S["S1_conf"][i],
                         "ST": S["ST"][i], "ST_conf": S["ST_conf"][i]})
    return pd.DataFrame(rows)


def morris_indices(manifest: dict[str, Any], runs: pd.DataFrame,
                   outcomes: list[str]) -> pd.DataFrame:
    import pandas as pd
    from SALib.analyze import morris

    exp = manifest["experiment"]
    problem = _problem(exp)
    X = np.array([[p[f] for f in problem["names"]] for p in manifest["design_points"]], float)
    rows = []
    for o in outcomes:
        Y = point_means(runs, len(X), o)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            S = morris.analyze(problem, X, Y, num_levels=exp["levels"], seed=exp["seed"])
        for i, f in enumerate(problem["names"]):
            rows.append({"outcome": o, "factor": f, "mu": S["mu"][i], "mu_star": S["mu_star"][i],
                         "sigma": S["sigma"][i], "mu_star_conf": S["mu_star_conf"][i]})
    return pd.DataFrame(rows)


def lhs_correlations(runs: pd.DataFrame, factors: list[str], outcomes: list[str]) -> pd.DataFrame:
    import pandas as pd
    from scipy import stats

    rows = []
    for o in outcomes:
        for f in factors:
            ok = runs[[f, o]].dropna()
            rho, p = stats.spearmanr(ok[f], ok[o]) if len(ok) > 2 else (math.nan, math.nan)
            rows.append({"outcome": o, "factor": f, "spearman_rho": rho, "p_value": p,
                         "n": len(ok)})
    return pd.DataFrame(rows)


def _problem(exp: dict[str, Any]) -> dict[str, Any]:
    fs = exp["factors"]
    return {"num_vars": len(fs), "names": [f["name"] for f in fs],
            "bounds": [[f["min"], f["max"]] for f in fs]}


def _panel_grid(n: int, height: float, ncol: int = 3):
    """A figure of ``n`` panels, at most ``ncol`` a row (matplotlib's Agg backend: files only)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ncol = min(ncol, n)
    nrow = math.ceil(n / ncol)
    return plt.subplots(nrow, ncol, figsize=(5 * ncol, height * nrow), squeeze=False,
                        constrained_layout=True)


def _save_panels(fig, axes, n: int, title: str, path: Path) -> None:
    """Hide the unused panels, title the figure and write it."""
    import matplotlib.pyplot as plt

    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=10)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _bars(table: pd.DataFrame, outcomes: list[str], cols: tuple[str, str], path: Path,
          title: str) -> None:
    """Index bars per factor, one panel per outcome, with the bootstrap intervals."""
    from sim.workflows.datadict import label

    n = len(outcomes)
    fig, axes = _panel_grid(n, 3.6)
    for ax, o in zip(axes.flat, outcomes, strict=False):
        t = table[table.outcome == o]
        y = np.arange(len(t))
        for k, col in enumerate(cols):
            ax.barh(y + (k - 0.5) * 0.38, t[col], height=0.38, xerr=t[col + "_conf"],
                    label=col, capsize=2)
        ax.set_yticks(y, [_short(f) for f in t.factor], fontsize=8)
        ax.set_title(label(o), fontsize=9)
        ax.set_xlabel("share of the outcome's variance")
        ax.axvline(0, color="k", lw=0.5)
        ax.legend(fontsize=7)
    _save_panels(fig, axes, n, title, path)


def _morris_plot(table: pd.DataFrame, outcomes: list[str], path: Path, title: str) -> None:
    from sim.workflows.datadict import axis, label

    n = len(outcomes)
    fig, axes = _panel_grid(n, 3.8)
    for ax, o in zip(axes.flat, outcomes, strict=False):
        t = table[table.outcome == o]
        mult, unit = axis(o)
        ax.scatter(t.mu_star * mult, t.sigma * mult)
        mid = float(t.mu_star.mean() * mult) if len(t) else 0.0
        for _, r in t.iterrows():  # labels point inwards, so none runs off the panel
            right = r.mu_star * mult > mid
            ax.annotate(_short(r.factor), (r.mu_star * mult, r.sigma * mult), fontsize=7,
                        xytext=(-4 if right else 4, 3), textcoords="offset points",
                        ha="right" if right else "left", annotation_clip=False)
        ax.margins(x=0.15, y=0.15)
        ax.set(title=label(o), xlabel=f"mu*: mean |elementary effect| ({unit})",
               ylabel=f"sigma ({unit})")
    _save_panels(fig, axes, n, title, path)


def _scatter(runs: pd.DataFrame, factors: list[str], outcomes: list[str], path: Path,
             title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.workflows.datadict import axis, label

    fig, axes = plt.subplots(len(outcomes), len(factors),
                             figsize=(3.2 * len(factors), 2.6 * len(outcomes)), squeeze=False,
                             constrained_layout=True)
    for i, o in enumerate(outcomes):
        for j, f in enumerate(factors):
            ax = axes[i, j]
            ax.scatter(runs[f], runs[o] * axis(o)[0], s=6, alpha=0.6)
            if i == len(outcomes) - 1:
                ax.set_xlabel(_with_unit(_short(f), f), fontsize=8)
            if j == 0:
                ax.set_ylabel(f"{label(o)}\n({axis(o)[1]})", fontsize=7)
            ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=10)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def analyse(folder: str | Path, outcomes: list[str] | None = None,
            out: str | Path | None = None) -> list[Path]:
    """Write the analysis of the sweep in ``folder``; returns the files written."""
    from sim.output import staged, write_csv

    manifest, runs = load_sweep(folder)
    exp = manifest["experiment"]
    kind = exp["kind"]
    factors = [f["name"] for f in exp["factors"]]
    drawn = choose_outcomes(runs, manifest, outcomes)[:MAX_PANELS] if outcomes is None else \
        choose_outcomes(runs, manifest, outcomes)
    every = outcomes or exp["outcomes"]
    if runs.empty:
        raise ConfigError(f"{folder}: runs.csv has no successful runs to analyse")
    out = Path(out) if out else Path(folder) / "analysis"
    title = f"{exp['name']} ({kind}, {len(manifest['design_points'])} points x "\
            f"{exp['replications']} replications)"
    with staged(out) as stage:
        if kind == "sobol":
            table = sobol_indices(manifest, runs, every)
            write_csv(table, stage / "sobol_indices.csv")
            _bars(table, drawn, ("S1", "ST"), stage / "sobol.png",
                  f"Sobol indices, {title}")
        elif kind == "morris":
            table = morris_indices(manifest, runs, every)
            write_csv(table, stage / "morris_indices.csv")
            _morris_plot(table, drawn, stage / "morris.png", f"Morris screening, {title}")
        elif kind == "lhs":
            write_csv(lhs_correlations(runs, factors, every), stage / "lhs_correlations.csv")
            _scatter(runs, factors, drawn, stage / "lhs.png", title)
        else:
            write_csv(summarise(runs, factors, every), stage / "grid_summary.csv")
            plot_grid(runs, factors, drawn, stage / "grid.png", title)
            if exp.get("seeds") == "common" and runs["point"].nunique() > 1:
                effects = paired_effects(runs, factors, every)
                write_csv(effects, stage / "paired_effects.csv")
                first = runs[runs.point == runs.point.min()].iloc[0]
                _paired_plot(effects, factors, drawn, stage / "paired.png", title,
                             reference=point_label(first, factors))
        annual = _annual(folder)
        if annual is not None and not annual.empty:
            names = {int(p): point_label(g.iloc[0], factors)
                     for p, g in runs.groupby("point")} if factors else None
            fan_chart(annual, [o for o in drawn if o in annual], stage / "fan.png", title,
                      names=names)
        written = sorted(p.name for p in stage.iterdir())
    return [out / name for name in written]


def _annual(folder: str | Path) -> pd.DataFrame | None:
    """The sweep's annual table with each run's design point (older sweeps lack the column)."""
    from sim.workflows.sweep import read_table

    try:
        annual = read_table(folder, "annual")
    except ConfigError:
        return None
    if "point" not in annual and "run_id" in annual:
        runs = read_table(folder, "runs")[["run_id", "point"]]
        annual = annual.merge(runs, on="run_id")
    return annual


def cmd_analyse(args: argparse.Namespace) -> int:
    wanted = [o.strip() for o in args.outcomes.split(",")] if args.outcomes else None
    files = analyse(args.dir, wanted, args.out)
    print("wrote " + ", ".join(str(f) for f in files))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    an = sub.add_parser("analyse", help="sensitivity indices and plots of a finished sweep")
    an.add_argument("dir", help="a sweep folder (from cscsim sweep or cscsim merge)")
    an.add_argument("--outcomes", help="comma-separated outcomes (default: all in the CSV, the "
                    "headline ones drawn)")
    an.add_argument("--out", help="folder for the analysis (default: DIR/analysis)")
    an.set_defaults(func=cmd_analyse)


def paired_effect(runs: pd.DataFrame, factor: str, a: Any, b: Any, outcome: str,
                  where: dict[str, Any] | None = None) -> dict[str, float]:
    """Mean change in ``outcome`` when ``factor`` moves from ``a`` to ``b``, paired by replicate.

    Meant for sweeps with ``seeds = "common"``, where replicate r has the same seed at ``a`` and
    ``b``, so the difference within a pair is the policy's effect plus far less luck than two
    independent runs would carry. Returns the mean difference, a 95% t interval and n pairs.
    """
    sel = runs
    for k, v in (where or {}).items():
        sel = sel[sel[k] == v]
    left = sel[sel[factor] == a].set_index("replicate")[outcome]
    right = sel[sel[factor] == b].set_index("replicate")[outcome]
    d = (right - left).dropna().to_numpy(float)
    n = len(d)
    mean = float(d.mean()) if n else math.nan
    half = float(_t95(np.array([n]))[0] * d.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    base = float(left.mean()) if len(left) else math.nan
    return {"from": base, "change": mean, "ci_low": mean - half, "ci_high": mean + half,
            "relative": mean / base if base else math.nan, "n": n}


def experiment_runs(name: str, description: str) -> tuple[pd.DataFrame, Path]:
    """The command line shared by the named experiment scripts: parse ``--workers`` and
    ``--out``, run (or finish, or reuse) the sweep of ``experiments/<name>.toml`` and return its
    runs and the path of the figure to draw, ``results/figures/<name>.png``."""
    import argparse

    root = Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(description=description.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default=str(root / "results" / name))
    args = ap.parse_args()
    runs = ensure_sweep(root / "experiments" / f"{name}.toml", args.out, args.workers)
    fig = root / "results" / "figures" / f"{name}.png"
    fig.parent.mkdir(parents=True, exist_ok=True)
    return runs, fig


def ensure_sweep(experiment: str | Path, out: str | Path, workers: int = 2,
                 quiet: bool = False) -> pd.DataFrame:
    """runs.csv of ``experiment`` in ``out``, sweeping (or resuming) first if it is incomplete.

    The experiment scripts in ``experiments/`` call this, so rerunning a script after a crash
    completes the sweep instead of starting again, and rerunning it after success only redraws.
    """
    import pandas as pd

    from sim.workflows.experiment import load_experiment
    from sim.workflows.sweep import run_sweep

    out = Path(out)
    manifest = out / "manifest.json"
    m = json.loads(manifest.read_text()) if manifest.exists() else {}
    if not (m.get("complete") and m.get("digest") == load_experiment(experiment).digest()):
        # resumes an interrupted sweep; refuses (ConfigError) if the folder holds another
        # experiment, e.g. after the model's defaults changed: remove the folder to rerun
        run_sweep(experiment, out, workers=workers, resume=True, quiet=quiet)
    return pd.read_csv(out / "runs.csv")


def effect_lines(runs: pd.DataFrame, factor: str, a: Any, b: Any, outcomes: list[str],
                 by: str | None = None) -> list[str]:
    """Printable paired effects of ``factor`` a -> b on each outcome (per value of ``by``)."""
    lines = []
    groups = sorted(runs[by].unique()) if by else [None]
    for g in groups:
        where = {by: g} if by else None
        head = f"{factor} {a:g} -> {b:g}" + (f" at {by} = {g:g}" if by else "")
        lines.append(head)
        for o in outcomes:
            e = paired_effect(runs, factor, a, b, o, where)
            lines.append(f"  {o:<28} {e['from']:>14,.4g} -> change {e['change']:>+12,.4g} "
                         f"({e['relative']:+.1%}; 95% CI {e['ci_low']:+,.4g} to "
                         f"{e['ci_high']:+,.4g}; {e['n']} pairs)")
    return lines
