"""Health-visiting teams: the universal service that sees every baby.

Each authority has one team (its cell on the network is the authority's central
neighbourhood). The team's caseload is the children under five at home per FTE. Two things fall
as the caseload rises above the Institute of Health Visiting's recommended 250:

- coverage, the share of the five mandated contacts (antenatal, new birth, 6-8 weeks, 1 year,
  2-2.5 years) actually delivered, once the caseload passes ``full_coverage_caseload``;
- the chance that a contact with a family whose need is rising spots it:
  ``p = spot_probability * min(1, recommended / caseload) ** caseload_elasticity``.

What is spotted becomes a referral to the front door (need above ``refer_level``) or a course
of targeted visits (while the team has room) plus a place on the early-help waiting list.
"""

from __future__ import annotations

import numpy as np
from mesa.discrete_space import FixedAgent

from sim import kernels
from sim.population import UNDER_FIVE_WEEKS, WEEKS_PER_YEAR, Case, Event, census_rows
from sim.util import first_per_group, union_ints

#: Ages (in weeks) of the mandated contacts; the antenatal contact is counted at birth.
MANDATED_WEEKS = (0, 2, 7, 52, 117)
#: Mandated contacts by age in weeks (also read by the week's census, which finds those due
#: as the children age: sim/population.py, age_and_census).
CONTACTS = np.zeros(18 * WEEKS_PER_YEAR + 2, dtype=np.int8)
CONTACTS[list(MANDATED_WEEKS)] = 1
CONTACTS[0] = 2  # birth week: antenatal and new-birth (counted as two contacts)


class HealthVisitorTeam(FixedAgent):
    """A team of health visitors covering one authority's neighbourhoods."""

    def __init__(self, model, la: int, cell, base_fte: float) -> None:
        super().__init__(model)
        self.la = la
        self.cell = cell
        self.base_fte = base_fte  # FTE at today's staffing, for the simulated sample
        self.caseload = 0.0
        self.coverage = 1.0
        self.spot_probability = 0.0

    @property
    def fte(self) -> float:
        m = self.model  # FTE per 10,000 children, for the children the authority has now
        return self.base_fte * m.la_children_scale[self.la] * m.levers.health_visitor_fte[self.la]

    def review_caseload(self, under_fives: int) -> None:
        """Set this week's coverage and spotting chance from the caseload."""
        p = self.model.params.health_visiting
        fte = self.fte
        self.caseload = under_fives / fte if fte > 0 else np.inf
        if fte <= 0:
            self.coverage, self.spot_probability = 0.0, 0.0
            return
        self.coverage = min(1.0, p.full_coverage_caseload / max(self.caseload, 1e-9))
        ratio = min(1.0, p.recommended_caseload / max(self.caseload, 1e-9))
        self.spot_probability = p.spot_probability * ratio**p.caseload_elasticity

    @property
    def targeted_places(self) -> int:
        return int(self.fte * self.model.params.health_visiting.targeted_per_fte)


def visit(model, at_home: np.ndarray) -> np.ndarray:
    """A week of health visiting across all teams; returns the families referred.

    ``at_home`` marks children living at home. Counts contacts into the yearly flows and moves
    spotted families into targeted visits and onto the early-help waiting list.
    """
    pop, p = model.pop, model.params.health_visiting
    c, f = pop.children, pop.families
    teams = model.hv_teams
    # Only the under-fives at home are looked up (their authority, their contacts due), not
    # every child: a fifth of the children, and fewer once rows of adults accumulate. The
    # week's census has counted those of the rows that aged this week (sim/population.py:
    # UnderFives) and lists the rest (the week's births and arrivals), or lists them all.
    census = getattr(model, "census", None)
    counted = census.young if census is not None and census.at_home_mask is at_home else None
    if counted is not None:
        young = counted.rest
    else:
        young = census_rows(model, at_home, "under5")  # the week's census, if this is its mask
        if young is None:
            young = np.flatnonzero(at_home & (c.age < UNDER_FIVE_WEEKS))
    # Their number per authority and those with a mandated contact due this week (with
    # their authority), in one compiled pass over them.
    young = np.ascontiguousarray(young, dtype=np.int64)
    under5 = np.zeros(model.n_la, np.int64)
    due = np.empty(len(young), np.int64)
    la_due = np.empty(len(young), f.la.dtype)
    m = kernels.young_by_la(young, c.family, c.age, f.la, CONTACTS, under5, due, la_due)
    due, la_due = due[:m], la_due[:m]
    if counted is not None:  # (the rows counted come first: the list in row order)
        under5 += counted.by_la
        la_counted = f.la[c.family[counted.due]]
        due, la_due = np.concatenate([counted.due, due]), np.concatenate([la_counted, la_due])
    for team in teams:
        team.review_caseload(int(under5[team.la]))
    coverage = np.array([t.coverage for t in teams])
    spot_p = np.array([t.spot_probability for t in teams])

    # Mandated contacts due this week, delivered as coverage allows.
    hit = model.draws.uniform("hv.contact", c.uid[due]) < coverage[la_due]
    delivered = due[hit]
    contacts = CONTACTS[c.age[delivered]]
    model.count("hv_contacts", la_due[hit], contacts)
    # Families seen: those with a delivered contact, plus those on targeted visits.
    targeted = kernels.flatnonzero_positive(f.hv_weeks)  # (np.flatnonzero(hv_weeks > 0))
    model.count("hv_contacts", f.la[targeted])
    f.hv_weeks[targeted] -= 1
    # (Each list kept to its families above the spotting level before they are merged:
    # the same families, sorted and unique, from shorter lists.)
    seen_contact = c.family[delivered]
    seen = union_ints(seen_contact[f.need[seen_contact] > p.spot_level],
                      targeted[f.need[targeted] > p.spot_level])
    spotted = seen[model.draws.uniform("hv.spot", f.uid[seen]) < spot_p[f.la[seen]]]
    if len(spotted) == 0:
        return spotted
    pop.log(model.week, Event.HV_SPOTTED, family=spotted, value=f.need[spotted])
    refer = spotted[f.need[spotted] > p.refer_level]
    support = spotted[(f.need[spotted] <= p.refer_level) & (f.hv_weeks[spotted] == 0)]
    # Targeted visits while the team has room.
    room = np.array([t.targeted_places for t in teams]) - np.bincount(
        f.la[targeted], minlength=model.n_la
    )
    order = model.draws.uniform("hv.targeted_order", f.uid[support])
    take = support[first_per_group(f.la[support], np.maximum(room, 0), order)]
    f.hv_weeks[take] = p.targeted_weeks
    # And onto the early-help waiting list if not already known to services.
    wait = support[f.case[support] == Case.NONE]
    pop.set_case(wait, Case.EARLY_HELP_WAITING)
    f.case_weeks[wait] = 0
    return refer
