"""England's exogenous drivers, 2010 onwards, as schedules a scenario can use.

The published series live in ``sim/data/drivers_england.csv`` (sources, status codes and the
year-mapping rule in ``sim/data/DRIVERS_SOURCES.md``). This module turns them into schedules of
the model's schedulable inputs, each relative to the model's 2023-24 calibration (a lever of
1.0 is today's level), so that a scenario can replay the decade:

=============================================  ==============================================
input                                          series
=============================================  ==============================================
``levers.early_help_capacity``                 early-intervention spending (NCB / Pro Bono
                                               Economics; Turning the tide), relative to
                                               2020-21's £1.9bn (:func:`early_help_capacity`)
``levers.health_visitor_fte``                  health visitors FTE (NHS workforce), relative to
                                               April 2023's 6,688
``levers.poverty``                             children in relative low income after housing
                                               costs (DWP HBAI), relative to 2023-24; FYE 2021,
                                               which DWP flags, interpolated
                                               (:data:`POVERTY_UNRELIABLE`)
``population.birth_rate``                      live births (ONS; England and Wales scaled to
                                               England by 2023's ratio) per child (DfE's ONS
                                               denominators)
``population.net_migration_rate``              what, with those births, makes the child
                                               population change as DfE's denominators did
                                               (:func:`net_migration`)
``social_work.posts_per_10k_children``         social-worker FTE / (1 - vacancy rate) per child
                                               (DfE workforce census)
``placements.price_index``                     weekly price of a residential placement (County
                                               Councils Network), relative to 2023-24
``court.proceedings_weeks``                    mean weeks from issuing care proceedings to the
                                               first disposal (MoJ Family Court Statistics)
``care.adoption_rate``                          adoptions from care per child in care at 31
                                               March (DfE CLA), relative to 2024
                                               (:func:`adoption_rate`)
``care.uasc_per_10k_children``                 unaccompanied asylum-seeking children starting to
                                               be looked after (DfE CLA) per 10,000 children;
                                               before the first year published (2021), the
                                               children in care at 31 March who were
                                               unaccompanied, times 2021's ratio of starts to
                                               that stock (arrivals taken as proportional to
                                               the stock, for lack of a published count)
=============================================  ==============================================

Years between published points are interpolated by the schedule; beyond the last published
year each input is held at its last value (the documented continuation: no change assumed),
and before the first, at its first. ``cscsim drivers`` prints them as a scenario fragment.
"""

from __future__ import annotations

import argparse
import csv
from importlib import resources

#: England's share of births in England and Wales (ONS 2023: 563,561 of 591,072).
ENGLAND_SHARE_OF_BIRTHS = 563_561 / 591_072
#: Reference values of 2023-24 that each lever of 1.0 stands for.
EARLY_HELP_2021 = 1.9e9
HEALTH_VISITORS_2023 = 6688.0
POVERTY_2024 = 0.31
#: Years of the HBAI child-poverty series the poverty driver passes over (interpolated from
#: its neighbours instead). FYE 2021 (27%, against 31% the year before and 29% after): the
#: Family Resources Survey went from face-to-face to telephone interviews for the whole year,
#: and DWP recommends "that users exercise caution when using the data for FYE 2021,
#: particularly when making comparisons with previous years", above all for its larger changes
#: (DWP, Technical report: assessment of the impact of COVID-19 on the HBAI statistics for
#: FYE2021, updated 24 May 2022). The point is kept in the data file with DWP's flag.
POVERTY_UNRELIABLE: frozenset[int] = frozenset({2021})


def series() -> dict[str, dict[int, float]]:
    """Every driver in the data file as ``{driver: {year: value}}`` (one value a year: where
    the file gives a year twice, the mean)."""
    path = resources.files("sim") / "data" / "drivers_england.csv"
    out: dict[str, dict[int, list[float]]] = {}
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["driver"], {}).setdefault(int(row["year"]), []).append(
                float(row["value"])
            )
    return {k: {y: sum(v) / len(v) for y, v in sorted(d.items())} for k, d in out.items()}


