"""The analyst's entry point: ``from sim import run, load``.

One call runs a scenario and hands back everything a run writes, as pandas frames, without
touching the disk::

    from sim import run
    r = run("policies/scenarios/within_20_miles.toml", years=2, scale=0.02, region="North East")
    r.annual                 # one row per year: indicators, helper counts, inputs
    r.by_authority           # one row per authority and year
    r.placements             # one row per placement
    r.child(r.placements.child_id[0]).history    # one child's journey
    r.compare(other)         # paired difference by year of two runs
    r.plot()                 # the summary figure
    r.save("results/mine")   # the same files as `cscsim run --out`

``load(folder)`` reads a folder written by ``cscsim run`` (or ``Results.save``) into the same
object. The frames are exactly the CSVs' contents (the column meanings are in
docs/indicators.md), so code written against one works on the other.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.config import ConfigError, Scenario, load_scenario

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sim.model import CareSystem

RUN_FILES = ("annual.csv", "annual_by_la.csv", "placements.csv", "children.csv")


@dataclass(frozen=True)
class ChildRecord:
    """One child as read back from a run's folder: who they are, their placements and a
    history of care built from them (a live run's :meth:`CareSystem.child` has more: every
    event of the child's family, from the event log)."""

    id: int
    home_authority: str
    birth_week: int
    uasc: bool
    placements: pd.DataFrame
    history: pd.DataFrame


@dataclass
class Results:
    """A finished run: its tables, its scenario and, when it ran in this process, the model."""

    annual: pd.DataFrame
    by_authority: pd.DataFrame
    placements: pd.DataFrame
    children: pd.DataFrame
    scenario: dict[str, Any]
    manifest: dict[str, Any] = field(default_factory=dict)
    model: CareSystem | None = None
    folder: Path | None = None

    # --- what it is --------------------------------------------------------------------
    @property
    def seed(self) -> int:
        return int(self.scenario["run"]["seed"])

    @property
    def title(self) -> str:
        """'Name: region, scale x, seed n, years a-b': enough to tell two runs' figures apart."""
        from sim.output import run_title

        return run_title(self.scenario, self.annual.get("year"))

    def __repr__(self) -> str:
        where = f" from {self.folder}" if self.folder else ""
        return f"<Results {self.title}{where}: {len(self.annual)} years, " \
               f"{len(self.placements):,} placements>"

    def _repr_html_(self) -> str:  # Jupyter shows the headline table
        from sim.workflows.report import headline_table

        return f"<p><b>{self.title}</b></p>" + headline_table(self.annual).to_html()

    # --- one child ---------------------------------------------------------------------
    def child(self, j: int):
        """Child ``j``'s journey: the live model's view (every event of the child and its
        family, its placements) if this run ran in this process, else a :class:`ChildRecord`
        rebuilt from ``placements.csv`` and ``children.csv``."""
        j = int(j)
        if self.model is not None:
            n = self.model.pop.children.next_serial
            if not 0 <= j < n:
                raise KeyError(f"child {j}: this run has children 0 to {n - 1}")
            if self.model.pop.child_rows([j])[0] >= 0:  # (else retired: from the files)
                return self.model.child(j)
        who = self.children[self.children["child_id"] == j]
        if who.empty:
            raise KeyError(f"child {j} was never placed, so the run's files do not hold them "
                           f"(children.csv lists every child ever placed)")
        pl = self.placements[self.placements["child_id"] == j].reset_index(drop=True)
        rows = [{"week": int(p.care_entry_week), "event": "care_entry",
                 "value": ""} for p in pl.drop_duplicates("care_entry_week").itertuples()
                if pd.notna(p.care_entry_week)]
        for p in pl.itertuples():
            rows.append({"week": int(p.start_week), "event": "placement",
                         "value": p.provider_kind})
            if pd.notna(p.end_week):
                rows.append({"week": int(p.end_week), "event": p.end_reason, "value": ""})
        history = pd.DataFrame(rows, columns=["week", "event", "value"])
        history = history.sort_values("week", kind="stable").reset_index(drop=True)
        w = who.iloc[0]
        return ChildRecord(j, str(w.home_authority), int(w.birth_week), bool(w.uasc), pl, history)

    # --- two runs ----------------------------------------------------------------------
    def compare(self, other: Results, indicators: list[str] | None = None) -> pd.DataFrame:
        """Indicators of this run and ``other`` side by side by year, with the difference
        (other - this) and the relative change. Runs with the same seed share their random
        streams, so the difference is mostly the scenarios' effect rather than luck: the frame
        says so in its ``paired`` column (and ``attrs``). One pair of runs gives no interval;
        for one, sweep the two scenarios with common seeds (docs/sweeps.md)."""
        from sim.indicators import COLUMNS

        names = list(indicators or COLUMNS)
        bad = [n for n in names if n not in self.annual.columns or n not in other.annual.columns]
        if bad:
            raise KeyError(f"not in both runs' annual tables: {', '.join(bad)}")
        a = self.annual.set_index("year")[names]
        b = other.annual.set_index("year")[names]
        years = a.index.intersection(b.index)
        if years.empty:
            raise ValueError(f"no common years: {list(a.index)} and {list(b.index)}")
        paired = self.seed == other.seed
        this = a.loc[years].stack().rename("this")
        that = b.loc[years].stack().rename("other")
        out = pd.concat([this, that], axis=1).reset_index()
        out.columns = ["year", "indicator", "this", "other"]
        out["difference"] = out["other"] - out["this"]
        with np.errstate(divide="ignore", invalid="ignore"):
            out["relative"] = np.where(out["this"] != 0, out["difference"] / out["this"], np.nan)
        out["paired"] = paired
        out.attrs.update(paired=paired, this=self.title, other=other.title)
        return out

    # --- figures and files -------------------------------------------------------------
    def plot(self, path: str | Path | None = None) -> Figure:
        """The summary figure (as ``summary.png``), titled with this run; saved if ``path``."""
        from sim.workflows.plots import summary_figure

        return summary_figure(self.annual, path, title=self.title)

    def save(self, out: str | Path) -> Path:
        """Write the run's files into ``out`` (as ``cscsim run --out``); needs the live model."""
        from sim.output import write_run
        from sim.workflows.plots import summary_figure

        if self.model is None:
            raise ValueError("save needs a run made in this process; this one was loaded from "
                             f"{self.folder}")
        return write_run(self.model, out, self.manifest.get("timings_seconds", {}),
                         figure=summary_figure)

    def report(self, path: str | Path | None = None) -> Path:
        """A self-contained HTML report of this run (see ``cscsim report``)."""
        from sim.workflows.report import run_report

        if self.folder is None and path is None:
            raise ValueError("report needs a path for a run that has no folder")
        path = Path(path) if path else self.folder / "report.html"
        path.write_text(run_report(self))
        return path


def run(scenario: str | Path | Scenario | None = None, *, years: int | None = None,
        seed: int | None = None, scale: float | None = None, region: str | None = None,
        overrides: dict[str, Any] | None = None, out: str | Path | None = None) -> Results:
    """Run a scenario (a TOML file, a :class:`Scenario` or the defaults) and return its results.

    ``years``, ``seed``, ``scale`` and ``region`` override ``run.*`` as the command line's
    flags do; ``overrides`` sets any other parameter by its dotted key, e.g.
    ``{"levers.early_help_capacity": 2.0}``, checked as a scenario file is (a typo or an
    out-of-range value raises :class:`ConfigError`). With ``out`` the run's files are written
    there too.
    """
    from sim.model import CareSystem
    from sim.output import children_frame, placements_frame

    base = scenario if isinstance(scenario, Scenario) else load_scenario(
        None if scenario is None else str(scenario))
    flags = {"run.years": years, "run.seed": seed, "run.scale": scale, "run.region": region}
    base = base.with_overrides({k: v for k, v in flags.items() if v is not None},
                               where="sim.run")
    if overrides:
        base = base.with_overrides(dict(overrides), where="sim.run overrides")
    t0 = time.perf_counter()
    model = CareSystem(base)
    t1 = time.perf_counter()
    model.run()
    timings = {"build": time.perf_counter() - t0, "simulate": time.perf_counter() - t1}
    res = Results(annual=model.annual_frame(), by_authority=model.annual_by_la_frame(),
                  placements=placements_frame(model), children=children_frame(model),
                  scenario=base.to_dict(), manifest={"timings_seconds": timings}, model=model)
    if out is not None:
        res.folder = res.save(out)
        res.manifest = json.loads((res.folder / "manifest.json").read_text())
    return res


def is_run_folder(folder: str | Path) -> bool:
    folder = Path(folder)
    return (folder / "manifest.json").exists() and (folder / "annual.csv").exists() and \
        (folder / "placements.csv").exists()


def load(folder: str | Path) -> Results:
    """Read a run's folder (from ``cscsim run`` or :meth:`Results.save`) into :class:`Results`.
    A missing folder, or one that is not a run's, raises :class:`ConfigError` naming it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: no such folder")
    if not is_run_folder(folder):
        raise ConfigError(f"{folder} is not a run's folder (it needs manifest.json, annual.csv "
                          f"and placements.csv, as cscsim run writes them)")
    manifest = json.loads((folder / "manifest.json").read_text())
    if manifest.get("kind") == "cscsim sweep":
        raise ConfigError(f"{folder} is a sweep, not a run: read its tables with pandas, or "
                          f"`cscsim report {folder}`")
    frames = {}
    for name in RUN_FILES:
        path = folder / name
        frames[name] = pd.read_csv(path) if path.exists() else pd.DataFrame()
    pl = frames["placements.csv"]
    for col in ("end_week", "care_entry_week"):
        if col in pl:
            pl[col] = pl[col].astype("Int64")
    return Results(annual=frames["annual.csv"], by_authority=frames["annual_by_la.csv"],
                   placements=pl, children=frames["children.csv"],
                   scenario=manifest.get("scenario", {}), manifest=manifest, folder=folder)
