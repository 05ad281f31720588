"""Placement providers and the market they make.

A :class:`PlacementProvider` is an LA's pool of in-house foster carers in one neighbourhood, an
independent fostering agency, a children's home, or a supported-accommodation service. Its
state lives in the model's provider table (so commissioning can score every provider at once);
the agent is its readable face and makes its own monthly decisions:

- a for-profit provider asks its list price when its kind of placement is at the market's
  ``target_occupancy`` and more when the market is fuller (``price_response`` per unit of
  occupancy above target, less when emptier), never below cost and never above cost plus the
  profit cap;
- a for-profit provider whose occupancy stays below ``exit_occupancy`` for six months stops
  taking children and closes when empty.

Entry happens at market level (:func:`market_entry`): where a kind is full and its margin is
above the hurdle, new for-profit providers open, most likely where running a place is cheap
(deprived, low-cost areas), which is often far from where children come from.
"""

from __future__ import annotations

import numpy as np
from mesa.discrete_space import FixedAgent

from sim.population import Kind
from sim.util import stochastic_round

PROVIDER_SCHEMA = {
    "kind": (np.int8, 0),
    "for_profit": (np.bool_, False),
    "la_run": (np.bool_, False),
    "node": (np.int16, -1),
    "la": (np.int16, -1),
    "base_capacity": (np.int32, 0),
    "capacity": (np.int32, 0),
    "occupied": (np.int32, 0),
    "price": (np.float32, 0.0),
    "list_price": (np.float32, 0.0),
    "cost": (np.float32, 0.0),
    "quality": (np.float32, 0.5),
    "active": (np.bool_, True),
    "closing": (np.bool_, False),
    "low_months": (np.int16, 0),
}
MARKET_KINDS = (Kind.IFA, Kind.CHILDRENS_HOME, Kind.SUPPORTED)
# Sizes of agency branches and supported services, the fewest places a simulated one has
# (placements.agency_size, supported_size, min_pool), how long a losing provider stays
# (market.exit_months) and the spreads of prices and quality are parameters (sim/parameters.py).


def full_size(p, kind: int) -> int:
    """Places per agency branch (``kind`` IFA) or supported service at full scale."""
    return p.placements.agency_size if kind == Kind.IFA else p.placements.supported_size


def branch_size(model, full_scale_size: int) -> int:
    """Places per agency branch or supported service in the simulated sample.

    An agency's carers live spread across a locality, so the *number* of branches is kept
    independent of ``run.scale`` and their size shrinks with it (otherwise a small sample would
    have a handful of agencies far from most children and distances would depend on scale),
    down to ``placements.min_pool`` places, below which fewer branches of that size are
    opened. In-house carers are one pool per authority instead."""
    min_pool = model.params.placements.min_pool
    return max(min(min_pool, full_scale_size), round(full_scale_size * model.params.run.scale))


class PlacementProvider(FixedAgent):
    """One provider; its numbers live in ``model.providers`` at row ``idx``."""

    def __init__(self, model, idx: int, cell) -> None:
        super().__init__(model)
        self.idx = idx
        self.cell = cell

    def _get(self, col: str):
        return getattr(self.model.providers, col)[self.idx]

    kind = property(lambda self: Kind(int(self._get("kind"))))
    for_profit = property(lambda self: bool(self._get("for_profit")))
    capacity = property(lambda self: int(self._get("capacity")))
    occupied = property(lambda self: int(self._get("occupied")))
    price = property(lambda self: float(self._get("price")))
    cost = property(lambda self: float(self._get("cost")))
    quality = property(lambda self: float(self._get("quality")))

    @property
    def occupancy(self) -> float:
        cap = self.capacity
        return self.occupied / cap if cap else 1.0

    def review_month(self) -> None:
        """Monthly decisions: capacity follows policy, price follows occupancy, exit if empty."""
        t, i, p = self.model.providers, self.idx, self.model.params
        if not t.active[i]:
            return
        lv = self.model.levers
        if t.la_run[i]:
            sufficiency = lv.inhouse_foster if t.kind[i] == Kind.INHOUSE_FOSTER else lv.la_homes
            target = round(t.base_capacity[i] * sufficiency[t.la[i]]
                           * self.model.la_children_scale[t.la[i]])
            t.capacity[i] = max(target, t.occupied[i])
        if t.closing[i]:
            t.capacity[i] = t.occupied[i]
            if t.occupied[i] == 0:
                t.active[i] = False
                self.remove()
            return
        if not t.for_profit[i]:
            return
        # The price follows how full the market for this kind of placement is (what a
        # commissioner can get elsewhere), not this provider's own few places: one child more
        # or less in a four-place branch is not a market signal, and a price that followed it
        # would move with the sample's size.
        tight = self.model.market_occupancy[t.kind[i]] - p.market.target_occupancy
        price = t.list_price[i] * (1.0 + p.market.price_response * tight)
        # The cap where the provider is (a Python float, as the scalar lever was, so the
        # ceiling is computed in the price's own precision).
        cap = float(lv.profit_cap[t.la[i]])
        ceiling = t.cost[i] * (1.0 + cap) if cap > 0 else np.inf
        t.price[i] = np.clip(price, t.cost[i], ceiling)
        occ = self.occupancy
        t.low_months[i] = t.low_months[i] + 1 if occ < p.market.exit_occupancy else 0
        if t.low_months[i] >= p.market.exit_months:
            t.closing[i] = True


