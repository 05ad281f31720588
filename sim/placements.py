"""Placements: how children are matched to carers, how placements end, and what a move costs.

Commissioning follows the authority's order of preference (kinship where the family's network
allows, then the authority's own foster carers, then agencies, then children's homes; supported
accommodation for many 16-17s) and, within it, trades price against distance. All children
needing a placement in a week are matched at once in rounds: each unplaced sibling group asks
for its best provider with room for the whole group, providers take requests in random order
until full, and the rest try again. A group no provider can take together is split (sibling
separation); a child no registered provider can take gets an emergency placement.

Each week an open placement may break down (an unplanned ending, so the child moves), with a
hazard that rises with distance from home, for teenagers, for a poor fit, for lower quality and
for children placed apart from their siblings; contact with the birth family may lapse, more
likely the further away the child lives; and children leave care by going home (with a risk of
coming back), a special guardianship order from kinship care, adoption, or turning 18. Planned
moves happen only when a registered place is free: out of emergency beds, and, for 16-17s in
foster or residential care, on to supported accommodation.
"""

from __future__ import annotations

import numpy as np

from agents.local_authority import assess, count_plans_ending
from sim import kernels
from sim.draws import mix64
from sim.indicators import AGE_BANDS, AGE_EDGES
from sim.population import (
    EVER_CARE,
    EVER_CIN,
    EVER_REFERRED,
    IS_FOSTER_FAMILY,
    NEVER,
    WEEKS_PER_YEAR,
    Case,
    End,
    Event,
    Kind,
    Legal,
)
from sim.util import first_per_group, scratch, unique_ints, weekly_probability

FOSTER, HOME, SUPPORTED, MOVE_ON = 0, 1, 2, 3  # what a child's needs call for
INF = np.inf
#: Rank of each provider kind for each need (lower = preferred; inf = unsuitable). A planned
#: move on to semi-independent living (MOVE_ON) wants supported accommodation and nothing else.
RANK = np.full((4, len(Kind)), INF)
RANK[FOSTER, [Kind.INHOUSE_FOSTER, Kind.IFA, Kind.CHILDRENS_HOME]] = [0, 1, 2]
RANK[HOME, Kind.CHILDRENS_HOME] = 0
RANK[SUPPORTED, [Kind.SUPPORTED, Kind.IFA, Kind.CHILDRENS_HOME]] = [0, 1, 2]
RANK[MOVE_ON, Kind.SUPPORTED] = 0
CATEGORY_OF_KIND = np.array([FOSTER, FOSTER, FOSTER, HOME, SUPPORTED, -1, FOSTER, FOSTER])
CHUNK = 1500  # sibling groups matched together; bounds the groups x providers score matrix
# (The rounds of offers a week are a behavioural assumption: placements.matching_rounds.)


def _base_hazard(p, kind: np.ndarray) -> np.ndarray:
    pl = p.placements
    rates = np.array(
        [
            pl.breakdown_kinship,
            pl.breakdown_inhouse,
            pl.breakdown_ifa,
            pl.breakdown_home,
            pl.breakdown_supported,
            pl.breakdown_emergency,
            pl.breakdown_with_parents,
            pl.breakdown_adoptive,
        ]
    )
    return np.log(np.maximum(rates[kind], 1e-12))


def per_family_draw(
    model, mechanism: str, family: np.ndarray, normal: bool = False
) -> np.ndarray:
    """One draw per family (uniform, or standard normal if ``normal``), repeated for each of
    its children (siblings share fate): a keyed draw of the family's uid (sim/draws.py), so
    brothers and sisters get the same number wherever they are listed."""
    uid = model.pop.families.uid[family]
    d = model.draws
    return d.normal(mechanism, uid) if normal else d.uniform(mechanism, uid)


def needs(model, children: np.ndarray) -> np.ndarray:
    """What each child's needs call for: a foster family, a children's home, or supported
    accommodation. A child moving keeps the kind of care it had (unless it was an emergency)."""
    c, pl, p = model.pop.children, model.pop.placements, model.params.care
    u_home, u_supported = model.draws.pair("commission.needs", c.uid[children])
    years = c.age[children] / WEEKS_PER_YEAR
    cat = np.full(len(children), FOSTER)
    cat[(years >= 10) & (u_home < p.home_probability_teen)] = HOME
    cat[(years >= 16) & (u_supported < p.supported_probability)] = SUPPORTED
    prev = c.placement[children]
    had = prev >= 0
    kept = CATEGORY_OF_KIND[pl.kind[prev[had]]]
    cat[had] = np.where(kept >= 0, kept, cat[had])
    return cat


def commission(
    model,
    children: np.ndarray,
    first_entry: bool,
    proceedings: bool = False,
    emergency: bool = True,
    need: int | None = None,
    together: bool | None = None,
) -> np.ndarray:
    """Find a placement for each child in ``children`` (entering care, or moving).

    Children entering through care proceedings may stay with their parents under a care
    order; otherwise kinship comes first, then the market. A child no registered provider can
    take gets an emergency placement, unless ``emergency`` is False (a planned move that only
    happens if a registered place is free); those children are returned. ``need`` overrides
    what the children's needs call for (a planned move to a particular kind of care)."""
    none = np.zeros(0, dtype=np.int64)
    if len(children) == 0:
        return none
    c, f, p = model.pop.children, model.pop.families, model.params
    fam = c.family[children]
    cat = needs(model, children) if need is None else np.full(len(children), need)
    # Sibling groups: children of one family who need foster care and enter together.
    together = (first_entry if together is None else together) & (cat == FOSTER)
    key = np.where(together, fam, -1 - np.arange(len(children)))
    _, unit = np.unique(key, return_inverse=True)
    # A group's draws are keyed by its family's uid, a lone child's by its own.
    unit_uid = np.where(together, f.uid[fam], c.uid[children])
    if proceedings:
        stay = per_family_draw(model, "commission.with_parents", fam) < (
            p.care.with_parents_probability)
        _place_at_home(model, children[stay])
        keep = ~stay
        children, fam, cat, unit, unit_uid = (children[keep], fam[keep], cat[keep], unit[keep],
                                              unit_uid[keep])
        if len(children) == 0:
            return none
    if first_entry:
        # Kinship first, where the family's network allows.
        # The family's authority's kinship support (sim/levers.py), in the kin network's
        # precision (float32), as the scalar lever was.
        support = model.levers.kinship_support[f.la[fam]].astype(f.kin.dtype)
        p_kin = np.clip(p.care.kinship_probability * f.kin[fam] * support, 0, 1)
        unit_draw = model.draws.uniform("commission.kinship", unit_uid)
        kin = (cat == FOSTER) & ~f.uasc[fam] & (unit_draw < p_kin)
        _place_with_kin(model, children[kin], unit_uid[kin])
        keep = ~kin
        children, fam, cat, unit = children[keep], fam[keep], cat[keep], unit[keep]
    else:
        # A child who moves goes to a brother or sister in care where their carer has room.
        joined = _rejoin_siblings(model, children, cat)
        children, fam, cat, unit = children[~joined], fam[~joined], cat[~joined], unit[~joined]
    left = [none]
    for lo in range(0, unit.max() + 1 if len(unit) else 0, CHUNK):
        sel = (unit >= lo) & (unit < lo + CHUNK)
        if sel.any():
            left.append(_match(model, children[sel], cat[sel], unit[sel] - lo, emergency))
    return np.concatenate(left)


