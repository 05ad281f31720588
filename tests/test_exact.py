"""Optimised functions against simple reference implementations of the same rule (issue 13).

An exact optimisation must give the same answer as the definition it replaces, on any state,
so each is checked here on random data shaped like the model's (families of several children,
some in care, siblings with one carer or several, children added between calls)."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import numpy as np
import pytest

from agents.health_visitor import CONTACTS
from sim.population import Population


def _population(rng: np.random.Generator, n_fam: int, n_child: int) -> Population:
    pop = Population(n_fam, n_child)
    pop.families.append(n_fam)
    pop.children.append(n_child, family=np.sort(rng.integers(0, n_fam, n_child)))
    return pop


def _grow(rng: np.random.Generator, pop: Population, n_fam: int, n_child: int) -> None:
    """New families and children, some joining old families (births), unsorted."""
    pop.families.append(n_fam)
    pop.children.append(n_child, family=rng.integers(0, pop.families.n, n_child))


@pytest.mark.parametrize("seed", range(5))
def test_children_of_finds_every_child_of_the_families(seed):
    rng = np.random.default_rng(seed)
    pop = _population(rng, 300, 700)
    for _ in range(30):  # the index grows with the tables and rebuilds now and then
        _grow(rng, pop, int(rng.integers(0, 40)), int(rng.integers(0, 400)))
        fams = np.unique(rng.integers(0, pop.families.n, int(rng.integers(0, 50))))
        got = np.sort(pop.children_of(fams))
        want = np.flatnonzero(np.isin(pop.children.family, fams))
        assert np.array_equal(got, want)
        # The tail (new rows merged in as they come) is a stable sort of its rows by family.
        index = pop._by_family
        tail = pop.children.family[index.n :]
        o = np.argsort(tail, kind="stable")
        assert np.array_equal(index.tail_order, o + index.n)
        assert np.array_equal(index.tail_family, tail[o])


@pytest.mark.parametrize("seed", range(5))
def test_separated_agrees_with_the_pass_over_everyone_in_care(seed):
    from sim.placements import separated, separated_reference

    rng = np.random.default_rng(seed)
    pop = _population(rng, 400, 1000)
    model = SimpleNamespace(pop=pop)
    c, pl = pop.children, pop.placements
    for _ in range(20):
        _grow(rng, pop, int(rng.integers(0, 30)), int(rng.integers(0, 200)))
        # Some children in care with a carer: few carers, so siblings often share one.
        care = rng.random(c.n) < 0.3
        c.in_care[:] = care
        ids = pl.append(int(care.sum()), carer=rng.integers(-3, 3, int(care.sum())))
        c.placement[care] = ids
        queries = [np.flatnonzero(care), rng.integers(0, c.n, 50), np.zeros(0, np.int64)]
        for q in queries:
            assert np.array_equal(separated(model, q), separated_reference(model, q))


def test_cached_poverty_is_the_definition_and_follows_the_lever():
    from agents.family import poverty, poverty_rate
    from sim.config import Scenario

    rng = np.random.default_rng(0)
    pop = Population(100, 100)
    params = Scenario().with_overrides({"run.scale": 0.001})
    model = SimpleNamespace(pop=pop, params=params)
    for lever in (1.0, 1.0, 1.3, 1.3, 0.7):
        model.params = params.with_overrides({"levers.poverty": lever})
        n = int(rng.integers(1, 500))
        pop.families.append(n, poverty_draw=rng.random(n), deprivation=rng.random(n))
        f = pop.families
        want = f.poverty_draw < poverty_rate(model.params, f.deprivation)
        assert np.array_equal(poverty(model), want)
        some = rng.integers(0, f.n, 20)
        assert np.array_equal(poverty(model, some), want[some])


def test_a_run_from_a_saved_burn_in_is_the_run_that_burnt_in_itself(tmp_path):
    """sim/snapshot.py: the burn-in saved once and loaded gives byte-identical outputs, for a
    different number of reported years too; another scenario's file is refused."""
    from sim.config import Scenario
    from sim.model import CareSystem
    from sim.output import placements_frame
    from sim.snapshot import load, warm_start

    def scenario(years: int, seed: int = 4) -> Scenario:
        return Scenario().with_overrides({"run.region": "North East", "run.scale": 0.01,
                                          "run.burn_in_years": 1, "run.years": years,
                                          "run.seed": seed})

    _, loaded = warm_start(scenario(1), tmp_path)
    assert not loaded
    again, loaded = warm_start(scenario(2), tmp_path)
    assert loaded
    own = CareSystem(scenario(2))
    for model in (again, own):
        model.run()
    assert again.annual_frame().to_csv() == own.annual_frame().to_csv()
    assert placements_frame(again).to_csv() == placements_frame(own).to_csv()
    with pytest.raises(ValueError, match="another scenario"):
        load(next(tmp_path.glob("burnin-*.pkl")), scenario(2, seed=5))


def test_retiring_rows_changes_no_output(tmp_path):
    """Issue 13: rows no rule reads again are retired at each year's end (the burn-in's too;
    sim/population.py: compact). Every written file is byte-identical to the run that keeps
    every row, so are the event log, placements and proceedings (which hold serials), and
    every row kept is the same individual's row of the full tables."""
    from sim.config import Scenario
    from sim.model import CareSystem
    from sim.output import write_run

    scenario = Scenario().with_overrides({"run.region": "North East", "run.scale": 0.02,
                                          "run.burn_in_years": 1, "run.years": 2,
                                          "run.seed": 3})
    full, slim = CareSystem(scenario, compact=False), CareSystem(scenario)
    for model in (full, slim):
        model.run()
    fp, sp = full.pop, slim.pop
    assert sp.children.n < fp.children.n and sp.families.n < fp.families.n
    assert len(sp.retired["serial"]) == fp.children.n - sp.children.n
    assert (np.diff(sp.retired["serial"]) > 0).all()  # (kept in the order of serials)
    gone = np.setdiff1d(fp.children.serial, sp.children.serial)
    assert np.array_equal(sp.retired["serial"], gone)
    assert np.array_equal(sp.retired["uid"], fp.children.uid[gone])
    for name, model in (("full", full), ("slim", slim)):
        write_run(model, tmp_path / name, {})
    for f in ("annual.csv", "annual_by_la.csv", "placements.csv", "children.csv"):
        assert (tmp_path / "full" / f).read_bytes() == (tmp_path / "slim" / f).read_bytes(), f
    for t in ("events", "placements", "proceedings"):
        a, b = getattr(fp, t).columns(), getattr(sp, t).columns()
        assert all(np.array_equal(a[k], b[k]) for k in a), t
    for t in ("families", "children"):
        a, b = getattr(fp, t).columns(), getattr(sp, t).columns()
        rows = b["serial"]  # (the full run's rows are its serials)
        for k in a:
            if k == "family":  # (renumbered: the same family by serial)
                assert np.array_equal(fp.families.serial[a[k][rows]], sp.families.serial[b[k]])
            else:
                assert np.array_equal(a[k][rows], b[k], equal_nan=a[k].dtype.kind == "f"), k
    # One child's and one family's view, by id; a retired child's is refused.
    j = int(sp.children.serial[np.flatnonzero(sp.children.in_care)[0]])
    a, b = full.child(j), slim.child(j)
    assert a.history.equals(b.history) and a.placements.equals(b.placements)
    assert a.family == b.family and full.family(a.family).children == slim.family(b.family).children
    with pytest.raises(KeyError, match="retired"):
        slim.child(int(sp.retired["serial"][0]))


