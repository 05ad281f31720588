"""``cscsim calibrate``: fit the free parameters to England's published figures.

Which parameters are free: :data:`FREE`, the behavioural rates and thresholds no publication
pins down (how need turns into referrals, assessments, plans and proceedings; how fast children
go home; how authorities choose placements). Everything with a published or derived default
(prices, margins, capacities per 10,000, workforce, early-help spending, health-visitor FTE) is
fixed.

How the fit works: each trial runs the England baseline at a reduced ``scale`` for ``years``
and scores it by the squared distance of every validation indicator (:mod:`sim.workflows.targets`)
from its target, in units of its tolerance, averaged over the years, plus a penalty for drift in the
number of children in care between the first and last year (the baseline should be a steady
state, not a transient). Optuna proposes parameters: by default CMA-ES started from the current
values (a good local optimiser for 22 continuous parameters when the start is already close),
or TPE (``--sampler tpe``) for a broader search; trials are evaluated in
parallel processes, ``workers`` at a time, and told back in trial order, so the fit depends only
on the seed and settings, never on timing. Every trial uses the same model seed (common random
numbers), so differences between trials come from the parameters.

With ``--history`` (:mod:`sim.workflows.history`) each trial instead runs England from 2010
(``policies/scenarios/england_2010.toml``) to 2024 with every driver as published, and is
scored on the published annual series of the fit window, 2010-2017 (rates per 10,000 children,
each point's squared misfit in tolerances, averaged over the series' years), plus the 2023-24
targets that have no series (placement mix, distance, conferences, spending, stability,
re-referrals), each compared with the model's 2024, the year it describes. No series value of
the test window, 2018-2024, enters the loss, and ``fit.json`` lists every target used with its
year. (One model for the history and for today: a fit to 2010-2017 alone left the 2023-24
structure, such as initial conferences, wherever 2010's practice put it.) ``--seeds K`` runs
each trial on K model seeds and scores the mean of their annual tables (so a trial's loss is
less a matter of one seed's luck).

Calibration only moves parameters: its outputs are the fitted scenario file, the trials and a
record of the fit; the model's outputs remain whatever the model produces.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import ConfigError, Scenario, load_scenario
from sim.parameters import BY_NAME
from sim.schedule import Schedule

#: Free parameters and the range searched (log-scaled where the range spans decades).
FREE: dict[str, tuple[float, float, bool]] = {
    "need.poverty_effect": (0.3, 2.0, False),
    "need.toxic_trio_effect": (0.5, 3.0, False),
    "need.adolescent_risk_rate": (1e-5, 5e-3, True),
    "need.adolescent_age_slope": (-0.3, 0.9, False),
    "need.deprivation_effect": (0.0, 3.0, False),
    "need.propensity_sd": (0.0, 1.5, False),
    "social_work.referral_rate": (0.03, 1.0, True),
    "social_work.background_referral_rate": (1e-3, 0.05, True),
    "social_work.referral_slope": (0.5, 3.0, False),
    "social_work.known_family_effect": (1.0, 20.0, True),
    "social_work.threshold": (1.0, 3.0, False),
    "social_work.cin_level": (1.2, 3.0, False),
    "social_work.s47_level": (2.0, 3.6, False),
    "social_work.icpc_level": (2.0, 4.0, False),
    "social_work.cpp_level": (1.9, 4.0, False),
    "social_work.care_level": (2.6, 4.5, False),
    "social_work.pre_birth_level": (1.5, 4.0, False),
    "social_work.close_level": (0.8, 2.2, False),
    "social_work.proceedings_rate": (0.05, 2.0, True),
    "social_work.young_child_proceedings_effect": (0.0, 3.0, False),
    "care.reunification_rate": (0.3, 5.0, True),
    "care.return_breakdown_level": (1.5, 3.5, False),
    "care.kinship_probability": (0.2, 1.0, False),
    "care.kin_local_share": (0.1, 0.9, False),
    "care.with_parents_probability": (0.0, 0.4, False),
    "care.home_probability_teen": (0.05, 0.5, False),
    "care.supported_probability": (0.1, 0.9, False),
    "care.move_on_rate": (0.05, 3.0, True),
    # Foster breakdowns that step up to a children's home (ODD 7.8; off, 0, by default): the
    # share of children in homes and the placement stability say how many.
    "care.step_up_probability": (0.0, 1.0, False),
    "placements.inhouse_outside_share": (0.0, 0.6, False),
    "placements.short_term_share": (0.0, 1.0, False),
    "placements.short_term_weeks": (2.0, 52.0, True),
    "placements.breakdown_inhouse": (0.02, 1.0, True),
    "placements.breakdown_ifa": (0.02, 1.0, True),
    "placements.breakdown_home": (0.05, 2.0, True),
    "court.interim_removal": (0.0, 1.0, False),
    "placements.other_costs_per_week": (0.0, 2000.0, False),
    "levers.distance_weight": (0.0, 40.0, False),
}
#: Free points of a schedule, fitted only by ``--history``: ``"section.key@year"`` is the
#: schedule's value in that year (its other points are kept). The investigative-practice shift
#: is 0 in 2024 by definition (today's practice, at which the 2023-24 snapshot is fitted); its
#: 2008 (the warm start), 2010, 2014 and 2017 points are what the fit window says about
#: practice then (ODD 7.5).
HISTORY_FREE: dict[str, tuple[float, float, bool]] = {
    "social_work.s47_practice_shift@2008": (0.0, 3.0, False),
    "social_work.s47_practice_shift@2010": (0.0, 2.0, False),
    # ... and its 2014 point (twenty-second session): England's enquiries rose about evenly
    # over 2010-2017 (80 to 157 per 10,000), but a threshold moved evenly in time does not
    # move a count evenly (the families near it are not spread evenly), so with 2010's and
    # 2017's points only, run 38's enquiries were 18% low in 2013, 10% low in 2015 and 5%
    # high in 2017, and its conferences and plans begun lagged England's with them.
    "social_work.s47_practice_shift@2014": (0.0, 2.0, False),
    "social_work.s47_practice_shift@2017": (0.0, 2.0, False),
    # How readily authorities went to court (ODD 7.5): 1 in 2024 by definition; the points of
    # 2008 (the warm start), 2010 and 2017 are what the fit window says (care applications to
    # Cafcass rose faster than plans, 2009-2017).
    "social_work.proceedings_practice@2008": (0.2, 2.0, False),
    "social_work.proceedings_practice@2010": (0.2, 2.0, False),
    "social_work.proceedings_practice@2017": (0.2, 2.0, False),
    # Proceedings for long stays under section 20 after Re N (2015; agents/court.py), held
    # from the end of the fit window; the 2023-24 structure's share under section 20 and the
    # fit window's care starts and exits say how often.
    "court.s20_proceedings_rate@2017": (0.0, 4.0, False),
    # Today's adoption hazard; the history schedules it (sim/workflows/drivers.py:
    # adoption_rate), so fitting it scales the whole path. Fitted against the fit window's
    # adoptions from care (the series sim/workflows/history.py compares).
    "care.adoption_rate": (0.05, 1.0, True),
    # ... and how long after a child's first year in care a match with adopters may come (ODD
    # 7.9; off by default): with the fit window's adoptions, the share of exits after under a
    # year and children in care, how early England adopts.
    "care.adoption_window_years": (0.25, 17.0, True),
    # A plan's lasting effect (ODD 7.5): how often a plan ending at review has ended a
    # toxic-trio factor; the fit window's second-or-later plans (DfE CIN table D3) say.
    "social_work.plan_trio_resolution": (0.0, 0.9, False),
    # The conference's own error (ODD 7.5): the fit window's conferences and plans begun say
    # how many of the conferences make a plan.
    "social_work.conference_noise": (0.0, 3.0, False),
    # How much of practice's shift stood on the conference's threshold too (ODD 7.5; off by
    # default): the fit window's conferences, which rose less than enquiries, say.
    "social_work.conference_practice_share": (0.0, 2.0, False),
    # How often the first review conference ends a plan it reads as no longer needed (ODD 7.5;
    # 1, every time, by default): DfE CIN table D7's outer bands of how long plans last (read
    # by the history fit, sim/workflows/targets.py: checks) say.
    "social_work.first_review_end_chance": (0.0, 1.0, False),
    # What a week on a plan achieves (ODD 7.5; 0.02 need units, an assumption, until the
    # twenty-seventh session): how long plans last. Run 44's plans lasted 0.91 years on
    # average (the stock at 31 March over the plans begun in the year) against England's
    # 0.80-0.82 (DfE CIN: 49,700 on plans at 31 March 2015 after 62,200 begun; 49,420 after
    # 61,840 in 2024-25), with its conferences low, nine in ten making a plan, and its
    # cpp_level at the bottom of its range. The fit window's plans at 31 March, plans begun
    # and children in care, with D7's bands of how long plans last, say how much.
    "social_work.cpp_effect": (0.005, 0.1, True),
    # How often a review conference is brought forward (ODD 7.5; off by default): D7's bands of
    # plans ending three to six months in and a year to two in (read by the history fit) say.
    "social_work.early_review_rate": (0.0, 4.0, False),
    # How children leave care (ODD 7.9): special guardianship from kinship care, an assumption
    # (0.25) until the fit window's share going home (DfE's reasons for ceasing) and care exits
    # could say how many leave that way rather than home.
    "care.sgo_rate": (0.05, 1.5, True),
    # Special guardianship at the final hearing instead of a care order (ODD 7.5; off, 0, by
    # default), the route of most such orders for children in care: the fit window's orders,
    # adoptions and children in care say how often.
    "court.sgo_at_hearing": (0.0, 1.0, False),
    # ... and how readily courts made those orders in 2010 and 2014 against today (ODD 7.9; 1
    # throughout by default): the fit window's special guardianship orders (DfE, which doubled
    # 2011-2015) say.
    "care.sgo_practice@2010": (0.1, 3.0, False),
    "care.sgo_practice@2014": (0.1, 3.0, False),
    # Children who cease to be looked after at 16-17 without going home (ODD 7.9; off by
    # default): the fit window's share going home and care exits say how many.
    "care.leaving_rate_16_17": (0.0, 2.0, False),
    # ... and how often a 16- or 17-year-old goes home when the family does (ODD 7.9; 1, every
    # time, by default): the fit window's shares of exits at 16-17 and on the 18th birthday
    # (2010, 2013) say.
    "care.home_16_17_factor": (0.0, 1.0, False),
    # Returns home in the first weeks of a period in care (ODD 7.9; off by default): the fit
    # window's shares of exits after under two weeks and under a year (2013) say.
    "care.early_return_factor": (1.0, 200.0, True),
    "care.early_return_weeks": (0.5, 13.0, False),
    # ... and from placements other than supported accommodation, as a share of that: the
    # 2023-24 shares of children's homes and supported accommodation in 2024 say how many.
    "care.leaving_other_factor": (0.0, 1.0, False),
    # The authorities' own foster places: the 2023-24 placement mix in 2024 (in-house and
    # agency foster care) says how many, in a model whose children in care came through 2010-2024.
    "placements.inhouse_per_10k_children": (12.0, 32.0, False),
}
#: The plain (unscheduled-point) keys a history fit may free beyond FREE: a history-fitted
#: scenario and the forward baseline carry them like FREE's.
HISTORY_LEVELS = tuple(k for k in HISTORY_FREE if "@" not in k)
#: Every range a fit may search, by key.
RANGES = {**FREE, **HISTORY_FREE}
#: Default share of England's families in a history trial (issue 11: 0.05 or more).
HISTORY_SCALE = 0.05
DRIFT_WEIGHT = 0.5  # weight of a target's first-to-last-year change, per squared tolerance


def loss_terms(annual: pd.DataFrame, local: tuple | None = None) -> dict[str, float]:
    """Squared misfit of each target, in tolerances: of its mean over the years, and of its
    change from the first year to the last (the baseline should be a steady state).

    ``local``: ``(gss_code, targets)`` from an authority's own targets file
    (:func:`sim.workflows.targets.load_targets_file`); then ``annual`` is ``annual_by_la`` and only
    that authority's rows are scored, against its targets instead of England's."""
    from sim.workflows.targets import targets

    chosen = targets()
    if local is not None:
        gss, chosen = local
        annual = annual[annual["gss_code"] == gss]
    terms = {}
    for t in chosen:
        series = annual[t.column].to_numpy(dtype=float)
        if not np.isfinite(series).all():
            terms[t.column], terms[f"drift_{t.column}"] = 1e6, 0.0
            continue
        terms[t.column] = ((series.mean() - t.value) / t.tolerance) ** 2
        terms[f"drift_{t.column}"] = DRIFT_WEIGHT * ((series[-1] - series[0]) / t.tolerance) ** 2
    return terms


def evaluate(
    values: dict[str, dict[str, Any]], local: tuple | None = None
) -> tuple[float, dict[str, float]]:
    """Run one trial (in a worker process) and return its loss and indicator means."""
    from sim.model import CareSystem

    scenario = Scenario(values)
    model = CareSystem(scenario)
    model.run()
    annual = model.annual_frame() if local is None else model.annual_by_la_frame()
    terms = loss_terms(annual, local)
    if local is not None:
        annual = annual[annual["gss_code"] == local[0]]
    means = {f"model_{k}": float(annual[k].mean()) for k in terms if not k.startswith("drift")}
    return float(sum(terms.values())), {**means, **{f"loss_{k}": v for k, v in terms.items()}}


def annual_of(values: dict[str, dict[str, Any]]) -> dict[str, list]:
    """Run one trial on one seed (in a worker process) and return its annual table."""
    from sim.model import CareSystem

    model = CareSystem(Scenario(values))
    model.run()
    return model.annual_frame().to_dict(orient="list")


def score(frames: list[dict[str, list]], history: bool) -> tuple[float, dict[str, float]]:
    """Loss and detail of one trial from its seeds' annual tables: the tables are averaged
    year by year, then scored on the history (:func:`sim.workflows.history.history_terms`) or,
    without ``history``, on England's 2023-24 targets (:func:`loss_terms`)."""
    annual = (
        pd.concat([pd.DataFrame(f) for f in frames])
        .groupby("year", sort=True)
        .mean(numeric_only=True)
        .reset_index()
    )
    if not history:
        terms = loss_terms(annual)
        means = {
            f"model_{k}": float(annual[k].mean()) for k in terms if not k.startswith("drift")
        }
        return float(sum(terms.values())), {**means, **{f"loss_{k}": v for k, v in terms.items()}}
    from sim.workflows.history import fit_points, history_terms

    terms = history_terms(annual)
    by_year = annual.set_index("year")
    points = {
        f"model_{p.column}_{p.year}": float(by_year[p.column].get(p.year, math.nan))
        for p in fit_points()
    }
    return float(sum(terms.values())), {**points, **{f"loss_{k}": v for k, v in terms.items()}}


