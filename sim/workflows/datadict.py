"""The data dictionary: every column of every file cscsim writes, with units and how to combine.

:mod:`sim.indicators` defines the indicators; this module adds what an analyst needs to read
and recombine the output files: the identifying columns, the helper counts behind each ratio,
the scenario inputs written beside them, the columns of ``placements.csv`` and ``children.csv``
and of a sweep's files, a short label and a plotting unit for every indicator, and the range a
quantity can take (so that confidence bands are not drawn where the quantity cannot go).

``docs/indicators.md`` (``cscsim indicators``) and ``docs/indicators.csv`` (``cscsim indicators
--format csv``) are generated from here and a test keeps both in step.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from sim import indicators as ind
from sim.parameters import BY_NAME as PARAMS_BY_NAME
from sim.population import End

RUN_ANNUAL = ("annual.csv", "annual_by_la.csv", "sweep annual.csv")

#: How rows combine, by kind of column (the note in docs/indicators.md says why).
AGGREGATE = {
    "flow": "sum over authorities; sum over years for a multi-year total",
    "stock": "sum over authorities in the same year; never sum over years (a year-end count)",
    "ratio": "never average: sum the numerator and the denominator over the rows, then divide",
    "input": "one scenario value per year, the same for every authority: do not sum",
    "id": "a key to group or join by",
    "factor": "a key to group by: the design point's value",
    "outcome": "a run's mean over the final years; average across replications",
    "record": "one row per record: count rows, or sum the column over the rows you select",
}

#: Short labels for figures (a figure title has room for a few words, not a definition).
LABELS = {
    "children": "children in the area",
    "cla": "children looked after",
    "cla_rate_per_10k": "children looked after",
    "care_entries": "entries into care",
    "care_entries_rate_per_10k": "entries into care",
    "care_exits": "exits from care",
    "referrals_rate_per_10k": "referrals",
    "s47_rate_per_10k": "Section 47 enquiries",
    "cin_rate_per_10k": "children in need",
    "cpp_rate_per_10k": "children on protection plans",
    "early_help_places": "early-help places",
    "early_help_started": "early-help episodes started",
    "placement_breakdowns": "placement breakdowns",
    "placement_breakdown_rate": "placement breakdowns",
    "placement_moves": "placement moves",
    "share_3plus_placements_in_year": "3+ placements in the year",
    "share_over_20_miles": "placed over 20 miles away",
    "share_out_of_area": "placed outside home authority",
    "mean_distance_miles": "mean distance from home",
    "for_profit_share": "placed with for-profit providers",
    "sibling_separation_share": "apart from a sibling in care",
    "family_contact_lost_share": "lost contact with family",
    "spend_early_help_gbp": "early-help spending",
    "spend_social_work_gbp": "social-work spending",
    "spend_placements_gbp": "placement spending",
    "spend_total_gbp": "total spending",
    "budget_gbp": "budget",
    "overspend_gbp": "overspend",
    "provider_profit_gbp": "for-profit providers' profit",
    "sw_caseload": "social-work caseload",
}

#: Quantities that can be negative (everything else is a count, a rate, money spent or a share).
SIGNED = {"provider_profit_gbp"}

#: What each helper count is (helpers added to sim/indicators.py without an entry here are still
#: documented, by the ratios they feed).
HELPER_TEXT = {
    "care_years": ("flow", "child-years", "years spent in care by all children in the year "
                   "(`care_weeks` / 52)"),
    "cla_3plus": ("stock", "children", "children looked after at year end who had 3 or more "
                  "placements during the year"),
    "cla_over_20": ("stock", "children", "children looked after at year end, home known, placed "
                    "more than 20 road miles from home"),
    "cla_out_of_area": ("stock", "children", "children looked after at year end placed outside "
                        "their home authority"),
    "cla_miles": ("stock", "miles", "sum of road miles from home to placement over children "
                  "looked after at year end whose home is known"),
    "cla_distance_known": ("stock", "children", "children looked after at year end whose home "
                           "is known (all but unaccompanied asylum-seeking children)"),
    "cla_for_profit": ("stock", "children", "children looked after at year end placed with a "
                       "for-profit provider"),
    "cla_separated": ("stock", "children", "children looked after at year end living apart from "
                      "at least one sibling in care"),
    "cla_with_sibling_in_care": ("stock", "children", "children looked after at year end with a "
                                 "sibling in care"),
    "cla_contact_lost": ("stock", "children", "children looked after at year end whose contact "
                         "with their birth family has lapsed"),
    **{f"cla_{k}": ("stock", "children", f"children looked after at year end in "
                    f"{'an' if k[0] in 'aeiou' else 'a'} {k.replace('_', ' ')} placement")
       for k in ind.KIND_NAMES},
    "sw_working": ("stock", "FTE", "social workers at work at year end: employed plus agency"),
    "sw_vacancies": ("stock", "FTE", "vacant posts at year end: funded posts less employed"),
}

BY_LA_IDS = (
    ("gss_code", "text", "the authority's ONS GSS code (E06..., E08..., E09..., E10...)"),
    ("authority", "text", "the authority's name"),
    ("deprivation_score", "IMD score", "the authority's average Index of Multiple Deprivation "
     "score (higher: more deprived)"),
    ("deprivation_decile", "decile", "the authority's deprivation decile among England's "
     "authorities (10: most deprived)"),
)

PLACEMENTS = (
    ("placement_id", "id", "id", "the placement's number, in the order placements began"),
    ("child_id", "id", "id", "the child (joins `children.csv`)"),
    ("home_authority", "id", "text", "GSS code of the child's home authority (the one paying)"),
    ("provider_id", "id", "id", "the provider; -1 for kinship carers and emergency placements, "
     "which have none"),
    ("provider_kind", "record", "text", "kind of placement: " + ", ".join(ind.KIND_NAMES)),
    ("for_profit", "record", "true/false", "whether the provider is run for profit"),
    ("start_week", "record", "model week", "week the placement began (week 0 starts year 1; "
     "negative: before year 1, in the burn-in or the initial stock)"),
    ("end_week", "record", "model week", "week it ended; empty while still open"),
    ("end_reason", "record", "text", "why it ended: " + ", ".join(e.name.lower() for e in End)
     + " (sgo: special guardianship; moved: a planned move; open: not ended)"),
    ("distance_miles", "record", "miles", "road miles from the child's home neighbourhood to the "
     "placement"),
    ("out_of_area", "record", "true/false", "placed outside the home authority"),
    ("with_siblings", "record", "true/false", "placed together with a sibling"),
    ("weekly_price_gbp", "record", "GBP per week", "weekly price paid when it began (repriced "
     "with `placements.price_index`)"),
    ("placement_node", "record", "id", "neighbourhood (network node) where the child lived"),
    ("legal_status", "record", "s20 / interim / care_order / placement_order",
     "the child's legal status when the placement began: section 20 (voluntary "
     "accommodation), an interim care order during proceedings, a full care order, or a "
     "placement order (placed for adoption)"),
    ("la_run", "record", "true/false", "the provider is run by the child's own authority"),
    ("care_entry_week", "record", "model week", "week the period of care this placement belongs "
     "to began; empty if the run recorded no events"),
    ("care_order", "record", "true/false", "the period of care began through care proceedings; "
     "empty for the initial stock, whose route is not modelled"),
)

CHILDREN = (
    ("child_id", "id", "id", "the child (one row per child ever placed)"),
    ("family_id", "id", "id", "the child's birth family"),
    ("home_authority", "id", "text", "GSS code of the family's authority"),
    ("home_node", "record", "id", "the family's neighbourhood (network node)"),
    ("birth_week", "record", "model week", "model week of birth (age in weeks = week - "
     "birth_week)"),
    ("uasc", "record", "true/false", "an unaccompanied asylum-seeking child"),
)

SWEEP = (
    ("runs.csv", "run_id", "id", "id", "the run: point x replications + replicate"),
    ("runs.csv", "point", "id", "id", "design point (row of `design_points` in manifest.json)"),
    ("runs.csv", "replicate", "id", "id", "replication at that point (0-based); with `seeds = "
     "\"common\"` replicate r has the same seed at every point, so runs pair by replicate"),
    ("runs.csv", "seed", "id", "id", "the run's seed (reproduce it alone with `cscsim run "
     "--seed`)"),
    ("runs.csv", "<factor>", "factor", "the parameter's unit", "one column per factor, named by "
     "its dotted key, e.g. `levers.early_help_capacity`"),
    ("runs.csv", "<outcome>", "outcome", "the indicator's unit", "one column per outcome: the "
     "indicator's mean over the final `final_years` simulated years"),
    ("sweep annual.csv", "run_id, point, replicate, seed", "id", "id",
     "as in runs.csv, then factor columns, then every column of a run's `annual.csv`"),
    ("sweep annual.csv", "<factor>", "factor", "the parameter's unit", "a factor that is not an "
     "input already written with the indicators (inputs such as `levers.early_help_capacity` "
     "appear once, as the input column, which holds the factor's value)"),
    ("failures.csv", "run_id, point, replicate, seed, <factor>", "id", "id", "as in runs.csv"),
    ("failures.csv", "error_type, error, traceback", "record", "text", "what the run raised"),
)


@dataclass(frozen=True)
class Column:
    """One column of the data dictionary."""

    name: str
    files: str  # comma-separated file names ("sweep annual.csv": a sweep's annual.csv)
    kind: str
    unit: str
    definition: str
    numerator: str = ""
    denominator: str = ""
    multiplier: float = 1.0
    aggregate: str = ""
    low: float | None = None
    high: float | None = None
    label: str = ""


def label(name: str) -> str:
    """A short human label for a column (for figure titles), from the registry."""
    if name in LABELS:
        return LABELS[name]
    if name in ind.BY_NAME:
        text = ind.BY_NAME[name].definition
        for stop in (" (", ";", ":", ", "):
            at = text.find(stop, 15)
            if at > 0:
                text = text[:at]
        return text if len(text) <= 48 else text[:45].rsplit(" ", 1)[0] + "..."
    if name in PARAMS_BY_NAME:
        p = PARAMS_BY_NAME[name]
        return p.doc if len(p.doc) <= 48 else p.doc[:45].rsplit(" ", 1)[0] + "..."
    return name


def unit(name: str) -> str:
    """The column's unit as the registry gives it ('' if it has none)."""
    if name in ind.BY_NAME:
        return ind.BY_NAME[name].unit
    if name in HELPER_TEXT:
        return HELPER_TEXT[name][1]
    if name in PARAMS_BY_NAME:
        return PARAMS_BY_NAME[name].unit
    return ""