@pytest.mark.parametrize("seed", range(3))
def test_rows_kept_in_place_equal_the_boolean_index(seed):
    """sim/kernels.py: keep_in_place (Table.keep's columns compacted in place), mark_groups
    (compact's families with a child kept) and renumber_kept (their new rows) against
    numpy's boolean index, bincount and cumulative sum, for
    each column type of the tables, masks keeping none, some and all, in columns longer than
    the mask (a table's spare capacity); and sim/population.py: Table.keep against them."""
    from sim import kernels
    from sim.population import CHILD_SCHEMA, Table

    rng = np.random.default_rng(seed)
    for n in (0, 1, 100, 5000):
        for density in (0.0, 0.7, 1.0):
            keep = rng.random(n) < density
            for dt in (np.uint64, np.int64, np.int32, np.int16, np.int8, np.uint8, np.float32,
                       np.bool_):
                col = rng.integers(0, 100, n + 7).astype(dt)
                want = col[:n][keep].copy()
                k = kernels.keep_in_place(col, keep)
                assert k == len(want) and np.array_equal(col[:k], want)
            group = rng.integers(0, 50, n).astype(np.int32)
            marks = rng.random(50) < 0.2
            want = marks | np.bincount(group[keep], minlength=50).astype(bool)
            kernels.mark_groups(group, keep, marks)
            assert np.array_equal(marks, want)
            kept = group[marks[group]]  # (rows of groups kept)
            want = (np.cumsum(marks) - 1)[kept]
            kernels.renumber_kept(kept, marks)
            assert np.array_equal(kept, want)
            t = Table(CHILD_SCHEMA, 16)
            t.append(n, age=rng.integers(0, 900, n), uid=rng.integers(0, 2**60, n, np.uint64))
            before = t.columns()
            before = {c: v.copy() for c, v in before.items()}
            t.keep(keep)
            assert t.n == int(keep.sum())
            assert all(np.array_equal(t.columns()[c], before[c][keep]) for c in before)
            fill = CHILD_SCHEMA["age"][1]
            assert (t._cols["age"][t.n : n] == fill).all()


@pytest.mark.parametrize("share", [None, 0.0, 0.02])
def test_year_end_counts_equal_the_numpy_definition(share):
    """sim/indicators.py: _child_counts (the snapshot's counts over every child, one compiled
    pass) against _child_counts_reference (masks and bincounts), on a model's state with
    children in care, cases open and children moved away; with the disability share as
    shipped, none, and the largest allowed."""
    from sim.config import Scenario
    from sim.indicators import _child_counts, _child_counts_reference
    from sim.model import CareSystem

    over = {"run.region": "North East", "run.scale": 0.02, "run.seed": 6,
            "run.burn_in_years": 0}
    if share is not None:
        over["social_work.disability_cin_per_10k"] = share * 1e4
    model = CareSystem(Scenario().with_overrides(over))
    for _ in range(10):
        model.step()
    c = model.pop.children
    c.moved_away[::97] = True
    got, want = _child_counts(model), _child_counts_reference(model)
    assert got.keys() == want.keys()
    assert all(np.array_equal(got[k], want[k]) for k in want)


# --- the weekly rules, rewritten in reused buffers, against their plain expressions ---------


def _reference_support(model) -> np.ndarray:
    from sim.population import Case

    f, p = model.pop.families, model.params
    quality = 1.0 / (1.0 + model.la_overload()[f.la])
    effect = np.zeros(7, dtype=np.float32)
    effect[Case.EARLY_HELP] = p.early_help.effect
    effect[Case.CHILD_IN_NEED] = p.social_work.cin_effect
    effect[Case.PROTECTION_PLAN] = p.social_work.cpp_effect
    effect[Case.CARE] = p.social_work.cin_effect
    support = effect[f.case] * np.where(f.case >= Case.ASSESSMENT, quality, 1.0)
    support += (f.hv_weeks > 0) * p.health_visiting.targeted_effect
    return support.astype(np.float32)


def _reference_need(model, support: np.ndarray) -> np.ndarray:
    """The plain expression, with this week's keyed draws for every family (sim/draws.py);
    families no longer active get no trio change (u = 1) and no shock."""
    from scipy.special import ndtri

    from agents.family import long_run_need, toxic_trio_week

    f, p = model.pop.families, model.params.need
    u, v = model.draws.pair("need", f.uid)
    u = np.where(f.active, u, 1.0)
    trio = toxic_trio_week(p, f.trio, u)
    saved = f.trio.copy()
    f.trio[:] = trio
    long_run = long_run_need(model)
    f.trio[:] = saved
    tau = p.persistence_weeks
    z = np.where(f.active, ndtri(v), 0.0)
    shock = z.astype(np.float32) * (p.noise_sd * np.sqrt(2.0 / tau))
    return (f.need + (long_run - f.need) / tau + shock - support).astype(np.float32)


def _reference_referrals(model, at_home: np.ndarray) -> np.ndarray:
    from sim.population import WEEKS_PER_YEAR, Case

    f, p = model.pop.families, model.params.social_work
    open_to_referral = f.active & (f.case <= Case.EARLY_HELP) & (at_home > 0)
    yearly = p.referral_rate * np.exp(p.referral_slope * (f.need - p.threshold))
    known = model.week - f.last_referral <= WEEKS_PER_YEAR
    yearly = np.where(known, p.known_family_effect * yearly, yearly)
    prob = 1.0 - np.exp(-(yearly + p.background_referral_rate) / WEEKS_PER_YEAR)
    return np.flatnonzero(open_to_referral & (model.draws.uniform("referral", f.uid) < prob))


def _reference_crises(model, at_home_mask: np.ndarray) -> np.ndarray:
    from sim.population import WEEKS_PER_YEAR

    c, f, p = model.pop.children, model.pop.families, model.params.need
    teen = np.flatnonzero(at_home_mask & (c.age >= 11 * WEEKS_PER_YEAR))
    log_h = (c.risk[teen] + p.adolescent_family_weight * np.maximum(f.need[c.family[teen]], 0)
             + p.adolescent_age_slope * (c.age[teen] / WEEKS_PER_YEAR - 11.0))
    prob = 1.0 - np.exp(-p.adolescent_risk_rate * np.exp(log_h) / WEEKS_PER_YEAR)
    return teen[model.draws.uniform("adolescent", c.uid[teen]) < prob]


def test_weekly_rules_equal_their_plain_expressions():
    """support_received, evolve_need, referrals and adolescent_crises, which now compute in
    reused buffers, give bit for bit what their plain numpy expressions give, on a model's
    state after some weeks (so with cases, overload and targeted visits), twice in a row (a
    stale buffer would show on the second call)."""
    from agents import family
    from agents.local_authority import support_received
    from sim.config import Scenario
    from sim.model import CareSystem

    model = CareSystem(Scenario().with_overrides({"run.region": "North East", "run.scale": 0.02,
                                                  "run.seed": 2}))
    for _ in range(30):
        model.step()
    for _ in range(2):
        f, c = model.pop.families, model.pop.children
        support = support_received(model)
        assert np.array_equal(support, _reference_support(model))
        want = _reference_need(model, support.copy())
        family.evolve_need(model, support)
        assert np.array_equal(f.need, want)
        at_home_mask = model.pop.children_at_home()
        at_home = np.bincount(c.family[at_home_mask], minlength=f.n)
        referred, _ = family.referrals(model, at_home)
        assert np.array_equal(referred, _reference_referrals(model, at_home))
        teens = family.adolescent_crises(model, at_home_mask)
        assert np.array_equal(teens, _reference_crises(model, at_home_mask))
        model.step()


@pytest.mark.parametrize("seed", range(3))
def test_compiled_draws_equal_the_numpy_definitions(seed):
    """sim/kernels.py's keyed hash, uniforms and pairs against the numpy code they replaced,
    bit for bit, for uids, row ordinals (int64, negative too), strided views and counters."""
    from sim.draws import Draws, bits_reference, pair_reference, uniform_reference

    rng = np.random.default_rng(seed)
    d = Draws(seed)
    d.week = int(rng.integers(-1000, 1000))
    uids = rng.integers(0, 2**64 - 1, 5000, dtype=np.uint64)
    for ids in (uids, uids[::3], np.arange(-50, 500), [0], np.zeros(0, np.int64)):
        n = len(np.asarray(ids))
        key = d.key("test.mechanism", sub=seed)
        counter = rng.integers(-3, 30, n).astype(np.int16)
        assert np.array_equal(d.bits("test.mechanism", ids, sub=seed), bits_reference(key, ids))
        assert np.array_equal(d.bits("test.mechanism", ids, sub=seed, counter=counter),
                              bits_reference(key, ids, counter))
        assert np.array_equal(d.uniform("test.mechanism", ids, sub=seed),
                              uniform_reference(key, ids))
        assert np.array_equal(d.uniform("test.mechanism", ids, sub=seed, counter=counter),
                              uniform_reference(key, ids, counter))
        for got, want in zip(d.pair("test.mechanism", ids, sub=seed), pair_reference(key, ids),
                             strict=True):
            assert np.array_equal(got, want)


