"""Poverty and the cost of living.

Multiplies the share of families in poverty in every neighbourhood band. Each family keeps a
fixed draw against its band's rate, so raising the lever makes the families nearest the line
poor first, and lowering it lifts them out; poverty raises a family's long-run need
(``need.poverty_effect``).

:class:`PovertyChange` changes poverty in some authorities (``uplift``: -0.1 is a tenth fewer
families in poverty than today); the registry has no cost of lifting a family out of poverty,
so it takes no budget.
"""

from __future__ import annotations

from policies import Lever
from policies.base import Policy

LEVERS = (
    Lever(
        "poverty",
        "Poverty (x today)",
        "multiplies the share of families in poverty, raising long-run need",
    ),
)


class PovertyChange(Policy):
    """A change in child poverty, as a share of today's rate (no money)."""

    kind = "poverty"
    label = "Poverty (change, share of today's)"
    lever = "poverty"
    unit = "share of today's poverty"
    spends = False
    signed_uplift = True
    size_keys = ("uplift",)


POLICIES = (PovertyChange,)
