"""A hex cartogram of children's-services authorities: one equal hexagon per authority.

Why hexagons: on a geographic map of a region, big rural counties dwarf the city boroughs where
most children in care live, and the boroughs' labels pile on top of each other (issue 14: "the
map is about 420 px wide with overlapping labels"). A hex cartogram gives every authority the
same area, a short code that fits inside it, and neighbours that are roughly where they are on
the ground, so a class at the back of a room can read it.

The layout is generated once, by ``scripts/hex_layout.py``, from the authorities' centroids in
``sim/data/england_local_authorities.csv``, and shipped as ``sim/data/hex_layout.csv`` (one row
per authority: its short code, and its hexagon's column and row in a layout of its region and
in a layout of England). The app reads that file; it only computes a layout at run time for
authorities the file does not have (the made-up ``synthetic`` region), with the same function.

Hexagons are "pointy-top" in offset coordinates: row ``r`` is ``r * sqrt(3)/2`` up from row
0 (rows grow northwards), and odd rows are shifted half a hexagon to the east.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

ROW_HEIGHT = float(np.sqrt(3.0) / 2.0)
#: Cells per authority in the bounding box of the de-clustered centroids (more: closer to the
#: geography but more holes; 0.9 left 11 pieces over the 9 regions, 1.35 left 20).
CELLS_PER_AUTHORITY = 0.9
#: How much of each centroid coordinate is replaced by its rank before placing: dense clusters
#: (Greater Manchester, Tyneside, London) are spread out so that their boroughs are not pushed
#: to the cluster's rim; 0 keeps the raw geography, 1 keeps only the order.
RANK_BLEND = 0.5
LAYOUT_FILE = "hex_layout.csv"
_STOP = {"and", "of", "upon", "on", "the", "in", "le"}
_COMPASS = {"North", "South", "East", "West", "Central"}


def hex_centres(col: np.ndarray, row: np.ndarray) -> np.ndarray:
    """The centres (x, y) of hexagons at offset coordinates (col, row), in units of one
    hexagon's width."""
    col, row = np.asarray(col, float), np.asarray(row, int)
    return np.column_stack([col + 0.5 * (row % 2), row * ROW_HEIGHT])


def place(lat: Sequence[float], lon: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """A hexagon (col, row) for each centroid: the assignment of authorities to the cells of a
    hexagonal grid that minimises the total squared distance between each authority's
    (de-clustered) centroid and its cell's centre (scipy's ``linear_sum_assignment``, an exact
    solution, so the layout is reproducible and has no overlaps by construction)."""
    from scipy.optimize import linear_sum_assignment

    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    n = len(lat)
    if n == 0:
        return np.zeros(0, int), np.zeros(0, int)
    if n == 1:
        return np.zeros(1, int), np.zeros(1, int)
    x = lon * np.cos(np.radians(lat.mean()))
    y = lat.copy()
    span = max(np.ptp(x), np.ptp(y), 1e-9)
    pts = []
    for v in (x, y):
        rank = np.argsort(np.argsort(v, kind="stable"), kind="stable") / (n - 1)
        spread = np.ptp(v) / span  # keep the region's aspect ratio
        pts.append((1 - RANK_BLEND) * (v - v.min()) / span + RANK_BLEND * rank * spread)
    p = np.column_stack(pts)
    w, h = max(np.ptp(p[:, 0]), 0.05), max(np.ptp(p[:, 1]), 0.05)
    s = np.sqrt(CELLS_PER_AUTHORITY * n * ROW_HEIGHT / (w * h))  # grid units per data unit
    p = (p - p.min(axis=0)) * s
    cols = np.arange(-1, int(np.ceil(p[:, 0].max())) + 2)
    rows = np.arange(-2, int(np.ceil(p[:, 1].max() / ROW_HEIGHT)) + 3)
    cc, rr = (a.ravel() for a in np.meshgrid(cols, rows))
    centres = hex_centres(cc, rr)
    cost = ((p[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    who, cell = linear_sum_assignment(cost)
    col, row = np.empty(n, int), np.empty(n, int)
    col[who], row[who] = cc[cell], rr[cell]
    row_shift = row.min() - (row.min() % 2)  # shift by an even number: keeps the odd-row offset
    return col - col.min(), row - row_shift


def short_codes(names: Sequence[str]) -> list[str]:
    """A unique three-letter code for each name, upper case, from its significant words
    ("Redcar and Cleveland" -> "RCL", "North Tyneside" -> "NTY", "Newcastle upon Tyne" ->
    "NEW", "Hartlepool" -> "HAR"); on a clash, the next candidate that is free (so the first
    name keeps the most natural code; names are taken in the order given)."""
    used: set[str] = set()
    out = []
    for name in names:
        base = name.split(",")[0]
        if base.startswith("City of ") and base != "City of London":
            base = base.removeprefix("City of ")  # "City of Bristol" -> BRI
        words = [w for w in re.split(r"[\s\-]+", base) if w]
        sig = [w for w in words if w.lower() not in _STOP] or words
        letters = re.sub(r"[^A-Za-z]", "", "".join(sig)).upper() or "X"
        cands = []
        if len(sig) >= 3:  # "East Riding of Yorkshire" -> ERY
            cands.append("".join(w[0] for w in sig[:3]).upper())
        elif len(sig) == 2 and (sig[0] in _COMPASS or " and " in name):
            # "North Tyneside" -> NTY, "Redcar and Cleveland" -> RCL
            cands.append((sig[0][0] + re.sub(r"[^A-Za-z]", "", sig[1])[:2]).upper())
        cands.append(letters[:3])  # "Newcastle upon Tyne" -> NEW
        first = letters[0]
        cands += [first + a + b for i, a in enumerate(letters[1:], 1)
                  for b in letters[i + 1:]]
        cands += [first + a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
        code = next(c for c in cands if len(c) == 3 and c not in used)
        used.add(code)
        out.append(code)
    return out


@dataclass(frozen=True)
class HexLayout:
    """Where each authority of a region sits on the cartogram, in the region's own order."""

    code: np.ndarray  # three-letter codes
    col: np.ndarray
    row: np.ndarray

    @property
    def xy(self) -> np.ndarray:
        return hex_centres(self.col, self.row)


@cache
def shipped() -> dict[str, dict[str, str]]:
    """The shipped layout file's rows by GSS code."""
    path = resources.files("sim") / "data" / LAYOUT_FILE
    with path.open(encoding="utf-8") as f:
        return {r["gss_code"]: r for r in csv.DictReader(f)}


def layout_for(codes: Sequence[str], names: Sequence[str], lat: Sequence[float],
               lon: Sequence[float], england: bool = False) -> HexLayout:
    """The cartogram of a region's authorities (GSS ``codes``, in the region's order): the
    shipped layout of their region (or of England, ``england=True``) when the file has every
    one of them and they make up whole regions, else one placed now from their centroids."""
    rows = shipped()
    have = [rows.get(str(c)) for c in codes]
    regions = {r["region"] for r in have if r}
    whole = all(have) and (england or len(regions) == 1) and len(codes) == sum(
        r["region"] in regions for r in rows.values())
    if whole:
        key = "england" if england else "region"
        return HexLayout(code=np.array([r["code"] for r in have]),
                         col=np.array([int(r[f"{key}_col"]) for r in have]),
                         row=np.array([int(r[f"{key}_row"]) for r in have]))
    col, row = place(lat, lon)
    return HexLayout(code=np.array(short_codes([str(n) for n in names])), col=col, row=row)