@pytest.mark.parametrize("overrides", [{}, {"need.toxic_trio_prevalence": 0.0},
                                       {"need.poverty_effect": 0.0, "need.noise_sd": 0.0}])
def test_compiled_need_week_equals_the_numpy_version(overrides):
    """agents/family.py: evolve_need (two compiled passes) against evolve_need_reference (the
    numpy operations), on the same state with families no longer active among them, for a few
    weeks in a row and with parameters at their edges (no trio; no poverty effect and no noise)."""
    from agents import family
    from agents.local_authority import support_received
    from sim.config import Scenario
    from sim.model import CareSystem

    model = CareSystem(Scenario().with_overrides({"run.region": "North East", "run.scale": 0.01,
                                                  "run.seed": 4, **overrides}))
    f = model.pop.families
    f.active[::7] = False
    for week in range(3):
        support = support_received(model).copy()
        if week == 2:  # support in float64 (not float32-representable): used as given
            support = support.astype(np.float64) + 1e-9
        need, trio = f.need.copy(), f.trio.copy()
        family.evolve_need_reference(model, support)
        want_need, want_trio = f.need.copy(), f.trio.copy()
        f.need[:], f.trio[:] = need, trio
        family.evolve_need(model, support)
        assert np.array_equal(f.need, want_need) and np.array_equal(f.trio, want_trio)
        model.step()


def _week_demography(p: Population, moved: bool, was_active: np.ndarray, seed: int,
                     n_new: tuple[int, int], new_active: np.ndarray, new_case: np.ndarray
                     ) -> int:
    """A week's demography after the ageing, for the census tests: the 18th birthdays' exits
    from care, births (new rows), and, if ``moved``, departures; returns how many left."""
    c = p.children
    c.in_care[np.flatnonzero(was_active & (c.age >= 18 * 52) & ~c.active)] = False
    n0 = p.families.n
    _grow(np.random.default_rng(seed), p, *n_new)
    c, f = p.children, p.families
    c.active[c.n - n_new[1]:] = new_active
    f.case[n0:] = new_case
    f.la[n0:] = np.random.default_rng(seed + 1).integers(0, 5, f.n - n0)
    if moved:
        c.active[:50] = False
        return 50
    return 0


def _young_by_la(young: np.ndarray, c, f) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Health visiting's counts of the under-fives ``young`` (by authority, of 5), the
    contacts due and their authorities, as numpy."""
    la = f.la[c.family[young]]
    due = CONTACTS[c.age[young]] > 0
    return np.bincount(la, minlength=5), young[due], la[due]


@pytest.mark.parametrize("seed", range(4))
def test_census_made_as_children_age_equals_the_whole_census(seed):
    """sim/population.py: age_and_census (the census made in the ageing pass, as it stands
    once those turning 18 in care have left) completed by finish_census with the rows added
    since, against age_one_week_reference, the exits from care, then home_census; with
    departures (a whole census) and with more new rows than the room kept."""
    from sim.util import Scratch

    rng = np.random.default_rng(seed)
    pop = _population(rng, 500, 1500)
    buf = Scratch()
    for week in range(4):
        c, f = pop.children, pop.families
        c.active[:] = rng.random(c.n) < 0.8
        c.in_care[:] = rng.random(c.n) < 0.1
        c.age[:] = rng.integers(0, 1000, c.n)
        c.age[rng.integers(0, c.n, 30)] = 18 * 52 - 1  # (turning 18, some in care)
        c.age[rng.integers(0, c.n, 20)] = np.iinfo(np.int16).max
        c.care_weeks[:] = rng.integers(0, 900, c.n)
        f.case[:] = rng.integers(0, 7, f.n)
        f.la[:] = np.sort(rng.integers(0, 5, f.n))
        state = {k: getattr(c, k).copy() for k in ("age", "care_weeks", "active", "in_care")}
        n_new = (int(rng.integers(0, 300)), int(rng.integers(0, 900)))
        if week == 3:
            n_new = (5000, 10000)  # (beyond the room kept: a whole census)
        new_active = rng.random(n_new[1]) < 0.9
        new_case = rng.integers(0, 7, n_new[0])

        for moved in (False, True):
            ref, got_pop = copy.deepcopy(pop), copy.deepcopy(pop)
            young_ref = np.zeros(ref.families.n, bool)
            want_adults = ref.age_one_week_reference(young_ref, 520)
            week_args = (moved, state["active"], seed + week, n_new, new_active, new_case)
            _week_demography(ref, *week_args)
            want = ref.home_census(Scratch(), 5)
            young = np.zeros(got_pop.families.n, bool)
            adults, n_active, aged = got_pop.age_and_census(buf, young, 520, 5, CONTACTS)
            assert np.array_equal(adults, want_adults)
            assert n_active == int(np.count_nonzero(got_pop.children.active))
            assert np.array_equal(young, young_ref)
            got = got_pop.finish_census(aged, _week_demography(got_pop, *week_args))
            for k in ("live", "at_home_mask", "at_home", "open_by_la"):
                assert np.array_equal(getattr(got, k), getattr(want, k)), k
            # The under-fives: listed, or health visiting's counts of those that aged and
            # the list of the new rows' (a whole census, with departures, lists them all).
            assert (got.young is None) == (moved or week == 3)
            assert got.under5 is None if got.young is not None else np.array_equal(
                got.under5, want.under5)
            if got.young is not None:
                y, c_got, f_got = got.young, got_pop.children, got_pop.families
                want_hv = _young_by_la(want.under5, c_got, f_got)
                assert np.array_equal(y.rest, want.under5[want.under5 >= y.counted])
                rest_hv = _young_by_la(y.rest, c_got, f_got)
                assert np.array_equal(y.by_la + rest_hv[0], want_hv[0])
                assert np.array_equal(np.concatenate([y.due, rest_hv[1]]), want_hv[1])
            for k in state:
                assert np.array_equal(getattr(got_pop.children, k), getattr(ref.children, k)), k
        _grow(rng, pop, int(rng.integers(0, 50)), int(rng.integers(0, 300)))


def test_census_of_a_family_too_large_for_its_word_is_made_whole():
    """sim/population.py: age_and_census packs a family's children at home and under-fives
    into 14 bits each of its word; a family with more (none has, but nothing forbids it)
    is found by the counts' totals and the census is made whole instead, as the definition."""
    from sim.util import Scratch

    rng = np.random.default_rng(3)
    pop = _population(rng, 50, 300)
    c = pop.children
    pop.children.append(20000, family=np.full(20000, 7, np.int32),
                        age=rng.integers(0, 400, 20000).astype(np.int16))
    pop.families.la[:] = rng.integers(0, 5, pop.families.n)
    ref = copy.deepcopy(pop)
    want_adults = ref.age_one_week_reference(np.zeros(ref.families.n, bool), 520)
    want = ref.home_census(Scratch(), 5)
    adults, _, aged = pop.age_and_census(Scratch(), np.zeros(pop.families.n, bool), 520, 5,
                                         CONTACTS)
    assert aged.families == -1 and np.array_equal(adults, want_adults)
    got = pop.finish_census(aged)
    assert got.young is None
    for k in ("live", "at_home_mask", "at_home", "under5", "open_by_la"):
        assert np.array_equal(getattr(got, k), getattr(want, k)), k
    assert np.array_equal(c.age, ref.children.age)


