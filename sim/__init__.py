"""cscsim: an agent-based simulation of children's social care in England.

``from sim import run, load, Results`` is the analyst's entry point (:mod:`sim.workflows.api`).
The names are imported on first use, so that ``cscsim --help`` and every ``import sim.<module>``
stay as fast as before (the model and pandas load only when a run is asked for).

``sim`` itself is the engine (the weekly model and what it reads and writes); the tools built on
it are in :mod:`sim.workflows` (see ``sim/README.md``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["Results", "load", "run"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from sim.workflows import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