def property_cost(model, nodes: np.ndarray) -> np.ndarray:
    """Relative cost of running a place at ``nodes`` (1 = dearest): cheaper where deprived."""
    r = model.region
    m = model.params.market
    # Half the authority's deprivation score (of about 50 at most), half the neighbourhood's
    # band, each scaled to 0-1.
    score = (r.la_deprivation[r.node_la[nodes]] / m.property_deprivation_max * 0.5
             + r.node_band[nodes] / 2.0 * 0.5)
    return 1.0 - model.params.market.property_effect * np.clip(score, 0, 1)


def _margin(p, kind: Kind) -> float:
    return {
        Kind.IFA: p.market.margin_ifa,
        Kind.CHILDRENS_HOME: p.market.margin_home,
        Kind.SUPPORTED: p.market.margin_supported,
    }.get(kind, 0.0)


def _base_price(p, kind: Kind) -> float:
    """Today's price of a kind of placement: its 2023-24 price times the price index."""
    return p.placements.price_index * {
        Kind.INHOUSE_FOSTER: p.placements.price_inhouse,
        Kind.IFA: p.placements.price_ifa,
        Kind.CHILDRENS_HOME: p.placements.price_home,
        Kind.SUPPORTED: p.placements.price_supported,
    }[kind]


def add_providers(
    model,
    kind: Kind,
    nodes: np.ndarray,
    capacity: np.ndarray,
    for_profit: np.ndarray,
    la_run: np.ndarray | None = None,
    la: np.ndarray | None = None,
    sites: list[np.ndarray] | None = None,
) -> None:
    """Open providers of one kind at ``nodes``: price, cost and quality follow kind and owner.
    ``la`` is the authority that runs or owns each (default: where it is); ``sites`` the
    neighbourhoods where each has carers or homes (default: its node only; see
    :func:`represented_sites`)."""
    p, rng, t = model.params, model.streams["market"], model.providers
    n = len(nodes)
    if n == 0:
        return
    _add_sites(model, [np.array([x]) for x in nodes] if sites is None else sites)
    la_run = np.zeros(n, bool) if la_run is None else la_run
    base = _base_price(p, kind) * np.exp(p.market.price_spread * rng.standard_normal(n))
    margin = _margin(p, kind)
    # For-profit providers charge the market price; their cost falls where property is cheap.
    # LA and voluntary providers run at cost, which is the market price less the margin.
    cost = np.where(
        for_profit, base * (1 - margin) * property_cost(model, nodes), base * (1 - margin)
    )
    price = np.where(for_profit, base, cost)
    quality_mean = np.where(
        for_profit, p.market.quality_for_profit, p.market.quality_not_for_profit
    )
    quality = np.clip(quality_mean + p.market.quality_spread * rng.standard_normal(n), 0.05,
                      0.95)
    # LA-run capacity follows the local-sufficiency levers of the authority that runs it; the
    # base is today's level.
    owner = model.region.node_la[nodes] if la is None else la
    lv = model.levers
    sufficiency = lv.inhouse_foster if kind == Kind.INHOUSE_FOSTER else lv.la_homes
    now = np.where(la_run, np.round(capacity * sufficiency[owner]), capacity)
    ids = t.append(
        n,
        kind=int(kind),
        for_profit=for_profit,
        la_run=la_run,
        node=nodes,
        la=owner,
        base_capacity=capacity,
        capacity=now,
        price=price,
        list_price=price,
        cost=cost,
        quality=quality,
    )
    for i in ids:
        model.provider_agents.append(PlacementProvider(model, int(i), model.grid[int(t.node[i])]))