@pytest.mark.parametrize("seed", range(3))
def test_census_and_ageing_equal_their_numpy_definitions(seed):
    """sim/population.py: the week's HomeCensus (one compiled pass) against the numpy masks it
    replaced, on random states, the arrays reused twice (the ageing is checked against
    age_one_week_reference with the census made in its pass, below)."""
    from sim.population import UNDER_FIVE_WEEKS
    from sim.util import Scratch

    rng = np.random.default_rng(seed)
    pop = _population(rng, 500, 1500)
    buf = Scratch()
    for _ in range(3):
        _grow(rng, pop, int(rng.integers(0, 50)), int(rng.integers(0, 300)))
        c, f = pop.children, pop.families
        c.active[:] = rng.random(c.n) < 0.8
        c.in_care[:] = rng.random(c.n) < 0.1
        c.age[:] = rng.integers(0, 1000, c.n)
        c.age[rng.integers(0, c.n, 20)] = np.iinfo(np.int16).max
        c.care_weeks[:] = rng.integers(0, 900, c.n)
        census = pop.home_census(buf)
        mask = c.active & ~c.in_care
        assert np.array_equal(census.at_home_mask, mask)
        assert np.array_equal(census.at_home, np.bincount(c.family[mask], minlength=f.n))
        live = np.zeros(f.n, bool)
        live[c.family[c.active | c.in_care]] = True
        assert np.array_equal(census.live, live)
        assert np.array_equal(census.under5, np.flatnonzero(mask & (c.age < UNDER_FIVE_WEEKS)))
        f.case[:] = rng.integers(0, 7, f.n)
        f.la[:] = np.sort(rng.integers(0, 5, f.n))
        counted = pop.home_census(buf, 5).open_by_la
        want_open = np.bincount(f.la[c.family[mask & (f.case[c.family] >= 3)]], minlength=5)
        want_open += np.bincount(f.la[c.family[c.in_care]], minlength=5)
        assert np.array_equal(counted, want_open)



@pytest.mark.filterwarnings("ignore:overflow encountered")  # (the needs put off the grid)
@pytest.mark.parametrize("overrides", [{}, {"social_work.referral_slope": 0.0},
                                       {"social_work.known_family_effect": 20.0,
                                        "social_work.referral_rate": 20.0},
                                       {"social_work.background_referral_rate": 0.0},
                                       {"social_work.referral_slope": 5.0}])
def test_referrals_by_bound_equal_the_full_computation(overrides):
    """agents/family.py: referrals (the exact chance only where a family's draw falls below
    the bound of its chance) against referrals_reference (every open family's chance), with
    needs far off the usual, families referred within the year, and several weeks."""
    from agents import family
    from sim.config import Scenario
    from sim.model import CareSystem

    model = CareSystem(Scenario().with_overrides({"run.region": "North East", "run.scale": 0.01,
                                                  "run.seed": 6, **overrides}))
    f = model.pop.families
    rng = np.random.default_rng(1)
    for _ in range(4):
        model.step()
        f.need[rng.integers(0, f.n, 50)] = rng.choice([-20.0, -8.0, 7.99, 8.0, 8.01, 30.0,
                                                        60.0, 1e4], 50)
        f.need[rng.integers(0, f.n, 5)] = np.nan
        at_home = np.bincount(model.pop.children.family[model.pop.children_at_home()],
                              minlength=f.n)
        got, want = family.referrals(model, at_home), family.referrals_reference(model, at_home)
        assert len(want[0]) > 0
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


@pytest.mark.filterwarnings("ignore:overflow encountered")  # (the needs put off the grid)
@pytest.mark.parametrize("overrides", [{}, {"need.adolescent_age_slope": -1.0},
                                       {"need.adolescent_risk_rate": 0.2},
                                       {"need.adolescent_risk_rate": 0.0},
                                       {"need.adolescent_family_weight": 3.0}])
def test_crises_by_bound_equal_the_full_computation(overrides):
    """agents/family.py: adolescent_crises (the exact chance only where a teenager's draw falls
    below the bound of its chance) against adolescent_crises_reference, with needs and risks
    far off the usual (and NaN)."""
    from agents import family
    from sim.config import Scenario
    from sim.model import CareSystem

    model = CareSystem(Scenario().with_overrides({"run.region": "North East", "run.scale": 0.01,
                                                  "run.seed": 8, **overrides}))
    f, c = model.pop.families, model.pop.children
    rng = np.random.default_rng(2)
    for week in range(4):
        model.step()
        f.need[rng.integers(0, f.n, 80)] = rng.choice([-50.0, 3.0, 40.0, 2000.0, 1e30], 80)
        c.risk[rng.integers(0, c.n, 80)] = rng.choice([-3000.0, -60.0, 5.0, 30.0, np.nan], 80)
        mask = model.pop.children_at_home()
        got = family.adolescent_crises(model, mask)
        assert np.array_equal(got, family.adolescent_crises_reference(model, mask))
        if week == 3:
            assert (len(got) > 0) == (model.params.need.adolescent_risk_rate > 0)


def test_open_children_and_keyed_below_equal_their_numpy_definitions():
    """sim/model.py: open_children (one compiled pass) against open_children_reference, with
    and without the week's mask (a child who has entered care since still marked in it);
    sim/kernels.py: keyed_below against
    flatnonzero, the keyed uniform and the comparison."""
    from sim import kernels
    from sim.config import Scenario
    from sim.model import CareSystem

    model = CareSystem(Scenario().with_overrides({"run.region": "North East", "run.scale": 0.01,
                                                  "run.seed": 9}))
    rng = np.random.default_rng(3)
    f = model.pop.families
    for _ in range(3):
        model.step()
        odd = model.pop.children_at_home()
        odd[np.flatnonzero(model.pop.children.in_care)[:3]] = True
        for mask in (None, model.pop.children_at_home(), odd):
            assert np.array_equal(model.open_children(mask), model.open_children_reference(mask))
        flags = rng.random(f.n) < 0.4
        for chance in (0.0, 0.01, 0.5, 1.0):
            rows = np.empty(f.n, np.int64)
            m = kernels.keyed_below(flags, f.uid, np.uint64(model.draws.key("t")), chance, rows)
            cand = np.flatnonzero(flags)
            want = cand[model.draws.uniform("t", f.uid[cand]) < chance]
            assert np.array_equal(rows[:m], want)


@pytest.mark.parametrize("seed", range(3))
def test_candidate_passes_equal_their_numpy_tests(seed):
    """sim/kernels.py: referral_candidates, crisis_candidates and keyed_below (a block's
    answers as a word's set bits) against their tests as numpy, on lengths that are not
    multiples of a block and with bounds that keep none, some, most and all."""
    from sim import kernels
    from sim.draws import bits_reference, uniform_reference

    rng = np.random.default_rng(seed)
    key = int(rng.integers(0, 2**63))
    for n in (0, 1, 63, 64, 65, 3001):
        uid = rng.integers(0, 2**64 - 1, n, dtype=np.uint64)
        u = uniform_reference(key, uid)
        h = bits_reference(key, uid) >> np.uint64(11)
        # A lower bound of log2(u): floor(log2 u) plus the three bits below the leading one.
        e = np.array([int(x).bit_length() - 54 + (((int(x) << 3) >> max(int(x).bit_length() - 1, 0))
                                                   & 7) / 8 for x in h])
        last = rng.integers(-5, 5, n).astype(np.int32)
        need = (rng.normal(0, 4, n)).astype(np.float32)
        need[rng.random(n) < 0.01] = rng.choice([np.nan, 1e6, -1e6])
        active, case = rng.random(n) < 0.9, rng.integers(0, 6, n).astype(np.int8)
        at_home = rng.integers(0, 3, n).astype(np.int32)
        for log2_rate, log2_background in ((-np.inf, -np.inf), (-12.0, -16.0), (-3.0, -np.inf),
                                           (-np.inf, -2.0), (np.inf, -10.0)):
            rows, us = np.empty(n, np.int64), np.empty(n)
            m = kernels.referral_candidates(active, case, at_home, need, uid, np.uint64(key),
                                            2, last, 0, 1.9, 1.6, log2_rate, log2_rate + 2.0,
                                            log2_background, rows, us)
            arg = (need.astype(np.float64) - 1.9) * 1.6
            scale = np.where(last >= 0, log2_rate + 2.0, log2_rate)
            with np.errstate(invalid="ignore"):
                test = ((e < arg * 1.4426950408889634 + scale) | (e < log2_background)
                        | (e < -15) | ~(np.abs(arg) < 80.0))
            ok = active & (case <= 2) & (at_home > 0) & test
            assert np.array_equal(rows[:m], np.flatnonzero(ok))
            assert np.array_equal(us[:m], u[ok])
        # Teenagers: children of these families (at home or not), every row visited.
        n_c = 2 * n
        c_uid = rng.integers(0, 2**64 - 1, n_c, dtype=np.uint64)
        family = rng.integers(0, max(n, 1), n_c).astype(np.int32)
        age = rng.integers(0, 18 * 52, n_c).astype(np.int16)
        risk = rng.normal(0, 1, n_c).astype(np.float32)
        risk[rng.random(n_c) < 0.01] = rng.choice([np.nan, 2000.0, -5000.0])
        home = rng.random(n_c) < 0.8
        for log2_scale in (-np.inf, -30.0, float(np.log2(1e-3)), 5.0, np.inf):
            rows, us = np.empty(n_c, np.int64), np.empty(n_c)
            m = kernels.crisis_candidates(home, age, 11 * 52, family, need, risk, c_uid,
                                          np.uint64(key), 0.5, 0.7, log2_scale, rows, us)
            nd = need[family].astype(np.float64) if n else np.zeros(0)
            wn = 0.7 * np.where(nd > 0.0, nd, 0.0)
            r = risk.astype(np.float64)
            lh = (age.astype(np.float64) / 52.0 - 11.0) * 0.5 + (wn + r)
            h_c = bits_reference(key, c_uid) >> np.uint64(11)
            e_c = np.array([int(x).bit_length() - 54 for x in h_c], np.int64)
            inside = (np.abs(wn) < 1000.0) & (np.abs(r) < 1000.0)
            with np.errstate(invalid="ignore"):
                ok = home & (age >= 11 * 52) & (
                    (e_c < lh * 1.4426950408889634 + log2_scale) | (e_c < -50) | ~inside)
            assert np.array_equal(rows[:m], np.flatnonzero(ok))
            assert np.array_equal(us[:m], uniform_reference(key, c_uid)[ok])
        flags = rng.random(n) < 0.5
        for chance in (0.0, 0.3, 1.0):
            rows = np.empty(n, np.int64)
            m = kernels.keyed_below(flags, uid, np.uint64(key), chance, rows)
            assert np.array_equal(rows[:m], np.flatnonzero(flags & (u < chance)))