def axis(name: str) -> tuple[float, str]:
    """How to draw a column on an axis: a multiplier and the axis label. Shares become per
    cent, money millions of pounds (for the simulated sample), so no axis reads '1e7'."""
    u = unit(name)
    if u == "share":
        return 100.0, "%"
    if u == "GBP":
        return 1e-6, "£ million (simulated sample)"
    if u.startswith("GBP per"):
        return 1.0, "£" + u[3:]
    return 1.0, u


def bounds(name: str) -> tuple[float, float]:
    """The range the quantity can take: shares lie in [0, 1], counts, rates and money spent are
    never negative; inputs keep their parameter's range. Bands are clipped to it."""
    if name in SIGNED:
        return -math.inf, math.inf
    if name in PARAMS_BY_NAME:
        p = PARAMS_BY_NAME[name]
        lo = p.lo if isinstance(p.lo, int | float) else -math.inf
        hi = p.hi if isinstance(p.hi, int | float) else math.inf
        return float(lo), float(hi)
    if unit(name) == "share":
        return 0.0, 1.0
    if name in ind.BY_NAME or name in HELPER_TEXT or name in ind.helper_columns():
        return 0.0, math.inf
    return -math.inf, math.inf


def _helper(name: str) -> Column:
    used = [f"numerator of `{i.name}`" for i in ind.INDICATORS if i.num == name]
    used += [f"denominator of `{i.name}`" for i in ind.INDICATORS if i.den == name]
    kind, u, text = HELPER_TEXT.get(name, ("stock", "", "helper count"))
    lo, hi = bounds(name)
    return Column(name, ", ".join(RUN_ANNUAL), "helper:" + kind, u,
                  f"{text} ({'; '.join(used)})", aggregate=AGGREGATE[kind], low=lo, high=hi)


