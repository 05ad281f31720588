"""Families, children, placements and events as columns of numpy arrays (a structure of arrays).

England has about 7 million families and 12 million children; a Python object each would make a
national run take hours (ARCHITECTURE.md). Each individual is a row id; every rule is a
vectorised operation over columns. :class:`~agents.family.Family` and
:class:`~agents.family.Child` give a read-only object view of one row for tests and teaching.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from sim import kernels
from sim.draws import Draws
from sim.util import unique_ints

WEEKS_PER_YEAR = 52
#: National deprivation centiles bounding the three bands (1 = most deprived): the shipped
#: data put 41% of England's people in low-, 40% in medium- and 19% in high-deprivation
#: neighbourhoods (population-weighted shares, sim/data/england_local_authorities.csv).
BAND_CENTILES = np.array([0.0, 0.41, 0.81, 1.0])
ADULT_WEEKS = 18 * WEEKS_PER_YEAR
#: The week of an event that has not happened (a family never referred, a child never home
#: from care): far before any burn-in, whose weeks are negative too.
NEVER = -(2**30)


class Case(IntEnum):
    """Where a family stands with children's services (its highest open stage)."""

    NONE = 0
    EARLY_HELP_WAITING = 1
    EARLY_HELP = 2
    ASSESSMENT = 3
    CHILD_IN_NEED = 4
    PROTECTION_PLAN = 5
    CARE = 6  # at least one child looked after


class Kind(IntEnum):
    """Placement kinds, in an authority's order of preference for a child who can be fostered."""

    KINSHIP = 0
    INHOUSE_FOSTER = 1
    IFA = 2
    CHILDRENS_HOME = 3
    SUPPORTED = 4
    EMERGENCY = 5  # no registered place free: an unregistered or emergency placement
    WITH_PARENTS = 6  # at home under a care order
    PLACED_FOR_ADOPTION = 7  # with prospective adopters, before the adoption order


#: Placements with a foster family (kin, the authority's own carers or an agency's), by kind:
#: the "foster placement" of Ofsted's routes into children's homes. (A child placed with its
#: parents under a care order is needs-matched like a foster child, but lives at home.)
IS_FOSTER_FAMILY = np.zeros(len(Kind), dtype=bool)
IS_FOSTER_FAMILY[[Kind.KINSHIP, Kind.INHOUSE_FOSTER, Kind.IFA]] = True


class End(IntEnum):
    """Why a placement ended."""

    OPEN = 0
    BREAKDOWN = 1  # unplanned ending: the child moves
    REUNIFIED = 2
    SGO = 3  # special guardianship or child arrangements order
    ADOPTED = 4
    AGED_OUT = 5  # 18th birthday
    MOVED = 6  # a planned move: out of an emergency bed, or on to supported accommodation
    LEFT = 7  # ceased at 16 or 17, not going home: independent living or another reason


class Legal(IntEnum):
    """The legal status under which a child is looked after (SSDA903's LS, simplified)."""

    NONE = 0
    S20 = 1  # accommodated with parental agreement (section 20; 903 code V2)
    INTERIM = 2  # interim care order during proceedings (C1)
    CARE_ORDER = 3  # full care order (C2)
    PLACEMENT_ORDER = 4  # placed for adoption under a placement order (E1)


class Event(IntEnum):
    """Codes of the event log behind family and child histories."""

    REFERRAL = 1
    ASSESSMENT = 2
    CHILD_IN_NEED = 3
    S47 = 4
    PROTECTION_PLAN = 5
    PROCEEDINGS = 6
    CARE_ENTRY = 7
    PLACEMENT = 8
    BREAKDOWN = 9
    CONTACT_LOST = 10
    CARE_EXIT = 11
    EARLY_HELP = 12
    HV_SPOTTED = 13
    CASE_CLOSED = 14
    BIRTH = 15
    CONFERENCE = 16  # initial child protection conference