def schedules() -> dict[str, dict[int, float]]:
    """The model inputs England's published drivers imply, by reporting year."""
    s = series()
    children = s["children_0_17_dfe_cin_denominator"] | s["children_0_17_dfe_denominator"]
    out: dict[str, dict[int, float]] = {
        "levers.early_help_capacity": early_help_capacity(s),
        "levers.health_visitor_fte": {
            y: v / HEALTH_VISITORS_2023 for y, v in s["health_visitors_fte"].items()
        },
        "levers.poverty": {y: v / POVERTY_2024 for y, v in s["child_poverty_rate_ahc"].items()
                           if y not in POVERTY_UNRELIABLE},
    }
    births = s["live_births_ew"]
    out["population.birth_rate"] = {
        y: births[y] * ENGLAND_SHARE_OF_BIRTHS / _nearest(children, y) for y in births
    }
    out["population.net_migration_rate"] = net_migration(out["population.birth_rate"])
    fte, vacancy = s["sw_fte"], s["sw_vacancy_rate"]
    out["social_work.posts_per_10k_children"] = {
        y: fte[y] / (1 - vacancy[y]) / _nearest(children, y) * 1e4 for y in fte if y in vacancy
    }
    price = s["price_residential_weekly_gbp_ccn"]
    last = price[max(price)]
    out["placements.price_index"] = {y: v / last for y, v in price.items()}
    out["court.proceedings_weeks"] = dict(s["care_proceedings_weeks"])
    out["care.uasc_per_10k_children"] = {
        y: v / _nearest(children, y) * 1e4 for y, v in uasc_starts(s).items()
    }
    out["care.adoption_rate"] = adoption_rate()
    return {k: {y: round(v, 6) for y, v in sorted(d.items())} for k, d in out.items()}


def early_help_capacity(s: dict[str, dict[int, float]]) -> dict[int, float]:
    """Early-intervention spending relative to 2020-21's: the published amounts (2010-11,
    2020-21), and between them the published real-terms falls since 2010-11 (2015-16,
    2019-20) applied to 2010-11's amount. Without the 2015-16 point the schedule would fall in
    a straight line over the decade, where the studies found most of the fall (40 of the 50
    points) by 2015-16. After the last published amount the level is held: 2023-24's fall
    (42% below 2010-11, "despite a small rise in the last three years") is on another report's
    prices (DRIVERS_SOURCES.md), and the 2023-24 snapshot's own target for early-intervention
    spending is 2020-21's £1.9bn (sim/data/england_calibration_targets.csv), which a lever of
    1.0 stands for."""
    spend = s["early_intervention_spend_gbp"]
    first, last = min(spend), max(spend)
    out = {y: v / EARLY_HELP_2021 for y, v in spend.items()}
    for y, drop in s["early_intervention_spend_drop_vs_2011"].items():
        if first < y < last:
            out.setdefault(y, spend[first] * (1 - drop) / EARLY_HELP_2021)
    return dict(sorted(out.items()))


def net_migration(birth_rate: dict[int, float]) -> dict[int, float]:
    """The net migration of children that, with each year's births, makes the model's child
    population change as England's did, 2010-2023 (each reporting year to the next, on the one
    vintage of :func:`sim.workflows.history.denominators`).

    In the model's stationary age structure a child population with births ``b`` a year changes
    by ``m - k(b)`` a year (sim/demography.py: age_gradient), so ``m = growth + k(b)``: the
    same derivation as ``population.net_migration_rate``'s default (2019-2023), year by year.
    The structure is only near stationary while births change, so the sample's growth follows
    England's to within a few tenths of a percent a year. Why it matters: at 2010's births and
    today's migration the sample's children grew 2% a year, half as many again over the warm
    start; England's grew 0.5% a year from 2010 to 2024."""
    from sim.demography import age_gradient
    from sim.parameters import BY_NAME
    from sim.workflows.history import denominators

    children = denominators()
    out = {y: children[y + 1] / children[y] - 1 + age_gradient(birth_rate[y])
           for y in sorted(children) if y + 1 in children and y in birth_rate}
    # Continuation past the last published year: 2022-2023's inflow (the Ukraine and Hong Kong
    # BN(O) schemes) was exceptional, so after it is held for one more year the rate returns
    # over two years to the default, the 2019-2023 mean (population.net_migration_rate).
    last = max(out)
    out[last + 1] = out[last]
    out[last + 3] = BY_NAME["population.net_migration_rate"].default
    return out