def columns() -> list[Column]:
    """Every column of every output file, in the order the files are documented."""
    both = ", ".join(RUN_ANNUAL)
    out = [Column("year", ", ".join(RUN_ANNUAL), "id", "DfE year", "the DfE reporting year "
                  "(2024 = April 2023 to March 2024), counted from `run.start_year`",
                  aggregate=AGGREGATE["id"])]
    out += [Column(n, "annual_by_la.csv", "id", u, d, aggregate=AGGREGATE["id"])
            for n, u, d in BY_LA_IDS]
    for i in ind.INDICATORS:
        lo, hi = bounds(i.name)
        out.append(Column(i.name, both, i.kind, i.unit, i.definition, i.num, i.den, i.per,
                          AGGREGATE[i.kind], lo, hi, label(i.name)))
    out += [_helper(h) for h in ind.helper_columns()]
    for key in ind.INPUTS:
        p = PARAMS_BY_NAME[key]
        lo, hi = bounds(key)
        out.append(Column(key, both, "input", p.unit, f"the value in force that year: {p.doc}",
                          aggregate=AGGREGATE["input"], low=lo, high=hi))
    out += [Column(n, "placements.csv", k, u, d, aggregate=AGGREGATE[k])
            for n, k, u, d in PLACEMENTS]
    out += [Column(n, "children.csv", k, u, d, aggregate=AGGREGATE[k]) for n, k, u, d in CHILDREN]
    out += [Column(n, f, k, u, d, aggregate=AGGREGATE[k]) for f, n, k, u, d in SWEEP]
    return out