def test_young_by_la_equals_the_numpy_definition():
    """sim/kernels.py: young_by_la (health visiting's under-fives by authority and contacts
    due) against the gathers, bincount and mask it replaced."""
    from sim import kernels

    rng = np.random.default_rng(5)
    pop = _population(rng, 400, 1200)
    c, f = pop.children, pop.families
    f.la[:] = rng.integers(0, 7, f.n)
    c.age[:] = rng.integers(0, 260, c.n)
    young = np.sort(rng.choice(c.n, 700, replace=False))
    counts = np.zeros(7, np.int64)
    due, la_due = np.empty(700, np.int64), np.empty(700, f.la.dtype)
    m = kernels.young_by_la(young, c.family, c.age, f.la, CONTACTS, counts, due, la_due)
    la_young = f.la[c.family[young]]
    is_due = CONTACTS[c.age[young]] > 0
    assert np.array_equal(counts, np.bincount(la_young, minlength=7))
    assert m > 0 and np.array_equal(due[:m], young[is_due])
    assert np.array_equal(la_due[:m], la_young[is_due])


def test_table_views_follow_appends_and_pickling():
    """sim/population.py: Table keeps each column's live view as an attribute; it must follow
    appends (growth included), write through to the column, refuse reassignment, and survive
    pickling as a view of the unpickled column (not a copy of its own)."""
    import pickle

    from sim.population import FAMILY_SCHEMA, Table

    t = Table(FAMILY_SCHEMA, 16)
    for n in (3, 20, 100):
        t.append(n, need=np.arange(n, dtype=np.float32))
        assert len(t.need) == t.n and np.shares_memory(t.need, t._cols["need"])
    t.need[:5] = -1.0
    assert t._cols["need"][:5].tolist() == [-1.0] * 5
    with pytest.raises(AttributeError):
        t.need = np.zeros(t.n)
    u = pickle.loads(pickle.dumps(t))
    assert "need" not in t.__getstate__()
    assert np.array_equal(u.need, t.need) and np.shares_memory(u.need, u._cols["need"])
    u.append(1)
    assert len(u.need) == t.n + 1


@pytest.mark.parametrize("levers", ["plain", "capped_pooled"])
def test_best_providers_equal_the_score_matrices(levers):
    """sim/placements.py: _best_providers (one compiled pass over the group x provider pairs)
    against _best_providers_reference (the score matrices), on a model's market with random
    sibling groups (every need category, sizes 1-4, some providers full), with and without
    distance caps and a regional co-operative, over several rounds."""
    from sim import placements
    from sim.config import Scenario
    from sim.model import CareSystem

    model = CareSystem(Scenario().with_overrides({"run.region": "North West", "run.scale": 0.01,
                                                  "run.seed": 10}))
    for _ in range(3):
        model.step()
    rng = np.random.default_rng(7)
    t, f = model.providers, model.pop.families
    if levers == "capped_pooled":
        model.levers.distance_cap_miles[:] = rng.choice([0.0, 5.0, 20.0], model.n_la)
        model.levers.cooperative[:] = rng.integers(-1, 3, model.n_la)
    cand = np.flatnonzero(t.active)
    free = (t.capacity[cand] - t.occupied[cand]).astype(np.int64)
    free[rng.random(len(free)) < 0.3] = 0
    sorts = placements._provider_sorts(len(cand))  # (kept through the rounds, as _match does)
    for round_ in range(4):
        g = int(rng.integers(1, 300))
        fam = rng.integers(0, f.n, g)
        args = (cand, free, f.node[fam], f.la[fam], rng.integers(0, 4, g),
                rng.integers(1, 5, g).astype(np.int64),
                rng.integers(0, 2**63, g).astype(np.uint64), round_)
        best, ok = placements._best_providers(model, *args, sorts)
        assert np.array_equal((best, ok), placements._best_providers(model, *args))
        want_best, want_ok = placements._best_providers_reference(model, *args)
        assert ok.any() and np.array_equal(ok, want_ok)
        assert np.array_equal(best, want_best)


def test_family_marks_equal_their_numpy_definitions():
    """sim/kernels.py: mark_young_at_home (births, outside the model's step) against the mask
    and scatter it replaced, with families in no order (births append)."""
    from sim import kernels

    rng = np.random.default_rng(11)
    n, n_fam = 3000, 900
    family = rng.integers(0, n_fam, n).astype(np.int32)
    active, in_care = rng.random(n) < 0.8, rng.random(n) < 0.05
    age = rng.integers(0, 936, n).astype(np.int16)
    got = np.zeros(n_fam, bool)
    kernels.mark_young_at_home(active, in_care, age, family, 520, got)
    want = np.zeros(n_fam, bool)
    want[family[active & ~in_care & (age < 520)]] = True
    assert np.array_equal(got, want)


def _state_hash(model, annual: bool = True) -> str:
    import hashlib

    h = hashlib.sha256()
    pop = model.pop
    for table in (pop.families, pop.children, pop.placements, pop.events, pop.proceedings,
                  model.providers):
        for col, arr in sorted(table.columns().items()):
            h.update(col.encode())
            h.update(np.ascontiguousarray(arr).tobytes())
    if annual:  # (and this year's flows so far)
        h.update(model.annual_frame().to_csv().encode())
    else:
        for name, flow in sorted(model.flows.items()):
            h.update(name.encode())
            h.update(flow.tobytes())
    return h.hexdigest()


def test_a_run_with_the_compiled_kernels_equals_one_with_the_numpy_definitions(monkeypatch):
    """End to end: a small run (a year and a half, so with a year's close) hashes the same,
    every state column and the annual table, whether the weekly rules run on the compiled
    kernels and bounds or on the numpy definitions kept beside them."""
    from agents import family
    from sim import placements
    from sim.config import Scenario
    from sim.model import CareSystem
    from sim.population import Population

    def run() -> str:
        model = CareSystem(Scenario().with_overrides({"run.region": "North East",
                                                      "run.scale": 0.02, "run.seed": 12,
                                                      "run.burn_in_years": 0}))
        for _ in range(78):
            model.step()
        return _state_hash(model)

    compiled = run()
    monkeypatch.setattr(family, "evolve_need", family.evolve_need_reference)
    monkeypatch.setattr(family, "referrals", family.referrals_reference)
    monkeypatch.setattr(family, "adolescent_crises", family.adolescent_crises_reference)
    monkeypatch.setattr(placements, "_best_providers", placements._best_providers_reference)
    monkeypatch.setattr(placements, "_week_hazards", placements._week_hazards_reference)
    monkeypatch.setattr(placements, "_exits", placements._exits_reference)
    monkeypatch.setattr(placements, "_planned_moves", placements._planned_moves_reference)
    monkeypatch.setattr(placements, "_refill_waiting", placements._refill_waiting_reference)
    monkeypatch.setattr(CareSystem, "open_children", CareSystem.open_children_reference)
    monkeypatch.setattr(Population, "age_and_census", Population.age_and_census_reference)
    assert run() == compiled


