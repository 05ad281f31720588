"""Kinship support: allowances and special guardianship support for family and friends carers.

Multiplies the chance that a child entering care is placed with kin (given the strength of the
family's kin network). Kinship placements are local, cheap and break down least.

:class:`KinshipSupport` pays allowances to kinship carers (``size`` in children, or a budget at
``policy_costs.kinship_allowance_week``, the fostering national minimum allowance, as the
Independent Review recommended for special guardians and carers with child arrangements
orders). How allowances turn into placements is an assumption, stated so it can be challenged:
each allowance funded makes one more kinship placement possible, so allowances for N children
in an authority with K kinship placements today (``policy_costs.kinship_children_per_10k``)
raise the chance of a kinship placement there by N / K of today's.
"""

from __future__ import annotations

import numpy as np

from policies import Lever
from policies.base import Policy

LEVERS = (
    Lever(
        "kinship_support",
        "Kinship support (x today)",
        "multiplies the chance of a kinship placement at entry",
    ),
)


class KinshipSupport(Policy):
    """Allowances (and SGO support) for kinship carers, paid while in force."""

    kind = "kinship_support"
    label = "Kinship allowances"
    lever = "kinship_support"
    unit = "children"
    cost_param = "policy_costs.kinship_allowance_week"
    cost_factor = 52.0

    def baseline(self, model) -> np.ndarray:
        """Kinship placements today (``policy_costs.kinship_children_per_10k``)."""
        return model.inputs.policy_costs.kinship_children_per_10k * model.region.la_children / 1e4


POLICIES = (KinshipSupport,)
