"""Social-work workforce investment: more funded posts.

Acts through :class:`~agents.workforce.Workforce`: an authority's funded posts are its share of
``social_work.posts_per_10k_children`` times the ``sw_posts`` lever (x today). More posts are
filled at the recruitment rate (vacancies are not filled at once), covered by agency staff
meanwhile, lower workload, and so lower the front-door threshold and strengthen assessments
and support (the workload loop).

:class:`SocialWorkers` funds more posts (``size`` in FTE, ``uplift``, or a budget at
``social_work.cost_per_fte``, the cost the model charges for a social worker), while in force.
"""

from __future__ import annotations

import numpy as np

from policies import Lever
from policies.base import Policy

LEVERS: tuple[Lever, ...] = ()


class SocialWorkers(Policy):
    """More funded social-work posts, paid while in force."""

    kind = "social_workers"
    label = "Social-work posts (FTE)"
    lever = "sw_posts"
    unit = "fte"
    cost_param = "social_work.cost_per_fte"

    def baseline(self, model) -> np.ndarray:
        """Funded posts today in the sample, for the whole authority."""
        return model.workforce.posts / model.inputs.run.scale


POLICIES = (SocialWorkers,)