class Table:
    """A growable structure of arrays: ``table.col`` is the live view ``col[:n]``."""

    def __init__(self, schema: dict[str, tuple[np.dtype, object]], capacity: int = 1024) -> None:
        self._schema = schema
        self._cols = {k: _filled(max(capacity, 16), fill, dt) for k, (dt, fill) in schema.items()}
        self.n = 0
        self.next_serial = 0  # the serial of the next row appended (tables with a serial column)
        self._refresh()

    def _refresh(self) -> None:
        """Keep each column's live view ``col[:n]`` as an ordinary attribute, renewed whenever
        ``n`` or a column changes (only in :meth:`append`), so reading ``table.col`` (several
        thousand times a week) is an attribute look-up rather than a call of
        ``__getattr__`` that slices anew. Writing through the view writes the column."""
        d = self.__dict__
        for k, col in d["_cols"].items():
            d[k] = col[: self.n]

    def __getstate__(self) -> dict:
        # The views are rebuilt on unpickling (pickled, each would be a copy of its column).
        return {k: v for k, v in self.__dict__.items() if k not in self._schema}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._refresh()

    def __getattr__(self, name: str) -> np.ndarray:
        cols = self.__dict__.get("_cols")
        if cols is not None and name in cols:
            return cols[name][: self.n]
        raise AttributeError(name)

    def __setattr__(self, name: str, value) -> None:
        # ``table.col op= x`` would otherwise leave a stale copy shadowing the column.
        cols = self.__dict__.get("_cols")
        if cols is not None and name in cols:
            raise AttributeError(f"assign into the column ({name}[:] = ...), not to it")
        super().__setattr__(name, value)

    def __len__(self) -> int:
        return self.n

    def append(self, count: int, **values) -> np.ndarray:
        """Add ``count`` rows (unset columns take their fill value); return their ids."""
        need = self.n + count
        cap = len(next(iter(self._cols.values())))
        if need > cap:
            new_cap = max(need, int(cap * 1.5) + 16)
            for k, (dt, fill) in self._schema.items():
                col = _filled(new_cap, fill, dt)
                col[: self.n] = self._cols[k][: self.n]
                self._cols[k] = col
        ids = np.arange(self.n, need)
        for k, v in values.items():
            self._cols[k][self.n : need] = v
        if "serial" in self._cols:
            # A row's serial is the row id it would have had were rows never retired
            # (Population.compact): the id the outputs and the event log know it by.
            self._cols["serial"][self.n : need] = np.arange(self.next_serial,
                                                             self.next_serial + count)
            self.next_serial += count
        self.n = need
        self._refresh()
        return ids

    def columns(self) -> dict[str, np.ndarray]:
        return {k: c[: self.n] for k, c in self._cols.items()}

    def keep(self, keep: np.ndarray) -> None:
        """Keep only the rows marked in ``keep`` (a mask of the ``n`` rows), in their order;
        the rows freed take their fill values again (``append`` relies on it)."""
        k = int(np.count_nonzero(keep))
        keep = np.ascontiguousarray(keep, dtype=np.bool_)
        for name, (_, fill) in self._schema.items():
            col = self._cols[name]
            kernels.keep_in_place(col, keep)  # (col[:k] = col[: self.n][keep], in place)
            col[k : self.n] = fill
        self.n = k
        self._refresh()


def _filled(n: int, fill, dtype) -> np.ndarray:
    """A column of ``n`` rows of ``fill``: ``np.full``, or ``np.zeros`` where ``fill`` is zero,
    whose pages the operating system gives already zeroed as they are first written (a
    table's room to grow is then never touched until it is used, and the rows a build
    fills are written once, not twice: at full scale the tables' 1.3 GB cost 2.2 CPU s to
    build by np.full)."""
    if fill == 0:
        return np.zeros(n, dtype=dtype)
    return np.full(n, fill, dtype=dtype)


FAMILY_SCHEMA = {
    "uid": (np.uint64, 0),  # stable id, the same in every scenario of a seed (sim/draws.py)
    "serial": (np.int64, -1),  # the family's id in outputs and events (Population.compact)
    "la": (np.int16, -1),
    "node": (np.int16, -1),
    "poverty_draw": (np.float32, 1.0),  # poor while below the poverty rate where it lives
    "deprivation": (np.float32, 0.5),  # national deprivation centile of its street (1 = most)
    "propensity": (np.float32, 0.0),  # lasting need beyond poverty and the toxic trio
    "trio": (np.bool_, False),
    "kin": (np.float32, 0.0),
    "need": (np.float32, 0.0),
    "case": (np.int8, 0),
    "case_weeks": (np.int16, 0),  # weeks in the current case stage
    "support_weeks": (np.int16, 0),  # weeks left of early help
    "hv_weeks": (np.int16, 0),  # weeks left of targeted health visiting
    "active": (np.bool_, True),
    "uasc": (np.bool_, False),  # a placeholder family for an unaccompanied child
    "last_referral": (np.int32, NEVER),  # week of the family's last referral
    "in_court": (np.bool_, False),  # care proceedings open (agents/court.py)
    "return_watched": (np.bool_, False),  # a child came home from care; the case still open
}

CHILD_SCHEMA = {
    "uid": (np.uint64, 0),  # stable id, the same in every scenario of a seed (sim/draws.py)
    "serial": (np.int64, -1),  # the child's id in outputs, events and placements (compact)
    "family": (np.int32, -1),
    "age": (np.int16, 0),  # weeks
    "active": (np.bool_, True),  # under 18 and in the area
    "in_care": (np.bool_, False),
    "placement": (np.int32, -1),
    "risk": (np.float32, 0.0),  # the child's own propensity to harm outside the home
    "ever": (np.uint8, 0),  # bit flags: see EVER_*
    "placements_year": (np.int16, 0),  # placements begun this year while looked after
    "contact_lost": (np.bool_, False),
    "entry_age": (np.int16, -1),  # weeks, at the start of the current care episode
    "care_weeks": (np.int16, 0),  # weeks in the current care episode
    "moved_away": (np.bool_, False),  # left the area with its family (net migration)
    "legal": (np.int8, 0),  # Legal status while looked after
    "home_since": (np.int32, NEVER),  # week of the child's latest return home from care
}
EVER_REFERRED, EVER_CIN, EVER_CPP, EVER_CARE, EVER_ASSESSED = 1, 2, 4, 8, 16

