"""Each family and child can be looked at as an object with a history."""

from __future__ import annotations

import numpy as np

from sim.population import Case


def test_a_child_in_care_has_a_journey(run_model):
    c = run_model.pop.children
    j = int(c.serial[np.flatnonzero(c.in_care)[0]])  # (a child's id: its serial)
    child = run_model.child(j)
    assert child.in_care and len(child.placements) >= 1
    assert child.placements["end"].iloc[-1] == -1
    assert "placement" in set(child.history["event"])


def test_a_family_shows_its_children_and_case(run_model):
    f = run_model.pop.families
    i = int(f.serial[np.flatnonzero(f.case == Case.CHILD_IN_NEED)[0]])
    fam = run_model.family(i)
    assert fam.case == Case.CHILD_IN_NEED and len(fam.children) >= 1
    assert fam.authority in set(run_model.region.la_name)
