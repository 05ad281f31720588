"""Early-help capacity: how many families the authority can support before crisis.

Acts through each :class:`~agents.local_authority.LocalAuthority`'s early-help budget, which
buys places; families spotted by health visitors or signposted from the front door wait for a
place, and a week of early help lowers need (``early_help.effect``) and may resolve a toxic-trio
factor for good. Early help roughly halved in real terms between 2010-11 and 2020-21 (NCB / Pro
Bono Economics: £3.8bn to £1.9bn). The crisis trap (``budget.crisis_trap_strength``) cuts it
after a placement overspend.

:class:`FamilyHelp` is the Independent Review's Family Help (and the Families First pathfinders)
as a policy: places (families supported at once) added in the eligible authorities, bought at
the model's own cost of a place (``early_help.cost_per_place_week``).
"""

from __future__ import annotations

import numpy as np

from policies import Lever
from policies.base import Policy

LEVERS = (
    Lever(
        "early_help_capacity",
        "Early-help capacity (x today)",
        "multiplies every authority's early-help budget, and so its places",
    ),
)


class FamilyHelp(Policy):
    """More family help / early-help places, paid week by week while in force."""

    kind = "family_help"
    label = "Family help places"
    lever = "early_help_capacity"
    unit = "places"
    cost_param = "early_help.cost_per_place_week"
    cost_factor = 52.0

    def baseline(self, model) -> np.ndarray:
        """Places today: ``early_help.places_per_10k_children`` of the authority's children."""
        per_10k = model.inputs.early_help.places_per_10k_children
        return per_10k * model.region.la_children / 1e4


POLICIES = (FamilyHelp,)
