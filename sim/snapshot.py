"""Warm starts: a model saved after its burn-in, reused by later runs of the same scenario.

England's baseline scenario relaxes for 20 simulated years before year 1 (``run.burn_in_years``),
which at full scale costs twice the ten reported years. The burn-in depends only on the
scenario's first-year values, its seed, scale and region, not on how many years are then
reported, so it can be run once, pickled, and loaded by every later run of that scenario:
the run continues exactly as if it had burnt in itself (the random streams are part of the
saved state). The file carries a key of everything the burn-in depends on, and the code's
version, and is refused when either differs.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.config import Scenario
    from sim.model import CareSystem
    from sim.region import Region

#: Years every teaching preset runs before its week 0 (the app's page and ``cscsim loops``).
#: Why 20, as the England baseline: cold-started, children in care in the North East at the
#: teaching scale climb by half in four years (families enter proceedings and plans that the
#: drawn start left empty, while the drawn children in care leave at two thirds of the later
#: rate), then fall back by a quarter over the next decade as the families' make-up settles
#: (toxic-trio share 12.1% to 10.1%, plans down a third), and are level from about year 15
#: (docs/teaching.md, "Warm start"). A shorter warm start shows a class that settling as if it
#: were an effect. It costs about 13 CPU seconds at the teaching scale, once: the state at week
#: 0 is kept on disk (:func:`cache_folder`).
TEACHING_WARM_START_YEARS = 20
#: Environment variable naming the folder warm starts are kept in (empty or ``off``: none).
CACHE_ENV = "CSCSIM_WARM_CACHE"
#: Warm starts kept in the folder (the least recently used go first): about 37 MB each at the
#: teaching scale, and a new code version (commit) makes new ones.
KEEP_FILES = 12

#: Settings that do not change the state at the end of the burn-in.
_NOT_IN_KEY = {("run", "years")}


def key(scenario: Scenario) -> str:
    """A hash of everything the burn-in depends on: the scenario (schedules included) except
    the number of reported years, and the code's version and commit."""
    from sim.output import cscsim_version, git_commit

    d = scenario.to_dict()
    for section, name in _NOT_IN_KEY:
        d.get(section, {}).pop(name, None)
    text = json.dumps({"scenario": d, "version": cscsim_version(), "commit": git_commit()},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def save(model: CareSystem, path: str | Path) -> Path:
    """Pickle a model that has finished its burn-in (and run no reported week yet)."""
    if model.week != -1:
        raise ValueError("save a model right after its burn-in, before year 1 begins")
    path = Path(path)
    # a name of this process's own: the app's server and its baseline worker may both save it
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        pickle.dump({"key": key(model.inputs), "model": model}, fh, protocol=5)
    tmp.replace(path)
    return path


def load(path: str | Path, scenario: Scenario) -> CareSystem:
    """The burnt-in model saved at ``path``, which must be ``scenario``'s (same key); its
    reported years are then ``scenario``'s. Only load files you wrote: pickle runs code."""
    with open(path, "rb") as fh:
        saved = pickle.load(fh)  # our own file, checked by key below
    if saved.get("key") != key(scenario):
        raise ValueError(f"{path}: saved for another scenario or code version")
    model = saved["model"]
    model.inputs = scenario
    model.params = scenario.at_year(scenario.run.start_year)  # its years, not the saver's
    return model


def warm_start(scenario: Scenario, folder: str | Path) -> tuple[CareSystem, bool]:
    """The scenario's model after its burn-in: loaded from ``folder`` if saved there, else
    built (burnt in) and saved. Returns the model and whether it was loaded."""
    from sim.model import CareSystem

    path = Path(folder) / f"burnin-{key(scenario)}.pkl"
    if path.exists():
        model = load(path, scenario)
        path.touch()  # recently used: kept by prune
        return model, True
    model = CareSystem(scenario)
    Path(folder).mkdir(parents=True, exist_ok=True)
    save(model, path)
    return model, False


def prune(folder: str | Path, keep: int = KEEP_FILES) -> None:
    """Delete all but the ``keep`` most recently used warm starts in ``folder``."""
    files = sorted(Path(folder).glob("burnin-*.pkl"), key=lambda p: p.stat().st_mtime,
                   reverse=True)
    for old in files[keep:]:
        old.unlink(missing_ok=True)


def cache_folder() -> Path | None:
    """Where teaching warm starts are kept: ``$CSCSIM_WARM_CACHE`` (empty or ``off``: not
    kept), else ``cscsim/warm-starts`` in the user's cache folder (``$XDG_CACHE_HOME`` or
    ``~/.cache``)."""
    env = os.environ.get(CACHE_ENV)
    if env is not None:
        return None if env.strip().lower() in ("", "off") else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cscsim" / "warm-starts"


def teaching_scenario(scenario: Scenario, years: int = TEACHING_WARM_START_YEARS) -> Scenario:
    """``scenario`` with a burn-in of at least ``years`` (a preset's own longer one stands)."""
    burn = max(int(scenario.run.burn_in_years), int(years))
    if burn == scenario.run.burn_in_years:
        return scenario
    return scenario.with_overrides({"run.burn_in_years": burn}, where="warm start")


def teaching_warm_start(scenario: Scenario, region: Region | None = None) -> CareSystem:
    """The model of ``scenario`` at the end of its burn-in, as the teaching presets start:
    loaded from :func:`cache_folder` when it was saved there by an earlier run of the same
    scenario, seed, scale and code version, else run (and saved). Every call returns a model
    of its own. A ``region`` other than the scenario's (a made-up one) is never cached: the
    key does not describe it."""
    from sim.model import CareSystem

    folder = cache_folder()
    if region is not None or folder is None or scenario.run.burn_in_years == 0:
        return CareSystem(scenario, region=region)
    model, loaded = warm_start(scenario, folder)
    if not loaded:
        prune(folder)
    return model
