"""Funding: the money authorities have for children's services.

Multiplies every authority's early-help budget and its placement budget line; a smaller
placement budget means larger overspends, which the crisis trap turns into early-help cuts the
following year. (Compare the Independent Review's £2.6bn over five years with the
government's £200m over two.)

:class:`Funding` gives the eligible authorities more money (``size`` in GBP a year, or a
budget), added to the funding lever as a share of each authority's early-help and placement
budgets at the start of the run.
"""

from __future__ import annotations

import numpy as np

from policies import Lever
from policies.base import Policy

LEVERS = (Lever("funding", "Funding (x today)", "multiplies early-help and placement budgets"),)


class Funding(Policy):
    """An unringfenced grant for early help and placements, paid while in force."""

    kind = "funding"
    label = "Funding (GBP a year)"
    lever = "funding"
    unit = "gbp_per_year"
    size_hi = 1e12

    def unit_cost(self, params) -> float:
        return 1.0  # a pound a year costs a pound a year

    def baseline(self, model) -> np.ndarray:
        """Each authority's early-help and placement budgets at the start, for the whole
        authority (the sample's budgets divided by ``run.scale``)."""
        budget = np.array([a.base_early_help + a.placement_budget for a in model.authorities])
        return budget / model.inputs.run.scale


POLICIES = (Funding,)
