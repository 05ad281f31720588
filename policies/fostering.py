"""Foster-carer recruitment: more in-house fostering households.

Acts through each authority's pool of in-house foster carers (``agents/provider.py``), whose
places the ``inhouse_foster`` lever multiplies (its scenario value is ``local_sufficiency``).
More in-house places mean fewer children sent to agencies and children's homes further away.
The Independent Review asked for 9,000 more foster carers by 2026; the government's fostering
recruitment and retention programme (2023-25) and the Spring Statement 2025 (400 households
for £25m) are smaller.

:class:`FosterCarers` recruits households over its period (by default evenly from start to
end) at ``policy_costs.foster_household_recruitment`` each; each adds
``policy_costs.places_per_foster_household`` places, kept after the policy ends (its carers go
on fostering; placements are paid at the in-house price when used).
"""

from __future__ import annotations

import numpy as np

from policies import Lever
from policies.base import Policy
from policies.placement_distance import la_run_places
from sim.population import Kind

LEVERS: tuple[Lever, ...] = ()  # moves inhouse_foster, whose scenario lever is local_sufficiency


class FosterCarers(Policy):
    """Recruit fostering households for the authorities' own pools (kept after the end)."""

    kind = "foster_carers"
    label = "Foster carers recruited (households)"
    lever = "inhouse_foster"
    unit = "households"
    capital = True
    cost_param = "policy_costs.foster_household_recruitment"

    def baseline(self, model) -> np.ndarray:
        """Today's in-house households: the pool's places over places per household."""
        per = model.inputs.policy_costs.places_per_foster_household
        return la_run_places(model, Kind.INHOUSE_FOSTER) / per


POLICIES = (FosterCarers,)
