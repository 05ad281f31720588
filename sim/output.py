"""Writing a run's results: CSVs, a manifest and a summary figure, all or nothing.

Everything is written into a hidden staging folder beside the destination and moved into place
only when every file is complete, so an interrupted or failed run never leaves half a result.
CSVs are deterministic (same seed, same bytes); timings go only into ``manifest.json``.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.population import End, Event, Kind, Legal

FLOAT_FORMAT = "%.10g"


def provenance(command: str, settings: Any, source: str, scenario: Any,
               seeds: list[int]) -> dict[str, Any]:
    """What every validation manifest records first: the command, the code, the settings
    (a dataclass), where the scenario came from and what it was, and the replications' seeds."""
    from dataclasses import asdict

    return {
        "command": command,
        "cscsim_version": cscsim_version(),
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "settings": asdict(settings),
        "scenario_source": source,
        "scenario_name": scenario.name,
        "scenario_region": scenario.run.region,
        "scenario": scenario.to_dict(),
        "replication_seeds": seeds,
    }


def cscsim_version() -> str:
    try:
        return version("cscsim")
    except Exception:  # running from a source tree that is not installed
        return "unknown"


def git_commit() -> str | None:
    """The commit of the cscsim source tree, if it is a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None


@contextmanager
def staged(out: str | Path):
    """Yield a staging folder; on success move its files into ``out``, on failure discard it.

    The staging folder is made inside ``out`` (not beside it), so the final moves are renames
    within one filesystem even when ``out`` is a mount point. If anything fails, the staging
    folder and every folder this call created are removed, and an OSError (a full disk, a
    read-only mount) becomes a :class:`~sim.config.ConfigError` naming ``out``.
    """
    from sim.config import ConfigError

    out = Path(out)
    created = []  # folders made here, deepest first
    p = out.absolute()
    while not p.exists() and p != p.parent:
        created.append(p)
        p = p.parent
    stage = None
    moved = False
    try:
        out.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
        yield stage
        for f in sorted(stage.iterdir()):
            os.replace(f, out / f.name)
            moved = True
    except BaseException as e:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)
            stage = None
        for d in created:
            try:
                d.rmdir()
            except OSError:
                break
        if isinstance(e, OSError):
            raise ConfigError(f"cannot write {out}: {e.strerror or e}"
                              + ("" if moved else "; nothing written")) from None
        raise
    finally:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """``df`` as CSV, floats as :data:`FLOAT_FORMAT` (missing: empty), the bytes of
    :func:`write_csv_reference`. Why not pandas' own ``float_format``: pandas formats each
    value through three Python calls (a check for missing values, a wrapper, the format), a
    microsecond a value, which at full scale for ten years (two float columns of three million
    placements) was half of the time spent writing; here each numpy float column is formatted
    by one list comprehension with the same ``%`` operation, and given to pandas as strings,
    which it writes as they are (no float string needs quoting)."""
    text = _floats_as_text(df)
    text.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def _floats_as_text(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with each numpy float column as the strings ``FLOAT_FORMAT % value`` would write
    (``""`` where missing, as pandas' default ``na_rep``); other columns untouched (a shallow
    copy: ``df`` itself is not changed)."""
    floats = [i for i, dt in enumerate(df.dtypes) if isinstance(dt, np.dtype) and dt.kind == "f"]
    if not floats:
        return df
    out = df.copy(deep=False)
    fmt = FLOAT_FORMAT
    for i in floats:
        values = df.iloc[:, i].to_numpy()
        text = np.array([fmt % v for v in values.tolist()], dtype=object)
        text[np.isnan(values)] = ""
        out.isetitem(i, text)
    return out


def write_csv_reference(df: pd.DataFrame, path: Path) -> None:
    """:func:`write_csv` by pandas' own float formatting (the definition)."""
    df.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def placements_frame(model) -> pd.DataFrame:
    """One row per placement, in the order they began."""
    pl = model.pop.placements
    open_ = pl.end_reason == End.OPEN
    return pd.DataFrame(
        {
            "placement_id": np.arange(pl.n),
            "child_id": pl.child,
            "home_authority": model.region.la_code[pl.home_la],
            "provider_id": pl.provider,
            "provider_kind": np.array([k.name.lower() for k in Kind])[pl.kind],
            "for_profit": pl.for_profit,
            "start_week": pl.start,
            # Open placements have no end week (burn-in weeks are negative, so -1 is a week).
            "end_week": pd.Series(pl.end, dtype="Int64").mask(open_),
            "end_reason": np.array([e.name.lower() for e in End])[pl.end_reason],
            "distance_miles": pl.miles.astype(float).round(3),
            "out_of_area": pl.out_of_area,
            "with_siblings": pl.with_siblings,
            "weekly_price_gbp": pl.price.astype(float).round(2),
            # For exports to the sector's formats (sim/workflows/ssda903.py): where the child
            # lived, whether the provider is the authority's own, and the legal route into care.
            "placement_node": pl.node,
            "la_run": _la_run(model, pl.provider),
            "legal_status": np.array([x.name.lower() for x in Legal])[pl.legal],
            **_care_entry(model),
        }
    )