PLACEMENT_SCHEMA = {
    "child": (np.int32, -1),
    "home_la": (np.int16, -1),
    "provider": (np.int32, -1),  # -1: kinship carer or emergency placement
    "kind": (np.int8, 0),
    "for_profit": (np.bool_, False),
    "node": (np.int16, -1),
    "start": (np.int32, 0),
    "end": (np.int32, -1),
    "end_reason": (np.int8, 0),
    "miles": (np.float32, 0.0),
    "out_of_area": (np.bool_, False),
    "with_siblings": (np.bool_, True),  # every sibling in care at entry placed here too
    "price": (np.float32, 0.0),  # GBP per week, agreed at the start
    "cost": (np.float32, 0.0),  # provider's cost per week (profit = price - cost)
    "log_hazard": (np.float32, 0.0),  # fixed part of the breakdown hazard (kind, fit, quality)
    "carer": (np.int64, 0),  # who the child lives with: siblings with one carer are together
    "legal": (np.int8, 0),  # the child's Legal status when the placement began
    "short_term": (np.bool_, False),  # a bridging placement until a long-term one is found
    "after_breakdown": (np.int8, -1),  # Kind of the placement whose breakdown led here (-1: none)
}

PROCEEDINGS_SCHEMA = {
    "family": (np.int32, -1),
    "issued": (np.int32, 0),  # week
    "hearing": (np.int32, 0),  # week of the final hearing
    "outcome": (np.int8, 0),  # 0 open, 1 care order, 2 no order (agents/court.py)
}

EVENT_SCHEMA = {
    "week": (np.int32, 0),
    "family": (np.int32, -1),
    "child": (np.int32, -1),
    "code": (np.int8, 0),
    "value": (np.float32, 0.0),
}


