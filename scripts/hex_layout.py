"""Generate sim/data/hex_layout.csv: the hex cartogram of England's children's-services
authorities that the teaching app's map draws (sim/workflows/hexmap.py says why hexagons).

Run once, from the repository's root, whenever england_local_authorities.csv changes:

    .venv/bin/python scripts/hex_layout.py            # writes sim/data/hex_layout.csv
    .venv/bin/python scripts/hex_layout.py --check    # exit 1 if the shipped file differs
    .venv/bin/python scripts/hex_layout.py --preview results/hex_layout.png

Input: the authorities' centroids (lat, lon) in sim/data/england_local_authorities.csv
(mySociety, CC-BY-4.0; see sim/data/SOURCES.md). Output, one row per authority in GSS-code
order: gss_code, name, region, code (a unique three-letter code for the map), region_col and
region_row (its hexagon in a layout of its own region, which is what a region run shows),
england_col and england_row (in a layout of all 153). Each layout is placed by
``sim.workflows.hexmap.place``: an exact assignment of authorities to hexagons minimising the
squared distance from their de-clustered centroids, so the same input always gives the same file.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.region import load_authorities  # noqa: E402
from sim.workflows.hexmap import LAYOUT_FILE, hex_centres, place, short_codes  # noqa: E402

OUT = ROOT / "sim" / "data" / LAYOUT_FILE
FIELDS = ("gss_code", "name", "region", "code", "region_col", "region_row", "england_col",
          "england_row")


def build() -> str:
    """The layout file's text."""
    rows = sorted(load_authorities(), key=lambda r: r["gss_code"])
    lat = np.array([float(r["lat"]) for r in rows])
    lon = np.array([float(r["lon"]) for r in rows])
    codes = short_codes([r["name"] for r in rows])
    e_col, e_row = place(lat, lon)
    r_col, r_row = np.zeros(len(rows), int), np.zeros(len(rows), int)
    for region in sorted({r["region"] for r in rows}):
        idx = np.array([i for i, r in enumerate(rows) if r["region"] == region])
        r_col[idx], r_row[idx] = place(lat[idx], lon[idx])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(FIELDS)
    for i, r in enumerate(rows):
        w.writerow([r["gss_code"], r["name"], r["region"], codes[i], r_col[i], r_row[i],
                    e_col[i], e_row[i]])
    return buf.getvalue()


def preview(text: str, path: Path) -> None:
    """Every region's layout on one sheet, to look at before shipping."""
    from matplotlib.figure import Figure
    from matplotlib.patches import RegularPolygon

    rows = list(csv.DictReader(io.StringIO(text)))
    regions = sorted({r["region"] for r in rows})
    fig = Figure(figsize=(16, 12), dpi=80)
    for k, region in enumerate([*regions, "England"]):
        ax = fig.add_subplot(3, 4, k + 1)
        sel = rows if region == "England" else [r for r in rows if r["region"] == region]
        key = "england" if region == "England" else "region"
        xy = hex_centres(np.array([int(r[f"{key}_col"]) for r in sel]),
                         np.array([int(r[f"{key}_row"]) for r in sel]))
        for (x, y), r in zip(xy, sel, strict=True):
            ax.add_patch(RegularPolygon((x, y), 6, radius=0.57, fc="#fde0c5", ec="#555"))
            ax.text(x, y, r["code"], ha="center", va="center",
                    fontsize=7 if region != "England" else 3)
        ax.set_xlim(xy[:, 0].min() - 1, xy[:, 0].max() + 1)
        ax.set_ylim(xy[:, 1].min() - 1, xy[:, 1].max() + 1)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(region, fontsize=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 if the shipped file is not what this generates")
    ap.add_argument("--preview", type=Path, help="also draw every layout into this PNG")
    args = ap.parse_args()
    text = build()
    if args.preview:
        preview(text, args.preview)
    if args.check:
        same = OUT.exists() and OUT.read_text(encoding="utf-8") == text
        print(f"{OUT.relative_to(ROOT)}: {'up to date' if same else 'differs: rerun'}")
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} ({text.count(chr(10)) - 1} authorities)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
