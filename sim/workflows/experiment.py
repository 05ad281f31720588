"""Experiment files: a base scenario, factors, a design and replications, validated strictly.

An experiment file (TOML) says which runs a sweep makes; docs/sweeps.md documents every key::

    name = "Early help"
    description = "Early-help places from today's level to double"

    [base]
    scenario = "../policies/scenarios/default.toml"   # optional, relative to this file
    run.scale = 0.05                                  # inline overrides, any section
    run.years = 8

    [design]
    kind = "grid"            # grid | rows | lhs | sobol | morris
    replications = 4
    seed = 20240501          # the one root seed

    [factors]
    "levers.early_help_capacity" = [1.0, 1.5, 2.0]          # explicit values
    "levers.health_visitor_fte" = { min = 1.0, max = 2.0, steps = 3 }   # a range

Every mistake raises :class:`~sim.config.ConfigError` with one message naming the key, the value
and what is allowed, before anything is written. Factor names are the dotted parameter keys of
:mod:`sim.parameters`, and every value (range ends and every design point) is checked against
the parameter registry exactly as a scenario file is.

Seeds: run ``(point, replicate)`` gets ``SeedSequence(seed, spawn_key=(point, replicate))``'s
first 32-bit word (or ``spawn_key=(replicate,)`` with ``seeds = "common"``, common random
numbers). A run's seed therefore depends on the root seed and its place in the design only,
never on the number of workers, the order runs finish in or the backend.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.config import ConfigError, Scenario, check_value, load_scenario, load_toml, shown
from sim.indicators import COLUMNS
from sim.parameters import BY_NAME, SECTIONS

DESIGNS = ("grid", "rows", "lhs", "sobol", "morris")
SAMPLED = ("lhs", "sobol", "morris")
TOP_KEYS = ("name", "description", "base", "design", "factors", "outputs", "testing")
DESIGN_KEYS = ("kind", "replications", "seed", "seeds", "samples", "levels", "second_order",
               "rows", "max_runs")
OUTPUT_KEYS = ("final_years", "outcomes")
TESTING_KEYS = ("fail_runs", "crash_runs")
RANGE_KEYS = ("min", "max", "steps")
SEED_SCHEMES = ("independent", "common")
#: Parameters a sweep sets itself, so they cannot be factors.
NOT_FACTORS = {"run.seed": "every run's seed is derived from [design] seed"}
MAX_SEED = 2**32 - 1
#: Designs larger than this are refused unless ``[design] max_runs`` raises the limit (a typo
#: such as steps = 1000 on five factors would otherwise ask for 10^15 runs).
MAX_RUNS = 100_000
#: The most ``max_runs`` may allow: every run is listed in memory and in parts/experiment.json.
MAX_RUNS_CEILING = 10_000_000


def _suggest(word: str, options: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else ""


def _check_keys(table: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key {key!r}{_suggest(key, allowed)} "
                              f"Allowed: {', '.join(allowed)}.")


def _int(value: Any, where: str, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo or (
            hi is not None and value > hi):
        top = f" to {hi}" if hi is not None else " or more"
        raise ConfigError(f"{where} = {shown(value)} is not allowed: a whole number from {lo}{top}")
    return value


def _flatten(table: dict[str, Any], where: str, leaf_is_dict: bool = False) -> dict[str, Any]:
    """``{"levers": {"x": 1}}`` or ``{"levers.x": 1}`` -> ``{"levers.x": 1}``.

    TOML turns an unquoted dotted key (``levers.x = 1``) into nested tables and a quoted one
    (``"levers.x" = 1``) into a flat key; both spellings are accepted. With ``leaf_is_dict`` a
    table whose keys are range keys (``min``/``max``/``steps``) is a value, not a section.
    """
    out: dict[str, Any] = {}

    def put(name: str, value: Any) -> None:
        if name in out:  # "levers.x" = ... and levers.x = ... in one table: one would be lost
            raise ConfigError(f"{where}: {name} is set twice (once quoted, once as a dotted "
                              f"key); set it once")
        out[name] = value

    for key, value in table.items():
        if "." in key:
            put(key, value)
        elif isinstance(value, dict) and not (leaf_is_dict and set(value) <= set(RANGE_KEYS)):
            if key not in SECTIONS:
                raise ConfigError(f"{where}: unknown section {key!r}{_suggest(key, SECTIONS)} "
                                  f"Allowed sections: {', '.join(SECTIONS)}.")
            for sub, v in value.items():
                put(f"{key}.{sub}", v)
        else:
            raise ConfigError(f"{where}: {key!r} is not a parameter; write it as section.key"
                              f"{_suggest_dotted(key)}")
    return out


def _suggest_dotted(key: str) -> str:
    """The dotted name whose key part is closest to a bare ``key`` (funding -> levers.funding)."""
    by_key = {name.split(".", 1)[1]: name for name in BY_NAME}
    close = difflib.get_close_matches(key, list(by_key), n=1, cutoff=0.5)
    return f"; did you mean {by_key[close[0]]!r}?" if close else ", e.g. levers.funding"


def _factor_name(name: str, where: str) -> str:
    if name in NOT_FACTORS:
        raise ConfigError(f"{where}: {name} cannot be a factor: {NOT_FACTORS[name]}")
    if name not in BY_NAME:
        Scenario().with_overrides({name: 0}, where=where)  # raises with the right suggestion
    return name


@dataclass(frozen=True)
class Factor:
    """One varied parameter: explicit ``values`` (grid) or a ``[lo, hi]`` range (any design)."""

    name: str
    values: tuple[Any, ...] | None = None
    lo: float | None = None
    hi: float | None = None

    @property
    def is_integer(self) -> bool:
        d = BY_NAME[self.name].default
        return isinstance(d, int) and not isinstance(d, bool)


@dataclass
class Experiment:
    """A validated experiment: everything needed to list its runs and reproduce each of them."""

    name: str
    description: str
    base: Scenario
    kind: str
    factors: list[Factor]
    points: list[dict[str, Any]]
    replications: int
    seed: int
    seeds: str = "independent"
    samples: int | None = None
    levels: int = 4
    second_order: bool = False
    final_years: int = 3
    outcomes: tuple[str, ...] = COLUMNS
    fail_runs: tuple[int, ...] = ()
    crash_runs: tuple[int, ...] = ()
    source: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    # --- the runs -------------------------------------------------------------------------
    @property
    def n_runs(self) -> int:
        return len(self.points) * self.replications

    @property
    def factor_names(self) -> list[str]:
        return [f.name for f in self.factors]

    def run_seed(self, point: int, replicate: int) -> int:
        """The seed of run (point, replicate): a function of the root seed and the indices only."""
        key = (replicate,) if self.seeds == "common" else (point, replicate)
        ss = np.random.SeedSequence(self.seed, spawn_key=key)
        return int(ss.generate_state(1, dtype=np.uint32)[0])

    def runs(self) -> list[tuple[int, int, int, int]]:
        """Every run as ``(run_id, point, replicate, seed)``, run_id = point * reps + rep."""
        return [(p * self.replications + r, p, r, self.run_seed(p, r))
                for p in range(len(self.points)) for r in range(self.replications)]

    def scenario(self, point: int, seed: int) -> Scenario:
        overrides = {**self.points[point], "run.seed": seed}
        return self.base.with_overrides(overrides, where=f"{self.source} design point {point}")

    # --- for SALib --------------------------------------------------------------------------
    def problem(self) -> dict[str, Any]:
        return {"num_vars": len(self.factors), "names": self.factor_names,
                "bounds": [[f.lo, f.hi] for f in self.factors]}

    def resolved(self) -> dict[str, Any]:
        """Everything that decides the runs' results, as plain data (hashed for --resume)."""
        return {
            "name": self.name, "kind": self.kind, "replications": self.replications,
            "seed": self.seed, "seeds": self.seeds, "samples": self.samples,
            "levels": self.levels, "second_order": self.second_order,
            "factors": [{"name": f.name, "values": list(f.values) if f.values else None,
                         "min": f.lo, "max": f.hi} for f in self.factors],
            "points": self.points, "base": self.base.to_dict(),
            "final_years": self.final_years, "outcomes": list(self.outcomes),
            "fail_runs": list(self.fail_runs),
            # only when set, so the digests of existing experiments do not change
            **({"crash_runs": list(self.crash_runs)} if self.crash_runs else {}),
        }

    def digest(self) -> str:
        text = json.dumps(self.resolved(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


# --- parsing ---------------------------------------------------------------------------------
def _parse_factor(name: str, spec: Any, kind: str, where: str) -> Factor:
    here = f"{where}: [factors] {name}"
    p = BY_NAME[name]
    if isinstance(spec, list):
        if kind in SAMPLED:
            raise ConfigError(f"{here}: a {kind} design samples a range; write "
                              f"{{ min = ..., max = ... }} instead of a list of values")
        if not spec:
            raise ConfigError(f"{here}: the list of values is empty")
        values = tuple(check_value(name, v, here) for v in spec)
        if len(set(values)) != len(values):
            raise ConfigError(f"{here}: values repeat: {spec!r}")
        return Factor(name, values=values)
    if isinstance(spec, dict):
        _check_keys(spec, RANGE_KEYS, here)
        if p.choices is not None or isinstance(p.default, bool):
            raise ConfigError(f"{here}: {name} takes {p.allowed()}, so it needs a list of "
                              f"values, not a range")
        if "min" not in spec or "max" not in spec:
            raise ConfigError(f"{here}: a range needs both min and max")
        lo = check_value(name, spec["min"], here + ".min")
        hi = check_value(name, spec["max"], here + ".max")
        if not lo < hi:
            raise ConfigError(f"{here}: min ({lo!r}) must be less than max ({hi!r})")
        if kind in SAMPLED:
            if "steps" in spec:
                raise ConfigError(f"{here}: steps is for grid designs; a {kind} design draws "
                                  f"its own points from [min, max]")
            return Factor(name, lo=float(lo), hi=float(hi))
        if kind != "grid":
            raise ConfigError(f"{here}: a {kind} design takes its values from [[design.rows]]")
        if "steps" not in spec:
            raise ConfigError(f"{here}: a range in a grid needs steps (the number of values, "
                              f"min and max included)")
        steps = _int(spec["steps"], here + ".steps", 2, 1000)
        grid = np.linspace(lo, hi, steps)
        if Factor(name).is_integer:
            grid = np.unique(np.round(grid).astype(int))
            values = tuple(int(v) for v in grid)
        else:
            values = tuple(round(float(v), 12) for v in grid)
        return Factor(name, values=values, lo=float(lo), hi=float(hi))
    raise ConfigError(f"{here} = {spec!r}: give a list of values or a range "
                      f"{{ min = ..., max = ..., steps = ... }}")


def _design_points(kind: str, factors: list[Factor], design: dict[str, Any], seed: int,
                   where: str) -> tuple[list[dict[str, Any]], int | None]:
    """The design's points in a fixed order (the order defines the point indices)."""
    names = [f.name for f in factors]
    if kind == "grid":
        combos = itertools.product(*(f.values for f in factors)) if factors else [()]
        return [dict(zip(names, c, strict=True)) for c in combos], None
    if not factors:
        raise ConfigError(f"{where}: a {kind} design needs at least one factor in [factors]")
    samples = design.get("samples")
    if samples is None:
        raise ConfigError(f"{where}: [design] samples is required for a {kind} design "
                          f"(LHS: points; Sobol: base samples N, a power of 2; Morris: "
                          f"trajectories)")
    samples = _int(samples, f"{where}: [design] samples", 2, 1_000_000)
    problem = {"num_vars": len(factors), "names": names,
               "bounds": [[f.lo, f.hi] for f in factors]}
    sample_seed = int(np.random.SeedSequence(seed).generate_state(1, dtype=np.uint32)[0])
    if kind == "lhs":
        from SALib.sample import latin
        X = latin.sample(problem, samples, seed=sample_seed)
    elif kind == "sobol":
        if samples & (samples - 1):
            raise ConfigError(f"{where}: [design] samples = {samples} is not allowed for a "
                              f"Sobol design: a power of 2 (e.g. {2 ** round(math.log2(samples))})"
                              f", which Sobol' sequences need to converge")
        from SALib.sample import sobol
        X = sobol.sample(problem, samples, calc_second_order=design.get("second_order", False),
                         scramble=True, seed=sample_seed)
    else:
        from SALib.sample import morris
        X = morris.sample(problem, samples, num_levels=design.get("levels", 4), seed=sample_seed)
    points = []
    for row in X:
        point = {}
        for f, v in zip(factors, row, strict=True):
            point[f.name] = int(np.rint(v)) if f.is_integer else float(v)
        points.append(point)
    return points, samples


def design_size(kind: str, factors: list[Factor], design: dict[str, Any]) -> int:
    """The number of design points, computed without listing them."""
    d = len(factors)
    samples = design.get("samples")
    if kind == "grid":
        return math.prod(len(f.values) for f in factors)
    if not isinstance(samples, int) or isinstance(samples, bool) or not d:
        return 0  # _design_points refuses these with its own message
    if kind == "sobol":
        return samples * (2 * d + 2 if design.get("second_order") is True else d + 2)
    if kind == "morris":
        return samples * (d + 1)
    return samples


def _check_size(kind: str, factors: list[Factor], design: dict[str, Any], replications: int,
                max_runs: int, where: str) -> None:
    points = design_size(kind, factors, design)
    runs = points * replications
    if runs > MAX_RUNS_CEILING:
        raise ConfigError(f"{where}: the design has {runs:,} runs ({points:,} points x "
                          f"{replications:,} replications), more than any sweep may have "
                          f"({MAX_RUNS_CEILING:,}); make it smaller")
    if runs > max_runs:
        raise ConfigError(f"{where}: the design has {runs:,} runs ({points:,} points x "
                          f"{replications:,} replications), more than the limit of "
                          f"{max_runs:,}; make it smaller, or if you mean it set [design] "
                          f"max_runs = {runs} (at most {MAX_RUNS_CEILING:,})")


def _parse_rows(design: dict[str, Any], where: str) -> tuple[list[Factor], list[dict[str, Any]]]:
    rows = design.get("rows")
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise ConfigError(f"{where}: a rows design needs [[design.rows]] tables, one per design "
                          f"point, each setting every factor")
    flat = [_flatten(r, f"{where}: [[design.rows]] {i + 1}") for i, r in enumerate(rows)]
    names = list(dict.fromkeys(k for r in flat for k in r))
    points = []
    for i, r in enumerate(flat):
        here = f"{where}: [[design.rows]] {i + 1}"
        missing = [n for n in names if n not in r]
        if missing:
            raise ConfigError(f"{here} does not set {', '.join(missing)}; every row must set "
                              f"every factor")
        points.append({n: check_value(_factor_name(n, here), r[n], here) for n in names})
    factors = [Factor(n, values=tuple(dict.fromkeys(p[n] for p in points))) for n in names]
    return factors, points


def parse_experiment(data: dict[str, Any], where: str = "experiment",
                     folder: Path | None = None) -> Experiment:
    """Validate a parsed experiment mapping; raise ConfigError on the first mistake."""
    _check_keys(data, TOP_KEYS, where)
    meta = {}
    for key in ("name", "description"):
        value = data.get(key, "" if key == "description" else Path(where).stem)
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key} must be a string, not {value!r}")
        meta[key] = value
    for key in ("base", "design", "factors", "outputs", "testing"):
        if key in data and not isinstance(data[key], dict):
            raise ConfigError(f"{where}: {key} must be a table ([{key}])")

    # Base scenario: a file, inline overrides, or both (overrides win).
    base_tbl = dict(data.get("base", {}))
    scenario_path = base_tbl.pop("scenario", None)
    if scenario_path is not None:
        if not isinstance(scenario_path, str):
            raise ConfigError(f"{where}: [base] scenario must be a path string")
        path = Path(scenario_path)
        if not path.is_absolute() and folder is not None:
            path = folder / path
        base = load_scenario(path)
    else:
        base = Scenario()
    base = base.with_overrides(_flatten(base_tbl, f"{where}: [base]"), where=f"{where}: [base]")

    # Design.
    design = data.get("design", {})
    _check_keys(design, DESIGN_KEYS, f"{where}: [design]")
    kind = design.get("kind", "grid")
    if kind not in DESIGNS:
        raise ConfigError(f"{where}: [design] kind = {kind!r} is not allowed: one of "
                          f"{', '.join(DESIGNS)}{_suggest(str(kind), DESIGNS)}")
    for key, kinds in (("samples", SAMPLED), ("levels", ("morris",)),
                       ("second_order", ("sobol",)), ("rows", ("rows",))):
        if key in design and kind not in kinds:
            raise ConfigError(f"{where}: [design] {key} applies to {' and '.join(kinds)} "
                              f"designs, not {kind}")
    replications = _int(design.get("replications", 1), f"{where}: [design] replications",
                        1, 100_000)
    seed = _int(design.get("seed", 1), f"{where}: [design] seed", 0, MAX_SEED)
    seeds = design.get("seeds", "independent")
    if seeds not in SEED_SCHEMES:
        raise ConfigError(f"{where}: [design] seeds = {seeds!r} is not allowed: one of "
                          f"{', '.join(SEED_SCHEMES)}")
    levels = _int(design.get("levels", 4), f"{where}: [design] levels", 2, 100)
    if levels % 2:
        raise ConfigError(f"{where}: [design] levels = {levels} is not allowed: an even number "
                          f"(Morris grids need an even number of levels)")
    second_order = design.get("second_order", False)
    if not isinstance(second_order, bool):
        raise ConfigError(f"{where}: [design] second_order must be true or false")

    max_runs = _int(design.get("max_runs", MAX_RUNS), f"{where}: [design] max_runs", 1,
                    MAX_RUNS_CEILING)

    # Factors and points.
    if kind == "rows":
        if data.get("factors"):
            raise ConfigError(f"{where}: a rows design lists its factors in [[design.rows]]; "
                              f"remove [factors]")
        factors, points = _parse_rows(design, where)
        samples = None
        if len(points) * replications > max_runs:
            raise ConfigError(f"{where}: the design has {len(points) * replications:,} runs, "
                              f"more than the limit of {max_runs:,}; make it smaller, or if "
                              f"you mean it set [design] max_runs = "
                              f"{len(points) * replications}")
    else:
        specs = _flatten(data.get("factors", {}), f"{where}: [factors]", leaf_is_dict=True)
        factors = [_parse_factor(_factor_name(n, f"{where}: [factors]"), s, kind, where)
                   for n, s in specs.items()]
        _check_size(kind, factors, design, replications, max_runs, where)
        points, samples = _design_points(kind, factors, design, seed, where)

    # Outputs.
    outputs = data.get("outputs", {})
    _check_keys(outputs, OUTPUT_KEYS, f"{where}: [outputs]")
    final_years = _int(outputs.get("final_years", 3), f"{where}: [outputs] final_years", 1, 100)
    outcomes = outputs.get("outcomes", list(COLUMNS))
    if not isinstance(outcomes, list) or not outcomes:
        raise ConfigError(f"{where}: [outputs] outcomes must be a list of indicator names")
    for o in outcomes:
        if o not in COLUMNS:
            raise ConfigError(f"{where}: [outputs] outcomes: unknown indicator {o!r}"
                              f"{_suggest(str(o), COLUMNS)} (`cscsim indicators` lists them)")

    testing = data.get("testing", {})
    _check_keys(testing, TESTING_KEYS, f"{where}: [testing]")
    fail_runs = testing.get("fail_runs", [])
    if not isinstance(fail_runs, list):
        raise ConfigError(f"{where}: [testing] fail_runs must be a list of run ids")
    fail = tuple(_int(r, f"{where}: [testing] fail_runs", 0) for r in fail_runs)
    crash_runs = testing.get("crash_runs", [])
    if not isinstance(crash_runs, list):
        raise ConfigError(f"{where}: [testing] crash_runs must be a list of run ids")
    crash = tuple(_int(r, f"{where}: [testing] crash_runs", 0) for r in crash_runs)

    exp = Experiment(
        name=meta["name"], description=meta["description"], base=base, kind=kind,
        factors=factors, points=points, replications=replications, seed=seed, seeds=seeds,
        samples=samples, levels=levels, second_order=second_order, final_years=final_years,
        outcomes=tuple(outcomes), fail_runs=fail, crash_runs=crash, source=where, raw=data,
    )
    # Every design point must make a valid scenario: check them all now, before any output.
    for i in range(len(points)):
        exp.scenario(i, 0)
    return exp


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment file; paths inside it are relative to its folder."""
    path = Path(path)
    return parse_experiment(load_toml(path), where=str(path), folder=path.parent)
