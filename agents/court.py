"""Care proceedings: issued, heard over months, decided at a final hearing.

An authority issues proceedings for a family on a child protection plan whose need stays at the
care level (``social_work.proceedings_rate``; see agents/local_authority.py: casework). The
case then takes the published weeks to its final hearing (``court.proceedings_weeks``, spread
by a gamma distribution). Meanwhile the court may make interim care orders: with probability
``court.interim_removal`` the family's children under 16 are accommodated at once (DfE counts
the start of care at the interim order), otherwise they stay at home on the plan. At the final
hearing the court reads the family's need then: unless it has fallen below the level at which a
child in care could go home (``care.reunification_level``), a care order (children still at
home come into care now, some placed with their parents; children accommodated meanwhile
stay, now under a full order); below it, no order, and children accommodated meanwhile go
home. So longer proceedings hold more children in care under interim orders.

A baby removed at birth after a pre-birth assessment comes into care under an interim order
too, and its family's proceedings run the same course.

Each set of proceedings is a row of ``model.pop.proceedings`` (family, issued, hearing week,
outcome), so the weekly step looks only at the few cases due, never at every family.
"""

from __future__ import annotations

import numpy as np

from sim import placements
from sim.population import WEEKS_PER_YEAR, Event, Legal
from sim.util import unique_ints, weekly_probability

CARE_ORDER, NO_ORDER, SPECIAL_GUARDIANSHIP = 1, 2, 3  # outcomes; 0 = still open
#: Weeks under section 20 after which a stay counts as long (*Re N*'s concern; an assumption:
#: the court's six-month review of a care plan).
S20_REVIEW_WEEKS = 26


def issue(model, families: np.ndarray) -> None:
    """Open proceedings for ``families`` (none already in court), due for a final hearing
    after a gamma-distributed number of weeks with the published mean."""
    families = families[~model.pop.families.in_court[families]]
    if len(families) == 0:
        return
    p = model.params.court
    f = model.pop.families
    weeks = model.draws.gamma("court.weeks", f.uid[families], p.proceedings_shape,
                              p.proceedings_weeks / p.proceedings_shape)
    model.pop.proceedings.append(
        len(families),
        family=f.serial[families],  # (serials: rows are retired, sim/population.py: compact)
        issued=model.week,
        hearing=model.week + np.maximum(1, np.round(weeks)).astype(np.int32),
    )
    f.in_court[families] = True
    model.count("proceedings_issued", f.la[families])
    model.pop.log(model.week, Event.PROCEEDINGS, family=families)


def s20_proceedings(model) -> np.ndarray:
    """The families of children accommodated under section 20 for six months or more (not
    unaccompanied children, whose stays are voluntary by nature) for whom the authority
    issues care proceedings this week (``court.s20_proceedings_rate``, a keyed draw per
    family); returns them for :func:`issue`. The practice after *Re N* (2015): long stays by
    agreement were to be put before a court. Their children stay in care meanwhile, under
    section 20, and come under a care order at the final hearing if the family's need still
    stands at the care level (:func:`final_hearings`)."""
    rate = model.params.court.s20_proceedings_rate
    if rate <= 0:
        return np.zeros(0, dtype=np.int64)
    c, f = model.pop.children, model.pop.families
    care = model.pop.care_rows()
    long = care[(c.legal[care] == Legal.S20) & (c.care_weeks[care] >= S20_REVIEW_WEEKS)]
    fam = unique_ints(c.family[long])
    fam = fam[~f.uasc[fam] & ~f.in_court[fam]]
    draw = model.draws.uniform("court.s20", f.uid[fam])
    return fam[draw < weekly_probability(rate)]


def interim_removals(model, families: np.ndarray, at_home_mask: np.ndarray) -> np.ndarray:
    """The children (under 16, at home) of the families with proceedings issued this week
    whom the court accommodates at once under interim care orders (a draw per family)."""
    if len(families) == 0:
        return np.zeros(0, dtype=np.int64)
    draw = model.draws.uniform("court.interim", model.pop.families.uid[families])
    removed = families[draw < model.params.court.interim_removal]
    return _under_16_at_home(model, removed, at_home_mask)


def _under_16_at_home(model, families: np.ndarray, at_home_mask: np.ndarray) -> np.ndarray:
    """The families' children under 16 at home, in row order (found through the index of
    children by family, not a pass over every child)."""
    c = model.pop.children
    kids = np.sort(model.pop.children_of(unique_ints(families)))
    kids = kids[at_home_mask[kids] & (c.age[kids] < 16 * WEEKS_PER_YEAR)]
    return kids[~c.in_care[kids]]


