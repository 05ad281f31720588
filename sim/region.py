"""The regional network: England's children's-services authorities and their neighbourhoods.

Places are *neighbourhoods*: each authority is split into three, one per deprivation band (low,
medium, high), carrying the share of the authority's population that the shipped data gives for
that band. Families live in a neighbourhood; providers sit in one; every placement's distance is
the road distance between two neighbourhoods.

Distances. A neighbourhood's position is its authority's centroid offset by half the
authority's equivalent-disc radius (area = population / density), one band at each of three
fixed bearings, so the three are distinct places inside the authority. The distance between two
places is the great-circle distance between them times a road circuity factor (``road_factor``,
default 1.3, an assumption in line with published circuity estimates of 1.2-1.4 for Britain). A
place's distance to itself is the mean distance between two random points of a disc of the
neighbourhood's area (0.905 R), so a placement "in the same neighbourhood" is not zero miles.

The networkx graph joins places that are Delaunay neighbours (a planar "who borders whom"
approximation) and the three places of each authority; edges carry ``miles``. The graph is
what the map draws and what kinship networks spread over; the dense distance matrix is what
the hot path reads.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

import networkx as nx
import numpy as np
from scipy.spatial import Delaunay

EARTH_RADIUS_MILES = 3958.8
#: Share of England's population aged 0-17: 11.95 million children (DfE CLA 2024, implied by
#: 83,630 at 70 per 10,000) over 56.55 million people (the shipped 2020 populations).
ENGLAND_CHILDREN = 11_950_000
CHILD_SHARE = ENGLAND_CHILDREN / 56_550_138
BANDS = ("low", "medium", "high")
REGIONS = (
    "East Midlands",
    "East of England",
    "London",
    "North East",
    "North West",
    "South East",
    "South West",
    "West Midlands",
    "Yorkshire and The Humber",
)


@dataclass(frozen=True)
class Region:
    """A set of authorities and their neighbourhoods, with distances between them.

    Arrays indexed by authority (``la_*``) have one entry per authority in the region;
    arrays indexed by place (``node_*``) have three entries per authority (bands in order).
    """

    name: str
    la_code: np.ndarray  # GSS code
    la_name: np.ndarray
    la_region: np.ndarray
    la_children: np.ndarray  # child population (all of it, before any sampling)
    la_lat: np.ndarray
    la_lon: np.ndarray
    la_deprivation: np.ndarray  # composite deprivation score (higher = more deprived)
    la_deprivation_decile: np.ndarray  # 1 = most deprived
    node_la: np.ndarray  # authority index of each place
    node_band: np.ndarray  # 0 low, 1 medium, 2 high deprivation
    node_share: np.ndarray  # share of the authority's population living there
    node_lat: np.ndarray
    node_lon: np.ndarray
    node_density: np.ndarray  # people per km2 (authority's)
    distance: np.ndarray  # road miles between places, (n_nodes, n_nodes)
    graph: nx.Graph

    @property
    def n_la(self) -> int:
        return len(self.la_code)

    @property
    def n_nodes(self) -> int:
        return len(self.node_la)


def _great_circle_miles(lat1, lon1, lat2, lon2) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def load_authorities() -> list[dict]:
    """England's 153 authorities from the shipped CSV (mySociety, CC-BY-4.0; see SOURCES.md)."""
    path = resources.files("sim") / "data" / "england_local_authorities.csv"
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def england(region: str = "England", road_factor: float = 1.3) -> Region:
    """Build the network for ``region`` (one of :data:`REGIONS`) or all of ``"England"``."""
    rows = load_authorities()
    if region != "England":
        rows = [r for r in rows if r["region"] == region]
        if not rows:
            raise ValueError(f"unknown region {region!r}; allowed: England, " + ", ".join(REGIONS))
    pop = np.array([float(r["population_2020"]) for r in rows])
    shares = np.array(
        [[float(r[f"share_{b}_deprivation"]) for b in BANDS] for r in rows], dtype=float
    )
    shares = shares / shares.sum(axis=1, keepdims=True)
    return _build(
        name=region,
        code=[r["gss_code"] for r in rows],
        names=[r["name"] for r in rows],
        regions=[r["region"] for r in rows],
        population=pop,
        lat=np.array([float(r["lat"]) for r in rows]),
        lon=np.array([float(r["lon"]) for r in rows]),
        deprivation=np.array([float(r["deprivation_score"]) for r in rows]),
        decile=np.array([int(r["deprivation_decile"]) for r in rows]),
        shares=shares,
        density=np.array([float(r["density_per_km2"]) for r in rows]),
        road_factor=road_factor,
    )