def _la_run(model, provider: np.ndarray) -> np.ndarray:
    """Whether each placement's provider is run by the child's authority (kinship carers and
    emergency placements have no provider and are not)."""
    la_run = np.asarray(model.providers.la_run, dtype=bool)
    if len(la_run) == 0:  # no providers at all (the smallest samples)
        return np.zeros(len(provider), dtype=bool)
    return np.where(provider >= 0, la_run[np.maximum(provider, 0)], False)


def _care_entry(model) -> dict[str, pd.Series]:
    """When the period of care each placement belongs to began (``care_entry_week``) and
    whether the child was placed under a court order (``care_order``: an interim or full care
    order, from the placement's legal status; empty for the initial stock). Both are empty
    when the run recorded no events."""
    pl, e = model.pop.placements, model.pop.events
    out = pd.Series(pd.array([pd.NA] * pl.n, dtype="boolean"))
    entered = pd.Series(pd.array([pd.NA] * pl.n, dtype="Int64"))
    if pl.n == 0 or e.n == 0:
        return {"care_entry_week": entered, "care_order": out}
    entry = np.flatnonzero(e.code == Event.CARE_ENTRY)
    # The latest entry of each placement's child at or before the placement began.
    key = e.child[entry].astype(np.int64) * 2**32 + (e.week[entry].astype(np.int64) + 2**31)
    order = np.argsort(key, kind="stable")
    key, entry = key[order], entry[order]
    want = pl.child.astype(np.int64) * 2**32 + (pl.start.astype(np.int64) + 2**31)
    at = np.searchsorted(key, want, side="right") - 1
    found = (at >= 0) & (e.child[entry[np.maximum(at, 0)]] == pl.child)
    week = e.week[entry[np.maximum(at, 0)]].astype(np.int64)
    # The initial stock entered before the run: its entries are the first block of entry
    # events (logged in one call before the first step), some dated to the first week itself;
    # date those a week earlier so that no export counts them as the run's entries.
    first = np.flatnonzero(e.code == Event.CARE_ENTRY)
    block = first[: np.argmax(np.r_[np.diff(first) != 1, True]) + 1] if len(first) else first
    stock = np.isin(entry[np.maximum(at, 0)], block)
    week = np.where(stock, np.minimum(week, -model.burn_weeks - 1), week)
    by_order = np.isin(pl.legal, [Legal.INTERIM, Legal.CARE_ORDER])
    known = found & ~stock
    out[known] = by_order[known]
    entered[found] = week[found]
    return {"care_entry_week": entered, "care_order": out}


def children_frame(model) -> pd.DataFrame:
    """One row per child who was ever placed: who they are, for exports to the sector's
    formats. ``birth_week`` is the model week of birth (age in weeks = week - birth_week)."""
    ids = np.unique(model.pop.placements.child)
    who = model.pop.child_info(ids, model.week)  # (live or retired: sim/population.py)
    return pd.DataFrame(
        {
            "child_id": ids,
            "family_id": who["family"],
            "home_authority": model.region.la_code[who["la"]],
            "home_node": who["node"],
            "birth_week": who["birth_week"],
            "uasc": who["uasc"],
        }
    )

def run_title(scenario: dict, years: pd.Series | None = None) -> str:
    """'Name: region, scale x, seed n, 2024-2033': what tells one run's figure from another's."""
    r = scenario.get("run", {})
    span = ""
    if years is not None and len(years):
        span = f", {int(years.min())}-{int(years.max())}"
    return (f"{scenario.get('name', 'run')}: {r.get('region', '?')}, scale {r.get('scale', 0):g}, "
            f"seed {r.get('seed', '?')}{span}")



def write_run(
    model,
    out: str | Path,
    timings: dict[str, float],
    figure: Callable[..., object] | None = None,
) -> Path:
    """Write every output of a finished run into ``out``; returns the folder. ``figure(annual,
    path, title=...)`` draws the summary figure, titled with the scenario, region, scale and
    seed so that two runs' figures cannot be mistaken for each other."""
    annual = model.annual_frame()
    with staged(out) as stage:
        write_csv(annual, stage / "annual.csv")
        write_csv(model.annual_by_la_frame(), stage / "annual_by_la.csv")
        write_csv(placements_frame(model), stage / "placements.csv")
        write_csv(children_frame(model), stage / "children.csv")
        if figure is not None:
            figure(annual, stage / "summary.png",
                   title=run_title(model.params.to_dict(), annual["year"]))
        manifest = {
            "cscsim_version": cscsim_version(),
            "git_commit": git_commit(),
            "python": platform.python_version(),
            "packages": {p: version(p) for p in ("mesa", "numpy", "pandas", "networkx")},
            "seed": model.params.run.seed,
            "scenario": model.params.to_dict(),
            "weeks": model.week + 1,
            "families": int(model.pop.families.n),
            "children": int(model.pop.children.n),
            "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
            "files": [*sorted(p.name for p in stage.iterdir()), "manifest.json"],
        }
        if getattr(model, "policies", None):  # what each [[policies]] table did
            manifest["policies"] = model.finalize_policies()
        (stage / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    return Path(out)