def csv_text() -> str:
    """docs/indicators.csv: the data dictionary as a table (one row per column and file)."""
    import pandas as pd

    rows = [{"column": c.name, "files": c.files, "kind": c.kind, "unit": c.unit,
             "label": c.label, "definition": c.definition, "numerator": c.numerator,
             "denominator": c.denominator, "multiplier": c.multiplier if c.numerator else "",
             "min": "" if c.low is None or math.isinf(c.low) else c.low,
             "max": "" if c.high is None or math.isinf(c.high) else c.high,
             "aggregate": c.aggregate} for c in columns()]
    buf = io.StringIO()
    pd.DataFrame(rows).to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def _table(cols: list[Column], with_files: bool = False) -> list[str]:
    head = "| column | files | kind | unit | definition |" if with_files else \
        "| column | kind | unit | definition |"
    lines = [head, "|---|---|---|---|---|" if with_files else "|---|---|---|---|"]
    for c in cols:
        name = c.name if c.name.startswith("<") or "," in c.name else f"`{c.name}`"
        cells = [name, *([c.files] if with_files else []), c.kind, c.unit, c.definition]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def markdown() -> str:
    """docs/indicators.md: the indicators (from sim/indicators.py), then every other column."""
    cols = columns()
    lines = [ind.markdown().rstrip("\n"), ""]
    lines += [
        "## How to combine rows",
        "",
        "To get an indicator for a group of authorities (a region of your own, say) or for "
        "several years, combine the rows of `annual_by_la.csv` (or of a sweep's `annual.csv`) "
        "by the indicator's kind:",
        "",
        *(f"- **{k}**: {AGGREGATE[k]}." for k in ("flow", "stock", "ratio", "input")),
        "",
        "For example, the rate of children looked after per 10,000 children of two "
        "authorities is `1e4 * (cla_a + cla_b) / (children_a + children_b)`, and their share "
        "placed over 20 miles is `(cla_over_20_a + cla_over_20_b) / (cla_a + cla_b)`: the "
        "numerator and denominator of every ratio are columns of the same file (the indicator "
        "table above names them). Counts and money are for the simulated sample: divide by "
        "`run.scale` for the whole area; ratios need no scaling. `docs/indicators.csv` is this "
        "dictionary as a table (`cscsim indicators --format csv`), with each column's "
        "numerator, denominator, multiplier and range.",
        "",
        "## Identifying columns",
        "",
        *_table([c for c in cols if c.kind == "id" and "annual" in c.files], with_files=True),
        "",
        "## Helper counts",
        "",
        "Written after the indicators in `annual.csv` and `annual_by_la.csv`; each is the "
        "numerator or denominator of the ratios named.",
        "",
        *_table([c for c in cols if c.kind.startswith("helper")]),
        "",
        "## Inputs",
        "",
        "The year's value of every input that accepts a schedule (`cscsim params` marks "
        "them), after the helper counts, in both annual files.",
        "",
        *_table([c for c in cols if c.kind == "input"]),
        "",
        "## `placements.csv`",
        "",
        "One row per placement, in the order placements began (including the initial stock "
        "and the burn-in's placements, at negative weeks).",
        "",
        *_table([c for c in cols if c.files == "placements.csv"]),
        "",
        "## `children.csv`",
        "",
        *_table([c for c in cols if c.files == "children.csv"]),
        "",
        "## A sweep's files",
        "",
        "See [sweeps.md](sweeps.md). With `--format parquet` the same tables are written as "
        "`runs.parquet`, `annual.parquet` and `failures.parquet`.",
        "",
        *_table([c for c in cols if c.files in ("runs.csv", "sweep annual.csv",
                                                 "failures.csv")], with_files=True),
        "",
    ]
    return "\n".join(lines)