def model_seeds(seed: int, k: int) -> list[int]:
    """The model seeds of a trial: ``seed`` itself for one, else k seeds derived from it (as
    validation derives its replications' seeds)."""
    if k == 1:
        return [seed]
    from sim.workflows.validation import replicate_seed

    return [replicate_seed(seed, i) for i in range(k)]


def _to_unit(key: str, value: float) -> float:
    """``value`` in the unit cube of ``key``'s range; a start outside the range (a scenario may
    set a rate to 0, below a log range's floor) starts the search at the range's edge."""
    lo, hi, log = RANGES[key]
    value = min(max(float(value), lo), hi)
    if log:
        return (math.log(value) - math.log(lo)) / (math.log(hi) - math.log(lo))
    return (value - lo) / (hi - lo)


def _from_unit(key: str, u: float) -> float:
    lo, hi, log = RANGES[key]
    u = min(max(float(u), 0.0), 1.0)
    return math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo))) if log else lo + u * (hi - lo)


class CmaProposer:
    """CMA-ES (the ``cmaes`` package) in the unit cube of the free parameters (log-scaled where
    the range spans decades), its mean started at the current values. It proposes whole
    generations and is told their losses in order."""

    def __init__(self, base: Scenario, seed: int, keys: list[str], step: float = 0.05) -> None:
        from cmaes import CMA

        self.keys = keys
        mean = np.array([min(max(_to_unit(k, current(base, k)), 0.0), 1.0) for k in keys])
        bounds = np.tile([0.0, 1.0], (len(keys), 1))
        self.cma = CMA(mean=mean, sigma=step, bounds=bounds, seed=seed)
        self._xs: list[np.ndarray] = []

    def ask(self, budget: int) -> list[dict[str, float]]:
        self._xs = [self.cma.ask() for _ in range(self.cma.population_size)]
        return [{k: _from_unit(k, u) for k, u in zip(self.keys, x, strict=True)} for x in self._xs]

    def tell(self, losses: list[float]) -> None:
        self.cma.tell(list(zip(self._xs, losses, strict=True)))


