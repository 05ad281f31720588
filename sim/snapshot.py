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
import pickle
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.config import Scenario
    from sim.model import CareSystem

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
    tmp = path.with_suffix(path.suffix + ".tmp")
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
        return load(path, scenario), True
    model = CareSystem(scenario)
    Path(folder).mkdir(parents=True, exist_ok=True)
    save(model, path)
    return model, False