def uasc_starts(s: dict[str, dict[int, float]]) -> dict[int, float]:
    """Unaccompanied children starting to be looked after in England, by reporting year: the
    published counts, and before the first of them the stock in care at 31 March scaled by the
    first published year's ratio of starts to stock (the arrivals of the 2010s are not in the
    data file; the stock is, and arrivals are what keeps it up)."""
    starts, stock = s["uasc_starts"], s["uasc_in_care_at_31_march"]
    first = min(starts)
    ratio = starts[first] / stock[first]
    earlier = {y: v * ratio for y, v in stock.items() if y < first}
    return dict(sorted((earlier | starts).items()))


def adoption_rate() -> dict[int, float]:
    """The adoption hazard by reporting year: ``care.adoption_rate``'s default (today's
    practice) times the year's adoptions per child in care at 31 March over 2024's.

    Adoption practice moved on its own account: the 2012 Action Plan for Adoption and the
    Children and Families Act 2014 pushed adoptions from 3,200 (2010) to a peak of 5,360
    (2015); the Court of Appeal's Re B-S judgment (September 2013) then raised the bar for
    placement orders, and they fell back to 2,980 (2024). Per child in care that is 7.7% in
    2015 against 3.6% in 2024. (Adoptions are also an outcome of the system: this driver
    carries the judgment and the policy, not the number of children young enough to be
    adopted, which the model draws itself.) Counts: ``england_history_2010_2024.csv``
    (DfE CLA), the children in care of the nearest published year."""
    from sim.parameters import BY_NAME
    from sim.workflows.history import _rows

    rows = _rows()
    adopted = {int(r["year"]): float(r["value"]) for r in rows
               if r["indicator"] == "adoptions_from_care_per_year"}
    cla = {int(r["year"]): float(r["value"]) for r in rows
           if r["indicator"] == "cla_at_31_march"}
    per_child = {y: v / _nearest(cla, y) for y, v in adopted.items()}
    today = per_child[max(per_child)]
    return {y: BY_NAME["care.adoption_rate"].default * v / today
            for y, v in sorted(per_child.items())}


def _nearest(by_year: dict[int, float], year: int) -> float:
    return by_year[min(by_year, key=lambda y: abs(y - year))]


def toml_fragment() -> str:
    """The schedules as scenario-file tables, with a comment saying where each comes from."""
    sections: dict[str, list[str]] = {}
    for key, sched in schedules().items():
        section, name = key.split(".")
        body = ", ".join(f"{y} = {v:g}" for y, v in sched.items())
        sections.setdefault(section, []).append(f"{name} = {{ {body} }}")
    lines = ["# England's drivers from sim/data/drivers_england.csv (cscsim drivers)"]
    for section, rows in sections.items():
        lines += ["", f"[{section}]", *rows]
    return "\n".join(lines) + "\n"


def cmd_drivers(args: argparse.Namespace) -> int:
    if args.format == "toml":
        print(toml_fragment(), end="")
    else:
        for key, sched in schedules().items():
            print(f"{key}: " + ", ".join(f"{y} {v:.3g}" for y, v in sched.items()))
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "drivers",
        help="England's published drivers (2010 on) as schedules of the model's inputs",
    )
    p.add_argument("--format", choices=("table", "toml"), default="table")
    p.set_defaults(func=cmd_drivers)