class TpeProposer:
    """Optuna's multivariate TPE, asked ``workers`` trials at a time (a broader search)."""

    def __init__(self, base: Scenario, seed: int, workers: int, keys: list[str]) -> None:
        import optuna

        self.keys = keys
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, n_startup_trials=24)
        self.study = optuna.create_study(direction="minimize", sampler=sampler)
        self.workers = workers
        self._trials: list = []

    def ask(self, budget: int) -> list[dict[str, float]]:
        self._trials = [self.study.ask() for _ in range(min(self.workers, budget))]
        return [
            {k: t.suggest_float(k, *RANGES[k][:2], log=RANGES[k][2]) for k in self.keys}
            for t in self._trials
        ]

    def tell(self, losses: list[float]) -> None:
        for trial, loss in zip(self._trials, losses, strict=True):
            self.study.tell(trial, loss)


def calibrate(
    base: Scenario,
    trials: int,
    workers: int,
    seed: int,
    out: Path,
    progress: bool = True,
    sampler: str = "cmaes",
    step: float = 0.05,
    keys: list[str] | None = None,
    local: tuple | None = None,
    history: bool = False,
    seeds: int = 1,
    file_base: Scenario | None = None,
) -> dict[str, Any]:
    """Run the fit and write ``fitted.toml``, ``trials.csv``, ``fit.json`` and a figure.

    ``keys`` are the parameters fitted (default: all of :data:`FREE`; the rest keep the values
    of ``base``). Trial 0 is the starting point itself; CMA-ES then runs whole generations
    until at least ``trials`` trials have run (so the count is rounded up to a generation).
    ``history``: score on England's 2010-2017 series (:mod:`sim.workflows.history`); ``seeds``:
    model seeds per trial, averaged; ``file_base``: with ``history``, the scenario the fitted file
    copies (the 2010 start as given, before the trials' scale and years)."""
    from sim.output import cscsim_version, git_commit, staged, write_csv
    from sim.workflows.progress import progress_bar

    keys = list(FREE) if keys is None else keys
    seed_list = model_seeds(base.run.seed, seeds)
    proposer = (
        CmaProposer(base, seed, keys, step)
        if sampler == "cmaes"
        else TpeProposer(base, seed, workers, keys)
    )
    rows: list[dict[str, Any]] = []
    planned = trials
    if isinstance(proposer, CmaProposer):  # whole generations after the starting point
        pop = proposer.cma.population_size
        planned = 1 + pop * math.ceil(max(trials - 1, 1) / pop)
    t0 = time.perf_counter()
    spawn = multiprocessing.get_context("spawn")  # fresh workers: no fork of a threaded parent
    with (
        ProcessPoolExecutor(max_workers=workers, mp_context=spawn) as pool,
        progress_bar(total=planned, desc="calibrate", unit="trial", disable=not progress) as bar,
    ):

        def run(params: list[dict[str, float]]) -> list[float]:
            scenarios = [with_fitted(base, p).values for p in params]
            losses = []
            if history or seeds > 1:
                tasks = [
                    {**v, "run": {**v["run"], "seed": s}} for v in scenarios for s in seed_list
                ]
                frames = list(pool.map(annual_of, tasks))
                k = len(seed_list)
                results = [score(frames[i * k : (i + 1) * k], history) for i in range(len(params))]
            else:
                results = pool.map(functools.partial(evaluate, local=local), scenarios)
            for p, (loss, detail) in zip(params, results, strict=True):
                rows.append({"trial": len(rows), "loss": loss, **p, **detail})
                losses.append(loss)
                bar.update(1)
            bar.set_postfix(best=f"{min(r['loss'] for r in rows):.1f}")
            return losses

        run([{k: current(base, k) for k in keys}])
        while len(rows) < trials:
            proposer.tell(run(proposer.ask(trials - len(rows))))
    best = min(rows, key=lambda r: r["loss"])
    fitted = with_fitted(base, {k: best[k] for k in keys})
    record = {
        "cscsim_version": cscsim_version(),
        "git_commit": git_commit(),
        "seed": seed,
        "sampler": sampler,
        "step": step,
        "trials": len(rows),  # run: CMA-ES rounds the request up to whole generations
        "trials_requested": trials,
        "workers": workers,
        "scale": base.run.scale,
        "years": base.run.years,
        "burn_in_years": base.run.burn_in_years,
        "region": base.run.region,
        "targets": None if local is None else f"{local[0]} ({len(local[1])} targets)",
        "model_seed": base.run.seed,
        "best_trial": best["trial"],
        "best_loss": best["loss"],
        "free": {
            k: {"low": lo, "high": hi, "log": log, "fitted": best[k] if k in keys else None}
            for k, (lo, hi, log) in (RANGES if history else FREE).items()
        },
        "fitted_keys": keys,
        "seeds_per_trial": seeds,
        "model_seeds": seed_list,
        "history": history,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    if history:
        from sim.workflows.history import (
            CHANGE_TOLERANCE,
            FIT_CHANGE,
            FIT_YEARS,
            SERIES,
            SNAPSHOT_YEAR,
            TEST_YEARS,
            targets_used,
        )

        record["start_year"] = base.run.start_year
        record["fit_window"] = [FIT_YEARS[0], FIT_YEARS[-1]]
        record["test_window"] = [TEST_YEARS[0], TEST_YEARS[-1]]
        record["loss"] = (
            f"sum over the {len(SERIES)} series of the mean over their fit-window points of "
            "((model - published) / tolerance)^2; plus ((model change - published change) / "
            f"{CHANGE_TOLERANCE})^2 for {FIT_CHANGE} (children in care, a ratio of counts); "
            "plus ((model value - target) / tolerance)^2 for each 2023-24 target with no "
            f"series, read in the model's {SNAPSHOT_YEAR}; model values are the mean of the "
            "trial's seeds' annual tables"
        )
        record["targets_used"] = targets_used()
        text = history_fitted_toml(file_base or base, best, keys, record)
    else:
        text = fitted_toml(fitted, record)
    with staged(out) as stage:
        write_csv(pd.DataFrame(rows), stage / "trials.csv")
        (stage / "fit.json").write_text(json.dumps(record, indent=2) + "\n")
        (stage / "fitted.toml").write_text(text)
        _figure(pd.DataFrame(rows), stage / "calibration.png", history)
    return record


def history_fitted_toml(
    file_base: Scenario, best: dict[str, Any], keys: list[str], record: dict[str, Any]
) -> str:
    """The 2010 start with the fitted values: every setting of ``file_base`` that differs from
    the defaults, and every free parameter (fitted or kept), so the file stands on its own."""
    from sim.workflows.history import scenario_toml

    fitted = with_fitted(file_base, {k: best[k] for k in keys})
    fitted.name = f"{file_base.name} (fitted)"
    fitted.description = (
        f"Calibrated by cscsim calibrate --history (seed {record['seed']}, {record['trials']} "
        f"trials, scale {record['scale']}, {record['seeds_per_trial']} seed(s) per trial, fit "
        f"window {record['fit_window'][0]}-{record['fit_window'][1]}; loss "
        f"{record['best_loss']:.2f})"
    )
    header = [
        "Written by cscsim calibrate --history; its fit.json lists every target used.",
        "Validate it out of sample: cscsim validate --history --scenario THIS_FILE",
    ]
    return scenario_toml(fitted, header, always=tuple(FREE))


def current(base: Scenario, key: str) -> float:
    """The value of a free key in ``base``: a parameter's value, or for ``"key@year"`` the
    value its schedule gives that year; for a plain key that ``base`` schedules (a driver such
    as ``care.adoption_rate`` in the history), the value of its last year: today's level."""
    name, _, year = key.partition("@")
    value = base.get(name)
    if year:
        return value.at(int(year)) if isinstance(value, Schedule) else float(value)
    return value.values[-1] if isinstance(value, Schedule) else value


def with_fitted(base: Scenario, params: dict[str, float]) -> Scenario:
    """``base`` with the free keys set: plain parameters replaced, schedule points
    (``"key@year"``) set in their schedule with its other years kept. A plain key that
    ``base`` schedules keeps the schedule's shape, scaled so that its last year (today) has the
    fitted value: the driver's path is data, its level today is the parameter fitted."""
    plain: dict[str, Any] = _typed({k: v for k, v in params.items() if "@" not in k})
    for name, value in list(plain.items()):
        old = base.get(name)
        if isinstance(old, Schedule) and old.values[-1]:
            ratio = value / old.values[-1]
            plain[name] = {str(y): float(f"{v * ratio:.6g}")
                           for y, v in zip(old.years, old.values, strict=True)}
    for key, value in params.items():
        if "@" not in key:
            continue
        name, _, year = key.partition("@")
        if name not in plain:  # start from the schedule's own points (none for a value)
            old = base.get(name)
            plain[name] = old.to_dict() if isinstance(old, Schedule) else {}
        plain[name][year] = float(f"{value:.6g}")
    return base.with_overrides(plain, where="calibration")


def _typed(params: dict[str, float]) -> dict[str, Any]:
    """Round integer parameters; keep floats to six significant digits (not six decimals,
    which would round a small rate such as 2.38e-05 to 2.4e-05)."""
    return {
        k: (round(v) if isinstance(BY_NAME[k].default, int) else float(f"{v:.6g}"))
        for k, v in params.items()
    }


def fitted_toml(scenario: Scenario, record: dict[str, Any]) -> str:
    """A scenario file holding the run settings and the fitted values of the free parameters."""
    lines = [
        f'name = "{scenario.name if scenario.name != "default" else "England baseline"}"',
        f'description = "Calibrated by cscsim calibrate (seed {record["seed"]}, '
        f"{record['trials']} trials, scale {record['scale']}, {record['years']} years after a "
        f"{record['burn_in_years']}-year burn-in; "
        f'loss {record["best_loss"]:.2f})"',
    ]
    sections: dict[str, list[str]] = {
        "run": [
            f'region = "{scenario.run.region}"',
            f"burn_in_years = {scenario.run.burn_in_years}",
        ]
    }
    for key in FREE:
        section, name = key.split(".")
        sections.setdefault(section, []).append(f"{name} = {scenario.get(key)!r}")
    for section, body in sections.items():
        lines += ["", f"[{section}]", *body]
    return "\n".join(lines) + "\n"


def _figure(trials: pd.DataFrame, path: Path, history: bool = False) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    ax.plot(trials["trial"], trials["loss"], ".", alpha=0.4, label="trial")
    ax.plot(trials["trial"], np.minimum.accumulate(trials["loss"]), "r-", label="best so far")
    ax.set(
        yscale="log",
        xlabel="trial",
        ylabel="loss (squared tolerances)",
        title=(
            "cscsim calibrate --history: fit to England's 2010-2017 series"
            if history
            else "cscsim calibrate: fit to England's published figures"
        ),
    )
    ax.legend()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def cmd_calibrate(args: argparse.Namespace) -> int:
    file_base = None
    if args.history:
        from sim.workflows.history import FIT_YEARS, SNAPSHOT_YEAR, history_scenario

        if args.targets:
            raise ConfigError("command line: --history fits England's history; it cannot be "
                              "combined with --targets (one authority's own targets)")
        if args.years is not None:
            raise ConfigError(f"command line: --years is not allowed with --history: each "
                              f"trial runs 2010 to {SNAPSHOT_YEAR} (the fit "
                              f"window's series, {FIT_YEARS[0]}-{FIT_YEARS[-1]}, and the "
                              f"snapshot targets in {SNAPSHOT_YEAR})")
        start, _ = history_scenario(args.scenario)
        file_base = start.with_overrides(
            {"run.region": args.region, "run.burn_in_years": args.burn_in},
            where="command line",
        )
        base = file_base.with_overrides(
            {"run.years": SNAPSHOT_YEAR - start.run.start_year + 1}, where="command line"
        )
        scale = HISTORY_SCALE if args.scale is None else args.scale
        years = None
        burn_in = None
    else:
        base = load_scenario(args.scenario) if args.scenario else Scenario()
        scale = 0.01 if args.scale is None else args.scale
        years = 3 if args.years is None else args.years
        burn_in = 5 if args.burn_in is None else args.burn_in
    local = None
    if args.targets:
        from sim.workflows.targets import load_targets_file

        local = load_targets_file(Path(args.targets), args.region)
    overrides = {
        "run.region": args.region,
        "run.scale": scale,
        "run.years": years,
        "run.seed": args.model_seed,
        "run.record_events": False,
        "run.burn_in_years": burn_in,
    }
    base = base.with_overrides(overrides, where="command line")
    if args.seeds < 1:
        raise ConfigError(f"command line: --seeds = {args.seeds} is out of range: at least 1")
    if args.seeds > 1 and local is not None:
        raise ConfigError("command line: --seeds above 1 is not supported with --targets")
    for name, value, lo in (("--trials", args.trials, 1), ("--workers", args.workers, 1)):
        if value < lo:
            raise ConfigError(f"command line: {name} = {value} is out of range: at least {lo}")
    free = dict.fromkeys(k.strip() for k in (args.free or "").split(",") if k.strip())
    allowed = RANGES if args.history else FREE
    keys = list(free) or list(allowed)
    for k in keys:
        if k not in allowed:
            raise ConfigError(
                f"command line: --free names {k!r}, which is not a free parameter"
                + (" (it is fitted only with --history)" if k in RANGES else "")
                + "; allowed: " + ", ".join(allowed)
            )
    if not 0 < args.step <= 0.5:
        raise ConfigError(
            f"command line: --step = {args.step} is out of range: above 0, at most 0.5"
        )
    record = calibrate(
        base,
        args.trials,
        args.workers,
        args.seed,
        Path(args.out),
        progress=not args.quiet,
        sampler=args.sampler,
        step=args.step,
        keys=keys,
        local=local,
        history=args.history,
        seeds=args.seeds,
        file_base=file_base,
    )
    print(
        f"best loss {record['best_loss']:.2f} (trial {record['best_trial']}); wrote "
        f"{args.out}/fitted.toml, trials.csv, fit.json, calibration.png"
    )
    return 0


def register(sub) -> None:
    p = sub.add_parser("calibrate", help="fit the free parameters to England's published figures")
    p.add_argument("--scenario", help="scenario to start from (default: the defaults)")
    p.add_argument(
        "--region",
        default="England",
        help="region simulated (default England); with --targets, the authority's region",
    )
    p.add_argument(
        "--targets",
        metavar="FILE",
        help="fit one authority's own targets (from cscsim targets ssda903) instead of "
        "England's published figures",
    )
    p.add_argument("--trials", type=int, default=200, help="optimiser trials (default 200)")
    p.add_argument(
        "--history",
        action="store_true",
        help="fit England's history: run policies/scenarios/england_2010.toml (or --scenario, "
        "a copy starting in 2010) to 2017 and score the 2010-2017 series and the structural "
        "shares; 2018-2024 are never used (docs/calibration.md)",
    )
    p.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="model seeds per trial, their annual tables averaged (default 1; 2 or more "
        "for a less noisy loss)",
    )
    p.add_argument(
        "--scale",
        type=float,
        default=None,
        help=f"share of families (default 0.01; with --history {HISTORY_SCALE})",
    )
    p.add_argument(
        "--years",
        type=int,
        default=None,
        help="simulated years per trial (default 3; not with --history, which runs 2010-2017)",
    )
    p.add_argument("--seed", type=int, default=1, help="optimiser seed (default 1)")
    p.add_argument(
        "--sampler",
        choices=("cmaes", "tpe"),
        default="cmaes",
        help="optimiser: CMA-ES from the current values (default) or TPE",
    )
    p.add_argument(
        "--step",
        type=float,
        default=0.05,
        help="CMA-ES initial step, as a share of each parameter's range (default 0.05)",
    )
    p.add_argument(
        "--free",
        metavar="KEY[,KEY...]",
        help="fit only these free parameters (default: all); the rest keep the start's values",
    )
    p.add_argument(
        "--burn-in",
        type=int,
        default=None,
        help="years each trial runs before the years it is scored on (default 5; with "
        "--history, the scenario's; written to the fitted scenario, so validation runs the "
        "same burn-in)",
    )
    p.add_argument("--model-seed", type=int, default=1, help="model seed for every trial")
    p.add_argument("--workers", type=int, default=2, help="parallel processes (default 2)")
    p.add_argument("--out", default="results/calibration", help="output folder")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_calibrate)
