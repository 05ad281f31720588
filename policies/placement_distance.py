"""Placement distance policy and local sufficiency.

``distance_cap_miles`` turns "the best-value free bed anywhere" into "within N miles unless
impossible": in commissioning, a placement beyond the cap ranks below every placement within it,
whatever its kind or price. ``distance_weight`` is how many pounds a week an authority will pay
to place a child a mile closer. ``local_sufficiency`` multiplies the authority's own foster
places and LA-run children's homes (capacity follows at the next monthly review), the
investment the Independent Review and the CMA urged.

Policies: :class:`LocalSufficiency` builds LA-run children's home places (capital, kept after
its end); :class:`DistanceCap` and :class:`DistancePreference` set the cap or the weight in
some authorities (regulation: no money).
"""

from __future__ import annotations

import numpy as np

from policies import Lever
from policies.base import Policy, Setting
from sim.population import Kind

LEVERS = (
    Lever(
        "distance_cap_miles",
        "Place within (miles; 0 = anywhere)",
        "commissioning ranks placements beyond the cap below all within it",
    ),
    Lever(
        "distance_weight",
        "Pounds a week paid per mile closer",
        "commissioning's trade-off between price and distance",
    ),
    Lever(
        "local_sufficiency",
        "LA foster and home places (x today)",
        "multiplies in-house foster pools and LA-run homes",
    ),
)


def la_run_places(model, kind: Kind) -> np.ndarray:
    """Each authority's LA-run places of ``kind`` at today's level in the simulated market,
    scaled up to the whole authority (divided by ``run.scale``). Sizing against the sample's
    own capacity makes a policy add the places it bought (times the scale) in expectation;
    where the sample has none (a small authority at a small scale) there is nothing for the
    lever to multiply and the places cannot open there."""
    t = model.providers
    rows = t.active & t.la_run & (t.kind == int(kind))
    places = np.bincount(t.la[rows].astype(np.int64), weights=t.base_capacity[rows],
                         minlength=model.n_la)
    return places / model.inputs.run.scale


class LocalSufficiency(Policy):
    """More LA-run children's home places, built over the policy's period and kept."""

    kind = "local_sufficiency"
    label = "LA children's home places"
    lever = "la_homes"
    unit = "home_places"
    capital = True
    cost_param = "policy_costs.childrens_home_place_capital"

    def baseline(self, model) -> np.ndarray:
        return la_run_places(model, Kind.CHILDRENS_HOME)


class DistanceCap(Setting):
    """Place within N miles unless impossible, in the eligible authorities."""

    kind = "distance_cap"
    label = "Distance cap (miles)"
    lever = "distance_cap_miles"
    unit = "miles"
    spends = False
    size_keys = ("size",)
    size_lo, size_hi = 1.0, 500.0


class DistancePreference(Policy):
    """How much more a week the eligible authorities pay to place a child a mile closer."""

    kind = "distance_preference"
    label = "Distance preference (GBP a week per mile)"
    lever = "distance_weight"
    unit = "gbp_per_mile"
    combine = "set"
    spends = False
    size_keys = ("size",)
    size_lo, size_hi = 0.0, 1000.0


POLICIES = (LocalSufficiency, DistanceCap, DistancePreference)