def _locate(model, k: int, weights: np.ndarray) -> np.ndarray:
    rng = model.streams["market"]
    w = weights / weights.sum()
    return rng.choice(len(w), size=k, p=w).astype(np.int16)


def represented_sites(
    model, nodes: np.ndarray, places: np.ndarray, unit: float, weights: np.ndarray
) -> list[np.ndarray]:
    """Where each simulated provider's carers or homes are: ``nodes`` and more, drawn by
    ``weights`` like the provider's own place.

    A simulated provider with ``places`` places stands for ``places / scale`` of England's
    places, that is for ``places / scale / unit`` real homes or branches of ``unit`` places
    each, spread as such providers are. A child goes to the nearest of them. Were a sampled
    provider to sit at one place only, a 5% sample would have a twentieth of England's
    children's homes, and children would be placed further from home the smaller the sample."""
    scale = model.params.run.scale
    count = np.maximum(1, np.round(np.asarray(places) / scale / unit)).astype(np.int64)
    extra = _locate(model, int((count - 1).sum()), weights) if (count > 1).any() else []
    bounds = np.r_[0, np.cumsum(count - 1)]
    return [
        np.r_[nodes[i], extra[bounds[i] : bounds[i + 1]]].astype(np.int64)
        for i in range(len(nodes))
    ]