def _rejoin_siblings(model, children: np.ndarray, cat: np.ndarray) -> np.ndarray:
    """Place moving children with a sibling in care whose provider has room and suits them
    (practice is to place brothers and sisters together wherever possible); returns the mask
    of those placed. Without it, every breakdown of one sibling's placement would add to
    separation and nothing would take it away."""
    c, f, pl, t = model.pop.children, model.pop.families, model.pop.placements, model.providers
    if len(children) == 0:
        return np.zeros(0, bool)
    # The moving children's brothers and sisters in care (through the index of children by
    # family: the moving few's families, not everyone in care), in row order.
    care = np.sort(model.pop.children_of(unique_ints(c.family[children])))
    care = care[c.in_care[care]]
    care = care[~np.isin(care, children)]
    prov = pl.provider[c.placement[care]]
    care, prov = care[prov >= 0], prov[prov >= 0]
    if len(care) == 0:  # no one in care with a provider: no sibling to join
        return np.zeros(len(children), bool)
    # One sibling's provider per family (the first found).
    fams, first = np.unique(c.family[care], return_index=True)
    fam = c.family[children]
    at = np.searchsorted(fams, fam)
    has = (at < len(fams)) & (fams[np.minimum(at, len(fams) - 1)] == fam)
    target = np.where(has, prov[first[np.minimum(at, len(fams) - 1)]], -1)
    ok = target >= 0
    tgt = np.maximum(target, 0)
    ok &= np.isfinite(RANK[cat, t.kind[tgt]]) & t.active[tgt]
    own = t.la[tgt] == f.la[fam]
    if model.levers.pooled:  # or a member of the same regional co-operative
        own |= model.levers.same_cooperative(t.la[tgt], f.la[fam])
    ok &= ~t.la_run[tgt] | own
    free = np.maximum(t.capacity - t.occupied, 0).astype(np.int64)
    idx = np.flatnonzero(ok)
    order = model.draws.uniform("commission.rejoin", c.uid[children[idx]])
    idx = idx[first_per_group(target[idx], free, order)]
    placed = np.zeros(len(children), bool)
    placed[idx] = True
    if len(idx):
        _open_with_providers(model, children[idx], target[idx])
    return placed


_residential = np.zeros(len(Kind), bool)
_residential[[Kind.CHILDRENS_HOME, Kind.SUPPORTED]] = True


def suitable(model, groups: np.ndarray, providers: np.ndarray, sites: np.ndarray) -> np.ndarray:
    """A uniform in (0, 1) for each group (rows: its key) and each provider's site (columns:
    ``providers``, with ``sites`` the site each row would use) this week: a keyed draw of the
    group and the (provider, site) pair, so the verdict on a site is the same however often,
    and in whichever round, the matching asks."""
    keys = np.asarray(providers, dtype=np.int64)[None, :] * 65536 + np.asarray(sites, np.int64)
    out = np.empty(keys.shape, np.float64)
    # One hash per (group, provider, site) cell: the group's bits against the cell's key.
    b = keys.astype(np.uint64)
    b *= np.uint64(0x94D049BB133111EB)
    b ^= model.draws.bits("match.suitable", groups)[:, None]
    mix64(b)
    b >>= np.uint64(11)
    np.copyto(out, b, casting="unsafe")
    out += 0.5
    out *= 2.0**-53
    return out


def _match(model, children, cat, unit, emergency: bool) -> np.ndarray:
    """Rounds of proposals from sibling groups to providers; see the module docstring.
    Returns the children no registered provider could take (placed in emergency beds unless
    ``emergency`` is False)."""
    no_room = []
    c, f, t, p = model.pop.children, model.pop.families, model.providers, model.params
    d = model.draws
    home_node = f.node[c.family[children]]
    home_la = f.la[c.family[children]]
    cand = np.flatnonzero(t.active & (t.capacity > t.occupied))
    sorts = _provider_sorts(len(cand))  # (the candidates' kinds and prices hold all rounds)
    for round_ in range(p.placements.matching_rounds):
        if len(children) == 0 or len(cand) == 0:
            break
        uid, first, size = np.unique(unit, return_index=True, return_counts=True)
        # Each group's key for its draws: the smallest uid of its children (the same group
        # has the same key however the children are listed).
        by_unit = np.argsort(unit, kind="stable")
        starts = np.r_[0, np.cumsum(size)[:-1]]
        gkey = np.minimum.reduceat(c.uid[children[by_unit]], starts)
        u_node, u_la, u_cat = home_node[first], home_la[first], cat[first]
        free = (t.capacity[cand] - t.occupied[cand]).astype(np.int64)
        best, ok = _best_providers(model, cand, free, u_node, u_la, u_cat, size, gkey, round_,
                                   sorts)
        # Groups no provider can take whole are split; single children have nowhere to go.
        stuck_child = np.isin(unit, uid[~ok & (size > 1)])
        nowhere = np.isin(unit, uid[~ok & (size == 1)])
        no_room.append(children[nowhere])
        prop = np.flatnonzero(ok)
        order = d.uniform("match.accept", gkey[prop], sub=round_)
        accepted = first_per_group(best[prop], free, order, size[prop])
        take = np.zeros(len(uid), bool)
        take[prop[accepted]] = True
        placed_units = uid[take]
        placed = np.isin(unit, placed_units)
        prov = cand[best[np.searchsorted(uid, unit[placed])]]
        _open_with_providers(model, children[placed], prov)
        keep = ~(placed | nowhere)
        new_unit = np.where(stuck_child, unit.max() + 1 + np.arange(len(unit)), unit)
        children, cat, unit = children[keep], cat[keep], new_unit[keep]
        home_node, home_la = home_node[keep], home_la[keep]
    no_room.append(children)
    left = np.concatenate(no_room)
    if emergency:
        _place_emergency(model, left)
    return left


def _best_providers(model, cand, free, u_node, u_la, u_cat, size, gkey, round_, sorts=None):
    """Each group's best provider among ``cand`` this round and whether it can take the group
    (a finite score): the score of every (group, provider) pair, rank * 1e6 (infinite where
    the provider is LA-run elsewhere) + 1e7 beyond the authority's distance cap + price +
    distance_weight * miles + 1e-3 * a keyed tie-break, infinite where a home does not suit
    the group or has too little room; its first minimum. One compiled pass over the pairs
    (sim/kernels.py: best_providers), bit for bit :func:`_best_providers_reference`.
    ``sorts``: the candidates' order by each need's lower bound of the score, from
    :func:`_provider_sorts`, kept by the caller through the rounds of one matching."""
    t, p, lv, d = model.providers, model.params, model.levers, model.draws
    if sorts is None:
        sorts = _provider_sorts(len(cand))
    best = np.empty(len(u_cat), np.int64)
    ok = np.empty(len(u_cat), bool)
    kernels.best_providers(
        RANK, np.ascontiguousarray(u_cat, dtype=np.int64), u_node, u_la,
        np.ascontiguousarray(size, dtype=np.int64),
        np.ascontiguousarray(lv.distance_cap_miles[u_la], dtype=np.float64),
        np.ascontiguousarray(lv.distance_weight[u_la], dtype=np.float64),
        d.bits("match.tie", gkey, sub=round_), d.bits("match.suitable", gkey),
        np.ascontiguousarray(cand, dtype=np.int64), t.kind[cand], t.la_run[cand], t.la[cand],
        t.price[cand], free, _residential, float(p.placements.residential_suitable_share),
        lv.pooled, lv.cooperative, model.provider_site, model.region.distance, best, ok,
        *sorts)
    return best, ok


