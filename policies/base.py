"""Policies as the model applies them: timed, targeted and costed reforms.

A scenario's ``[[policies]]`` tables each describe one reform as it was announced::

    [[policies]]
    kind = "family_help"
    authorities = ["Dorset", "Lincolnshire", "E08000031"]   # or region = "...", rule = "..."
    start = 2023-07-01
    end = 2025-03-31
    ramp_weeks = 26
    budget_gbp = 45_000_000          # or size = 400 (places), or uplift = 0.2

:func:`parse_policy` checks a table (one line naming the mistake, as every scenario error) and
returns it in a plain form the scenario keeps (so manifests and sweep workers carry it);
:func:`build` makes the :class:`Policy` object the model applies. Its lifecycle, after
Starsim's interventions: ``init(model)`` resolves the eligible authorities, the calendar and
the size in each authority; ``apply(levers, week)`` moves the per-authority lever arrays
(:mod:`sim.levers`) by the share of the policy in force that week; ``step(model)`` books the
week's spending (``spend_policy_gbp``); ``finalize(model)`` summarises what was bought.

The calendar is the model's: year ``y`` of a run is DfE reporting year ``run.start_year +
y - 1`` (1 April to 31 March), 52 weeks long, so a date falls in week ``52 * (its reporting
year - start_year) + min(51, days since 1 April // 7)``. Policies act in reported weeks only:
the burn-in (before year 1) runs without them, so every arm of a comparison starts from the
same state.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np

WEEKS_PER_YEAR = 52
ELIGIBILITY = ("authorities", "region", "rule")
SIZES = ("size", "uplift", "budget_gbp", "budget_gbp_per_year")
KEYS = ("kind", "name", "source", *ELIGIBILITY, "start", "end", "ramp_weeks", *SIZES, "unit",
        "split")
RULES = ("all", "most_deprived:N", "least_deprived:N")
SPLITS = ("children", "equal")
#: Largest size, uplift or budget accepted (a typo such as a budget in pence stays refusable).
MAX_GBP = 1e12
MAX_UNITS = 1e7


def _error(message: str):
    from sim.config import ConfigError

    return ConfigError(message)


class Policy:
    """One reform: which lever it moves, in which authorities, when, and by how much.

    Subclasses (one or more per module of ``policies/``) set the class attributes below and,
    where the policy is sized against today's provision, :meth:`baseline`."""

    kind: ClassVar[str] = ""
    label: ClassVar[str] = ""
    #: The :class:`sim.levers.Levers` array moved ("" for none).
    lever: ClassVar[str] = ""
    #: The policy's own unit: what ``size`` counts.
    unit: ClassVar[str] = ""
    #: ``add`` (x-today levers: units / today's provision added), ``set`` (a setting), or
    #: ``pool`` (regional commissioning).
    combine: ClassVar[str] = "add"
    #: Units bought once and kept after the end (recruited carers, built homes); otherwise the
    #: policy pays for its units week by week and they stop at its end.
    capital: ClassVar[bool] = False
    #: Dotted registry key of the unit cost (GBP per unit per year, or per unit if capital);
    #: None: not a spending policy (a regulation), so no budget can be given.
    cost_param: ClassVar[str | None] = None
    #: Multiply the registry value by this to get the cost per unit per year (a weekly cost: 52).
    cost_factor: ClassVar[float] = 1.0
    #: Whether ``uplift`` may be negative (poverty: a policy that lowers it).
    signed_uplift: ClassVar[bool] = False
    #: Whether the policy costs money (a budget can be given and its spending is booked).
    spends: ClassVar[bool] = True
    #: The ways its size may be given.
    size_keys: ClassVar[tuple[str, ...]] = SIZES
    #: The range of ``size`` in the policy's own unit.
    size_lo: ClassVar[float] = 0.0
    size_hi: ClassVar[float] = MAX_UNITS

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.name = spec.get("name") or self.kind
        self.mask = np.zeros(0, bool)
        self.increment = np.zeros(0)  # lever change per authority when fully in force
        self.value = 0.0  # a setting's value (combine = "set")
        self.week_spend = np.zeros(0)  # real GBP a week at full strength (revenue)
        self.total_cost = np.zeros(0)  # real GBP per authority (capital)
        self.units = np.zeros(0)  # own units per authority when fully in force
        self.start_week = 0
        self.end_week: int | None = None
        self.ramp_weeks = 0
        self.spent = 0.0  # simulated GBP booked so far (reported weeks)
        self.scale = 1.0

    # --- what subclasses say ------------------------------------------------------------
    def baseline(self, model) -> np.ndarray:
        """Today's provision in each simulated authority, in the policy's own units, for the
        whole authority (not the sample): what a size is measured against."""
        return np.ones(model.n_la)

    def unit_cost(self, params) -> float | None:
        """GBP per unit per year (or per unit, if capital), from the parameter registry."""
        if not self.spends or self.cost_param is None:
            return None
        return float(params.get(self.cost_param)) * self.cost_factor

    # --- the lifecycle ------------------------------------------------------------------
    def init(self, model) -> None:
        """Resolve eligibility, calendar and size for this model's authorities."""
        spec, p = self.spec, model.inputs
        first = int(p.run.start_year)
        self.scale = float(p.run.scale)
        self.start_week = week_of(spec["start"], first)
        self.end_week = week_of(spec["end"], first) if spec.get("end") else None
        span = None if self.end_week is None else self.end_week - self.start_week + 1
        default_ramp = span if (self.capital and span) else 0
        self.ramp_weeks = int(spec.get("ramp_weeks", default_ramp))
        codes = model.region.la_code
        eligible, share = eligibility(spec)
        self.mask = np.array([c in eligible for c in codes], bool)
        share_la = np.array([share.get(c, 0.0) for c in codes])
        cost = self.unit_cost(p.at_year(first))
        n = model.n_la
        if self.combine == "set":
            self.value = float(spec["size"])
            self.units = np.where(self.mask, self.value, 0.0)
            return
        units = np.zeros(n)
        if "size" in spec:
            units = float(spec["size"]) * share_la
        elif "uplift" in spec:
            units = float(spec["uplift"]) * self.baseline(model) * self.mask
        elif "budget_gbp" in spec or "budget_gbp_per_year" in spec:
            units = self._units_bought(cost) * share_la
        self.units = units
        base = self.baseline(model) if self.lever else np.ones(n)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.increment = np.where(self.mask & (base > 0), units / np.where(base > 0, base, 1),
                                      0.0)
        if cost is not None:
            if self.capital:
                self.total_cost = units * cost
            else:
                self.week_spend = units * cost / WEEKS_PER_YEAR

    def _units_bought(self, cost: float | None) -> float:
        """Units (across all eligible authorities, England-wide) a budget buys at ``cost``."""
        spec = self.spec
        if not cost:
            return 0.0
        if self.capital:
            weeks = self._span()
            total = spec.get("budget_gbp", spec.get("budget_gbp_per_year", 0.0) * weeks
                             / WEEKS_PER_YEAR)
            return float(total) / cost
        if "budget_gbp_per_year" in spec:
            return float(spec["budget_gbp_per_year"]) / cost
        # A total budget is spread over the weeks in force, following the ramp.
        full_weeks = sum(self.fraction(w) for w in range(self.start_week, self.end_week + 1))
        weekly = float(spec["budget_gbp"]) / full_weeks if full_weeks else 0.0
        return weekly * WEEKS_PER_YEAR / cost

    def _span(self) -> int:
        return 0 if self.end_week is None else self.end_week - self.start_week + 1

    def fraction(self, week: int, reported_only: bool = False) -> float:
        """The share of the policy in force in ``week`` (0 before its start, ramping up over
        ``ramp_weeks``, 0 after its end unless its units are kept)."""
        if reported_only and week < 0:
            return 0.0
        if week < self.start_week:
            return 0.0
        if self.end_week is not None and week > self.end_week:
            return self.fraction(self.end_week) if self.capital else 0.0
        if self.ramp_weeks <= 0:
            return 1.0
        return min(1.0, (week - self.start_week + 1) / self.ramp_weeks)

    def apply(self, levers, week: int) -> None:
        """Move the lever arrays by the share in force in ``week`` (none in the burn-in)."""
        f = self.fraction(week, reported_only=True)
        if f <= 0.0 or not self.lever:
            return
        arr = getattr(levers, self.lever)
        if self.combine == "add":
            arr[self.mask] += f * self.increment[self.mask]
        elif self.combine == "set":
            self.set_value(arr)

    def set_value(self, arr: np.ndarray) -> None:
        """A setting in force: the policy's value in its authorities."""
        arr[self.mask] = self.value

    def step(self, model) -> None:
        """Book this week's spending in the simulated sample's money (``spend_policy_gbp``)."""
        week = model.week
        if week < 0:
            return
        if self.capital:
            if not self.total_cost.any():
                return
            spend = self.total_cost * (self.fraction(week) - self.fraction(week - 1))
        else:
            f = self.fraction(week)
            if f <= 0.0 or not self.week_spend.any():
                return
            spend = self.week_spend * f
        spend = spend * self.scale
        self.spent += float(spend.sum())
        model.count("spend_policy_gbp", np.arange(model.n_la), spend)

    def finalize(self, model) -> dict[str, Any]:
        """What the policy did in this run, for the manifest."""
        names = model.region.la_name[self.mask]
        return {
            "kind": self.kind,
            "name": self.name,
            "authorities_simulated": [str(x) for x in names],
            "start_week": self.start_week,
            "end_week": self.end_week,
            "ramp_weeks": self.ramp_weeks,
            "unit": self.unit,
            "units_when_in_force": (self.value if self.combine == "set"
                                    else round(float(self.units.sum()), 3)),
            "lever_increment": {str(n): round(float(v), 6) for n, v in
                                zip(model.region.la_name[self.mask], self.increment[self.mask],
                                    strict=True)} if self.combine == "add" else None,
            "spent_gbp_simulated": round(self.spent, 2),
        }


