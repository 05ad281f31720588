"""The five feedback loops of the brief, and a measure of which of them are driving a run.

The teaching app draws a causal loop diagram (CLD) of the loops in BRIEF.md section 5. This
module holds its structure (:data:`VARIABLES`, :data:`LINKS`, :data:`LOOPS`), reads one value
of every variable from a running model each week (:func:`observe`), and decides from the
recent history which links are *transmitting* and which loops are *driving*
(:func:`assess`). It imports nothing from Solara or matplotlib, so it can be unit-tested and
used by anyone analysing a run.

How "driving" is measured
-------------------------
Every variable is a weekly regional series. Split its last ``3 W`` weeks into three windows of
``W`` weeks (default 13, a quarter): ``w2`` (oldest), ``w1``, ``w0`` (latest). A variable's
*change into* a window is the difference of the window means, ``mean(w0) - mean(w1)`` (or
``mean(w1) - mean(w2)``). A change *counts* only when it is both

- *significant*: ``|z| >= z_min`` (default 2), where ``z`` is the difference divided by its
  standard error ``sqrt(var_a / W + var_b / W)`` from the weekly scatter in the two windows, so
  that week-to-week noise of a small sample does not light a link; and
- *material*: ``|relative change| >= rel_min`` (default 1%), relative to
  ``max(|mean of the older window|, scale)`` where ``scale`` is a per-variable floor (so a
  series near zero cannot produce huge relative changes).

A link ``X -> Y`` with polarity ``s`` (+1 "same direction", -1 "opposite direction") is
**transmitting** when ``X``'s change into ``w1`` and ``Y``'s change into ``w0`` both count and
``sign(dX) * sign(dY) == s``: the effect moved, one window after its cause, the way the link
says it should. (The one-window lag is what lets a *balancing* loop drive: over a single
window, the signs of the changes around a loop with a negative link always contradict one
link, because every variable appears once as a cause and once as an effect.) A link that is
an accounting identity rather than a mechanism (``Link.lag == 0``: placement overspend is
placement spend over the year's budget, in the same week) compares both changes into ``w0``;
every loop keeps at least one lagged link. Its
**strength** is ``sqrt(|rX| * |rY|)`` of the two relative changes. When both changes count but
the signs disagree with the polarity the link is *contrary*; otherwise it is *quiet*.

A loop is **driving** when every one of its links is transmitting: the change is going all
the way round. Its **score** is the smallest strength of its links (a loop is only as strong
as its weakest link). The *dominant* loop is the driving loop with the highest score. A
reinforcing loop drives in a *vicious* or *virtuous* direction, named by the direction of its
first variable (e.g. early help falling in the crisis trap is vicious).

This is a heuristic, not a proof of causation: co-movement along a link's direction, lagged
and above noise. It can fail, and the tests construct series where it does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.population import Case


@dataclass(frozen=True)
class Variable:
    """A node of the diagram: one weekly regional number read from the model."""

    key: str
    label: str
    scale: float = 1.0  # floor of the denominator of relative changes (see module docstring)


@dataclass(frozen=True)
class Link:
    """A causal link ``cause -> effect``; ``sign`` +1 moves them together, -1 opposite.

    ``lag`` is how many windows after its cause the effect is read: 1 (the default) for a
    mechanism that takes time, 0 for an accounting identity that holds in the same week
    (see the module docstring)."""

    cause: str
    effect: str
    sign: int
    lag: int = 1


@dataclass(frozen=True)
class Loop:
    """A feedback loop: an ordered cycle of variables (the last links back to the first)."""

    key: str  # R1, R2, R3, B1, B2
    name: str
    cycle: tuple[str, ...]
    story: str
    vicious_when: int = -1  # direction of the cycle's first variable that makes it "vicious"

    def links(self) -> list[tuple[str, str]]:
        return [(a, self.cycle[(i + 1) % len(self.cycle)]) for i, a in enumerate(self.cycle)]

    @property
    def reinforcing(self) -> bool:
        return self.key.startswith("R")


VARIABLES: dict[str, Variable] = {
    v.key: v
    for v in (
        Variable("early_help", "Early-help places", 10.0),
        Variable("support", "Families supported\n(early help, HV visits)", 10.0),
        Variable("need", "Families with\nrising need", 10.0),
        Variable("entries", "Entries\ninto care", 1.0),
        Variable("spend", "Placement\nspend", 1e4),
        Variable("overspend", "Placement\noverspend", 0.02),
        Variable("workload", "Social-worker\nworkload", 0.1),
        Variable("threshold", "Front-door\nthreshold", 0.1),
        Variable("inhouse_full", "In-house places\nfull", 0.05),
        Variable("for_profit", "For-profit, distant\nplacements", 0.05),
        Variable("breakdowns", "Breakdowns\nand moves", 1.0),
        Variable("price", "Placement\nprices", 100.0),
        Variable("supply", "For-profit\nsupply", 5.0),
    )
}

LINKS: dict[tuple[str, str], Link] = {
    (lk.cause, lk.effect): lk
    for lk in (
        Link("early_help", "support", +1),
        Link("support", "need", -1),
        Link("need", "support", +1),
        Link("need", "entries", +1),
        Link("entries", "spend", +1),
        # overspend is (spend - budget) / budget in the same week: an identity, no delay
        Link("spend", "overspend", +1, lag=0),
        Link("overspend", "early_help", -1),
        Link("workload", "threshold", +1),
        Link("threshold", "need", +1),
        Link("entries", "workload", +1),
        Link("inhouse_full", "for_profit", +1),
        Link("for_profit", "breakdowns", +1),
        Link("breakdowns", "inhouse_full", +1),
        Link("price", "supply", +1),
        Link("supply", "price", -1),
    )
}

LOOPS: dict[str, Loop] = {
    lp.key: lp
    for lp in (
        Loop("R1", "Crisis trap",
             ("early_help", "support", "need", "entries", "spend", "overspend"),
             "less early help -> more escalation -> more entries -> more placement spend -> "
             "overspend -> less early help", vicious_when=-1),
        Loop("R2", "Market squeeze", ("inhouse_full", "for_profit", "breakdowns"),
             "in-house places full -> more for-profit placements, dearer and further away -> "
             "more breakdowns and moves -> more demand for places", vicious_when=+1),
        Loop("R3", "Workload", ("workload", "threshold", "need", "entries"),
             "overloaded social workers -> higher thresholds -> unmet need escalates -> more "
             "crises -> more workload", vicious_when=+1),
        Loop("B1", "Prevention works", ("need", "support"),
             "rising need is spotted -> more families get early help and health visiting -> "
             "less escalation"),
        Loop("B2", "Market entry", ("price", "supply"),
             "high prices -> new providers -> more supply -> prices fall"),
    )
}


def _check_structure() -> None:
    """Every loop's links exist, each loop's polarity matches its R/B name, and every loop has
    a lagged link (without one a balancing loop could never drive)."""
    for lp in LOOPS.values():
        product = 1
        for a, b in lp.links():
            product *= LINKS[(a, b)].sign
        if (product > 0) != lp.reinforcing:
            raise AssertionError(f"loop {lp.key} has polarity {product:+d}")
        if not any(LINKS[k].lag for k in lp.links()):
            raise AssertionError(f"loop {lp.key} has no lagged link")
        if any(LINKS[k].lag not in (0, 1) for k in lp.links()):
            raise AssertionError(f"loop {lp.key}: a link's lag is 0 or 1 window")


_check_structure()


# --- observing a model ------------------------------------------------------------------------


def observe(model) -> dict[str, float]:
    """This week's value of every diagram variable for the whole region (the simulated sample).

    Call once after each ``model.step()``. Flows come from ``model.week_flows``; stocks are
    read from the population, provider table and agents.
    """
    from sim.population import WEEKS_PER_YEAR

    pop, p = model.pop, model.params
    f, c, pl, pr = pop.families, pop.children, pop.placements, model.providers
    las = model.authorities
    wf = model.week_flows
    case = f.case
    supported = f.active & ((case == Case.EARLY_HELP) | (f.hv_weeks > 0))
    need = f.active & (case < Case.CARE) & (f.need > p.early_help.level)
    care = np.flatnonzero(c.in_care)
    ids = c.placement[care]
    staff = np.array([la.social_workers for la in las])
    workload = np.array([la.workload for la in las])
    funding = model.levers.funding
    budget_week = sum(la.placement_budget * funding[la.idx] for la in las) / WEEKS_PER_YEAR
    spend = float(wf.get("spend_placements_gbp", 0.0))
    inhouse = pr.active & pr.la_run
    fp = pr.active & pr.for_profit
    fp_cap = pr.capacity[fp].astype(float)
    return {
        "early_help": float(sum(la.early_help_places for la in las)),
        "support": float(supported.sum()),
        "need": float(need.sum()),
        "entries": float(wf.get("care_entries", 0.0)),
        "spend": spend,
        "overspend": (spend - budget_week) / budget_week if budget_week > 0 else 0.0,
        "workload": float(np.average(workload, weights=staff)) if staff.sum() > 0 else 0.0,
        "threshold": float(np.mean([la.threshold for la in las])),
        "inhouse_full": float(pr.occupied[inhouse].sum() / max(pr.capacity[inhouse].sum(), 1)),
        "for_profit": float(np.mean(pl.for_profit[ids] | (pl.miles[ids] > 20)))
        if len(ids) else 0.0,
        "breakdowns": float(wf.get("placement_breakdowns", 0.0)),
        "price": float(np.average(pr.price[fp], weights=fp_cap)) if fp_cap.sum() > 0 else 0.0,
        "supply": float(fp_cap.sum()),
    }


# --- the measure ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """A variable's change between two windows: difference, relative size, z, and whether
    it counts (significant and material)."""

    diff: float
    rel: float
    z: float
    counts: bool

    @property
    def sign(self) -> int:
        return int(np.sign(self.diff)) if self.counts else 0


@dataclass(frozen=True)
class LinkState:
    link: Link
    status: str  # "transmitting", "contrary", "quiet"
    strength: float  # sqrt(|rX| |rY|) when transmitting, else 0


@dataclass(frozen=True)
class LoopState:
    loop: Loop
    driving: bool
    score: float
    direction: str  # "vicious", "virtuous", "correcting" or ""
    links: tuple[LinkState, ...]


@dataclass
class Assessment:
    """Which links transmit and which loops drive, at one week."""

    week: int
    ready: bool
    links: dict[tuple[str, str], LinkState] = field(default_factory=dict)
    loops: dict[str, LoopState] = field(default_factory=dict)

    @property
    def dominant(self) -> str | None:
        driving = [s for s in self.loops.values() if s.driving]
        return max(driving, key=lambda s: s.score).loop.key if driving else None


def change(older: np.ndarray, newer: np.ndarray, scale: float, z_min: float = 2.0,
           rel_min: float = 0.01) -> Change:
    """The change from window ``older`` to window ``newer`` of one weekly series."""
    a, b = np.asarray(older, float), np.asarray(newer, float)
    diff = float(b.mean() - a.mean())
    se = float(np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))) if len(a) > 1 else 0.0
    z = diff / se if se > 0 else (np.inf * np.sign(diff) if diff else 0.0)
    rel = diff / max(abs(float(a.mean())), scale)
    return Change(diff, rel, float(z), bool(abs(z) >= z_min and abs(rel) >= rel_min))


def assess(series: dict[str, np.ndarray], window: int = 13, z_min: float = 2.0,
           rel_min: float = 0.01, week: int = -1) -> Assessment:
    """Assess the links and loops from weekly ``series`` (key -> values, oldest first).

    Needs at least ``3 * window`` weeks of every variable; with fewer the assessment is
    returned with ``ready=False`` and every link quiet.
    """
    n = min((len(v) for v in series.values()), default=0)
    out = Assessment(week=week, ready=n >= 3 * window)
    if not out.ready:
        for key, lk in LINKS.items():
            out.links[key] = LinkState(lk, "quiet", 0.0)
        for lp in LOOPS.values():
            out.loops[lp.key] = LoopState(
                lp, False, 0.0, "", tuple(out.links[k] for k in lp.links()))
        return out
    w = window
    cause_change: dict[str, Change] = {}
    effect_change: dict[str, Change] = {}
    for key, var in VARIABLES.items():
        x = np.asarray(series[key], float)[-3 * w:]
        cause_change[key] = change(x[:w], x[w:2 * w], var.scale, z_min, rel_min)
        effect_change[key] = change(x[w:2 * w], x[2 * w:], var.scale, z_min, rel_min)
    for key, lk in LINKS.items():
        cx = (cause_change if lk.lag else effect_change)[lk.cause]
        ey = effect_change[lk.effect]
        if cx.counts and ey.counts:
            if cx.sign * ey.sign == lk.sign:
                out.links[key] = LinkState(lk, "transmitting", float(np.sqrt(abs(cx.rel * ey.rel))))
            else:
                out.links[key] = LinkState(lk, "contrary", 0.0)
        else:
            out.links[key] = LinkState(lk, "quiet", 0.0)
    for lp in LOOPS.values():
        states = tuple(out.links[k] for k in lp.links())
        driving = all(s.status == "transmitting" for s in states)
        score = min(s.strength for s in states) if driving else 0.0
        direction = ""
        if driving:
            if lp.reinforcing:
                first = effect_change[lp.cycle[0]].sign
                direction = "vicious" if first == lp.vicious_when else "virtuous"
            else:
                direction = "correcting"
        out.loops[lp.key] = LoopState(lp, driving, score, direction, states)
    return out


class LoopMonitor:
    """Keeps the weekly series of every diagram variable and assesses them on demand."""

    def __init__(self, window: int = 13, z_min: float = 2.0, rel_min: float = 0.01) -> None:
        self.window, self.z_min, self.rel_min = window, z_min, rel_min
        self.weeks: list[int] = []
        self.series: dict[str, list[float]] = {k: [] for k in VARIABLES}

    def record(self, week: int, values: dict[str, float]) -> None:
        self.weeks.append(week)
        for k in VARIABLES:
            self.series[k].append(float(values[k]))

    def assess(self) -> Assessment:
        keep = 3 * self.window
        recent = {k: np.asarray(v[-keep:]) for k, v in self.series.items()}
        return assess(recent, self.window, self.z_min, self.rel_min,
                      week=self.weeks[-1] if self.weeks else -1)


# --- ``cscsim loops``: the weekly loop status of a run, without a browser ------------------------

#: Columns of ``loops.csv`` besides ``week``: per loop, whether it drove that week, its score,
#: its direction and how many of its links transmitted; then the dominant loop.
LOOPS_CSV = "loops.csv"


def loop_status(model, weeks: int, window: int = 13) -> list[dict[str, object]]:
    """Step ``model`` ``weeks`` reported weeks and return one row a week of the loop measure
    (:func:`assess`, the same one the app's diagram shows). Weeks before three windows of
    history exist are rows with ``ready`` false and nothing driving."""
    monitor = LoopMonitor(window=window)
    rows: list[dict[str, object]] = []
    for _ in range(weeks):
        model.step()
        monitor.record(model.week, observe(model))
        a = monitor.assess()
        row: dict[str, object] = {"week": model.week, "ready": a.ready}
        for key, st in a.loops.items():
            row[f"{key}_driving"] = st.driving
            row[f"{key}_score"] = round(st.score, 5)
            row[f"{key}_direction"] = st.direction
            row[f"{key}_links_transmitting"] = sum(s.status == "transmitting" for s in st.links)
        row["dominant"] = a.dominant or ""
        rows.append(row)
    return rows


def register(subparsers) -> None:
    """Add ``cscsim loops`` (called by :mod:`sim.workflows.cli` through its ``PLUGINS``)."""
    ap = subparsers.add_parser(
        "loops", help="write which feedback loop drives each week of a run (CSV, no browser)",
        description="Run a scenario and write loops.csv: for every reported week, which of "
                    "R1 crisis trap, R2 market squeeze, R3 workload, B1 prevention, B2 market "
                    "entry is driving, by the measure in docs/teaching.md (the app's).")
    ap.add_argument("scenario", help="scenario file (TOML)")
    ap.add_argument("--weeks", type=int, default=260,
                    help="reported weeks to run after the scenario's burn-in (default 260)")
    ap.add_argument("--out", default="results/loops", help="output folder (default "
                    "results/loops)")
    ap.add_argument("--warm-start", type=int, default=None, metavar="YEARS",
                    help="years run before week 0 (default: the teaching app's, "
                         "20, or the scenario's own burn-in when longer); the state at week 0 "
                         "is kept in the warm-start cache ($CSCSIM_WARM_CACHE)")
    ap.add_argument("--scale", type=float, help="share of families simulated (0-1]")
    ap.add_argument("--seed", type=int, help="root random seed")
    ap.set_defaults(func=cmd_loops)


def cmd_loops(args) -> int:
    """Check everything first (scenario, --weeks, --out), so bad input writes nothing; then
    run and write ``loops.csv`` in one go, and print how many weeks each loop drove."""
    import sys
    from pathlib import Path

    import pandas as pd

    from sim.config import ConfigError, load_scenario
    from sim.snapshot import TEACHING_WARM_START_YEARS, teaching_scenario, teaching_warm_start
    from sim.workflows.preflight import check_out

    if not 1 <= args.weeks <= 5200:
        raise ConfigError(f"--weeks {args.weeks}: allowed: a whole number from 1 to 5200")
    warm = TEACHING_WARM_START_YEARS if args.warm_start is None else args.warm_start
    if not 0 <= warm <= 50:
        raise ConfigError(f"--warm-start {warm}: allowed: a whole number from 0 to 50")
    scenario = load_scenario(args.scenario)
    over = {k: v for k, v in (("run.scale", args.scale), ("run.seed", args.seed))
            if v is not None}
    scenario = scenario.with_overrides({**over, "run.record_events": False},
                                       where="command line")
    # As the app runs a preset: from the model's own balance, not from the drawn start.
    scenario = teaching_scenario(scenario, warm)
    check_out(args.out, 200 * args.weeks)
    rows = loop_status(teaching_warm_start(scenario), args.weeks)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(out / LOOPS_CSV, index=False)
    ready = [r for r in rows if r["ready"]]
    counts = ", ".join(f"{k} {sum(bool(r[f'{k}_driving']) for r in ready)}" for k in LOOPS)
    print(f"cscsim loops: {scenario.name}, {scenario.run.burn_in_years}-year warm start, "
          f"{args.weeks} weeks ({len(ready)} assessed): weeks "
          f"driving: {counts}; wrote {out / LOOPS_CSV}", file=sys.stderr)
    return 0