@pytest.mark.parametrize("seed", range(3))
def test_row_lists_equal_flatnonzero(seed):
    """sim/kernels.py: flatnonzero_sparse (eight bytes at a time, lengths not a multiple of
    eight, views that start inside a column), flatnonzero_positive (int16, four at a time,
    negative values too) and flatnonzero_between against np.flatnonzero."""
    from sim import kernels

    rng = np.random.default_rng(seed)
    for n in (0, 1, 7, 8, 9, 1000, 4099):
        for density in (0.0, 0.01, 0.5, 1.0):
            mask = rng.random(n + 3) < density
            for m in (mask[:n], mask[3:], mask[1 : n + 1]):
                assert np.array_equal(kernels.flatnonzero_sparse(m), np.flatnonzero(m))
        for density in (0.0, 0.01, 0.5, 1.0):
            x16 = np.where(rng.random(n + 3) < density,
                           rng.integers(-300, 300, n + 3), 0).astype(np.int16)
            for m in (x16[:n], x16[3:], x16[1 : n + 1]):
                assert np.array_equal(kernels.flatnonzero_positive(m), np.flatnonzero(m > 0))
        x = rng.integers(-2, 8, n).astype(np.int8)
        for lo, hi in ((1, 6), (6, 6), (0, 0), (3, 2)):
            want = np.flatnonzero((x >= lo) & (x <= hi))
            assert np.array_equal(kernels.flatnonzero_between(x, lo, hi), want)


def test_low_bit_is_the_index_of_the_lowest_set_bit():
    """sim/kernels.py: _low_bit (LLVM's count of trailing zeros), with which every kernel
    lists a block's rows, against its Python definition on every single bit, the words with
    the top bit set beside it, and random words, each listed bit by bit."""
    from numba import njit

    from sim import kernels

    low_bit = kernels._low_bit

    @njit
    def set_bits(w, out):
        m = 0
        while w:
            out[m] = low_bit(w)
            m += 1
            w &= w - np.uint64(1)
        return m

    rng = np.random.default_rng(0)
    words = [1 << b for b in range(64)] + [(1 << b) | (1 << 63) for b in range(64)]
    words += [int(x) for x in rng.integers(1, 2**63, 200, dtype=np.int64)] + [2**64 - 1]
    out = np.empty(64, np.int64)
    for w in words:
        m = set_bits(np.uint64(w), out)
        want, x = [], w
        while x:
            want.append(kernels._low_bit_reference(x))
            x &= x - 1
        assert out[:m].tolist() == want == [b for b in range(64) if w >> b & 1]


def test_compiled_early_help_equals_the_numpy_version(monkeypatch):
    """agents/local_authority.py: early_help (one compiled pass for its lists) against
    early_help_reference, on a model's state with families helped and waiting, over weeks."""
    from agents import local_authority
    from sim.config import Scenario
    from sim.model import CareSystem

    def run(fn) -> str:
        monkeypatch.setattr(local_authority, "early_help", fn)
        model = CareSystem(Scenario().with_overrides({"run.region": "North East",
                                                      "run.scale": 0.02, "run.seed": 5,
                                                      "run.burn_in_years": 0}))
        for _ in range(56):  # (past a year's end: the hash reads the annual table)
            model.step()
        return _state_hash(model)

    assert run(local_authority.early_help_reference) == run(local_authority.early_help)


def test_census_counts_the_open_children_the_workforce_is_given(monkeypatch):
    """sim/model.py: the week's open children, counted by the census at the start of the week,
    equal open_children_reference where the workforce reads them (nothing in between opens a
    case at assessment or above, or moves a child)."""
    from agents.workforce import Workforce
    from sim.config import Scenario
    from sim.model import CareSystem

    model = CareSystem(Scenario().with_overrides({"run.region": "North East",
                                                  "run.scale": 0.02, "run.seed": 3,
                                                  "run.burn_in_years": 0}))
    week = Workforce.week
    seen = []

    def checked(self, open_children):
        want = model.open_children_reference(model.census.at_home_mask)
        assert np.array_equal(open_children, want)
        seen.append(1)
        return week(self, open_children)

    monkeypatch.setattr(Workforce, "week", checked)
    for _ in range(20):
        model.step()
    assert len(seen) == 20


def test_compiled_ndtri_is_scipys():
    """sim/kernels.py: ndtri against scipy.special.ndtri, bit for bit, on every uniform a
    keyed pair gives in the tails and a sample of the rest, and at the edges (0, 1, outside,
    NaN, subnormals). (Checked once over all 2**32 values of a pair's uniform.)"""
    from scipy import special

    from sim import kernels

    rng = np.random.default_rng(0)
    h = np.concatenate([np.arange(0, 2**20), 2**32 - 1 - np.arange(0, 2**20),
                        rng.integers(0, 2**32, 2**20)]).astype(np.float64)
    y = np.concatenate([(h + 0.5) * 2.0**-32, rng.random(10000),
                        np.exp(-rng.random(10000) * 700),
                        [0.0, 1.0, -0.5, 1.5, np.nan, 5e-324, 1e-310, np.exp(-2),
                         1 - np.exp(-2), 0.5]])
    with np.errstate(all="ignore"):
        want = special.ndtri(y)
    got = kernels.ndtri_array(y, np.empty_like(y))
    same = (got.view(np.uint64) == want.view(np.uint64)) | (np.isnan(got) & np.isnan(want))
    assert same.all()


def test_float32_inverse_normal_is_scipys_rounded():
    """sim/kernels.py: ndtri32_array (the tails from a table, the exact function wherever the
    table's float32 rounding is not settled) against float32(scipy.special.ndtri), on the
    pair's uniforms nearest 0 and 1, a sample of the rest, and values below the table.
    (Checked once over all 2**32 values of a pair's uniform: none differs.)"""
    from scipy import special

    from sim import kernels

    rng = np.random.default_rng(1)
    h = np.concatenate([np.arange(0, 2**20), 2**32 - 1 - np.arange(0, 2**20),
                        rng.integers(0, 2**32, 2**21)]).astype(np.float64)
    y = np.concatenate([(h + 0.5) * 2.0**-32, rng.random(100000) * 2.0**-40,
                        rng.random(100000) * 0.14, [np.exp(-2), 1 - np.exp(-2), 0.5]])
    got = kernels.ndtri32_array(y, np.empty(len(y), np.float32), *kernels.tail_table())
    assert np.array_equal(got.view(np.uint32), special.ndtri(y).astype(np.float32).view(np.uint32))


@pytest.mark.parametrize("n", [0, 1, 63, 64, 65, 1000, 4099])
def test_need_draws_are_the_keyed_pair_and_scipys_normal(n):
    """sim/kernels.py: need_draws (a block's tails found as a word's set bits) against the
    keyed pair (sim/draws.py: pair_reference) and float32(scipy.special.ndtri) of its second
    uniform, for lengths that are and are not multiples of a block, on uids whose pairs hit
    the tails often (a quarter of the draws) and on views that start inside a column."""
    from scipy import special

    from sim import kernels
    from sim.draws import pair_reference

    rng = np.random.default_rng(n)
    uid = rng.integers(0, 2**64 - 1, n + 3, dtype=np.uint64)
    key = 0x1234_5678_9ABC_DEF0
    for ids in (uid[:n], uid[3:]):
        u = np.empty(len(ids))
        z = np.empty(len(ids), np.float32)
        kernels.need_draws(ids, np.uint64(key), *kernels.tail_table(), u, z)
        hi, lo = pair_reference(key, ids)
        assert np.array_equal(u, hi)
        assert np.array_equal(z.view(np.uint32), special.ndtri(lo).astype(np.float32).view(
            np.uint32))


