"""The social-work workforce of every authority: posts, employed staff, agency cover, workload.

Each authority has funded posts (``social_work.posts_per_10k_children``, weighted towards its
children in need at the start by ``posts_need_weight``). Employed social workers leave at the
published turnover rate, faster when workload exceeds capacity (burnout); vacant posts are
filled at a rate that, with that turnover, gives the published vacancy rate in steady state
(recruitment lags); agency social workers cover a share of the vacancies at a premium cost.
Workload is the children with an open case per case-holding social worker, against the
caseload a case-holder can manage; above 1 the authority is overloaded, which raises its
front-door threshold, weakens its assessments and thins the support each case gets (the
workload loop, R3, in sim/workflows/loops.py).

Staff are continuous stocks (FTE) moved by expected flows, so a run at a 5% sample has the
same workforce dynamics as a national one. Authorities differ in how hard they find it to
recruit (a fixed draw each, ``recruitment_spread``): that, and demand that moves while posts
follow it only through the budget, is what spreads vacancy rates and caseloads across them.
"""

from __future__ import annotations

import numpy as np

from sim.util import weekly_probability


class Workforce:
    """Every authority's social workers as arrays (one entry per authority)."""

    def __init__(self, model, children: np.ndarray, in_need: np.ndarray) -> None:
        p = model.params.social_work
        self.model = model
        self.share = _need_share(children, in_need, p.posts_need_weight)
        self.posts = self._posts()
        # Recruitment difficulty: lognormal around 1 (mean 1), fixed for each authority.
        # (keyed by the authority's index, so it is the same in every scenario of a seed)
        z = model.draws.normal("workforce.recruiting", np.arange(len(children)), week=0)
        sd = p.recruitment_spread
        self.recruiting = np.exp(sd * z - sd**2 / 2)
        vacancy = _steady_vacancy(p.turnover_rate, p.recruitment_rate * self.recruiting)
        self.employed = self.posts * (1 - vacancy)
        self.agency = p.agency_cover * self.vacancies
        self.workload = np.zeros_like(self.posts)

    def _posts(self) -> np.ndarray:
        """Funded posts now: the national rate spread by each authority's share of need at
        the start, following its children since (``model.la_children_scale``: the rate is per
        child), times its social-work posts lever (sim/levers.py: policies that fund more
        posts)."""
        m = self.model
        rate = m.params.social_work.posts_per_10k_children
        return rate * self.share / 1e4 * m.la_children_scale * m.levers.sw_posts

    @property
    def working(self) -> np.ndarray:
        """Employed plus agency social workers (FTE)."""
        return self.employed + self.agency

    @property
    def vacancies(self) -> np.ndarray:
        return np.maximum(self.posts - self.employed, 0.0)

    @property
    def overload(self) -> np.ndarray:
        return np.maximum(self.workload - 1.0, 0.0)

    def cost(self) -> np.ndarray:
        """Yearly cost of each authority's working social workers."""
        p = self.model.params.social_work
        return (self.employed + self.agency * (1 + p.agency_premium)) * p.cost_per_fte

    def week(self, open_children: np.ndarray) -> None:
        """Turnover (faster under overload), recruitment into vacancies, agency cover, and the
        workload that results."""
        p = self.model.params.social_work
        self.posts = self._posts()
        turnover = p.turnover_rate * (1 + p.burnout_effect * self.overload)
        leave = self.employed * weekly_probability(turnover)
        join = self.vacancies * weekly_probability(p.recruitment_rate * self.recruiting)
        self.employed = self.employed - leave + join
        self.model.count("sw_leavers", np.arange(len(leave)), leave)
        self.agency = p.agency_cover * self.vacancies
        capacity = self.working * p.case_holding_share * p.caseload
        with np.errstate(divide="ignore", invalid="ignore"):
            self.workload = np.where(capacity > 0, open_children / capacity, np.inf)
        self.workload[(capacity == 0) & (open_children == 0)] = 0.0


def _need_share(children: np.ndarray, in_need: np.ndarray, weight: float) -> np.ndarray:
    """Each authority's children, reweighted towards its share of children in need."""
    children = children.astype(float)
    total_c, total_n = children.sum(), float(in_need.sum())
    if total_n == 0 or total_c == 0:
        return children
    need_share = in_need / total_n * total_c
    return (1 - weight) * children + weight * need_share


def _steady_vacancy(turnover: float, recruitment: np.ndarray) -> np.ndarray:
    """The vacancy rate at which leavers and joiners balance: t / (t + r)."""
    total = turnover + recruitment
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, turnover / total, 0.0)