def synthetic(
    n_la: int = 6, seed: int = 0, population: float = 200_000, road_factor: float = 1.3
) -> Region:
    """A small made-up region for tests and teaching: authorities on a jittered ring around a
    city, deprivation falling from the centre outwards (a common English pattern)."""
    rng = np.random.default_rng(seed)
    angle = np.linspace(0, 2 * np.pi, n_la, endpoint=False)
    radius_deg = 0.25 + 0.05 * rng.random(n_la)
    radius_deg[0] = 0.0
    lat = 53.5 + radius_deg * np.sin(angle)
    lon = -2.2 + 1.6 * radius_deg * np.cos(angle)
    deprivation = np.linspace(40, 12, n_la)
    high = np.clip(deprivation / 80, 0.05, 0.8)
    low = np.clip(0.6 - high, 0.05, 0.8)
    shares = np.column_stack([low, 1 - low - high, high])
    decile = np.clip(np.round(10 - deprivation / 4.5), 1, 10).astype(int)
    return _build(
        name="Synthetic",
        code=[f"S{i:08d}" for i in range(n_la)],
        names=[f"Authority {chr(65 + i)}" for i in range(n_la)],
        regions=["Synthetic"] * n_la,
        population=np.full(n_la, float(population)),
        lat=lat,
        lon=lon,
        deprivation=deprivation,
        decile=decile,
        shares=shares,
        density=np.linspace(3000, 400, n_la),
        road_factor=road_factor,
    )


def _build(
    *,
    name,
    code,
    names,
    regions,
    population,
    lat,
    lon,
    deprivation,
    decile,
    shares,
    density,
    road_factor,
) -> Region:
    n = len(code)
    area_km2 = population / density
    radius_miles = np.sqrt(area_km2 / np.pi) * 0.621371
    # Three places per authority at fixed bearings, half a radius from the centroid.
    bearing = np.radians([210.0, 90.0, 330.0])
    offset = 0.5 * radius_miles[:, None]
    dlat = offset * np.cos(bearing)[None, :] / 69.0
    dlon = offset * np.sin(bearing)[None, :] / (69.0 * np.cos(np.radians(lat))[:, None])
    node_lat = (lat[:, None] + dlat).ravel()
    node_lon = (lon[:, None] + dlon).ravel()
    node_la = np.repeat(np.arange(n), 3)
    node_band = np.tile(np.arange(3), n)
    node_share = shares.ravel()
    dist = road_factor * _great_circle_miles(
        node_lat[:, None], node_lon[:, None], node_lat[None, :], node_lon[None, :]
    )
    node_radius = radius_miles[node_la] * np.sqrt(np.maximum(node_share, 0.02))
    np.fill_diagonal(dist, 0.905 * node_radius * road_factor)
    graph = _graph(node_la, node_band, node_lat, node_lon, dist, np.asarray(names))
    return Region(
        name=name,
        la_code=np.asarray(code),
        la_name=np.asarray(names),
        la_region=np.asarray(regions),
        la_children=np.round(population * CHILD_SHARE).astype(np.int64),
        la_lat=lat,
        la_lon=lon,
        la_deprivation=deprivation,
        la_deprivation_decile=np.asarray(decile),
        node_la=node_la,
        node_band=node_band,
        node_share=node_share,
        node_lat=node_lat,
        node_lon=node_lon,
        node_density=np.asarray(density)[node_la],
        distance=dist,
        graph=graph,
    )


def _graph(node_la, node_band, node_lat, node_lon, dist, la_names) -> nx.Graph:
    g = nx.Graph()
    for i in range(len(node_la)):
        g.add_node(
            i,
            la=int(node_la[i]),
            la_name=str(la_names[node_la[i]]),
            band=BANDS[node_band[i]],
            lat=float(node_lat[i]),
            lon=float(node_lon[i]),
        )
    xy = np.column_stack([node_lon * np.cos(np.radians(node_lat.mean())), node_lat])
    pairs: set[tuple[int, int]] = set()
    if len(xy) >= 4:
        for simplex in Delaunay(xy).simplices:
            for a in range(3):
                i, j = sorted((int(simplex[a]), int(simplex[(a + 1) % 3])))
                pairs.add((i, j))
    for la in np.unique(node_la):
        i = 3 * int(la)
        pairs |= {(i, i + 1), (i, i + 2), (i + 1, i + 2)}
    g.add_edges_from((i, j, {"miles": float(dist[i, j])}) for i, j in sorted(pairs))
    return g