def test_kept_list_of_children_in_care_is_the_mask():
    """sim/population.py: care_rows, kept up to date from the rows set_in_care touched, is
    np.flatnonzero(children.in_care) at every week's end, through a year's end (rows
    retired and renumbered), and after a copy by pickling (as a snapshot is)."""
    import pickle

    from sim.config import Scenario
    from sim.model import CareSystem

    model = CareSystem(Scenario().with_overrides({"run.region": "North East", "run.scale": 0.02,
                                                  "run.seed": 8, "run.burn_in_years": 0}))
    for _ in range(60):
        model.step()
        c = model.pop.children
        assert np.array_equal(model.pop.care_rows(), np.flatnonzero(c.in_care))
    pop = pickle.loads(pickle.dumps(model.pop))
    pop.set_in_care(np.flatnonzero(pop.children.in_care)[:3], False)
    pop.set_in_care(np.flatnonzero(~pop.children.in_care)[:5], True)
    assert np.array_equal(pop.care_rows(), np.flatnonzero(pop.children.in_care))
    with pytest.raises(ValueError):
        pop.care_rows()[0] = 0  # (read-only: callers take copies)


def test_open_families_kept_as_cases_change():
    """sim/population.py: open_families (kept up to date from the rows set_case touched)
    equals a pass over every family's stage, every week, across a year's end (rows retired
    and renumbered) and with unaccompanied children's families arriving in care."""
    from sim import kernels
    from sim.config import Scenario
    from sim.model import CareSystem
    from sim.population import Case

    model = CareSystem(Scenario().with_overrides({"run.region": "North East",
                                                  "run.scale": 0.02, "run.seed": 6,
                                                  "run.burn_in_years": 0}))
    for _ in range(56):
        model.step()
        f = model.pop.families
        want = kernels.flatnonzero_between(f.case, int(Case.NONE) + 1, len(Case) - 1)
        assert np.array_equal(model.pop.open_families(), want)


@pytest.mark.parametrize("seed", range(3))
def test_merge_members_equals_delete_then_insert(seed):
    """sim/kernels.py: merge_members (one pass) against the numpy delete and insert it
    replaced, with touched rows before, inside and after the list, members or not."""
    from sim import kernels

    rng = np.random.default_rng(seed)
    for n, k in ((0, 0), (0, 5), (10, 0), (200, 50), (1000, 400)):
        rows = np.unique(rng.integers(0, 3 * n + 10, n))
        t = np.unique(rng.integers(0, 3 * n + 20, k))
        now = rng.random(len(t)) < 0.5
        at = np.searchsorted(rows, t)
        present = at < len(rows)
        present[present] = rows[at[present]] == t[present]
        want = np.delete(rows, at[present & ~now])
        add = t[now & ~present]
        want = np.insert(want, np.searchsorted(want, add), add)
        out = np.empty(len(rows) + len(t), np.int64)
        m = kernels.merge_members(rows.astype(np.int64), t.astype(np.int64), now, out)
        assert np.array_equal(out[:m], want)


