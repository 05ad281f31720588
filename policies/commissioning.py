"""Regional commissioning: authorities that commission placements together.

The Independent Review (2022) proposed regional care co-operatives to run and commission
fostering, children's homes and secure care for groups of authorities; the CMA (2022) urged
regional commissioning too. In the model, an authority's own carers and homes take only its
own children (``sim/placements.py``); in a co-operative, the LA-run carers and homes of every
member take the children of every member, so a child can stay nearer home across a boundary.

:class:`RegionalCommissioning` pools the eligible authorities, one co-operative per region
(England's nine; the Review's ~20 co-operatives would be smaller), and may build LA-run home
places for them (``size`` in home places, or a budget at
``policy_costs.childrens_home_place_capital``), kept after its end.
"""

from __future__ import annotations

import numpy as np

from policies import Lever
from policies.base import Policy
from policies.placement_distance import la_run_places
from sim.population import Kind

LEVERS: tuple[Lever, ...] = ()


class RegionalCommissioning(Policy):
    """Regional care co-operatives: pooled LA-run provision, and optionally new homes."""

    kind = "regional_commissioning"
    label = "Regional care co-operatives"
    lever = "la_homes"
    unit = "home_places"
    combine = "pool"
    capital = True
    cost_param = "policy_costs.childrens_home_place_capital"
    size_keys = ("size", "budget_gbp", "budget_gbp_per_year")

    def baseline(self, model) -> np.ndarray:
        return la_run_places(model, Kind.CHILDRENS_HOME)

    def init(self, model) -> None:
        from sim.region import REGIONS

        super().init(model)
        regions = list(REGIONS)
        self.group = np.array([regions.index(str(r)) for r in model.region.la_region])

    def apply(self, levers, week: int) -> None:
        f = self.fraction(week, reported_only=True)
        if week < 0 or week < self.start_week:
            return
        in_force = self.end_week is None or week <= self.end_week
        if in_force:
            levers.cooperative[self.mask] = self.group[self.mask]
        if f > 0.0:
            levers.la_homes[self.mask] += f * self.increment[self.mask]


POLICIES = (RegionalCommissioning,)
