"""Placement distance policy and local sufficiency.

``distance_cap_miles`` turns "the best-value free bed anywhere" into "within N miles unless
impossible": in commissioning, a placement beyond the cap ranks below every placement within it,
whatever its kind or price. ``distance_weight`` is how many pounds a week an authority will pay
to place a child a mile closer. ``local_sufficiency`` multiplies the authority's own foster
places and LA-run children's homes (capacity follows at the next monthly review), the
investment the Independent Review and the CMA urged.
"""

from policies import Lever

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
