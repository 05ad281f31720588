"""Common random numbers (sim/draws.py), as specifications.

A draw about an individual is a function of (seed, mechanism, week, the individual's uid)
alone: it is uniform, independent between mechanisms and weeks, the same whoever else is
drawn for, and so a policy that changes some families' paths leaves every other family's luck
as it was. Every test has a fixed seed, so none can flake, yet each can fail."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.draws import Draws, poisson_quantile
from sim.model import CareSystem
from sim.output import children_frame, placements_frame
from sim.population import Event
from sim.util import weighted_sample
from tests.conftest import small

N = 100_000


def _uids(n: int = N) -> np.ndarray:
    return Draws(11).child_ids("uid.family", np.arange(n), week=0)


def test_keyed_uniforms_are_uniform():
    d, uid = Draws(3), _uids()
    u = d.uniform("need", uid, week=5)
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    assert u.min() > 0.0 and u.max() < 1.0  # log(u) and ndtri(u) are finite
    hi, lo = d.pair("need", uid, week=5)
    assert stats.kstest(hi, "uniform").pvalue > 1e-3
    assert stats.kstest(lo, "uniform").pvalue > 1e-3
    assert stats.kstest(d.normal("assess", uid, week=5), "norm").pvalue > 1e-3
    # Small integer ids (an authority's index, an ordinal) are as good as hashed uids.
    assert stats.kstest(d.uniform("x", np.arange(N), week=0), "uniform").pvalue > 1e-3


@pytest.mark.parametrize("other", [("need", 6, 0), ("referral", 5, 0), ("need", 5, 1)])
def test_keyed_draws_are_independent_across_mechanisms_weeks_and_substreams(other):
    """The draw of one (mechanism, week, sub-stream) tells nothing about another's: the pairs
    fill a 10 x 10 grid evenly (chi-square) and are uncorrelated; the two halves of a pair
    likewise."""
    d, uid = Draws(3), _uids()
    a = d.uniform("need", uid, week=5)
    b = d.uniform(other[0], uid, week=other[1], sub=other[2])
    for x, y in ((a, b), d.pair("need", uid, week=5)):
        grid = np.histogram2d(x, y, bins=10, range=[[0, 1], [0, 1]])[0]
        assert stats.chisquare(grid.ravel()).pvalue > 1e-3
        assert abs(np.corrcoef(x, y)[0, 1]) < 0.015


def test_a_draw_does_not_depend_on_who_else_is_drawn_for():
    """Drawing for the eligible only, in any order, gives each the draw it gets in the full
    set: nothing is consumed, so one family's changed path cannot move another's draw."""
    d, uid = Draws(5), _uids(1000)
    full = d.uniform("casework.review", uid, week=40)
    some = np.random.default_rng(0).permutation(1000)[:137]
    assert np.array_equal(d.uniform("casework.review", uid[some], week=40), full[some])
    assert not np.array_equal(full, Draws(6).uniform("casework.review", uid, week=40))
    d.week = 40
    assert np.array_equal(d.uniform("casework.review", uid), full)  # the model's week


def test_weighted_sample_on_keyed_uniforms_does_not_depend_on_the_candidates_order():
    d, uid = Draws(2), _uids(5000)
    w = np.random.default_rng(1).random(5000)
    chosen = set(uid[weighted_sample(d.uniform("pick", uid), w, 300)])
    perm = np.random.default_rng(2).permutation(5000)
    again = set(uid[perm][weighted_sample(d.uniform("pick", uid[perm]), w[perm], 300)])
    assert chosen == again


def test_keyed_poisson_counts_agree_with_scipy_and_move_by_at_most_one_for_a_nudged_mean():
    rng = np.random.default_rng(0)
    for mean in (0.3, 4.0, 250.0):
        u = rng.random(300)
        want = stats.poisson.ppf(u, mean)
        assert np.array_equal([poisson_quantile(x, mean) for x in u], want)
        nudged = np.array([poisson_quantile(x, mean * 1.001) for x in u])
        assert np.all((nudged - want >= 0) & (nudged - want <= 1))


def _outputs(model: CareSystem) -> list[str]:
    return [model.annual_frame().to_csv(), model.annual_by_la_frame().to_csv(),
            placements_frame(model).to_csv(), children_frame(model).to_csv()]


def test_the_same_seed_and_scenario_give_byte_identical_outputs():
    runs = []
    for _ in range(2):
        model = CareSystem(small(run__region="North East", run__years=1))
        model.run()
        runs.append(_outputs(model))
    assert runs[0] == runs[1]


def _pair(weeks: int = 52):
    """The same seed, today's early help and twice as much, run for ``weeks``."""
    models = []
    for capacity in (1.0, 2.0):
        model = CareSystem(small(run__region="North East", run__years=1,
                                 levers__early_help_capacity=capacity))
        touched_at_build = model.pop.families.uid[model.pop.families.case > 0].copy()
        for _ in range(weeks):
            model.step()
        models.append((model, touched_at_build))
    return models


@pytest.fixture(scope="module")
def pair():
    return _pair()


def test_a_family_no_service_touched_in_either_arm_has_the_same_need_in_both(pair):
    """Doubling early help changes many families' paths (and the counts of everything);
    every family that no service touched in either arm (no referral, early help, health
    visitor's notice, case or care) still has exactly the same need at the end, because its
    draws are its own. With sequential streams almost none would."""
    untouched = []
    for model, at_build in pair:
        f, e = model.pop.families, model.pop.events
        touched = np.unique(e.family[(e.family >= 0) & (e.code != Event.BIRTH)])
        touched = model.pop.family_rows(touched)  # (events hold serials; rows retired: -1)
        ok = np.ones(f.n, bool)
        ok[touched[touched >= 0]] = False
        ok &= ~f.uasc & (f.case == 0)
        ok &= ~np.isin(f.uid, at_build)
        untouched.append(dict(zip(f.uid[ok].tolist(), f.need[ok].tolist(), strict=True)))
    both = untouched[0].keys() & untouched[1].keys()
    assert len(both) > 1000
    assert all(untouched[0][u] == untouched[1][u] for u in both)
    # The policy did change paths: the arms differ in early help started.
    (a, _), (b, _) = pair
    ea = (a.pop.events.code == Event.EARLY_HELP).sum()
    eb = (b.pop.events.code == Event.EARLY_HELP).sum()
    assert eb > ea


def test_babies_and_arrivals_have_the_same_uids_whatever_the_scenario(pair):
    """A child born (or arriving) in the same week into the same family has the same uid in
    both arms, so nearly every new child of one arm is found in the other: new ids come from
    the parent family's uid and the week (or the week and an ordinal), never from a row."""
    new = []
    for model, _ in pair:
        c, f = model.pop.children, model.pop.families
        born = np.flatnonzero(c.age < 52)
        new.append(dict(zip(c.uid[born].tolist(), f.uid[c.family[born]].tolist(),
                            strict=True)))
    both = new[0].keys() & new[1].keys()
    assert len(both) >= 0.97 * max(len(new[0]), len(new[1]))
    assert all(new[0][u] == new[1][u] for u in both)  # the same family in both arms
    for model, _ in pair:
        assert len(np.unique(model.pop.children.uid)) == model.pop.children.n
        assert len(np.unique(model.pop.families.uid)) == model.pop.families.n
