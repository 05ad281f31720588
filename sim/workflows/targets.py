"""Published figures the baseline is judged against, and how each maps onto an indicator.

Targets come from ``sim/data/england_calibration_targets.csv`` (see ``SOURCES.md`` for the
status codes). Each :class:`Target` says which model indicator it is compared with, how far off
is still acceptable, and which group it belongs to in the validation report:

- rates per 10,000 children: within ±10% of the target;
- shares (placement mix, distance, starts by age): within ±3 percentage points;
- spending per child: within ±15%.

Unaccompanied asylum-seeking children are an exogenous inflow on both sides: the model adds
them as arrivals who enter care (``care.uasc_per_10k_children``), and the published rates,
starts and shares include them, so nothing is excluded from either side. The one place they
differ is distance: DfE records none for an unaccompanied child ("not known, for example UASC",
DfE, Children looked after: a focus on placement location, 2024, data-set footnote), so the
published share over 20 miles (17,630 of all 83,840 children in care in 2023) counts them in
the denominator only, and so does the model's ``share_over_20_miles``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Target:
    indicator: str  # row in the targets CSV (or derived from rows, see `value`)
    column: str  # model indicator (sim/indicators.py)
    group: str  # panel of the validation figure
    kind: str  # rate, share or spend
    value: float
    source: str

    @property
    def tolerance(self) -> float:
        """Half-width of the acceptable band, in the indicator's own units."""
        if self.kind == "share":
            return 0.03
        return self.value * (0.10 if self.kind == "rate" else 0.15)

    def within(self, model_value: float) -> bool:
        return abs(model_value - self.value) <= self.tolerance