def _in_care(model, families: np.ndarray) -> np.ndarray:
    """The families' children in care, in row order."""
    c = model.pop.children
    kids = np.sort(model.pop.children_of(unique_ints(families)))
    return kids[c.in_care[kids]]


def final_hearings(model, at_home_mask: np.ndarray) -> None:
    """Decide the proceedings whose final hearing is this week."""
    pr = model.pop.proceedings
    due = np.flatnonzero((pr.hearing == model.week) & (pr.outcome == 0))
    if len(due) == 0:
        return
    f, c = model.pop.families, model.pop.children
    fam = model.pop.family_rows(pr.family[due])
    # The court returns children home only to a family whose need is low enough for a child
    # in care to go home (care.reunification_level); otherwise it makes a care order.
    order = f.need[fam] >= model.params.care.reunification_level
    guardians = order & _special_guardians(model, fam)
    order &= ~guardians
    pr.outcome[due] = np.where(order, CARE_ORDER,
                               np.where(guardians, SPECIAL_GUARDIANSHIP, NO_ORDER))
    f.in_court[fam] = False
    model.count("care_orders", f.la[fam[order]])
    _to_special_guardians(model, fam[guardians], at_home_mask)
    # Care orders: children in care stay (now under a full order); those under 16 at home
    # come into care, some placed with their parents.
    in_care = _in_care(model, fam[order])
    in_care = in_care[c.legal[in_care] != Legal.PLACEMENT_ORDER]  # (placed for adoption)
    c.legal[in_care] = Legal.CARE_ORDER
    home = _under_16_at_home(model, fam[order], at_home_mask)
    placements.enter_care(model, home, proceedings=True, legal=Legal.CARE_ORDER)
    # No order: children accommodated under interim orders go home.
    back = _in_care(model, fam[~order])
    back = back[c.legal[back] == Legal.INTERIM]
    placements.leave_care(model, back, placements.End.REUNIFIED)


def _special_guardians(model, families: np.ndarray) -> np.ndarray:
    """Which of ``families``, for whom the final hearing would make a care order, the court
    gives a special guardianship order to a relative instead: chance ``court.sgo_at_hearing``
    times the year's practice (``care.sgo_practice``, shared with the orders made later from
    kinship care) times the family's kin network (0-1; a family with no kin has no special
    guardian), a keyed draw of the family's uid.

    Why at the hearing: most special guardianship orders for children in care are made as the
    outcome of care proceedings. Over 21,000 children were placed with special guardians
    following care proceedings from 2010-11 (Nuffield Family Justice Observatory, Special
    guardianship: a review of the evidence, 2019), of the order of DfE's count of children
    ceasing care under such an order (1,780 in 2010-11, 3,520 in 2014-15), and after the Re
    B-S judgment (2013) courts looked to the family before adoption. The later hazard from a
    kinship placement (``care.sgo_rate``) reaches only children already placed with kin, so
    the children of a hearing who were not, the young above all, could leave care only home
    or by adoption. Off (0) by default: no draw is made, so runs are as before."""
    chance = model.params.court.sgo_at_hearing * model.params.care.sgo_practice
    out = np.zeros(len(families), bool)
    if chance <= 0 or len(families) == 0:
        return out
    f = model.pop.families
    u = model.draws.uniform("court.sgo", f.uid[families])
    return u < np.clip(chance * f.kin[families], 0.0, 1.0)


def _to_special_guardians(model, families: np.ndarray, at_home_mask: np.ndarray) -> None:
    """The special guardianship orders of a final hearing: the families' children in care
    (not those placed for adoption under a placement order) cease to be looked after under the
    order, counted as DfE counts them, and their brothers and sisters under 16 at home go to
    the guardian with them, without coming into care; neither lives in the birth family's home
    any more."""
    if len(families) == 0:
        return
    c = model.pop.children
    model.count("hearing_sgos", model.pop.families.la[families])
    in_care = _in_care(model, families)
    in_care = in_care[c.legal[in_care] != Legal.PLACEMENT_ORDER]
    home = _under_16_at_home(model, families, at_home_mask)
    placements.leave_care(model, in_care, placements.End.SGO)
    c.active[in_care] = False
    c.active[home] = False
