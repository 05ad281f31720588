"""Market composition: the for-profit share and a profit cap.

``for_profit_share`` sets the share of independent capacity (fostering agencies, children's
homes, supported accommodation) run for profit when the market is built; for-profit providers
charge market prices that rise with occupancy, run cheaper where property is cheap, enter where
margins are high and leave when occupancy stays low. ``profit_cap`` caps their margin (price at
most cost x (1 + cap)), as debated after the CMA's 2022 market study found operating margins
of 19-23%.

:class:`ProfitCap` caps the margin of for-profit providers located in the eligible authorities
(regulation: no money; the tighter of the scenario's cap and the policy's applies).
"""

from __future__ import annotations

from policies import Lever
from policies.base import Setting

LEVERS = (
    Lever(
        "for_profit_share",
        "For-profit share of independent places",
        "owner mix of providers at market build; only for-profit providers enter later",
    ),
    Lever(
        "profit_cap",
        "Profit cap (share of cost; 0 = none)",
        "ceiling on for-profit prices at the monthly price review",
    ),
)


class ProfitCap(Setting):
    """A ceiling on for-profit margins (price at most cost x (1 + cap)) where providers are."""

    kind = "profit_cap"
    label = "Profit cap (share of cost)"
    lever = "profit_cap"
    unit = "share"
    spends = False
    size_keys = ("size",)
    size_lo, size_hi = 0.001, 0.9


POLICIES = (ProfitCap,)