@pytest.mark.parametrize("seed", range(3))
def test_group_rows_equals_a_stable_argsort(seed):
    """sim/kernels.py: group_rows (a counting sort) against np.argsort(kind="stable") and the
    cumulative np.bincount it replaced, sorted or shuffled, with groups beyond ``n_groups``."""
    from sim import kernels

    rng = np.random.default_rng(seed)
    for n, k in ((0, 5), (1, 1), (1000, 50), (5000, 4000)):
        for group in (np.sort(rng.integers(0, k, n)), rng.integers(0, k, n)):
            group = group.astype(np.int32)
            for n_groups in (0, k // 2, k + 3):
                order, starts = kernels.group_rows(group, n_groups)
                assert order.dtype == np.int32
                assert np.array_equal(order, np.argsort(group, kind="stable"))
                counts = np.bincount(group, minlength=n_groups)
                assert np.array_equal(starts, np.concatenate([[0], np.cumsum(counts)]))


@pytest.mark.parametrize("overrides", [{}, {"social_work.assessment_weeks": 3,
                                            "social_work.care_level": 2.0}])
def test_casework_lists_equal_their_numpy_definitions(overrides):
    """agents/local_authority.py: casework's three lists, each one compiled pass over the
    open cases (sim/kernels.py: casework_due, casework_reviews, casework_high), against
    casework_lists_reference, on a model's state over weeks, with other thresholds."""
    from agents import local_authority as la
    from sim import kernels
    from sim.config import Scenario
    from sim.model import CareSystem
    from sim.population import Case

    model = CareSystem(Scenario().with_overrides({"run.region": "North East",
                                                  "run.scale": 0.02, "run.seed": 8,
                                                  "run.burn_in_years": 0, **overrides}))
    seen = np.zeros(3, np.int64)
    for _ in range(3):
        for _ in range(10):
            model.step()
        f, p = model.pop.families, model.params.social_work
        known = model.pop.open_families()
        weeks = f.case_weeks.copy()
        f.case_weeks[known] += 1
        want = la.casework_lists_reference(model, known)
        want_weeks = f.case_weeks.copy()
        f.case_weeks[:] = weeks
        out = np.empty(len(known), np.int64)
        aw = la._as_compared(f.case_weeks, p.assessment_weeks)
        m = kernels.casework_due(known, f.case, f.case_weeks, int(Case.ASSESSMENT), aw, out)
        assert np.array_equal(out[:m], want[0])
        assert np.array_equal(f.case_weeks, want_weeks)
        m = kernels.casework_reviews(
            known, f.uid, np.uint64(model.draws.key("casework.review")), f.case,
            f.case_weeks, int(Case.CHILD_IN_NEED), int(Case.PROTECTION_PLAN), aw,
            la._as_compared(np.zeros(0), 1.0 / p.review_weeks), *la.plan_review_weeks(p), out)
        assert np.array_equal(out[:m], want[1])
        m = kernels.casework_high(known, f.case, f.need, f.in_court,
                                  int(Case.PROTECTION_PLAN),
                                  la._as_compared(f.need, p.care_level), out)
        assert np.array_equal(out[:m], want[2])
        seen += [len(w) for w in want]
    assert seen.all()  # (each list met families)


@pytest.mark.parametrize("overrides", [{}, {"levers.profit_cap": 0.15, "run.scale": 0.05,
                                            "market.exit_occupancy": 0.95,
                                            "market.exit_months": 1,
                                            # (a seed whose 60 weeks see a provider gone)
                                            "run.seed": 3}])
def test_provider_reviews_equal_the_reviews_one_by_one(monkeypatch, overrides):
    """agents/provider.py: review_providers (array operations over the providers) against
    review_providers_reference (each provider's review_month in turn), a run of a year and
    more hashing the same, with a profit cap and with providers closing."""
    from agents import provider
    from sim.config import Scenario
    from sim.model import CareSystem

    def run(fn) -> tuple:
        monkeypatch.setattr(provider, "review_providers", fn)
        model = CareSystem(Scenario().with_overrides({"run.region": "North East",
                                                      "run.scale": 0.02, "run.seed": 9,
                                                      "run.burn_in_years": 0, **overrides}))
        for _ in range(60):
            model.step()
        t = model.providers
        return (_state_hash(model), [a.idx for a in model.provider_agents],
                len(model.agents), int((~t.active).sum()), int(t.closing.sum()))

    want = run(provider.review_providers_reference)
    assert run(provider.review_providers) == want
    if overrides:
        assert want[3] > 0 and want[4] > 0  # (providers closing, and gone)


def _care_model(overrides: dict | None = None):
    """A small model a few weeks on, with some contact lost and some siblings apart."""
    from sim.config import Scenario
    from sim.model import CareSystem

    model = CareSystem(Scenario().with_overrides({"run.region": "North West", "run.scale": 0.02,
                                                  "run.seed": 11, **(overrides or {})}))
    for _ in range(4):
        model.step()
    rng = np.random.default_rng(5)
    c, pl = model.pop.children, model.pop.placements
    care = model.pop.care_rows()
    c.contact_lost[care[rng.random(len(care)) < 0.3]] = True
    pl.with_siblings[rng.random(pl.n) < 0.2] = False
    return model


def test_week_hazards_equal_the_numpy_definition():
    """sim/placements.py: _week_hazards (one compiled pass over the children in care, then
    numpy's exp and expm1) against _week_hazards_reference: the breakdowns and lapses, and the
    week's count of children in care by authority, on high hazards so that many happen."""
    from sim import placements

    model = _care_model()
    far = model.pop.placements.miles
    far[np.random.default_rng(6).random(len(far)) < 0.3] *= np.float32(40.0)  # lapses
    care = model.pop.care_rows()
    before = model.flows["care_weeks"].copy()
    broke, lapse = placements._week_hazards(model, care)
    added = model.flows["care_weeks"] - before
    want_broke, want_lapse = placements._week_hazards_reference(model, care)
    assert np.array_equal(model.flows["care_weeks"] - before - added, added)
    assert added.sum() == len(care) > 100
    assert broke.any() and lapse.any() and (~lapse).any()
    assert np.array_equal(broke, want_broke) and np.array_equal(lapse, want_lapse)


@pytest.mark.parametrize("wait, teen_factor, early, window, plan",
                         [(0, 1.0, 1.0, 17.0, 1.0), (39, 1.0, 1.0, 17.0, 1.0),
                          (0, 0.3, 1.0, 17.0, 1.0), (0, 1.0, 20.0, 17.0, 1.0),
                          (0, 1.0, 1.0, 0.5, 1.0), (0, 1.0, 1.0, 17.0, 0.5)])
def test_exits_equal_the_numpy_definition(wait, teen_factor, early, window, plan):
    """sim/placements.py: _exits (a compiled pass, the assessment only of the families whose
    draw would take them home) against _exits_reference, on a copy of one model's state,
    with exits frequent enough that every route out of care is taken; with the
    placed-for-adoption stage on (``wait`` weeks), some children already live with their
    prospective adopters, and an adoption is a move to them; with ``teen_factor`` below 1,
    some 16- and 17-year-olds stay behind when their family goes home; with ``early`` above
    1, children in their first weeks in care go home more readily; with a ``window`` shorter
    than the most, half the children are past their time for adoption; with ``plan`` below 1,
    only that share of children has an adoption plan."""
    from sim import placements

    model = _care_model({"care.reunification_rate": 20.0, "care.sgo_rate": 5.0,
                         "care.adoption_rate": 5.0, "care.reunification_level": 3.0,
                         "care.placed_for_adoption_weeks": wait,
                         "care.home_16_17_factor": teen_factor,
                         "care.early_return_factor": early, "care.early_return_weeks": 13.0,
                         "care.adoption_window_years": window,
                         "care.adoption_plan_share": plan})
    c = model.pop.children
    care = model.pop.care_rows()
    # (old enough for an order or an adoption; with ``early``, a quarter left in their first
    # weeks)
    c.care_weeks[care if early == 1 else np.delete(care, np.s_[::4])] += 60
    c.care_weeks[care[::2] if window < 17 else care[:0]] += 100  # (past a short window)
    for _ in range(2 if wait else 0):  # (some children now wait with adopters)
        placements._exits(model)
        model.draws.week += 1
    if wait:
        assert model.flows["placed_for_adoption"].sum() >= 3
    model.draws.week += 1  # (not the draws the last step's exits already used)
    twin = copy.deepcopy(model)
    in_care = model.pop.children.in_care.copy()
    placements._exits(model)
    placements._exits_reference(twin)
    reasons = model.pop.placements.end_reason[model.pop.placements.end == model.week]
    adopted = placements.End.MOVED if wait else placements.End.ADOPTED
    assert {int(r) for r in reasons} >= {int(placements.End.REUNIFIED), int(placements.End.SGO),
                                         int(adopted)}
    left = in_care & ~model.pop.children.in_care
    assert left.sum() > (10 if early == 1 else 5)
    if early != 1:  # (the early chance was taken: some left in their first weeks)
        assert (left & (model.pop.children.care_weeks < 13)).any()
    if window < 17:  # (only children within the window were adopted)
        ended = model.pop.placements.end == model.week
        adopted_now = model.pop.placements.child[ended & (
            model.pop.placements.end_reason == placements.End.ADOPTED)]
        assert len(adopted_now) > 0
        assert (model.pop.children.care_weeks[adopted_now] < placements._adoption_window_end(
            model.params.care)).all()
    assert _state_hash(model, annual=False) == _state_hash(twin, annual=False)


def test_planned_moves_equal_the_numpy_definition():
    """sim/placements.py: _planned_moves (compiled lists of the children in emergency beds,
    due to leave a bridging placement and ready to move on) and _refill_waiting (families
    marked a byte each) against their numpy definitions, on copies of one model's state with
    every kind of planned move frequent."""
    from sim import placements

    model = _care_model({"placements.short_term_weeks": 2.0, "care.move_on_rate": 5.0})
    c, pl = model.pop.children, model.pop.placements
    care = model.pop.care_rows()
    rng = np.random.default_rng(8)
    pl.short_term[c.placement[care[rng.random(len(care)) < 0.3]]] = True
    c.age[care[rng.random(len(care)) < 0.3]] = 16 * 52 + 3
    pl.start[:] -= 10  # (placed before this week)
    model.draws.week += 1  # (not the draws the last step's moves already used)
    assert np.array_equal(placements._refill_waiting(model),
                          placements._refill_waiting_reference(model))
    assert len(placements._refill_waiting(model)) > 5
    twin = copy.deepcopy(model)
    ends = (pl.end == model.week).sum()
    placements._planned_moves(model)
    placements._planned_moves_reference(twin)
    assert (model.pop.placements.end == model.week).sum() > ends + 10
    assert _state_hash(model, annual=False) == _state_hash(twin, annual=False)


@pytest.mark.parametrize("seed", range(3))
def test_unique_ints_equal_numpy(seed):
    """sim/util.py: unique_ints and union_ints (a sort and a comparison of neighbours)
    against np.unique and np.union1d: values, order and dtype, empty and mixed inputs."""
    from sim.util import union_ints, unique_ints

    rng = np.random.default_rng(seed)
    for n in (0, 1, 2, 50, 5000):
        for dtype in (np.int16, np.int32, np.int64, np.uint64):
            x = rng.integers(0, max(n // 3, 1) + 1, n).astype(dtype)
            got, want = unique_ints(x), np.unique(x)
            assert got.dtype == want.dtype and np.array_equal(got, want)
        a = rng.integers(-5, 10_000, n).astype(np.int32)
        b = np.unique(rng.integers(0, 10_000, n // 2 + 1))
        got, want = union_ints(a, b), np.union1d(a, b)
        assert got.dtype == want.dtype and np.array_equal(got, want)
    floats = rng.random(10)
    assert np.array_equal(unique_ints(floats), np.unique(floats))


def test_csv_floats_formatted_as_pandas_formats_them(tmp_path):
    """sim/output.py: write_csv formats float columns itself; the file is the bytes pandas'
    own ``float_format`` writes, with missing values, infinities, negative zero, float32,
    integers held as floats, duplicate column names and columns of other kinds."""
    import pandas as pd

    from sim.output import write_csv, write_csv_reference

    rng = np.random.default_rng(3)
    x = rng.normal(0, 1e3, 500) * 10.0 ** rng.integers(-12, 12, 500)
    x[::37] = np.nan
    x[5:8] = [np.inf, -np.inf, -0.0]
    frame = pd.DataFrame({
        "a": x,
        "b": rng.random(500).astype(np.float32),
        "c": np.round(rng.random(500) * 1000, 2),
        "d": np.arange(500),
        "e": pd.array([None if i % 7 == 0 else i for i in range(500)], dtype="Int64"),
        "f": np.where(rng.random(500) < 0.5, "x", "y, z"),
        "g": rng.random(500) < 0.5,
        "h": np.floor(rng.random(500) * 10),
    })
    frame = pd.concat([frame, frame[["c"]]], axis=1)  # a duplicate name
    for df in (frame, frame.iloc[:0], frame[["d", "f"]]):
        write_csv(df, tmp_path / "fast.csv")
        write_csv_reference(df, tmp_path / "ref.csv")
        assert (tmp_path / "fast.csv").read_bytes() == (tmp_path / "ref.csv").read_bytes()
    assert frame["a"].dtype == np.float64  # (the frame given is not changed)
