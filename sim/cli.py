"""Deprecated: the ``cscsim`` command lives in :mod:`sim.workflows.cli`.

Kept only so that console scripts installed before the move (``cscsim = "sim.cli:main"``) and
``python -m sim.cli`` keep working; reinstall (``make setup``) and use ``sim.workflows.cli``.
It will be removed in a later release. No other old module path is kept.
"""

from __future__ import annotations

import sys

from sim.workflows.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
