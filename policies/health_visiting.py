"""Health-visitor numbers: the universal service that sees every baby.

Acts through :class:`~agents.health_visitor.HealthVisitorTeam` FTE: fewer FTE mean higher
caseloads, fewer mandated contacts delivered and less rising need spotted early. England had
about 10,300 FTE in 2015 and 6,700 in 2023 (Institute of Health Visiting); 1.54 x today is
roughly the 2015 level.

:class:`HealthVisitors` adds FTE in the eligible authorities, bought at
``policy_costs.health_visitor_fte_year``.
"""

from __future__ import annotations

import numpy as np

from policies import Lever
from policies.base import Policy

LEVERS = (
    Lever(
        "health_visitor_fte",
        "Health-visitor FTE (x today)",
        "multiplies every team's FTE, so caseloads, coverage and spotting change",
    ),
)


class HealthVisitors(Policy):
    """More health visitors (FTE), paid while in force."""

    kind = "health_visitors"
    label = "Health-visitor FTE"
    lever = "health_visitor_fte"
    unit = "fte"
    cost_param = "policy_costs.health_visitor_fte_year"

    def baseline(self, model) -> np.ndarray:
        """FTE today: ``health_visiting.fte_per_10k_children`` of the authority's children."""
        return model.inputs.health_visiting.fte_per_10k_children * model.region.la_children / 1e4


POLICIES = (HealthVisitors,)