def _provider_sorts(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Room for :func:`_best_providers`' sorts of ``n`` candidates: their order and bounds by
    need, and which needs are sorted (none yet)."""
    return (np.empty((len(RANK), n), np.int64), np.empty((len(RANK), n)),
            np.zeros(len(RANK), np.bool_))


def _best_providers_reference(model, cand, free, u_node, u_la, u_cat, size, gkey, round_,
                              sorts=None):
    """:func:`_best_providers` as numpy operations on the groups x providers matrices, in
    reused buffers (the definition; ``sorts`` unused)."""
    t, p, d = model.providers, model.params, model.draws
    dist = model.region.distance
    site = model.provider_site[cand[None, :], u_node[:, None]]  # its site nearest home
    miles = dist[u_node[:, None], site]
    # The score, rank * 1e6 + over * 1e7 + price + distance_weight * miles + 1e-3 * u, is
    # built term by term in reused buffers (groups x providers is millions of cells at
    # full scale); each step is the same floating-point operation as the expression.
    score = _buffer(model, "match_score", miles.shape, np.float64)
    np.take(RANK[u_cat], t.kind[cand], axis=1, out=score)
    score *= 1e6
    # LA-run carers and homes take only their own authority's children.
    elsewhere = t.la_run[cand][None, :] & (t.la[cand][None, :] != u_la[:, None])
    if model.levers.pooled:  # a regional co-operative's members share their own places
        elsewhere &= ~model.levers.same_cooperative(t.la[cand][None, :], u_la[:, None])
    np.copyto(score, INF, where=elsewhere)
    # Each group's home authority's distance cap and weight (sim/levers.py).
    lv = model.levers
    cap = lv.distance_cap_miles[u_la][:, None]
    if (cap > 0).any():  # (+ 0.0 elsewhere leaves a score as it is)
        np.add(score, 1e7, out=score, where=(miles > cap) & (cap > 0))
    score += t.price[cand][None, :]
    term = _buffer(model, "match_term", miles.shape, np.result_type(miles.dtype, np.float64))
    score += np.multiply(miles, lv.distance_weight[u_la][:, None], out=term)
    u = d.cells("match.tie", gkey, cand, sub=round_,
                out=_buffer(model, "match_u", miles.shape, np.float64))
    score += np.multiply(u, 1e-3, out=u)
    # Only some homes and supported services suit a given child (matching).
    res = np.flatnonzero(_residential[t.kind[cand]])
    if len(res):
        # Whether a home suits a child depends on who the child is and which real home
        # the site stands for, not on the order the matching asks in: a keyed draw of the
        # group and the (provider, site) pair, the same in every round of the week.
        draw = suitable(model, gkey, cand[res], site[:, res])
        score[:, res] = np.where(
            draw < p.placements.residential_suitable_share, score[:, res], INF
        )
    np.copyto(score, INF, where=free[None, :] < size[:, None])
    best = np.argmin(score, axis=1)
    ok = np.isfinite(score[np.arange(len(u_cat)), best])
    return best, ok


def _buffer(model, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """A reused work array of ``shape`` (sim/util.py: Scratch)."""
    return scratch(model).get(name, int(np.prod(shape)), dtype).reshape(shape)


def _open_with_providers(model, children: np.ndarray, prov: np.ndarray) -> None:
    """Place each child with provider ``prov`` (one each) on the provider's terms, at the
    provider's site nearest the child's home."""
    t, f = model.providers, model.pop.families
    _open(
        model,
        children,
        kind=t.kind[prov],
        provider=prov,
        node=model.provider_site[prov, f.node[model.pop.children.family[children]]],
        price=t.price[prov],
        cost=t.cost[prov],
        for_profit=t.for_profit[prov],
        quality=t.quality[prov],
        carer=prov.astype(np.int64),
    )


def _place_with_kin(model, children: np.ndarray, unit: np.ndarray) -> None:
    # (``unit``: each child's sibling group's uid)
    """Kinship care: with family or friends, mostly nearby (the home neighbourhood or one next
    to it on the network); siblings in one group stay together."""
    if len(children) == 0:
        return
    c, f, p = model.pop.children, model.pop.families, model.params
    fam = c.family[children]
    home = f.node[fam].astype(np.int64)
    indptr, nbrs = model.neighbours
    # One pair of draws per sibling group (``unit``: the group's uid), shared by its children.
    draw, pick = model.draws.pair("kinship.node", unit)
    deg = indptr[home + 1] - indptr[home]
    away = nbrs[indptr[home] + np.minimum((pick * deg).astype(np.int64), deg - 1)]
    node = np.where(draw < p.care.kin_local_share, home, away)
    weekly = p.placements.price_kinship * p.placements.price_index
    _place_with_family(model, children, Kind.KINSHIP, node, weekly)


def _place_at_home(model, children: np.ndarray) -> None:
    """Placed with parents: looked after under a care order, living at home."""
    if len(children) == 0:
        return
    c, f, p = model.pop.children, model.pop.families, model.params
    node = f.node[c.family[children]]
    weekly = p.placements.price_with_parents * p.placements.price_index
    _place_with_family(model, children, Kind.WITH_PARENTS, node, weekly)


def _place_with_family(model, children: np.ndarray, kind: Kind, node, weekly: float) -> None:
    """A placement with the child's own family network (kin or parents): no provider, no
    profit, and siblings from one family count as living together."""
    c, p = model.pop.children, model.params
    fam = c.family[children]
    price = np.full(len(children), weekly)
    _open(
        model,
        children,
        kind=np.full(len(children), kind),
        provider=-1,
        node=node,
        price=price,
        cost=price,
        for_profit=False,
        quality=p.market.quality_not_for_profit,
        carer=-2 - model.pop.families.serial[fam],
    )


def _place_emergency(model, children: np.ndarray) -> None:
    """No registered place free: an emergency (often unregistered) placement anywhere."""
    if len(children) == 0:
        return
    p, c = model.params, model.pop.children
    node = model.draws.integers("emergency.node", c.uid[children], model.region.n_nodes,
                                counter=c.placements_year[children])
    price = np.full(len(children), p.placements.price_emergency * p.placements.price_index)
    _open(
        model,
        children,
        kind=np.full(len(children), Kind.EMERGENCY),
        provider=-1,
        node=node,
        price=price,
        cost=price * (1 - p.market.margin_home),
        for_profit=True,
        quality=p.placements.emergency_quality,
        carer=None,
    )


def _open(model, children, *, kind, provider, node, price, cost, for_profit, quality, carer):
    """Record new placements and put the children in them."""
    pop, p = model.pop, model.params
    c, f, pl = pop.children, pop.families, pop.placements
    n = len(children)
    home_la = f.la[c.family[children]]
    home_node = f.node[c.family[children]]
    kinds = np.asarray(kind) * np.ones(n, dtype=np.int64)
    # A child placed with parents lives at home: no distance at all.
    miles = np.where(kinds == Kind.WITH_PARENTS, 0.0, model.region.distance[home_node, node])
    log_h = (
        _base_hazard(p, kinds)
        # (keyed by the child and its placements so far this year: a second placement in
        # one week gets its own fit)
        + p.placements.fit_sd * model.draws.normal("placement.fit", c.uid[children],
                                                   counter=c.placements_year[children])
        - p.placements.quality_effect * (np.asarray(quality) - 0.5)
    )
    start = pl.n
    ids = pl.append(
        n,
        child=c.serial[children],  # (the child's id, which rows retired do not change)
        home_la=home_la,
        provider=provider,
        kind=kind,
        for_profit=for_profit,
        node=node,
        start=model.week,
        miles=miles,
        out_of_area=model.region.node_la[node] != home_la,
        price=price,
        cost=cost,
        log_hazard=log_h,
        carer=-(10**9) - np.arange(start, start + n) if carer is None else carer,
        legal=c.legal[children],
    )
    c.placement[children] = ids
    model.pop.set_in_care(children, True)
    c.placements_year[children] += 1
    prov = np.asarray(provider) * np.ones(n, dtype=np.int64)
    model.providers.occupied[:] += np.bincount(prov[prov >= 0], minlength=model.providers.n)
    pl.with_siblings[ids] = ~separated(model, children)
    pop.log(model.week, Event.PLACEMENT, family=c.family[children], child=children, value=miles)


def separated(model, children: np.ndarray) -> np.ndarray:
    """Whether each child (in care) has a sibling in care living with another carer.

    Only the children's own families are looked at (through the population's index of
    children by family), so a call costs the size of those families, not of everyone in care:
    it runs on every placement opened, about 30 times a week."""
    c, pl = model.pop.children, model.pop.placements
    fams = unique_ints(c.family[children])
    sibs = model.pop.children_of(fams)
    sibs = sibs[c.in_care[sibs]]
    fam, carer = c.family[sibs], pl.carer[c.placement[sibs]]
    order = np.lexsort((carer, fam))
    fam, carer = fam[order], carer[order]
    new_pair = np.ones(len(fam), dtype=bool)
    new_pair[1:] = (fam[1:] != fam[:-1]) | (carer[1:] != carer[:-1])
    carers = np.bincount(np.searchsorted(fams, fam[new_pair]), minlength=len(fams))
    return carers[np.searchsorted(fams, c.family[children])] > 1


def separated_reference(model, children: np.ndarray) -> np.ndarray:
    """:func:`separated` as a pass over every child in care (the definition; for tests)."""
    c, pl = model.pop.children, model.pop.placements
    care = np.flatnonzero(c.in_care)
    if care.size == 0:  # nobody in care: nobody separated (np.r_ below needs one child)
        return np.zeros(len(children), dtype=bool)
    fam, carer = c.family[care], pl.carer[c.placement[care]]
    order = np.lexsort((carer, fam))
    fam, carer = fam[order], carer[order]
    new_pair = np.r_[True, (fam[1:] != fam[:-1]) | (carer[1:] != carer[:-1])]
    carers_per_family = np.bincount(fam[new_pair], minlength=model.pop.families.n)
    return carers_per_family[c.family[children]] > 1


def end_placements(model, ids: np.ndarray, reason: End) -> None:
    """Close placements; the children leave them (and care, unless the reason is a move)."""
    pl, t = model.pop.placements, model.providers
    pl.end[ids] = model.week
    pl.end_reason[ids] = int(reason)
    prov = pl.provider[ids]
    t.occupied[:] -= np.bincount(prov[prov >= 0], minlength=t.n)


def leave_care(model, children: np.ndarray, reason: End) -> None:
    """Children leave care: their placements end and the exit is counted."""
    if len(children) == 0:
        return
    c, f = model.pop.children, model.pop.families
    end_placements(model, c.placement[children], reason)
    model.pop.set_in_care(children, False)
    c.contact_lost[children] = False
    c.legal[children] = Legal.NONE
    la = f.la[c.family[children]]
    model.count("care_exits", la)
    model.count(f"exits_{reason.name.lower()}", la)
    age, weeks = c.age[children], c.care_weeks[children]
    model.count("exits_aged_16_17", la[(age >= 16 * WEEKS_PER_YEAR) & (age < 18 * WEEKS_PER_YEAR)])
    model.count("exits_within_2_weeks", la[weeks < 2])
    model.count("exits_within_1_year", la[weeks < WEEKS_PER_YEAR])
    model.pop.log(
        model.week, Event.CARE_EXIT, family=c.family[children], child=children, value=int(reason)
    )


def enter_care(
    model,
    children: np.ndarray,
    uasc: bool = False,
    proceedings: bool = False,
    legal: Legal | np.ndarray = Legal.S20,
) -> None:
    """Children start to be looked after under ``legal`` status: counted, flagged, and placed.
    A child in care is a child in need, and one who arrives in care was in effect referred.
    ``proceedings``: the children come in under a care order made at a final hearing (some
    are then placed with their parents)."""
    if len(children) == 0:
        return
    c, f = model.pop.children, model.pop.families
    fam = c.family[children]
    la = f.la[fam]
    model.count("care_entries", la)
    if uasc:
        model.count("uasc_entries", la)
    years = c.age[children] // WEEKS_PER_YEAR
    band = np.searchsorted(AGE_EDGES, years, side="right")
    for b, name in enumerate(AGE_BANDS):
        model.count(f"entries_age_{name}", la[band == b])
    model.count("care_reentries", la[(c.ever[children] & EVER_CARE) > 0])
    model.count("care_reentries_12m", la[model.week - c.home_since[children] <= WEEKS_PER_YEAR])
    c.legal[children] = legal
    c.entry_age[children] = c.age[children]
    c.care_weeks[children] = 0
    c.contact_lost[children] = False
    c.ever[children] |= EVER_CARE | EVER_CIN | EVER_REFERRED
    count_plans_ending(model, fam, np.ones(len(fam)))  # (each child's plan)
    model.pop.set_case(fam, Case.CARE)
    f.case_weeks[fam] = 0
    model.pop.log(model.week, Event.CARE_ENTRY, family=fam, child=children)
    c.placement[children] = -1
    commission(model, children, first_entry=True, proceedings=proceedings)
    _bridging(model, children)


def _bridging(model, children: np.ndarray) -> None:
    """Many children first go to a short-term foster carer or home while a long-term
    placement is found (``placements.short_term_share`` of sibling groups entering foster or
    residential care); they move on in a planned move (see :func:`_planned_moves`)."""
    c, pl = model.pop.children, model.pop.placements
    ids = c.placement[children]
    market = np.isin(pl.kind[ids], [Kind.INHOUSE_FOSTER, Kind.IFA, Kind.CHILDRENS_HOME])
    draw = per_family_draw(model, "placement.bridging", c.family[children])
    pl.short_term[ids[market & (draw < model.params.placements.short_term_share)]] = True


def placement_week(model) -> None:
    """Breakdowns (and the moves they cause), fading contact, and exits from care."""
    pop = model.pop
    c, f = pop.children, pop.families
    care = model.pop.care_rows()
    broke, lapse = _week_hazards(model, care)
    c.contact_lost[care[lapse]] = True
    pop.log(model.week, Event.CONTACT_LOST, family=c.family[care[lapse]], child=care[lapse])
    moved = care[broke]
    end_placements(model, c.placement[moved], End.BREAKDOWN)
    model.count("placement_breakdowns", f.la[c.family[moved]])
    model.count("placement_moves", f.la[c.family[moved]])
    pop.log(model.week, Event.BREAKDOWN, family=c.family[moved], child=moved)
    pop.set_in_care(moved, False)  # briefly, so siblings are judged against where they now live
    _adoption_orders(model)
    _exits(model)
    _leave_at_16_17(model)
    pop.set_in_care(moved, True)
    broken_kind = pop.placements.kind[c.placement[moved]]
    up = _step_up(model, moved, broken_kind)
    commission(model, moved[~up], first_entry=False)
    commission(model, moved[up], first_entry=False, need=HOME)
    pop.placements.after_breakdown[c.placement[moved]] = broken_kind
    placed = moved[up][pop.placements.kind[c.placement[moved[up]]] == Kind.CHILDRENS_HOME]
    model.count("home_step_ups", f.la[c.family[placed]])  # (not those no home could take)
    _planned_moves(model)


def _step_up(model, moved: np.ndarray, broken_kind: np.ndarray) -> np.ndarray:
    """Which of the children whose placement (of ``broken_kind``) broke down this week move up
    to a children's home: a 10- to 17-year-old leaving a foster family (kinship, in-house or
    agency; not a placement with parents), with
    probability ``care.step_up_probability`` (Ofsted 2022: 41% of the children in the homes
    it studied came after a foster breakdown). A step-up is what lets breakdowns feed the
    residential market (the market squeeze, R2, docs/teaching.md). Off (0) by default: no
    draw is made."""
    p = model.params.care.step_up_probability
    if p <= 0 or len(moved) == 0:
        return np.zeros(len(moved), dtype=bool)
    c = model.pop.children
    older = c.age[moved] >= 10 * WEEKS_PER_YEAR
    return (IS_FOSTER_FAMILY[broken_kind] & older
            & (model.draws.uniform("placement.step_up", c.uid[moved]) < p))


def _week_hazards(model, care: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The week's count of children in care (``care_weeks``), and which of the children in
    ``care`` see their placement break down and which lose contact with their birth family:
    the reads and arithmetic over the children in care in one compiled pass
    (sim/kernels.py: care_week; a gather from the children's table costs about as much as
    the arithmetic on what it gathers, and the numpy definition gathers five columns one by
    one), then the hazards' probabilities in numpy (its exp and expm1, which a compiled
    loop would not reproduce to the bit). A child's authority is its placement's home
    authority (``placements.home_la``, its family's when the placement opened; a family's
    authority never changes). Bit for bit :func:`_week_hazards_reference`."""
    c, pl, p = model.pop.children, model.pop.placements, model.params
    if not all(type(x) is float for x in (p.placements.distance_effect,
                                          p.placements.contact_loss_rate)):
        # (numpy scalars are not weak under NEP 50: numpy would compute in float64)
        return _week_hazards_reference(model, care)
    n = len(care)
    counts = np.zeros(model.n_la, np.int64)
    u_break, u_lapse, log_h = np.empty(n), np.empty(n), np.empty(n)
    lapse_h = np.empty(n, np.float32)
    kernels.care_week(
        care, c.uid, np.uint64(model.draws.key("placement.week")), c.placement, c.age,
        11 * WEEKS_PER_YEAR, pl.home_la, pl.log_hazard, pl.miles,
        pl.with_siblings, float(p.placements.teen_effect),
        np.float32(p.placements.distance_effect), float(p.placements.separation_effect),
        np.float32(p.placements.contact_loss_rate), counts, u_break, u_lapse, log_h, lapse_h)
    model.count_by_la("care_weeks", counts)
    broke = u_break < weekly_probability(np.exp(log_h, out=log_h))
    lapse = u_lapse < weekly_probability(lapse_h)
    # (Contact already lost, read only for those whose draw would lose it.)
    could = np.flatnonzero(lapse)
    lapse[could[c.contact_lost[care[could]]]] = False
    return broke, lapse