class Setting(Policy):
    """A regulation that sets a lever's value where it is in force (no money)."""

    combine = "set"

    def set_value(self, arr: np.ndarray) -> None:
        # A cap: the tighter of the scenario's (0 = none) and the policy's.
        current = arr[self.mask]
        arr[self.mask] = np.where(current > 0, np.minimum(current, self.value), self.value)


# --- the calendar ---------------------------------------------------------------------------
def week_of(date: dt.date, start_year: int) -> int:
    """The model's week (0 = the first week of year 1) in which ``date`` falls."""
    year = date.year + 1 if date.month >= 4 else date.year  # DfE reporting year
    april = dt.date(year - 1, 4, 1)
    return WEEKS_PER_YEAR * (year - start_year) + min(WEEKS_PER_YEAR - 1,
                                                      (date - april).days // 7)


def date_of_week(week: int, start_year: int) -> dt.date:
    """The first day of the model's ``week`` (inverse of :func:`week_of` within a year)."""
    year = start_year + week // WEEKS_PER_YEAR
    return dt.date(year - 1, 4, 1) + dt.timedelta(days=7 * (week % WEEKS_PER_YEAR))


# --- eligibility ----------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _authorities() -> tuple[tuple[str, str, str, float, float], ...]:
    """England's 153 authorities: (code, name, region, children, deprivation score)."""
    from sim.region import CHILD_SHARE, load_authorities

    return tuple(
        (r["gss_code"], r["name"], r["region"], round(float(r["population_2020"]) * CHILD_SHARE),
         float(r["deprivation_score"]))
        for r in load_authorities()
    )


def eligibility(spec: dict[str, Any]) -> tuple[set[str], dict[str, float]]:
    """The GSS codes a policy applies to, and each one's share of a total size or budget
    (by children, or equal), over all eligible authorities in England: a run of one region
    gets that region's share of a national package, not all of it."""
    rows = _authorities()
    if "authorities" in spec:
        wanted = {_resolve_authority(a) for a in spec["authorities"]}
        chosen = [r for r in rows if r[0] in wanted]
    elif "region" in spec:
        chosen = [r for r in rows if r[2] == spec["region"]]
    else:
        rule = spec.get("rule", "all")
        if rule == "all":
            chosen = list(rows)
        else:
            which, n = rule.split(":")
            ranked = sorted(rows, key=lambda r: (-r[4] if which == "most_deprived" else r[4], r[0]))
            chosen = ranked[: int(n)]
    weight = {r[0]: (float(r[3]) if spec.get("split", "children") == "children" else 1.0)
              for r in chosen}
    total = sum(weight.values())
    share = {c: w / total for c, w in weight.items()} if total > 0 else {}
    return set(weight), share


def _resolve_authority(text: str) -> str:
    rows = _authorities()
    key = text.strip().lower()
    for code, name, *_ in rows:
        if key in (code.lower(), name.lower()):
            return code
    raise KeyError(text)


def nearest_authorities(text: str) -> list[str]:
    """Up to three authority names (or codes) closest to ``text``."""
    rows = _authorities()
    names = [r[1] for r in rows]
    close = difflib.get_close_matches(text, names, n=3, cutoff=0.5)
    if not close:
        lower = {n.lower(): n for n in names}
        close = [lower[c] for c in difflib.get_close_matches(text.lower(), list(lower), n=3,
                                                             cutoff=0.5)]
    if not close:
        codes = [r[0] for r in rows]
        close = difflib.get_close_matches(text.upper(), codes, n=3, cutoff=0.6)
    return close


# --- parsing and validation -----------------------------------------------------------------
def _date(value: Any, where: str, key: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _error(f"{where}: {key} = {value!r} is not a date: write it as 2025-04-01")


def _number(value: Any, where: str, key: str, lo: float, hi: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _error(f"{where}: {key} = {value!r} is not allowed: {what}")
    if not lo <= value <= hi:
        if value < 0 and lo >= 0:
            raise _error(f"{where}: {key} = {value!r} is negative: {what}")
        raise _error(f"{where}: {key} = {value!r} is out of range: {what}")
    return float(value)


def parse_policy(table: Any, index: int, where: str = "scenario") -> dict[str, Any]:
    """Check one ``[[policies]]`` table; return it with dates as ISO strings and numbers as
    floats (the form a scenario keeps and writes to its manifest)."""
    from policies import KINDS

    at = f"{where}: [[policies]] {index}"
    if not isinstance(table, dict):
        raise _error(f"{at} must be a table (write it as [[policies]] with keys below it)")
    kind = table.get("kind")
    if kind is None:
        raise _error(f"{at}: kind is missing; one of {', '.join(KINDS)}")
    if kind not in KINDS:
        close = difflib.get_close_matches(str(kind), list(KINDS), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise _error(f"{at}: unknown policy kind {kind!r}{hint} Allowed kinds: "
                     f"{', '.join(KINDS)}")
    cls = KINDS[kind]
    at = f"{where}: [[policies]] {index} ({kind})"
    for key in table:
        if key not in KEYS:
            close = difflib.get_close_matches(str(key), KEYS, n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise _error(f"{at}: unknown key {key!r}{hint} Allowed keys: {', '.join(KEYS)}")
    out: dict[str, Any] = {"kind": kind}
    for key in ("name", "source"):
        if key in table:
            if not isinstance(table[key], str):
                raise _error(f"{at}: {key} must be a string, not {table[key]!r}")
            out[key] = table[key]
    # Eligibility: one of authorities, region or rule (none: every authority).
    given = [k for k in ELIGIBILITY if k in table]
    if len(given) > 1:
        raise _error(f"{at}: give one of {', '.join(ELIGIBILITY)}, not {' and '.join(given)}")
    if "authorities" in table:
        names = table["authorities"]
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise _error(f"{at}: authorities must be a list of authority names or GSS codes, "
                         f"e.g. [\"Dorset\", \"E08000031\"]")
        for name in names:
            try:
                _resolve_authority(name)
            except KeyError:
                close = nearest_authorities(name)
                hint = (f"; nearest: {', '.join(repr(c) for c in close)}" if close else
                        "; not one of England's 153 children's-services authorities")
                raise _error(f"{at}: unknown authority {name!r}{hint} (names or GSS codes as "
                             f"in sim/data/england_local_authorities.csv)") from None
        out["authorities"] = list(names)
    if "region" in table:
        from sim.region import REGIONS

        region = table["region"]
        if region not in REGIONS:
            close = difflib.get_close_matches(str(region), REGIONS, n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise _error(f"{at}: unknown region {region!r}{hint} Allowed: {', '.join(REGIONS)}")
        out["region"] = region
    if "rule" in table:
        rule = table["rule"]
        ok = rule == "all"
        if isinstance(rule, str) and ":" in rule:
            which, n = rule.split(":", 1)
            ok = which in ("most_deprived", "least_deprived") and n.isdigit() and 1 <= int(n) <= 153
        if not ok:
            raise _error(f"{at}: rule = {rule!r} is not allowed: one of {', '.join(RULES)} "
                         f"(N from 1 to 153, ranked by England's deprivation score)")
        out["rule"] = rule
    # Dates.
    if "start" not in table:
        raise _error(f"{at}: start is missing: the date the policy begins, e.g. 2025-04-01")
    start = _date(table["start"], at, "start")
    out["start"] = start.isoformat()
    if "end" in table:
        end = _date(table["end"], at, "end")
        if end < start:
            raise _error(f"{at}: end {end.isoformat()} is before start {start.isoformat()}: "
                         f"the end must be on or after the start")
        out["end"] = end.isoformat()
    if "ramp_weeks" in table:
        ramp = table["ramp_weeks"]
        if isinstance(ramp, bool) or not isinstance(ramp, int) or not 0 <= ramp <= 520:
            raise _error(f"{at}: ramp_weeks = {ramp!r} is not allowed: a whole number of weeks "
                         f"from 0 to 520")
        if cls.combine == "set":
            raise _error(f"{at}: ramp_weeks does not apply to {kind}, a setting that is in "
                         f"force or not")
        out["ramp_weeks"] = ramp
    # Size: one of the kind's ways (size, uplift, budget_gbp, budget_gbp_per_year).
    sizes = [k for k in SIZES if k in table]
    for key in sizes:
        if key not in cls.size_keys:
            why = "it spends nothing" if not cls.spends else f"it is sized in {cls.unit}"
            raise _error(f"{at}: {key} does not apply to {kind} ({why}): give "
                         f"{' or '.join(cls.size_keys)}")
    if len(sizes) > 1:
        raise _error(f"{at}: give one of {', '.join(sizes)}, not both")
    if not sizes and cls.combine != "pool":
        raise _error(f"{at}: no size: give {' or '.join(cls.size_keys)} (docs/policies.md)")
    if sizes:
        key = sizes[0]
        value = table[key]
        if key == "size":
            lo, hi = cls.size_lo, cls.size_hi
            out[key] = _number(value, at, key, lo, hi, f"{cls.unit} from {lo:g} to {hi:g}")
        elif key == "uplift":
            lo = -1.0 if cls.signed_uplift else 0.0
            out[key] = _number(value, at, key, lo, 10.0,
                               f"a share of today's provision from {lo:g} to 10")
        else:
            out[key] = _number(value, at, key, 0.0, MAX_GBP,
                               f"pounds from 0 to {MAX_GBP:.0e} (a budget cannot be negative)")
            if key == "budget_gbp" and "end" not in out:
                raise _error(f"{at}: budget_gbp is spent between start and end, so the policy "
                             f"needs an end date (or give budget_gbp_per_year)")
            if cls.capital and key == "budget_gbp_per_year" and "end" not in out:
                raise _error(f"{at}: budget_gbp_per_year for {kind} needs an end date (the "
                             f"units are bought once, over the policy's years)")
    if "unit" in table:
        if table["unit"] != cls.unit:
            raise _error(f"{at}: unit = {table['unit']!r} is not allowed: {kind} is sized in "
                         f"{cls.unit!r}")
        out["unit"] = cls.unit
    if "split" in table:
        if table["split"] not in SPLITS:
            raise _error(f"{at}: split = {table['split']!r} is not allowed: one of "
                         f"{', '.join(SPLITS)}")
        out["split"] = table["split"]
    return out


def build(spec: dict[str, Any]) -> Policy:
    """The policy object for a checked spec."""
    from policies import KINDS

    spec = dict(spec)
    for key in ("start", "end"):
        if key in spec and isinstance(spec[key], str):
            spec[key] = dt.date.fromisoformat(spec[key])
    return KINDS[spec["kind"]](spec)


