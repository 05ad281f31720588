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

import numpy as np
import pandas as pd

from sim.population import End, Kind

FLOAT_FORMAT = "%.10g"


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
        }
    )


def write_run(
    model,
    out: str | Path,
    timings: dict[str, float],
    figure: Callable[[pd.DataFrame, Path], None] | None = None,
) -> Path:
    """Write every output of a finished run into ``out``; returns the folder."""
    annual = model.annual_frame()
    with staged(out) as stage:
        write_csv(annual, stage / "annual.csv")
        write_csv(model.annual_by_la_frame(), stage / "annual_by_la.csv")
        write_csv(placements_frame(model), stage / "placements.csv")
        if figure is not None:
            figure(annual, stage / "summary.png")
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
        (stage / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    return Path(out)