def _data_rows(name: str) -> list[dict[str, str]]:
    """The rows of ``sim/data/NAME``, a CSV shipped with the package."""
    with (resources.files("sim") / "data" / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _rows() -> dict[str, dict[str, str]]:
    return {r["indicator"]: r for r in _data_rows("england_calibration_targets.csv")}


#: (targets-file indicator or a derivation, model column, group, kind)
_MAP = (
    ("cla_rate_per_10k", "cla_rate_per_10k", "rates per 10,000", "rate"),
    ("cla_starts_per_year", "care_entries_rate_per_10k", "rates per 10,000", "rate"),
    ("cin_rate_per_10k", "cin_rate_per_10k", "rates per 10,000", "rate"),
    ("cpp_at_31_march", "cpp_rate_per_10k", "rates per 10,000", "rate"),
    ("s47_enquiries_per_year", "s47_rate_per_10k", "rates per 10,000", "rate"),
    ("referrals_per_year", "referrals_rate_per_10k", "rates per 10,000", "rate"),
    ("cla_share_kinship_foster", "share_kinship", "placement mix", "share"),
    ("cla_share_inhouse_mainstream_foster", "share_inhouse_foster", "placement mix", "share"),
    ("cla_share_ifa_foster", "share_ifa", "placement mix", "share"),
    ("cla_share_childrens_homes", "share_childrens_home", "placement mix", "share"),
    ("cla_share_supported_accommodation", "share_supported", "placement mix", "share"),
    ("cla_share_placed_with_parents", "share_with_parents", "placement mix", "share"),
    ("cla_share_over_20_miles", "share_over_20_miles", "distance", "share"),
    ("cla_share_outside_home_authority", "share_out_of_area", "distance", "share"),
    ("cla_starts_age_share_under_1", "share_starts_age_under_1", "starts by age", "share"),
    ("cla_starts_age_share_1_4", "share_starts_age_1_4", "starts by age", "share"),
    ("cla_starts_age_share_5_9", "share_starts_age_5_9", "starts by age", "share"),
    ("cla_starts_age_share_10_15", "share_starts_age_10_15", "starts by age", "share"),
    ("cla_starts_age_share_16_plus", "share_starts_age_16_plus", "starts by age", "share"),
    ("spend_early_intervention_gbp", "early_help_spend_per_child_gbp", "spend per child", "spend"),
    ("spend_cla_gbp", "placement_spend_per_child_gbp", "spend per child", "spend"),
    ("initial_cp_conferences_per_year", "icpc_rate_per_10k", "rates per 10,000", "rate"),
    (
        "cla_share_3plus_placements",
        "share_3plus_placements_in_year",
        "stability and repeat",
        "share",
    ),
    ("rereferral_share_12m", "rereferral_share_12m", "stability and repeat", "share"),
    ("cla_share_s20", "share_s20", "stability and repeat", "share"),
    ("reentry_share_12m", "reentry_share_12m", "stability and repeat", "share"),
)
#: Counts turned into rates per 10,000 children (or per child, for spending) with this base.
PER_10K = (
    "cla_starts_per_year",
    "cpp_at_31_march",
    "s47_enquiries_per_year",
    "referrals_per_year",
    "initial_cp_conferences_per_year",
)
PER_CHILD = ("spend_early_intervention_gbp", "spend_cla_gbp")


def targets() -> tuple[Target, ...]:
    """Every validation target, with counts converted to the model's rates per child."""
    rows = _rows()
    children = float(rows["children_under_18"]["value"])
    out = []
    for name, column, group, kind in _MAP:
        r = rows[name]
        value = float(r["value"])
        if name in PER_10K:
            value = value / children * 1e4
        elif name in PER_CHILD:
            value = value / children
        source = f"{r['source']} ({r['period']}, status {r['status']})"
        out.append(Target(name, column, group, kind, value, source))
    return tuple(out)


#: The group of a check no fit reads (:func:`checks`) ...
CHECKS_GROUP = "checks no fit reads"
#: ... and of one the history fit reads (``read_by`` "history fit" in the file).
HISTORY_FIT_GROUP = "read by the history fit"


def checks() -> tuple[Target, ...]:
    """Published figures ``cscsim validate`` compares with the model and that ``--strict`` does
    not judge: how long plans last (DfE CIN table D7's outer bands) and how children come to
    live in children's homes (Ofsted, 2022). From ``sim/data/england_checks.csv``, shares with
    the targets' ±3-point band. Why kept apart from the targets: a mechanism that is right for
    the right reason should come near them without being told. A check a fit reads says so in
    its ``read_by`` column and its group (:data:`HISTORY_FIT_GROUP`): D7's bands are terms of
    the history fit since the twenty-second session (sim/workflows/history.py:
    snapshot_targets), so they are no longer evidence that fit did not see; Ofsted's shares
    are read by no fit."""
    groups = {"": CHECKS_GROUP, "history fit": HISTORY_FIT_GROUP}
    rows = _data_rows("england_checks.csv")
    for i, r in enumerate(rows, start=1):
        if r["read_by"] not in groups:
            from sim.config import ConfigError

            raise ConfigError(f"sim/data/england_checks.csv: row {i}, field read_by: "
                              f"{r['read_by']!r} is not one of {sorted(groups)}")
    return tuple(Target(r["indicator"], r["model_column"], groups[r["read_by"]], "share",
                        float(r["value"]), f"{r['source']} ({r['period']}, status {r['status']})")
                 for r in rows)


def load_targets_file(path, region: str) -> tuple[str, tuple[Target, ...]]:
    """An authority's own targets (written by ``cscsim targets ssda903``): its GSS code and
    one :class:`Target` per fitted indicator (shares and rates, averaged over the collection
    years in the file; counts are for reference and depend on the sample, so are not fitted).
    The authority must be in ``region``, the region calibration simulates."""
    from pathlib import Path

    from sim.config import ConfigError
    from sim.region import load_authorities

    path = Path(path)
    try:
        with path.open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read ({e.strerror})") from None
    need = ("authority", "gss_code", "year", "indicator", "value", "kind", "group", "source")
    if not rows or any(k not in rows[0] for k in need):
        raise ConfigError(f"{path}: not a targets file (it needs the columns {', '.join(need)})")
    gss = rows[0]["gss_code"]
    la = {r["gss_code"]: r for r in load_authorities()}.get(gss)
    if la is None or (region != "England" and la["region"] != region):
        raise ConfigError(
            f"{path}: row 1, field gss_code: {gss!r} is not an authority of region {region!r}"
        )
    values: dict[tuple[str, str, str], list[float]] = {}
    sources: dict[str, str] = {}
    for i, r in enumerate(rows, start=1):
        if r["gss_code"] != gss:
            raise ConfigError(f"{path}: row {i}, field gss_code: one authority per file")
        if r["kind"] == "count":
            continue
        try:
            value = float(r["value"])
        except ValueError:
            raise ConfigError(
                f"{path}: row {i}, field value: {r['value']!r} is not a number"
            ) from None
        values.setdefault((r["indicator"], r["group"], r["kind"]), []).append(value)
        sources[r["indicator"]] = r["source"]
    out = tuple(
        Target(name, name, group, kind, sum(v) / len(v), f"{la['name']}: {sources[name]}")
        for (name, group, kind), v in values.items()
    )
    return gss, out