def _add_sites(model, sites: list[np.ndarray]) -> None:
    """Extend ``model.provider_site``: for each new provider and each neighbourhood, its site
    nearest to that neighbourhood (where a child from there would live).

    The matrix is the first rows of a larger one, with room for half as many providers
    again, so that providers opening (every market review) add their rows rather than copy
    the whole matrix each time (at full scale after five years, 9,949 providers by 459
    neighbourhoods: three copies a review, 8 ms each). A pickled model keeps only the rows
    (the room is made again when needed)."""
    dist = model.region.distance
    rows = np.empty((len(sites), model.region.n_nodes), dtype=np.int16)
    for i, sx in enumerate(sites):
        rows[i] = sx[np.argmin(dist[sx], axis=0)]
    old = model.provider_site
    n0, n1 = len(old), len(old) + len(rows)
    room = old.base
    if not (isinstance(room, np.ndarray) and room.ndim == 2 and room.shape[1] == old.shape[1]
            and room.shape[0] >= n1 and room.dtype == old.dtype
            and old.__array_interface__["data"][0] == room.__array_interface__["data"][0]):
        room = np.empty((n1 + n1 // 2 + 64, old.shape[1]), dtype=old.dtype)
        room[:n0] = old
    room[n0:n1] = rows
    model.provider_site = room[:n1]


def build_market(model) -> None:
    """Open the providers of today's market, sized from published places per 10,000 children."""
    p, rng, r = model.params, model.streams["market"], model.region
    node_children = model.node_children.astype(float)
    share_la = model.levers.for_profit_share  # of the authority where a provider opens
    _build_inhouse(model)
    total = node_children.sum() / 1e4
    # Agencies and supported accommodation: located where people live.
    for kind, per_10k, size in (
        (Kind.IFA, p.placements.ifa_per_10k_children, branch_size(model, full_size(p, Kind.IFA))),
        (
            Kind.SUPPORTED,
            p.placements.supported_per_10k_children,
            branch_size(model, full_size(p, Kind.SUPPORTED)),
        ),
    ):
        places = int(stochastic_round(rng, per_10k * total))
        k = max(1, places // size) if places else 0  # none smaller than ``size``
        cap = np.full(k, places // k if k else 0, dtype=np.int64)
        cap[: places - cap.sum()] += 1
        nodes = _locate(model, k, node_children)
        full = full_size(p, kind)
        sites = represented_sites(model, nodes, cap, full, node_children)
        add_providers(model, kind, nodes, cap, rng.random(k) < share_la[r.node_la[nodes]],
                      sites=sites)
    # Children's homes: small; private homes cluster where property is cheap.
    places = int(stochastic_round(rng, p.placements.home_per_10k_children * total))
    sizes = []
    while sum(sizes) < places:
        sizes.append(int(1 + rng.poisson(p.placements.home_size - 1)))
    k = len(sizes)
    # A home's owner is drawn before its place (private homes go where property is cheap), so
    # homes follow the scenario's share for the whole region (no policy moves it).
    fp = rng.random(k) < p.levers.for_profit_share
    cheap = node_children * property_cost(model, np.arange(r.n_nodes)) ** -4
    nodes = np.where(fp, _locate(model, k, cheap), _locate(model, k, node_children))
    la_run = ~fp & (rng.random(k) < p.placements.home_la_run_share)
    sizes = np.array(sizes)
    sites = [
        represented_sites(model, nodes[i : i + 1], sizes[i : i + 1], sizes[i], cheap if fp[i]
                          else node_children)[0]
        for i in range(k)
    ]
    add_providers(
        model, Kind.CHILDRENS_HOME, nodes.astype(np.int16), sizes, fp, la_run, sites=sites
    )


def _build_inhouse(model) -> None:
    """LA foster carers: one pool per authority, recruited authority-wide and based at its
    central neighbourhood, with places in proportion to its children; a share of them
    (``inhouse_outside_share``) live just across the authority's boundary, in a neighbourhood
    of another authority next to it on the network (carers do not stop at council borders),
    and take only their own authority's children. One pool per authority rather than one per
    neighbourhood keeps pools big enough in a small sample to have room when England's would
    (the reason for :data:`MIN_POOL`); the pool has carers in each of the authority's
    neighbourhoods (its sites), so a child placed in-house lives in its own neighbourhood."""
    p, rng, r = model.params, model.streams["market"], model.region
    la_children = np.bincount(r.node_la, weights=model.node_children, minlength=r.n_la)
    places = stochastic_round(rng, p.placements.inhouse_per_10k_children * la_children / 1e4)
    outside = rng.binomial(places, p.placements.inhouse_outside_share)
    centre = 3 * np.arange(r.n_la) + 1
    indptr, nbrs = model.neighbours
    owner, node, cap = [np.arange(r.n_la)], [centre], [places - outside]
    sites = [np.flatnonzero(r.node_la == la) for la in range(r.n_la)]
    for la in np.flatnonzero(outside):
        mine = np.flatnonzero(r.node_la == la)
        across = np.unique(np.concatenate([nbrs[indptr[n] : indptr[n + 1]] for n in mine]))
        across = across[r.node_la[across] != la]
        if len(across) == 0:  # an island authority: its carers all live inside it
            cap[0][la] += outside[la]
            continue
        owner.append([la])
        node.append([across[rng.integers(len(across))]])
        cap.append([outside[la]])
        sites.append(np.array(node[-1]))
    owner, node, cap = (np.concatenate(x).astype(np.int64) for x in (owner, node, cap))
    keep = cap > 0
    n = int(keep.sum())
    add_providers(
        model,
        Kind.INHOUSE_FOSTER,
        node[keep].astype(np.int16),
        cap[keep],
        np.zeros(n, bool),
        np.ones(n, bool),
        la=owner[keep],
        sites=[sx for sx, k in zip(sites, keep, strict=True) if k],
    )


def market_occupancy(model) -> np.ndarray:
    """Occupancy of each kind of placement across the market (indexed by :class:`Kind`)."""
    t = model.providers
    live = t.active
    kind = t.kind[live].astype(np.int64)
    cap = np.bincount(kind, weights=t.capacity[live], minlength=len(Kind))
    occ = np.bincount(kind, weights=t.occupied[live], minlength=len(Kind))
    return np.divide(occ, cap, out=np.ones(len(Kind)), where=cap > 0)


def review_market(model) -> None:
    """The month's market: each provider reviews its capacity, price and future, the closed
    leave the market, and new for-profit providers enter where a kind is full."""
    model.market_occupancy = market_occupancy(model)
    review_providers(model)
    model.provider_agents = [
        a for a in model.provider_agents if a.model is not None and model.providers.active[a.idx]
    ]
    market_entry(model)


def review_providers(model) -> None:
    """Every provider's monthly review (:meth:`PlacementProvider.review_month`, the
    definition, provider by provider) as array operations over the providers: each
    provider's decisions read and write its own row only, so the order they are taken in
    does not matter, and each operation is the one the scalar code makes, in its types
    (numpy's rules for scalars: a float32 cost times a Python float is float32, NEP 50), so
    every value is the same. Closed providers leave in the agents' order. (A month at full
    scale reviews thousands of providers: a Python call each cost a sixtieth of a CPU
    second a week, issue 13.)"""
    t, p, lv = model.providers, model.params, model.levers
    agents = model.provider_agents
    idx = np.fromiter((a.idx for a in agents), np.int64, len(agents))
    rows = idx[t.active[idx]]
    run = rows[t.la_run[rows]]
    if len(run):
        la = t.la[run]
        sufficiency = np.where(t.kind[run] == Kind.INHOUSE_FOSTER, lv.inhouse_foster[la],
                               lv.la_homes[la])
        target = np.round(t.base_capacity[run] * sufficiency * model.la_children_scale[la])
        t.capacity[run] = np.maximum(target, t.occupied[run])
    closing = t.closing[rows]
    shut = rows[closing]
    t.capacity[shut] = t.occupied[shut]
    gone = shut[t.occupied[shut] == 0]
    t.active[gone] = False
    if len(gone):
        leaving = np.zeros(t.n, bool)
        leaving[gone] = True
        for agent in [a for a in agents if leaving[a.idx]]:
            agent.remove()
    rest = rows[~closing & t.for_profit[rows]]
    if len(rest) == 0:
        return
    tight = model.market_occupancy[t.kind[rest]] - p.market.target_occupancy
    price = t.list_price[rest] * (1.0 + p.market.price_response * tight)
    cap = lv.profit_cap[t.la[rest]]
    cost = t.cost[rest]
    # (cost * (1.0 + cap), a float32 times a Python float: in float32.)
    ceiling = np.where(cap > 0, cost * (1.0 + cap).astype(np.float32), np.float32(np.inf))
    t.price[rest] = np.clip(price, cost, ceiling)
    capacity = t.capacity[rest]
    occ = np.ones(len(rest))
    np.divide(t.occupied[rest], capacity, out=occ, where=capacity != 0)
    low = np.where(occ < p.market.exit_occupancy, t.low_months[rest] + 1, 0)
    t.low_months[rest] = low
    t.closing[rest[low >= p.market.exit_months]] = True


def review_providers_reference(model) -> None:
    """:func:`review_providers` provider by provider (the definition)."""
    for agent in list(model.provider_agents):
        agent.review_month()


def market_entry(model) -> None:
    """New for-profit providers open where a kind is nearly full and margins beat the hurdle."""
    p, rng, t = model.params, model.streams["market"], model.providers
    node_children = model.node_children.astype(float)
    cheap = node_children * property_cost(model, np.arange(model.region.n_nodes)) ** -4
    for kind in MARKET_KINDS:
        rows = np.flatnonzero(t.active & (t.kind == kind))
        if len(rows) == 0:
            continue
        cap = t.capacity[rows].sum()
        occ = t.occupied[rows].sum() / cap if cap else 1.0
        fp = rows[t.for_profit[rows]]
        if len(fp) == 0 or occ <= p.market.target_occupancy:
            continue
        margin = float(np.mean(1.0 - t.cost[fp] / t.price[fp]))
        pull = max(0.0, margin / p.market.hurdle_margin - 1.0)
        push = (occ - p.market.target_occupancy) / (1.0 - p.market.target_occupancy)
        places = rng.poisson(p.market.entry_rate * cap * pull * push)
        if places == 0:
            continue
        if kind == Kind.CHILDRENS_HOME:
            size = 1 + rng.poisson(
                p.placements.home_size - 1, max(1, round(places / p.placements.home_size))
            )
            nodes = _locate(model, len(size), cheap)
            sites = [represented_sites(model, nodes[i : i + 1], size[i : i + 1], size[i], cheap)[0]
                     for i in range(len(size))]
        else:
            full = full_size(p, kind)
            unit = branch_size(model, full)
            size = np.full(max(1, places // unit), unit)
            size[-1] += places - size.sum()  # the remainder joins the last
            nodes = _locate(model, len(size), node_children)
            sites = represented_sites(model, nodes, size, full, node_children)
        add_providers(model, kind, nodes, size, np.ones(len(size), bool), sites=sites)
        model.count("providers_entered", model.region.node_la[nodes])