def _week_hazards_reference(model, care: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_week_hazards` as numpy operations (the definition): a placement breaks down
    with a hazard that rises with distance, for teenagers and for children placed apart from
    their siblings; contact with the birth family lapses, more likely the further away the
    child lives."""
    c, f, pl, p = model.pop.children, model.pop.families, model.pop.placements, model.params
    model.count("care_weeks", f.la[c.family[care]])
    u_break, u_lapse = model.draws.pair("placement.week", c.uid[care])
    ids = c.placement[care]
    teen = c.age[care] >= 11 * WEEKS_PER_YEAR
    log_h = (
        pl.log_hazard[ids]
        + p.placements.teen_effect * teen
        + p.placements.distance_effect * pl.miles[ids] / 20.0
        + p.placements.separation_effect * ~pl.with_siblings[ids]
    )
    broke = u_break < weekly_probability(np.exp(log_h))
    lapse_h = p.placements.contact_loss_rate * pl.miles[ids] / 20.0
    lapse = ~c.contact_lost[care] & (u_lapse < weekly_probability(lapse_h))
    return broke, lapse


def _planned_moves(model) -> None:
    """Planned moves (moves, but not breakdowns), each only when a registered place is free:
    children in emergency placements move to a registered place, children in short-term
    (bridging) placements move to a long-term one after ``short_term_weeks`` on average, and
    16-17-year-olds in foster or residential care move on to supported accommodation
    (semi-independent living).

    The lists come from compiled passes over the children in care (sim/kernels.py:
    planned_lists, move_on_list), which read a column only where the answer needs it; bit
    for bit :func:`_planned_moves_reference`. (Both of the first two lists are made before
    the emergency moves: a child moved out of an emergency bed was not in a bridging
    placement, emergency beds never being one, and is not in one after, a move's new
    placement never being one; nobody else's placement changes.)"""
    c, f, pl, p = model.pop.children, model.pop.families, model.pop.placements, model.params
    care = model.pop.care_rows()
    emergency, due = np.empty(len(care), np.int64), np.empty(len(care), np.int64)
    ne, nd = kernels.planned_lists(
        care, c.placement, pl.kind, pl.short_term, c.family, f.uid,
        np.uint64(model.draws.key("placement.bridging_end")),
        float(weekly_probability(WEEKS_PER_YEAR / p.placements.short_term_weeks)),
        int(Kind.EMERGENCY), emergency, due)
    _planned_move(model, emergency[:ne], need=None)
    # Out of bridging placements, as a sibling group: one draw per family.
    _planned_move(model, due[:nd], need=None, together=True)
    _refill_inhouse(model)
    care = model.pop.care_rows()
    ready = np.empty(len(care), np.int64)
    m = kernels.move_on_list(
        care, c.age, 16 * WEEKS_PER_YEAR, c.placement, pl.kind, _moves_on,
        c.uid, np.uint64(model.draws.key("placement.move_on")),
        float(weekly_probability(p.care.move_on_rate)), ready)
    _planned_move(model, ready[:m], need=MOVE_ON)


_moves_on = np.zeros(len(Kind), bool)  # the kinds of care a 16-17-year-old moves on from
_moves_on[[Kind.INHOUSE_FOSTER, Kind.IFA, Kind.CHILDRENS_HOME]] = True


def _planned_moves_reference(model) -> None:
    """:func:`_planned_moves` as numpy operations over every child in care (the definition).
    Planned moves (moves, but not breakdowns), each only when a registered place is free:
    children in emergency placements move to a registered place, children in short-term
    (bridging) placements move to a long-term one after ``short_term_weeks`` on average, and
    16-17-year-olds in foster or residential care move on to supported accommodation
    (semi-independent living)."""
    c, pl, p = model.pop.children, model.pop.placements, model.params.care
    care = model.pop.care_rows()
    kind = pl.kind[c.placement[care]]
    _planned_move(model, care[kind == Kind.EMERGENCY], need=None)
    # Out of bridging placements, as a sibling group: one draw per family.
    bridging = pl.short_term[c.placement[care]]
    draw = per_family_draw(model, "placement.bridging_end", c.family[care])
    due = bridging & (draw < weekly_probability(
        WEEKS_PER_YEAR / model.params.placements.short_term_weeks))
    _planned_move(model, care[due], need=None, together=True)
    _refill_inhouse(model)
    care = model.pop.care_rows()
    kind = pl.kind[c.placement[care]]
    ready = (
        (c.age[care] >= 16 * WEEKS_PER_YEAR)
        & np.isin(kind, [Kind.INHOUSE_FOSTER, Kind.IFA, Kind.CHILDRENS_HOME])
        & (model.draws.uniform("placement.move_on", c.uid[care])
           < weekly_probability(p.move_on_rate))
    )
    _planned_move(model, care[ready], need=MOVE_ON)


def _refill_inhouse(model) -> None:
    """Room with the authority's own foster carers goes to its children in agency foster care
    whose brothers and sisters in care, if any, are all there too, moved as one group so that
    no group is split: first children in a short-term (bridging) placement, then those placed
    most recently (the least settled).

    Authorities place with their own carers first, and those carers run nearly full: the
    model's in-house places are the places in use (most approved places Ofsted counts as
    vacant cannot take the children waiting). Without this a small pool, as a sample of
    England has, sits part-empty between entrants, and the share of children in in-house care
    rises with the sample size (docs/calibration.md, "Scale")."""
    if not model.params.placements.inhouse_refill:
        return
    c, f, pl, t = model.pop.children, model.pop.families, model.pop.placements, model.providers
    pools = np.flatnonzero((t.kind == Kind.INHOUSE_FOSTER) & t.active & (t.capacity > t.occupied))
    if len(pools) == 0:
        return
    wait = _refill_waiting(model)
    if len(wait) == 0:
        return
    room = np.bincount(t.la[pools], weights=t.capacity[pools] - t.occupied[pools],
                       minlength=model.n_la).astype(np.int64)
    # One unit per family, of its size (every child of its in care is waiting), ascending.
    wait_fam = c.family[wait]
    g_fam, first, g_size = np.unique(wait_fam, return_index=True, return_counts=True)
    # Bridging placements first (order < 1), then the most recent placements.
    g_ids = c.placement[wait[first]]
    g_order = np.where(pl.short_term[g_ids], 0.0, 1.0 + (model.week - pl.start[g_ids]) / 1e6)
    g_order += model.draws.uniform("placement.refill", f.uid[g_fam]) * 1e-9
    g_la = f.la[g_fam]
    chosen = first_per_group(g_la, room, g_order, g_size)
    moving = np.isin(wait_fam, g_fam[chosen])
    _planned_move(model, wait[moving], need=None, together=True)


def _refill_waiting(model) -> np.ndarray:
    """The children who could move to the authority's own foster carers (see
    :func:`_refill_inhouse`), ascending: in agency foster care, under 16, not placed this week
    (a placement ends at the earliest a week after it began), with every brother and sister
    in care the same. One compiled pass over the children in care (sim/kernels.py:
    refill_waiting, families marked in a byte each rather than sorted); bit for bit
    :func:`_refill_waiting_reference`."""
    c, pl = model.pop.children, model.pop.placements
    care = model.pop.care_rows()
    out, fam = np.empty(len(care), np.int64), np.empty(len(care), np.int64)
    mark = scratch(model).zeroed("refill_mark", model.pop.families.n, np.uint8)
    m = kernels.refill_waiting(care, c.family, c.placement, pl.kind, pl.start, model.week,
                               c.age, 16 * WEEKS_PER_YEAR, int(Kind.IFA), mark, fam, out)
    return out[:m]


def _refill_waiting_reference(model) -> np.ndarray:
    """:func:`_refill_waiting` as numpy operations (the definition)."""
    c, pl = model.pop.children, model.pop.placements
    care = model.pop.care_rows()
    ids = c.placement[care]
    agency = (
        (pl.kind[ids] == Kind.IFA)
        & (c.age[care] < 16 * WEEKS_PER_YEAR)
        & (pl.start[ids] < model.week)
    )
    # Families whose every child in care could move.
    fams, unit, count = np.unique(c.family[care], return_inverse=True, return_counts=True)
    movable = np.bincount(unit, weights=agency, minlength=len(fams)) == count
    return care[movable[unit]]


def _planned_move(
    model, children: np.ndarray, need: int | None, together: bool = False
) -> None:
    """Move ``children`` if a registered place is free (``together``: siblings as a group)."""
    if len(children) == 0:
        return
    c, f = model.pop.children, model.pop.families
    old = c.placement[children]
    left = commission(
        model, children, first_entry=False, emergency=False, need=need, together=together
    )
    moved = ~np.isin(children, left)
    end_placements(model, old[moved], End.MOVED)
    model.count("placement_moves", f.la[c.family[children[moved]]])


def _exits(model) -> None:
    """Children leave care: home, as a sibling group, once the family's need *as the social
    worker reads it* is low enough (a return is decided on an assessment, with its error, so
    some children go home to families whose need is still high, and come back: see
    return_breakdowns); by a special guardianship order from kinship care; by adoption, for a
    child who entered care under 4 with an adoption plan (a share
    ``care.adoption_plan_share`` of them), from a year in care until
    ``care.adoption_window_years`` later (:func:`_adoption_window_end`). The chance of going home is
    ``care.early_return_factor`` times the usual in a child's first week in care, falling to
    the usual over ``care.early_return_weeks`` (an exponential decay; :func:`_home_chances`):
    a family whose crisis has passed has the child back soon.

    The draws and tests over every child in care in one compiled pass (sim/kernels.py:
    care_exits), and the assessment only of the families whose draw would take them home
    (a few hundred of the ~90,000 in care at full scale, where its inverse normals were most
    of the cost): each child's reading is the same elementwise arithmetic on the same draw,
    so the exits are bit for bit :func:`_exits_reference`'s."""
    pop, p = model.pop, model.params.care
    c, f, pl = pop.children, pop.families, pop.placements
    care = model.pop.care_rows()
    home_by_week, lost_by_week = _home_chances(p)
    code = np.empty(len(care), np.uint8)
    kernels.care_exits(
        care, c.family, f.uid, c.uid, np.uint64(model.draws.key("exits.home")),
        np.uint64(model.draws.key("exits.order")), c.contact_lost, f.uasc, c.placement,
        pl.kind, c.care_weeks, c.entry_age, home_by_week, lost_by_week,
        float(max(home_by_week.max(), lost_by_week.max())),
        float(weekly_probability(p.sgo_rate * p.sgo_practice)),
        float(weekly_probability(p.adoption_rate)),
        int(Kind.KINSHIP), 26, 4 * WEEKS_PER_YEAR, WEEKS_PER_YEAR, _adoption_window_end(p),
        np.uint64(model.draws.key(ADOPTION_PLAN, week=0)), float(p.adoption_plan_share), code)
    code[_waiting_for_order(model, care)] = 0
    cand = np.flatnonzero(code & 1)
    cand_fam = c.family[care[cand]]
    read = assess(model, cand_fam,
                  z=per_family_draw(model, "exits.assess", cand_fam, normal=True))
    home = np.zeros(len(care), bool)
    going = cand[read < p.reunification_level]
    home[going[_home_16_17_kept(model, care[going])]] = True
    sgo = ~home & ((code & 2) > 0)
    adopt = ~home & ~sgo & ((code & 4) > 0)
    _leave(model, care, home, sgo, adopt)


#: The keyed draw that says whether a child has an adoption plan: one draw per child for the
#: whole run (its week fixed), so that raising ``care.adoption_plan_share`` only adds plans.
ADOPTION_PLAN = "exits.adoption_plan"


def _adoption_window_end(p) -> int:
    """The weeks in care from which a child is no longer matched with adopters: the first
    year, then ``care.adoption_window_years``. Why a window: England adopts early or not at
    all (1 year 11 months on average from entering care to adoption, DfE 2019), where one
    hazard for every later year spread the model's adoptions over five years and kept the
    children waiting for them in care (ODD 7.9). At 17 years, the most, there is no window:
    no child who entered care under 4 is still in care 18 years on."""
    if p.adoption_window_years >= 17.0:
        return np.iinfo(np.int32).max
    return round((1.0 + p.adoption_window_years) * WEEKS_PER_YEAR)


#: Weeks in care over which the early chance of going home is tabulated (three years); from
#: the last the usual chance holds.
HOME_CHANCE_WEEKS = 156


def _home_chances(p) -> tuple[np.ndarray, np.ndarray]:
    """The weekly chance of going home by weeks in care (0 to HOME_CHANCE_WEEKS - 1, the
    last for every week after), with contact kept and lost: ``reunification_rate`` times
    ``1 + (early_return_factor - 1) exp(-weeks / early_return_weeks)``, so a crisis that has
    passed sends the child home within weeks, and the chance falls to the usual as the
    weeks go by. One table for the compiled pass and the numpy definition, so both compare
    the same numbers; with the factor at 1 every entry is the usual chance, as before."""
    boost = np.ones(HOME_CHANCE_WEEKS)
    if p.early_return_factor != 1:
        weeks = np.arange(HOME_CHANCE_WEEKS - 1)
        boost[:-1] += (p.early_return_factor - 1.0) * np.exp(-weeks / p.early_return_weeks)
    rate = p.reunification_rate * boost
    return (np.ascontiguousarray(weekly_probability(rate), dtype=np.float64),
            np.ascontiguousarray(weekly_probability(rate * p.contact_lost_reunification),
                                 dtype=np.float64))


def _home_16_17_kept(model, children: np.ndarray) -> np.ndarray:
    """Which of ``children``, whose family's draw would take them home this week, may go: all
    under 16, and a 16- or 17-year-old with chance ``care.home_16_17_factor``, a draw of the
    child's own. Why: England's children seldom cease to be looked after at 16 or 17 (9-11%
    of those ceasing, against 23% in the model with every age alike); an older child's
    future is planned as leaving care at 18, so a younger brother or sister may go home
    without them. At 1 (the default) no draw is made, so runs are as before."""
    factor = model.params.care.home_16_17_factor
    keep = np.ones(len(children), bool)
    if factor >= 1 or len(children) == 0:
        return keep
    c = model.pop.children
    teen = c.age[children] >= 16 * WEEKS_PER_YEAR
    keep[teen] = model.draws.uniform("exits.home_16_17", c.uid[children[teen]]) < factor
    return keep


def _leave_at_16_17(model) -> None:
    """Some 16- and 17-year-olds cease to be looked after before 18 without going home: into
    independent living, or for another of DfE's reasons (SSDA903 E5, E6, E8), at
    ``care.leaving_rate_16_17`` from supported (semi-independent) accommodation (assumed the usual
    step before independent living), and at ``care.leaving_other_factor`` times that from any other
    placement. Like a child under an order, a leaver no longer lives in the birth family's
    home. Off (0) by default: no draw is made, so runs are as before."""
    p = model.params.care
    if p.leaving_rate_16_17 <= 0:
        return
    c, pl = model.pop.children, model.pop.placements
    care = model.pop.care_rows()
    teen = care[c.age[care] >= 16 * WEEKS_PER_YEAR]
    supported = pl.kind[c.placement[teen]] == Kind.SUPPORTED
    rate = np.where(supported, p.leaving_rate_16_17, p.leaving_rate_16_17 * p.leaving_other_factor)
    leave = teen[model.draws.uniform("exits.leave_16_17", c.uid[teen])
                 < weekly_probability(rate)]
    leave_care(model, leave, End.LEFT)
    c.active[leave] = False


def _leave(model, care: np.ndarray, home: np.ndarray, sgo: np.ndarray,
           adopt: np.ndarray) -> None:
    """The children of ``care`` in ``home``, ``sgo`` and ``adopt`` (masks) leave care."""
    c, f = model.pop.children, model.pop.families
    leave_care(model, care[home], End.REUNIFIED)
    c.home_since[care[home]] = model.week
    f.return_watched[c.family[care[home]]] = True
    leave_care(model, care[sgo], End.SGO)
    c.active[care[sgo]] = False  # a new legal family: no longer in the birth family's home
    if model.params.care.placed_for_adoption_weeks > 0:
        place_for_adoption(model, care[adopt])
    else:
        _adopted(model, care[adopt])


def _adopted(model, children: np.ndarray) -> None:
    """The adoption order: the children leave care for their new legal family (no longer in
    the birth family's home)."""
    leave_care(model, children, End.ADOPTED)
    model.pop.children.active[children] = False


def _waiting_for_order(model, care: np.ndarray) -> np.ndarray:
    """Which of the children in care (``care``) live with prospective adopters: they neither
    go home nor leave by another order while they wait for the adoption order. (No pass over
    the children in care while the stage is off.)"""
    if model.params.care.placed_for_adoption_weeks <= 0:
        return np.zeros(len(care), bool)
    pl = model.pop.placements
    return pl.kind[model.pop.children.placement[care]] == Kind.PLACED_FOR_ADOPTION


def place_for_adoption(model, children: np.ndarray) -> None:
    """Children matched with adopters move in with them under a placement order, and stay
    looked after until the adoption order (:func:`_adoption_orders`).

    Why a stage, not adoption at once: a child placed for adoption is still in care until the
    court makes the order, some nine months later (``care.placed_for_adoption_weeks``), and
    DfE counts it there (5% of children looked after at 31 March 2013, the years of most
    adoptions; the six placement shares published for 2024 sum to 95.9%, these children among
    the rest). Adopted at once, these children stayed in foster care until
    they left it, so the model's share in foster care ran high against England's published
    shares, which leave them out. The adopters live where the child was placed (an
    assumption: regional adoption agencies match within their region); the placement costs
    the authority no weekly fee (the one-off inter-agency fee is not modelled); it may
    disrupt before the order (``placements.breakdown_adoptive``), and the child then goes back
    to foster care."""
    if len(children) == 0:
        return
    c, f, p = model.pop.children, model.pop.families, model.params
    pl = model.pop.placements
    old = c.placement[children]
    node = pl.node[old].astype(np.int64)
    end_placements(model, old, End.MOVED)
    la = f.la[c.family[children]]
    model.count("placement_moves", la)
    model.count("placed_for_adoption", la)
    c.legal[children] = Legal.PLACEMENT_ORDER
    free = np.zeros(len(children))
    _open(
        model,
        children,
        kind=np.full(len(children), Kind.PLACED_FOR_ADOPTION),
        provider=-1,
        node=node,
        price=free,
        cost=free,
        for_profit=False,
        quality=p.market.quality_not_for_profit,
        carer=None,
    )


def _adoption_orders(model) -> None:
    """Adoption orders for the children who have lived ``care.placed_for_adoption_weeks``
    with their prospective adopters (DfE counts the adoption at the order)."""
    weeks = model.params.care.placed_for_adoption_weeks
    if weeks <= 0:
        return
    c, pl = model.pop.children, model.pop.placements
    care = model.pop.care_rows()
    ids = c.placement[care]
    due = (pl.kind[ids] == Kind.PLACED_FOR_ADOPTION) & (model.week - pl.start[ids] >= weeks)
    _adopted(model, care[due])


def _exits_reference(model) -> None:
    """:func:`_exits` as numpy operations over every child in care (the definition)."""
    pop, p = model.pop, model.params.care
    c, f, pl = pop.children, pop.families, pop.placements
    care = model.pop.care_rows()
    fam = c.family[care]
    read = assess(model, fam, z=per_family_draw(model, "exits.assess", fam, normal=True))
    draw = per_family_draw(model, "exits.home", fam)
    home_by_week, lost_by_week = _home_chances(p)
    week = np.minimum(c.care_weeks[care], HOME_CHANCE_WEEKS - 1)
    chance = np.where(c.contact_lost[care], lost_by_week[week], home_by_week[week])
    home = (
        ~f.uasc[fam]
        & (read < p.reunification_level)
        & (draw < chance)
    )
    home[home] = _home_16_17_kept(model, care[home])
    kind = pl.kind[c.placement[care]]
    u = model.draws.uniform("exits.order", c.uid[care])
    sgo = (
        ~home
        & (kind == Kind.KINSHIP)
        & (c.care_weeks[care] >= 26)
        & (u < weekly_probability(p.sgo_rate * p.sgo_practice))
    )
    adopt = (
        ~home
        & ~sgo
        & (c.entry_age[care] < 4 * WEEKS_PER_YEAR)
        & (c.care_weeks[care] >= WEEKS_PER_YEAR)
        & (c.care_weeks[care] < _adoption_window_end(p))
        & (u < weekly_probability(p.adoption_rate))
        & (model.draws.uniform(ADOPTION_PLAN, c.uid[care], week=0) < p.adoption_plan_share)
    )
    waiting = _waiting_for_order(model, care)
    _leave(model, care, home & ~waiting, sgo & ~waiting, adopt & ~waiting)


def return_breakdowns(model, at_home_mask: np.ndarray) -> np.ndarray:
    """Children back home from care whose return is breaking down: returns the children to be
    accommodated again this week.

    While a family's case stays open after a child came home (a child-in-need or protection
    plan, or siblings still in care), its social worker watches the return. If the family's
    need climbs back to ``care.return_breakdown_level`` (a return home is planned with a
    contingency: a child already harmed once comes back before the harm would bring a first
    entry), the child comes back into care at ``care.return_breakdown_rate`` a year, with
    brothers and sisters who came home too; most such returns to care are by agreement
    (section 20) rather than through a new court case.
    Published: one in five children who went home re-entered care within a year, over a third
    within six (Goldacre et al., 2022, on DfE's national data, 2014-2020)."""
    c, f, p = model.pop.children, model.pop.families, model.params
    # (The watched families, a few in a thousand, found eight flags at a time, and only their
    # need read: two passes over every family's need and flag were most of the cost.)
    watched = kernels.flatnonzero_sparse(f.return_watched)
    watched = watched[f.need[watched] >= p.care.return_breakdown_level]
    if len(watched) == 0:
        return np.zeros(0, dtype=np.int64)
    kids = np.sort(model.pop.children_of(watched))  # a few families' children
    kids = kids[at_home_mask[kids] & (c.home_since[kids] > NEVER) & ~c.in_care[kids]]
    draw = per_family_draw(model, "exits.return_breakdown", c.family[kids])
    return kids[draw < weekly_probability(p.care.return_breakdown_rate)]


def settle_families(model) -> None:
    """Families whose children have all left care go back to child-in-need support."""
    pop = model.pop
    c, f = pop.children, pop.families
    known = pop.open_families()  # (kept as cases open and close)
    done = known[f.case[known] == Case.CARE]
    # (Those families checked against the families of the children in care, marked from
    # the list of them, rather than a pass over every child.)
    # (In a mask kept all False between weeks, cleared where it was set, not refilled.)
    still = scratch(model).zeroed("settle_still", f.n, np.bool_)
    in_care = c.family[model.pop.care_rows()]
    still[in_care] = True
    done = done[~still[done]]
    still[in_care] = False
    pop.set_case(done, np.where(f.uasc[done], Case.NONE, Case.CHILD_IN_NEED))
    f.case_weeks[done] = 0
