"""``cscsim report DIR [OTHER]``: one self-contained HTML page of a run, a sweep or a comparison.

Who it is for: someone who was sent a results folder and wants to know what is in it without
Python. The page carries everything inside itself (figures as base64 PNGs, tables as HTML, the
manifest as text, no scripts, no fonts or styles from the internet), so it opens offline, can
be mailed on its own and still says what produced it.

- a **run** folder (``cscsim run``): the headline indicators by year, the summary figure, the
  authorities in the final year, the placements by kind and how they ended, definitions of the
  columns shown, and the manifest;
- a **sweep** folder (``cscsim sweep``/``merge``): the design, the analysis figures and tables
  of ``cscsim analyse`` (drawn afresh, nothing written into the sweep), failures, the manifest;
- **two run folders**: a comparison, year by year, paired when the seeds are equal.

Bad input (a missing folder, a folder that is neither a run nor a sweep, a sweep given as one
side of a comparison) is a :class:`~sim.config.ConfigError`: one line, exit 2, nothing written.
The page is written to a temporary file and renamed, so it is never half-written.
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.config import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from sim.workflows.api import Results

#: The rows of the headline table: the brief's questions, in the order a reader asks them.
HEADLINE = (
    "cla_rate_per_10k", "care_entries_rate_per_10k", "referrals_rate_per_10k",
    "cin_rate_per_10k", "cpp_rate_per_10k", "early_help_places", "placement_breakdown_rate",
    "share_3plus_placements_in_year", "share_over_20_miles", "share_out_of_area",
    "sibling_separation_share", "family_contact_lost_share", "for_profit_share",
    "spend_total_gbp", "overspend_gbp",
)

STYLE = """
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1200px; color: #222; line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 1.6em; }
.sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: right; white-space: nowrap; }
th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }
td.text { text-align: left; }
img { max-width: 100%; border: 1px solid #eee; }
.facts td { text-align: left; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.8em; }
.note { color: #555; font-size: 0.9em; }
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{{ title }}</title>
<style>{{ style }}</style></head>
<body>
<h1>{{ title }}</h1>
<p class="sub">{{ subtitle }}</p>
<table class="facts">
{% for k, v in facts %}<tr><th>{{ k }}</th><td>{{ v }}</td></tr>
{% endfor %}</table>
{% for s in sections %}
<h2>{{ s.heading }}</h2>
{% if s.note %}<p class="note">{{ s.note }}</p>{% endif %}
{% if s.image %}<img alt="{{ s.heading }}" src="data:image/png;base64,{{ s.image }}">{% endif %}
{% if s.table %}{{ s.table | safe }}{% endif %}
{% if s.pre %}<details><summary>show</summary><pre>{{ s.pre }}</pre></details>{% endif %}
{% endfor %}
<p class="note">Written by <code>cscsim report</code>. Counts and money are for the simulated
sample (divide by the scale for the whole area); every column is defined in
docs/indicators.md.</p>
</body></html>
"""


# --- pieces ------------------------------------------------------------------------------
def _png(fig) -> str:
    """A matplotlib figure as base64 PNG (closed afterwards)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _file_png(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def _fmt(value: Any, name: str = "") -> str:
    """A number as a reader wants it: shares in per cent, money in pounds with separators."""
    import math

    from sim.workflows.datadict import unit

    if isinstance(value, str):
        return value
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return ""
    u = unit(name)
    if u == "share":
        return f"{100 * v:.1f}%"
    if u.startswith("GBP"):
        sign, v = ("-" if v < 0 else ""), abs(v)
        return f"{sign}£{v / 1e6:,.1f}m" if v >= 1e6 else f"{sign}£{v:,.0f}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if v == int(v):
        return f"{int(v)}"
    return f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"


def _table(df: pd.DataFrame, formats: dict[str, str] | None = None, index: bool = False,
           max_rows: int = 60) -> str:
    """An HTML table with each column formatted by its indicator's unit (``formats`` maps a
    column to the indicator that gives its unit)."""
    formats = formats or {}
    shown = df.head(max_rows)
    cols = list(shown.columns)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in ([shown.index.name or ""] if index
                                                                else []) + cols)
    rows = []
    for idx, r in shown.iterrows():
        cells = [f"<td class='text'>{html.escape(str(idx))}</td>"] if index else []
        for c in cols:
            v = r[c]
            text = _fmt(v, formats.get(c, c if isinstance(c, str) else ""))
            cls = " class='text'" if isinstance(v, str) else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = f"<p class='note'>first {max_rows} of {len(df)} rows</p>" if len(df) > max_rows else ""
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>{more}"


def headline_table(annual: pd.DataFrame) -> pd.DataFrame:
    """The headline indicators by year: one row per indicator (label, unit), one column per
    year, values formatted by unit."""
    import pandas as pd

    from sim.workflows.datadict import label, unit

    names = [n for n in HEADLINE if n in annual]
    rows = []
    for n in names:
        u = unit(n)
        row = {"indicator": label(n), "unit": "%" if u == "share" else u}
        row |= {str(int(y)): _fmt(v, n) for y, v in zip(annual["year"], annual[n], strict=True)}
        rows.append(row)
    return pd.DataFrame(rows).set_index("indicator")


def _definitions(names: list[str]) -> str:
    import pandas as pd

    from sim.indicators import BY_NAME

    df = pd.DataFrame([{"column": n, "unit": BY_NAME[n].unit, "definition": BY_NAME[n].definition}
                       for n in names if n in BY_NAME])
    return _table(df, max_rows=100)


def _manifest_text(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=2, default=str)


def _render(title: str, subtitle: str, facts: list[tuple[str, str]],
            sections: list[dict[str, Any]]) -> str:
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    sections = [{"note": "", "image": "", "table": "", "pre": "", **s} for s in sections]
    return env.from_string(TEMPLATE).render(title=title, subtitle=subtitle, facts=facts,
                                            sections=sections, style=STYLE)


# --- a run -------------------------------------------------------------------------------
def run_report(r: Results) -> str:
    """The HTML page of one run."""
    import pandas as pd

    from sim.workflows.plots import summary_figure

    m, sc = r.manifest, r.scenario
    run = sc.get("run", {})
    facts = [
        ("scenario", ": ".join(x for x in (sc.get("name"), sc.get("description")) if x)),
        ("region, scale", f"{run.get('region')}, {run.get('scale')} of families "
                          f"(counts and money are for this sample)"),
        ("seed", str(run.get("seed"))),
        ("years", f"{int(r.annual['year'].min())} to {int(r.annual['year'].max())} (DfE years, "
                  f"to 31 March)" + (f", after a {run['burn_in_years']}-year burn-in"
                                      if run.get("burn_in_years") else ", no burn-in")),
        ("families, children", f"{m.get('families', 0):,} families, {m.get('children', 0):,} "
                               f"children ever simulated"),
        ("made by", f"cscsim {m.get('cscsim_version', '?')}, commit "
                    f"{(m.get('git_commit') or 'unknown')[:10]}, Python {m.get('python', '?')}"),
    ]
    sections: list[dict[str, Any]] = [
        {"heading": "Headline indicators by year",
         "table": _table(headline_table(r.annual), index=True)},
        {"heading": "Summary figure",
         "image": _png(summary_figure(r.annual, None, title=r.title))},
    ]
    by = r.by_authority
    if not by.empty:
        last = by[by["year"] == by["year"].max()]
        cols = ["authority", "deprivation_decile", "children", "cla", "cla_rate_per_10k",
                "care_entries_rate_per_10k", "share_over_20_miles", "placement_breakdown_rate",
                "overspend_gbp"]
        cols = [c for c in cols if c in last]
        t = last[cols].sort_values("cla_rate_per_10k", ascending=False)
        sections.append({"heading": f"Authorities in {int(by['year'].max())}",
                         "note": "Sorted by children looked after per 10,000 children. Ratios "
                                 "of a group of authorities: sum the numerators and "
                                 "denominators (docs/indicators.md), never average.",
                         "table": _table(t)})
    pl = r.placements
    if not pl.empty:
        kinds = pl.groupby("provider_kind").agg(
            placements=("placement_id", "size"), open_now=("end_week", lambda s: s.isna().sum()),
            mean_miles=("distance_miles", "mean"),
            out_of_area=("out_of_area", "mean"), for_profit=("for_profit", "mean"),
            mean_weekly_price=("weekly_price_gbp", "mean"))
        kinds.index.name = "kind"
        ends = pd.crosstab(pl["provider_kind"], pl["end_reason"])
        ends.index.name = "kind"
        sections += [
            {"heading": "Placements by kind",
             "note": "Every placement in placements.csv, including the initial stock and any "
                     "burn-in (negative weeks). out_of_area and for_profit are shares.",
             "table": _table(kinds, {"out_of_area": "share_out_of_area",
                                     "for_profit": "for_profit_share",
                                     "mean_weekly_price": "spend_total_gbp"}, index=True)},
            {"heading": "How placements ended", "table": _table(ends, index=True)},
        ]
    sections += [
        {"heading": "What the columns mean", "table": _definitions(list(HEADLINE))},
        {"heading": "Manifest", "note": "The fully resolved scenario, versions and timings.",
         "pre": _manifest_text(m)},
    ]
    where = f"Run folder {r.folder}" if r.folder else "A run made in Python"
    return _render(r.title, where, facts, sections)


# --- two runs ----------------------------------------------------------------------------
def comparison_report(a: Results, b: Results) -> str:
    """The HTML page comparing run ``b`` with run ``a`` year by year."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.workflows.datadict import axis, label

    names = [n for n in HEADLINE if n in a.annual and n in b.annual]
    diff = a.compare(b, names)
    paired = bool(diff.attrs["paired"])
    last = diff[diff["year"] == diff["year"].max()].copy()
    mean = diff.groupby("indicator", sort=False)[["this", "other", "difference"]].mean()
    table = last.set_index("indicator")[["this", "other", "difference", "relative"]]
    table["mean difference, all years"] = mean["difference"]
    rows = []
    for n in names:
        r = table.loc[n]
        rows.append({"indicator": label(n), "A": _fmt(r["this"], n), "B": _fmt(r["other"], n),
                     "B - A": _fmt(r["difference"], n) if axis(n)[1] != "%" else
                     f"{100 * r['difference']:+.1f} points",
                     "relative": f"{100 * r['relative']:+.1f}%",
                     "mean B - A, all years": _fmt(r["mean difference, all years"], n)
                     if axis(n)[1] != "%" else
                     f"{100 * r['mean difference, all years']:+.1f} points"})
    import pandas as pd

    shown = pd.DataFrame(rows)
    fig, axes = plt.subplots(2, 3, figsize=(15, 8), constrained_layout=True)
    for ax, n in zip(axes.flat, ["cla_rate_per_10k", "care_entries_rate_per_10k",
                                 "placement_breakdown_rate", "share_over_20_miles",
                                 "spend_total_gbp", "early_help_places"], strict=False):
        if n not in names:
            ax.set_visible(False)
            continue
        mult, unit = axis(n)
        for res, tag in ((a, "A"), (b, "B")):
            ax.plot(res.annual["year"], res.annual[n] * mult, marker="o", ms=3,
                    label=f"{tag}: {res.scenario.get('name')}")
        ax.set(title=label(n), ylabel=unit, xlabel="year (DfE, to 31 March)")
        ax.set_ylim(bottom=0)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=8)
    fig.suptitle(f"A = {a.title}\nB = {b.title}", fontsize=11)
    note = ("The two runs have the same seed, so they share their random streams: the "
            "difference is mostly the scenarios' effect, with less luck in it than two "
            "independent runs would carry." if paired else
            "The runs have different seeds: the difference mixes the scenarios' effect with "
            "luck. Rerun with the same seed, or sweep both with common seeds for intervals.")
    facts = [("A", a.title), ("B", b.title), ("paired", "yes (same seed)" if paired else "no")]
    sections = [
        {"heading": f"B against A in {int(diff['year'].max())}", "note": note,
         "table": _table(shown)},
        {"heading": "Over time", "image": _png(fig)},
        {"heading": "Manifest of A", "pre": _manifest_text(a.manifest)},
        {"heading": "Manifest of B", "pre": _manifest_text(b.manifest)},
    ]
    return _render(f"Comparison: {b.scenario.get('name')} against {a.scenario.get('name')}",
                   f"A = {a.folder}, B = {b.folder}", facts, sections)


# --- a sweep -----------------------------------------------------------------------------
def sweep_report(folder: Path) -> str:
    """The HTML page of a finished sweep; the analysis is drawn into a temporary folder."""
    import pandas as pd

    from sim.workflows.analyse import analyse, load_sweep
    from sim.workflows.sweep import read_table

    manifest, _ = load_sweep(folder)
    exp = manifest["experiment"]
    factors = [f["name"] for f in exp["factors"]]
    r = manifest["runs"]
    facts = [
        ("experiment", f"{exp['name']}: {manifest.get('description', '')}"),
        ("design", f"{exp['kind']}, {len(manifest['design_points'])} points x "
                   f"{exp['replications']} replications, root seed {exp['seed']} "
                   f"({exp['seeds']} seeds)"),
        ("runs", f"{r['ok']} ok, {r['failed']} failed, {r['missing']} missing"),
        ("outcomes", f"means over the final {exp['final_years']} simulated years"),
        ("made by", f"cscsim {manifest.get('cscsim_version', '?')}, commit "
                    f"{(manifest.get('git_commit') or 'unknown')[:10]}"),
    ]
    points = pd.DataFrame(manifest["design_points"])
    points.index.name = "point"
    sections: list[dict[str, Any]] = [
        {"heading": "Design points", "table": _table(points, index=True)}]
    captions = {
        "grid.png": "Outcome against the factors: mean of the final years, 95% band across "
                    "replications",
        "paired.png": "Paired effects (common seeds)",
        "fan.png": "Over time",
        "sobol.png": "Sobol indices", "morris.png": "Morris screening",
        "lhs.png": "Outcomes against factors (Latin hypercube)",
    }
    with tempfile.TemporaryDirectory() as tmp:
        if r["ok"]:
            files = analyse(folder, out=Path(tmp) / "analysis")
            for f in sorted(files, key=lambda p: list(captions).index(p.name)
                            if p.name in captions else 99):
                if f.suffix == ".png":
                    sections.append({"heading": captions.get(f.name, f.name),
                                     "image": _file_png(f)})
            for f in files:
                if f.name == "paired_effects.csv":
                    e = pd.read_csv(f)
                    e = e[["outcome", *factors, "n_pairs", "reference_mean", "change",
                           "ci_low", "ci_high", "relative"]]
                    sections.append({"heading": "Paired effects",
                                     "table": _table(e, {c: "" for c in e.columns})})
                elif f.suffix == ".csv" and f.name != "grid_summary.csv":
                    sections.append({"heading": f.name, "table": _table(pd.read_csv(f))})
    failures = read_table(folder, "failures")
    if len(failures):
        sections.append({"heading": "Failed runs", "table": _table(
            failures.drop(columns=["traceback"], errors="ignore"))})
    sections.append({"heading": "Manifest", "pre": _manifest_text(
        {k: v for k, v in manifest.items() if k != "sessions"})})
    return _render(f"Sweep: {exp['name']}", f"Sweep folder {folder}", facts, sections)


# --- the command -------------------------------------------------------------------------
def _kind(folder: Path) -> str:
    from sim.workflows.api import is_run_folder

    if not folder.exists():
        raise ConfigError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise ConfigError(f"{folder} is a file, not a run's or a sweep's folder")
    m = folder / "manifest.json"
    if m.exists():
        try:
            kind = json.loads(m.read_text()).get("kind")
        except ValueError:
            raise ConfigError(f"{m} is not valid JSON") from None
        if kind == "cscsim sweep":
            return "sweep"
    if is_run_folder(folder):
        return "run"
    raise ConfigError(f"{folder} is neither a run's folder (manifest.json, annual.csv, "
                      f"placements.csv) nor a finished sweep's")


def report(folders: list[str | Path], out: str | Path | None = None) -> Path:
    """Write the report of one run or sweep folder, or of a comparison of two run folders;
    returns the path of the page."""
    from sim.workflows.api import load

    paths = [Path(f) for f in folders]
    if not 1 <= len(paths) <= 2:
        raise ConfigError("report: give one folder (a run or a sweep) or two run folders")
    kinds = [_kind(p) for p in paths]
    if len(paths) == 2:
        if "sweep" in kinds:
            raise ConfigError("report: a comparison needs two run folders, not a sweep")
        page = comparison_report(load(paths[0]), load(paths[1]))
        default = paths[1] / f"compare_with_{paths[0].resolve().name}.html"
    elif kinds[0] == "sweep":
        page = sweep_report(paths[0])
        default = paths[0] / "report.html"
    else:
        page = run_report(load(paths[0]))
        default = paths[0] / "report.html"
    target = Path(out) if out else default
    if target.parent and not target.parent.is_dir():
        raise ConfigError(f"--out {target}: folder {target.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is for sharing
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def cmd_report(args: argparse.Namespace) -> int:
    path = report(args.dirs, args.out)
    print(f"wrote {path}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    rp = sub.add_parser("report", help="a self-contained HTML report of a run, a sweep, or two "
                        "runs compared (opens offline)")
    rp.add_argument("dirs", nargs="+", metavar="DIR",
                    help="a run or sweep folder; or two run folders to compare (B against A)")
    rp.add_argument("--out", help="the HTML file (default: DIR/report.html; for a comparison "
                    "B/compare_with_A.html)")
    rp.set_defaults(func=cmd_report)