class Population:
    """All individuals of one run, with the demography that adds and removes them."""

    def __init__(self, n_families: int, n_children: int, record_events: bool = True) -> None:
        self.families = Table(FAMILY_SCHEMA, int(n_families * 1.2))
        self.children = Table(CHILD_SCHEMA, int(n_children * 1.3))
        self.placements = Table(PLACEMENT_SCHEMA, max(1024, n_children // 50))
        self.events = Table(EVENT_SCHEMA, max(1024, n_children // 5))
        self.proceedings = Table(PROCEEDINGS_SCHEMA, max(256, n_children // 500))
        self.record_events = record_events
        self._by_family = _ChildrenByFamily()
        # The rows of the children in care, ascending, and the rows whose in_care was set
        # since (care_rows); None: to be listed afresh.
        self._care: np.ndarray | None = None
        self._care_touched: list[np.ndarray] = []
        # The same for the families with an open case (set_case, open_families).
        self._open: np.ndarray | None = None
        self._open_touched: list[np.ndarray] = []
        #: The children retired by :meth:`compact`, as much of each as is still read.
        self.retired = {k: np.zeros(0, dt) for k, dt in RETIRED_SCHEMA.items()}

    # --- ids: serials (what outputs, events and placements hold) and rows -----------------
    def child_rows(self, serials) -> np.ndarray:
        """The rows of the children with these serials (-1 for a child retired)."""
        return _rows_of(self.children.serial, serials)

    def family_rows(self, serials) -> np.ndarray:
        """The rows of the families with these serials (-1 for a family retired)."""
        return _rows_of(self.families.serial, serials)

    def child_ages(self, serials, week: int) -> np.ndarray:
        """The ages in weeks (int16, as the column) of children by serial, live or retired
        (a retired child's age follows from its birth week)."""
        rows = self.child_rows(serials)
        ages = self.children.age[np.maximum(rows, 0)] if self.children.n else np.zeros(
            len(rows), np.int16)
        gone = rows < 0
        if gone.any():
            r = self.retired
            at = np.searchsorted(r["serial"], np.asarray(serials, np.int64)[gone])
            age = np.minimum(week - r["birth_week"][at], np.iinfo(np.int16).max)
            ages[gone] = age.astype(np.int16)
        return ages

    def child_info(self, serials, week: int) -> dict[str, np.ndarray]:
        """For children by serial, live or retired: uid, family serial and uid, authority,
        neighbourhood, birth week (``week`` less age) and whether unaccompanied."""
        c, f, r = self.children, self.families, self.retired
        serials = np.asarray(serials, dtype=np.int64)
        rows = self.child_rows(serials)
        live = rows >= 0
        fam = c.family[rows[live]]
        at = np.searchsorted(r["serial"], serials[~live])
        if len(at) and not np.array_equal(r["serial"][np.minimum(at, len(r["serial"]) - 1)],
                                          serials[~live]):
            raise KeyError("child_info: a serial that no child ever had")
        out = {}
        for name, live_value in (
            ("uid", c.uid[rows[live]]),
            ("family", f.serial[fam]),
            ("family_uid", f.uid[fam]),
            ("la", f.la[fam]),
            ("node", f.node[fam]),
            ("birth_week", week - c.age[rows[live]].astype(np.int64)),
            ("uasc", f.uasc[fam]),
        ):
            col = np.empty(len(serials), RETIRED_SCHEMA[name])
            col[live] = live_value
            col[~live] = r[name][at]
            out[name] = col
        return out

    def compact(self, week: int) -> np.ndarray:
        """Retire the rows no rule reads again (issue 13: a week's passes over every row then
        cost what the live rows cost, not what every row ever born costs). Returns the mask of
        the family rows kept (for caches by family row).

        A child is retired once it is neither active nor in care and no longer counted among
        the area's children (18 or over, or moved away): it never returns (the rules revive no
        one), and what the outputs still read of it is kept in :attr:`retired` (its ids, home,
        birth week, and ever flags, for the cohort table), its age following from its birth
        week. A family is retired once it is inactive (no child active or in care: it never
        becomes active again), has no open case, proceedings, support or health visiting,
        and every child of it is retired. The kept rows stay in their order, so every rule
        meets the live individuals in the same order and with the same keyed draws as before;
        events, placements and proceedings hold serials, which do not change; children's
        family rows are renumbered, and the index of children by family rebuilt."""
        c, f = self.children, self.families
        keep_c = c.active | c.in_care | ((c.age < ADULT_WEEKS) & ~c.moved_away)
        keep_f = (f.active | (f.case != Case.NONE) | f.in_court | f.return_watched
                  | (f.support_weeks > 0) | (f.hv_weeks > 0))
        kernels.mark_groups(c.family, keep_c, keep_f)  # (a family with a child kept)
        if keep_c.all() and keep_f.all():
            return keep_f
        gone = np.flatnonzero(~keep_c)
        fam = c.family[gone]
        add = {
            "serial": c.serial[gone], "uid": c.uid[gone], "family": f.serial[fam],
            "family_uid": f.uid[fam], "la": f.la[fam], "node": f.node[fam],
            "birth_week": week - c.age[gone].astype(np.int64), "uasc": f.uasc[fam],
            "ever": c.ever[gone],
        }
        r = self.retired
        # Kept in the order of serials: the rows retired now (ascending serials, as rows are)
        # inserted among those retired before (serials are unique), a merge rather than a
        # sort and a gather of every retired row, millions after a few years at full scale.
        at = np.searchsorted(r["serial"], add["serial"])
        for k, dt in RETIRED_SCHEMA.items():
            r[k] = np.insert(r[k], at, add[k].astype(dt))
        c.keep(keep_c)
        kernels.renumber_kept(c.family, keep_f)  # (every kept child's family is kept)
        f.keep(keep_f)
        self._by_family = _ChildrenByFamily()
        self._care, self._care_touched = None, []  # (rows renumbered)
        self._open, self._open_touched = None, []
        return keep_f

    def set_in_care(self, rows: np.ndarray, value: bool) -> None:
        """Set ``children.in_care`` of ``rows`` to ``value``, noting the rows for
        :meth:`care_rows`. Every change of ``in_care`` in the rules goes through here."""
        self.children.in_care[rows] = value
        if self.__dict__.get("_care") is not None:
            self._care_touched.append(np.asarray(rows, dtype=np.int64).ravel())

    def care_rows(self) -> np.ndarray:
        """The rows of the children in care, ascending: ``np.flatnonzero(children.in_care)``
        (read-only). Asked for a dozen times a week; kept, and brought up to date from the
        rows :meth:`set_in_care` touched since (a few hundred), so a week does not pass over
        every child's flag each time (issue 13)."""
        c = self.children
        care = self.__dict__.get("_care")  # (absent from a population pickled before it)
        if care is None:
            care = kernels.flatnonzero_sparse(c.in_care)
        elif self._care_touched:
            care = _kept_up(care, self._care_touched, lambda t: c.in_care[t])
        self._care_touched = []
        care.flags.writeable = False
        self._care = care
        return care

    def set_case(self, rows: np.ndarray, value) -> None:
        """Set ``families.case`` of ``rows`` to ``value`` (a stage, or one per row), noting the
        rows for :meth:`open_families`. Every change of ``case`` in the rules goes through
        here."""
        self.families.case[rows] = value
        if self.__dict__.get("_open") is not None:
            self._open_touched.append(np.asarray(rows, dtype=np.int64).ravel())

    def open_families(self) -> np.ndarray:
        """The rows of the families with an open case (any stage above ``Case.NONE``),
        ascending (read-only): ``flatnonzero_between(case, 1, CARE)``. Casework, early help
        and the families leaving care each look at these few (one family in fifteen) rather
        than every family's stage; kept as :meth:`care_rows` is, from the rows
        :meth:`set_case` touched since (issue 13)."""
        f = self.families
        hi = len(Case) - 1
        rows = self.__dict__.get("_open")  # (absent from a population pickled before it)
        if rows is None:
            rows = kernels.flatnonzero_between(f.case, int(Case.NONE) + 1, hi)
        elif self._open_touched:
            rows = _kept_up(rows, self._open_touched,
                            lambda t: (f.case[t] >= int(Case.NONE) + 1) & (f.case[t] <= hi))
        self._open_touched = []
        rows.flags.writeable = False
        self._open = rows
        return rows

    def children_of(self, families: np.ndarray) -> np.ndarray:
        """The rows of every child ever born to (or arrived with) ``families`` (unique ids),
        whatever their state, in no particular order. Used where a rule needs a few families'
        children (siblings in care) and a pass over every child would cost more than the rule."""
        return self._by_family.children_of(self.children.family, self.families.n, families)

    def log(self, week: int, code: Event, family=-1, child=-1, value=0.0) -> None:
        """Append one event row per element of ``family``/``child`` (vectorised)."""
        if not self.record_events:
            return
        sizes = [np.size(x) for x in (family, child) if np.ndim(x)]
        n = max(sizes) if sizes else 1
        if n == 0:
            return
        self.events.append(n, week=week, family=_serials(self.families, family),
                           child=_serials(self.children, child), code=int(code), value=value)

    # --- views ----------------------------------------------------------------------------
    def children_at_home(self) -> np.ndarray:
        c = self.children
        return c.active & ~c.in_care

    # --- demography -----------------------------------------------------------------------
    def add_families(
        self,
        draws: Draws,
        uid: np.ndarray,
        node: np.ndarray,
        la: np.ndarray,
        band: np.ndarray,
        params,
    ) -> np.ndarray:
        """New families with ids ``uid`` at ``node`` (deprivation ``band`` 0-2), with the
        scenario's ``params``.

        Each family's street has a national deprivation centile drawn within its
        neighbourhood's band (the bands hold England's least deprived 41%, the next 40% and the
        most deprived 19% of people), and a lasting propensity to need: higher where deprivation
        is higher (``deprivation_effect``) and spread between families (``propensity_sd``).
        Every attribute is a keyed draw of the family's uid (at week 0, whenever the family
        forms), so a family is the same family in every scenario run on the seed."""
        n, need = len(node), params.need
        lo, hi = BAND_CENTILES[band], BAND_CENTILES[band + 1]
        u_dep, u_pov = draws.pair("family.deprivation_poverty", uid, week=0)
        deprivation = lo + (hi - lo) * u_dep
        propensity = need.deprivation_effect * (deprivation - 0.5) + need.propensity_sd * (
            draws.normal("family.propensity", uid, week=0)
        )
        u_kin, u_trio = draws.pair("family.kin_trio", uid, week=0)
        kin = beta22(u_kin) * 2 * params.population.kin_network_mean
        return self.families.append(
            n,
            uid=uid,
            la=la,
            node=node,
            poverty_draw=u_pov,
            deprivation=deprivation,
            propensity=propensity,
            trio=u_trio < need.toxic_trio_prevalence,
            kin=np.clip(kin, 0, 1),
        )

    def add_children(self, draws: Draws, uid: np.ndarray, family: np.ndarray,
                     age_weeks: np.ndarray) -> np.ndarray:
        """New children with ids ``uid`` in ``family``; their own propensity to harm outside
        the home is a keyed draw of their uid."""
        n = len(family)
        risk = draws.normal("child.risk", uid, week=0).astype(np.float32)
        return self.children.append(n, uid=uid, family=family, age=age_weeks, risk=risk)

    def age_one_week_reference(self, young: np.ndarray | None = None, young_weeks: int = 0
                               ) -> np.ndarray:
        """Everyone a week older, as numpy operations: the definition :meth:`age_and_census`
        must equal. Returns the ids of children who turn 18 this week. Children who have left
        (18, adopted, special guardianship) keep ageing so a birth cohort can be followed to
        its 18th birthday (see indicators.cohort_at_18). ``young`` (a mask of the families):
        marks the families with a child active, not in care and under ``young_weeks`` once
        aged (the families the week's births may grow: sim/demography.py, births)."""
        c = self.children
        np.add(c.age, c.age < np.iinfo(np.int16).max, out=c.age)  # in place, saturating
        c.care_weeks[c.in_care] += 1
        adults = np.flatnonzero(c.active & (c.age >= ADULT_WEEKS))
        c.active[adults] = False
        if young is not None:
            young[c.family[c.active & ~c.in_care & (c.age < young_weeks)]] = True
        return adults

    def age_and_census(self, scratch, young: np.ndarray, young_weeks: int, n_la: int,
                       is_contact: np.ndarray) -> tuple[np.ndarray, int, AgedCensus]:
        """The week's ageing (:meth:`age_one_week_reference`, ``young`` marked) and, in the
        same compiled pass over the children, the week's census of the aged rows
        (sim/kernels.py: age_and_census), as it will stand once those turning 18 in care have
        left it; :meth:`finish_census` adds the rows the week's demography adds. One read of
        every child's columns, not two (issue 13). The under-fives at home are counted for
        health visiting as they age (by authority, and those with a contact due at their age:
        ``is_contact``, agents/health_visitor.py), rather than listed. Returns the children
        turning 18, how many children are active after ageing, and the census so far.
        ``scratch``: a sim/util.py Scratch pool (required: the census's arrays are kept
        there, with room for the week's new rows)."""
        c, f = self.children, self.families
        nf, nc = f.n, c.n
        if len(is_contact) <= UNDER_FIVE_WEEKS:
            raise ValueError("age_and_census: is_contact must cover every age under five")
        room_f, room_c = nf + max(4096, nf // 32), nc + max(8192, nc // 32)
        live = scratch.get("census_live", room_f, np.bool_)
        words = scratch.get("census_at_home", room_f, np.int32)  # (packed, then unpacked)
        words[:nf].fill(0)
        mask = scratch.get("census_mask", room_c, np.bool_)
        under5 = scratch.get("census_under5", room_c - nc, np.int64)  # (the new rows')
        open_by_la = np.zeros(n_la, np.int64)
        by_la = np.zeros(n_la, np.int64)
        due = scratch.get("census_due", nc, np.int64)  # (only the pages written are touched)
        adults = np.empty(nc, np.int64)  # (only the pages written are ever touched)
        k, nd, n_active, n_home, n5 = kernels.age_and_census(
            c.age, c.care_weeks, c.in_care, c.active, ADULT_WEEKS, adults, c.family,
            young_weeks, UNDER_FIVE_WEEKS, words[:nf], mask[:nc], f.la, open_by_la,
            np.ascontiguousarray(is_contact), due)
        counted = kernels.census_aged_families(words[:nf], live[:nf], words[:nf], young, f.case,
                                               int(Case.ASSESSMENT), f.la, open_by_la, by_la)
        if counted != (n_home, n5):  # (a family's count overflowed its bits: start again)
            return adults[:k].copy(), int(n_active), AgedCensus(scratch, n_la, -1, -1,
                                                                  *([None] * 7))
        census = AgedCensus(scratch, n_la, nf, nc, live, mask, words, under5, open_by_la,
                            by_la, due[:nd])
        return adults[:k].copy(), int(n_active), census

    def age_and_census_reference(self, scratch, young: np.ndarray, young_weeks: int, n_la: int,
                                 is_contact: np.ndarray) -> tuple[np.ndarray, int, AgedCensus]:
        """:meth:`age_and_census` by :meth:`age_one_week_reference`, the census left to
        :meth:`finish_census` (a whole census then: the definition)."""
        adults = self.age_one_week_reference(young, young_weeks)
        n_active = int(np.count_nonzero(self.children.active))
        return adults, n_active, AgedCensus(scratch, n_la, -1, -1, *([None] * 7))

    def finish_census(self, aged: AgedCensus, moved_away: int = 0) -> HomeCensus:
        """The week's census (:meth:`home_census`) from the one made as the children aged
        (:meth:`age_and_census`), the rows added since counted by one compiled pass over them
        (sim/kernels.py: census_from). Between the two only the 18th birthdays' exits from
        care (allowed for in the ageing pass) and the demography's new rows may have changed
        the children; ``moved_away``: how many children left with families that moved away
        (sim/demography.py: migration), which changes rows already counted: then, and when
        the new rows do not fit the room kept, a whole census is made instead."""
        c, f = self.children, self.families
        if (moved_away or aged.families < 0 or f.n > len(aged.live)
                or c.n > len(aged.at_home_mask)):
            return self.home_census(aged.scratch, aged.n_la)
        live, at_home = aged.live[: f.n], aged.at_home[: f.n]
        live[aged.families :].fill(False)
        at_home[aged.families :].fill(0)
        mask = aged.at_home_mask[: c.n]
        n5 = kernels.census_from(aged.children, 0, c.active, c.in_care, c.family, c.age,
                                 UNDER_FIVE_WEEKS, live, mask, at_home, aged.under5, f.case,
                                 int(Case.ASSESSMENT), f.la, aged.open_by_la)
        young = UnderFives(aged.under5_by_la, aged.due, aged.children, aged.under5[:n5])
        return HomeCensus(live, mask, at_home, None, aged.open_by_la, young)

    def home_census(self, scratch=None, n_la: int = 0) -> HomeCensus:
        """Which families are still live and where the children at home are, this week, in
        one compiled pass over the children (sim/kernels.py: census_from, from row 0); see
        :class:`HomeCensus`. ``scratch``: a sim/util.py Scratch pool to keep the arrays in
        (valid until the next census). ``n_la``: if more than 0, the census also counts the
        children with an open case by authority (``open_by_la``)."""
        c, f = self.children, self.families
        get = scratch.get if scratch is not None else (lambda _, n, dt: np.empty(n, dt))
        live = get("census_live", f.n, np.bool_)
        live.fill(False)
        at_home = get("census_at_home", f.n, np.int32)  # (counts of a few; half the bytes)
        at_home.fill(0)
        mask = get("census_mask", c.n, np.bool_)
        under5 = get("census_under5", c.n, np.int64)
        open_by_la = np.zeros(n_la, np.int64)
        n5 = kernels.census_from(0, 0, c.active, c.in_care, c.family, c.age, UNDER_FIVE_WEEKS,
                                 live, mask, at_home, under5, f.case, int(Case.ASSESSMENT),
                                 f.la, open_by_la)
        return HomeCensus(live, mask, at_home, under5[:n5], open_by_la)


def beta22(u: np.ndarray) -> np.ndarray:
    """The inverse CDF of Beta(2, 2) (the CDF 3x^2 - 2x^3 solved in closed form), so a keyed
    uniform gives the draw without scipy's slower general inverse."""
    return 0.5 + np.cos(np.arccos(1.0 - 2.0 * np.asarray(u)) / 3.0 + 4.0 * np.pi / 3.0)


UNDER_FIVE_WEEKS = 5 * WEEKS_PER_YEAR
TEEN_WEEKS = 11 * WEEKS_PER_YEAR  # (agents/family.py: adolescent crises)


@dataclass(frozen=True)
class UnderFives:
    """Health visiting's part of the under-fives at home (agents/health_visitor.py: visit,
    sim/kernels.py: young_by_la) for the child rows below ``counted``, worked out as they
    aged (Population.age_and_census): their number by authority (``by_la``) and those with a
    mandated contact due at their age (``due``, in row order); and the list of the
    under-fives at home among the rows from ``counted`` on, the week's new rows (``rest``, in
    row order)."""

    by_la: np.ndarray
    due: np.ndarray
    counted: int
    rest: np.ndarray


@dataclass(frozen=True)
class HomeCensus:
    """The week's shared masks, computed once (issue 13) after the demography and before need
    evolves, instead of a pass over every child in each mechanism that needs one:

    - ``live``: per family, a child active (at home) or in care (the rest become inactive);
    - ``at_home_mask``: per child, active and not in care (``Population.children_at_home``);
    - ``at_home``: per family, how many of its children are at home;
    - ``under5``: the children at home under five (health visiting), in row order, as
      ``np.flatnonzero`` of the mask and the age gives them; or None where ``young`` has
      health visiting's counts of them instead (a census made as the children aged:
      Population.finish_census);

    ``open_by_la`` (if asked for): per authority, the children at home in a family whose case
    is at least an assessment, plus the children in care (sim/model.py: open_children). The
    mask stays the week's mask (children who enter care later in the week are still in it,
    as before); a mechanism that is given this ``at_home_mask`` may use the lists and counts
    (it checks that it was given this very array, else it computes its own)."""

    live: np.ndarray
    at_home_mask: np.ndarray
    at_home: np.ndarray
    under5: np.ndarray | None
    open_by_la: np.ndarray
    young: UnderFives | None = None


@dataclass(frozen=True)
class AgedCensus:
    """The census of the child rows that existed as the week's ageing ran
    (Population.age_and_census), with the arrays, sized with room for the week's new rows,
    that Population.finish_census completes: ``families`` and ``children`` rows covered (-1:
    none, a whole census to be made), the list of the new rows' under-fives to be filled
    (``under5``), and health visiting's counts of the aged under-fives (UnderFives)."""

    scratch: object
    n_la: int
    families: int
    children: int
    live: np.ndarray | None
    at_home_mask: np.ndarray | None
    at_home: np.ndarray | None
    under5: np.ndarray | None
    open_by_la: np.ndarray | None
    under5_by_la: np.ndarray | None
    due: np.ndarray | None


def census_rows(model, at_home_mask: np.ndarray, name: str) -> np.ndarray | None:
    """The census's list ``name`` if ``at_home_mask`` is this week's census mask, else None."""
    census = getattr(model, "census", None)
    if census is not None and census.at_home_mask is at_home_mask:
        return getattr(census, name)
    return None


class _ChildrenByFamily:
    """Children grouped by family (a CSR index), kept up to date as children are added.

    A child's family never changes and rows are only appended, so the index sorts the rows
    it has seen once and keeps newer rows in a small sorted tail, rebuilding the whole index
    only when the tail grows past a sixteenth of it. Rows added since the tail was sorted are
    sorted alone and merged into it (the week's births, 14,000 at full scale, rather than
    re-sorting the whole tail, hundreds of thousands: 1-3 ms a week against 2-6); a rebuild
    (0.12 CPU s at full scale) then comes about once a year, when the year's close has
    retired rows (Population.compact makes a new index), a year's births being about a
    seventeenth of the rows, rather than every half year besides. The rows a query returns
    are the same set whichever rows are in the tail (their order is not promised; no caller
    depends on it)."""

    def __init__(self) -> None:
        self.n = 0  # child rows in the main index
        self.order = np.zeros(0, np.int32)  # those rows, by family
        self.starts = np.zeros(1, np.int64)  # family f's rows: order[starts[f]:starts[f + 1]]
        self.tail_n = 0  # child rows covered by the tail (rows self.n .. tail_n - 1)
        self.tail_order = np.zeros(0, np.int64)
        # (int64, the type of the families asked for: a search between two types converts
        # the whole tail on every call, a tenth of a millisecond at full scale, ~50 a week)
        self.tail_family = np.zeros(0, np.int64)

    def _update(self, family: np.ndarray, n_families: int) -> None:
        n = len(family)
        if n - self.n > max(1024, self.n // 16):
            # (The stable argsort by family and its groups' starts, by a counting sort:
            # sim/kernels.py, group_rows.)
            self.order, self.starts = kernels.group_rows(family, n_families)
            self.n = n
            self.tail_n = -1
        if self.n <= self.tail_n < n:
            # The new rows, sorted stably, merged after the tail's rows of the same family
            # (theirs are earlier rows): the tail as a stable sort of all of it would be.
            new = family[self.tail_n :]
            o = np.argsort(new, kind="stable")
            fam = new[o].astype(np.int64)
            at = np.searchsorted(self.tail_family, fam, side="right")
            self.tail_family = np.insert(self.tail_family, at, fam)
            self.tail_order = np.insert(self.tail_order, at, o + self.tail_n)
            self.tail_n = n
        elif self.tail_n != n:
            tail = family[self.n :]
            o = np.argsort(tail, kind="stable")
            self.tail_order = o + self.n
            self.tail_family = tail[o].astype(np.int64)
            self.tail_n = n

    def children_of(self, family: np.ndarray, n_families: int, families: np.ndarray) -> np.ndarray:
        self._update(family, n_families)
        families = np.asarray(families, dtype=np.int64)
        main = families[families < len(self.starts) - 1]
        lo, hi = self.starts[main], self.starts[main + 1]
        t_lo = np.searchsorted(self.tail_family, families, side="left")
        t_hi = np.searchsorted(self.tail_family, families, side="right")
        return np.concatenate(
            [self.order[_ranges(lo, hi)].astype(np.int64), self.tail_order[_ranges(t_lo, t_hi)]]
        )


RETIRED_SCHEMA = {
    "serial": np.int64,
    "uid": np.uint64,
    "family": np.int64,  # serial
    "family_uid": np.uint64,
    "la": np.int16,
    "node": np.int16,
    "birth_week": np.int64,
    "uasc": np.bool_,
    "ever": np.uint8,
}


def _kept_up(rows: np.ndarray, touched: list[np.ndarray],
             member: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """The ascending ``rows`` of a kept list (Population.care_rows, open_families) brought up
    to date: of the rows ``touched`` since, those no longer members (``member(t)``: a mask)
    removed and the new members inserted in order (sim/kernels.py: merge_members)."""
    t = unique_ints(np.concatenate(touched))
    out = np.empty(len(rows) + len(t), np.int64)
    m = kernels.merge_members(np.ascontiguousarray(rows, dtype=np.int64), t,
                              np.ascontiguousarray(member(t)), out)
    return out[:m]


def _serials(table: Table, rows):
    """The serials of ``rows`` of ``table`` (-1, no row, stays -1)."""
    x = np.asarray(rows)
    if x.ndim == 0:
        return int(table.serial[x]) if x >= 0 else int(x)
    x = x.astype(np.int64, copy=False)
    return np.where(x >= 0, table.serial[np.maximum(x, 0)] if table.n else -1, -1)


def _rows_of(serial: np.ndarray, serials) -> np.ndarray:
    """Rows of ``serials`` in the increasing column ``serial`` (-1 where absent)."""
    s = np.asarray(serials, dtype=np.int64)
    at = np.searchsorted(serial, s)
    ok = at < len(serial)
    ok[ok] = serial[at[ok]] == s[ok]
    return np.where(ok, at, -1)


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The concatenation of ``arange(lo[i], hi[i])`` over i, without a Python loop."""
    lens = hi - lo
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    ends = np.cumsum(lens)
    return np.repeat(lo - ends + lens, lens) + np.arange(total)
