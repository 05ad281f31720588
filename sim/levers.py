"""Levers as the mechanisms read them: one value per authority.

A scenario's ``[levers]`` section gives each lever one number (or a schedule by year) for every
authority; its ``[[policies]]`` (``policies/``) move levers in some authorities only, from a
date, for a while. The mechanisms therefore never read ``params.levers.x``: they read
``model.levers.x[la]``, an array with one entry per simulated authority, which the model
rebuilds (:func:`compute`) when a scheduled lever's year changes and when a policy starts,
ramps or ends (``CareSystem._update_levers``).

How a policy combines with the scenario's lever (docs/policies.md):

- levers measured as "x today" (early-help capacity, health-visitor FTE, kinship support,
  local sufficiency, funding, poverty, social-work posts) are **additive in the policy's own
  units**: a policy of ``size`` units in an authority whose provision today is ``B`` units adds
  ``size / B`` to the lever there, whatever the scenario's own value (100 places where there
  are 200 today add 0.5; a lever at 0.8 becomes 1.3);
- levers that are a setting (distance cap, distance weight, profit cap) are **set** by the
  policy where it is in force: the tighter of the scenario's cap and the policy's (a cap of 0
  means none), and the policy's distance weight in place of the scenario's;
- regional commissioning **pools** authorities: LA-run carers and homes of a co-operative's
  members take each other's children (``cooperative``: a group id per authority, -1 for none).

With no policies every array holds the scenario's value in every authority, so the arithmetic
is the same as with the scalar it replaces and outputs are byte-identical.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

#: Levers a scenario sets (``[levers]``), each read per authority.
SCENARIO_LEVERS = (
    "early_help_capacity",
    "health_visitor_fte",
    "distance_cap_miles",
    "distance_weight",
    "for_profit_share",
    "profit_cap",
    "funding",
    "poverty",
    "kinship_support",
)
#: Arrays only policies move (their scenario value is implied): in-house foster places and
#: LA-run children's homes (both start from ``levers.local_sufficiency``) and funded
#: social-work posts (x today).
POLICY_ONLY = ("inhouse_foster", "la_homes", "sw_posts")
NAMES = SCENARIO_LEVERS + POLICY_ONLY


class Levers:
    """Every lever's value in each simulated authority (float arrays of length ``n_la``), and
    ``cooperative``, each authority's regional-commissioning group (-1: none)."""

    def __init__(self, params: Any, n_la: int) -> None:
        lv = params.levers
        for name in SCENARIO_LEVERS:
            setattr(self, name, np.full(n_la, float(getattr(lv, name))))
        self.inhouse_foster = np.full(n_la, float(lv.local_sufficiency))
        self.la_homes = np.full(n_la, float(lv.local_sufficiency))
        self.sw_posts = np.ones(n_la)
        self.cooperative = np.full(n_la, -1, dtype=np.int64)

    @property
    def pooled(self) -> bool:
        """Whether any authority commissions in a regional co-operative now."""
        return bool((self.cooperative >= 0).any())

    def same_cooperative(self, la_a: np.ndarray, la_b: np.ndarray) -> np.ndarray:
        """Whether authorities ``la_a`` and ``la_b`` (broadcast) share a co-operative."""
        a, b = self.cooperative[la_a], self.cooperative[la_b]
        return (a == b) & (a >= 0)

    def as_dict(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name).copy() for name in (*NAMES, "cooperative")}


def compute(params: Any, n_la: int, policies: Iterable[Any] = (), week: int = 0) -> Levers:
    """The levers in force in ``week``: the scenario's values for the year (``params``), moved
    by every policy in force then, in the order the scenario lists them."""
    levers = Levers(params, n_la)
    for policy in policies:
        policy.apply(levers, week)
    return levers
