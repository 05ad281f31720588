"""The teaching model and the pictures the teaching app shows of it.

:class:`TeachingSeries` is an observer (``model.observers.on_week``, :class:`sim.model.Observers`)
that records, after every week, the series the live charts plot and the loop variables of
:mod:`sim.workflows.loops`; :class:`TeachingModel` is the model the page runs, a
:class:`~sim.model.CareSystem` built from the page's controls with that observer attached. The
``draw_*`` functions paint one matplotlib :class:`~matplotlib.figure.Figure` each (the map, the live
charts, the causal loop diagram, one child's timeline). They import nothing from Solara, so
the benchmark and the tests can time and check them without a browser; :mod:`sim.workflows.app`
wraps them in Solara components.

Why a region and a scale of its own: a class needs the page to move at several weeks a second
on a school laptop, and a map a class can read. North East England (12 authorities) at a
quarter of its families has enough children in care (about 1,000 in the sample) for the loops
to show above the noise, and steps fast enough (see ``benchmarks/app_speed.py``). Counts and
money shown are scaled back up (divided by the scale) to estimates for the whole region.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import matplotlib
import numpy as np
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection, PatchCollection, PolyCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, RegularPolygon
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

from policies import preset_scenarios
from sim.config import Scenario, load_scenario
from sim.model import CareSystem
from sim.population import WEEKS_PER_YEAR, End
from sim.region import synthetic
from sim.snapshot import TEACHING_WARM_START_YEARS, teaching_scenario, teaching_warm_start
from sim.workflows.hexmap import HexLayout, layout_for
from sim.workflows.loops import LINKS, LOOPS, VARIABLES, Assessment, LoopMonitor, observe

#: The app's default region and share of families simulated (see the module docstring).
TEACHING_REGION = "North East"
TEACHING_SCALE = 0.25
FILE_PRESET = "scenario file"
#: Children in care per 10,000 at the top of the map's colour scale (England: 70; the North
#: East: about 110 in 2024).
MAP_RATE_MAX = 160.0
DPI = 64
#: Years every preset runs before the page's week 0 (sim.snapshot.TEACHING_WARM_START_YEARS,
#: the England baseline's 20; a preset's own longer burn-in stands). The drawn start is far
#: from the model's own balance: cold-started (default preset, North East, scale 0.25, seed 1)
#: children in care climbed from 70 to 117 per 10,000 in four years and then fell back to
#: about 88 over the next ten; after the two years the page used to run they were still
#: climbing 17% in the next four. The state at week 0 is kept on disk, so only the first page
#: of a preset and seed (per code version) waits for it (about 13 CPU seconds).
WARM_START_YEARS = TEACHING_WARM_START_YEARS


@dataclass(frozen=True)
class AppConfig:
    """What ``cscsim app`` was started with; passed to the server process through the
    environment so that every browser session builds its models the same way."""

    region: str = TEACHING_REGION
    scale: float = TEACHING_SCALE
    scenario_file: str | None = None
    window: int = 13

    ENV: ClassVar[dict[str, str]] = {"region": "CSCSIM_APP_REGION", "scale": "CSCSIM_APP_SCALE",
           "scenario_file": "CSCSIM_APP_SCENARIO", "window": "CSCSIM_APP_WINDOW"}

    @classmethod
    def from_env(cls) -> AppConfig:
        env = os.environ
        return cls(
            region=env.get(cls.ENV["region"], TEACHING_REGION),
            scale=float(env.get(cls.ENV["scale"], TEACHING_SCALE)),
            scenario_file=env.get(cls.ENV["scenario_file"]) or None,
            window=int(env.get(cls.ENV["window"], 13)),
        )

    def to_env(self) -> dict[str, str]:
        out = {self.ENV["region"]: self.region, self.ENV["scale"]: repr(self.scale),
               self.ENV["window"]: str(self.window)}
        if self.scenario_file:
            out[self.ENV["scenario_file"]] = str(Path(self.scenario_file).resolve())
        return out

    def presets(self) -> list[str]:
        """Names for the preset picker: the scenario file first (if any), then the shipped ones
        with ``default`` first."""
        names = sorted(preset_scenarios(), key=lambda n: (n != "default", n))
        return ([FILE_PRESET] if self.scenario_file else []) + names

    def preset_titles(self) -> dict[str, str]:
        """The picker's entries: each preset's title (its TOML ``name``) -> its key, in the
        order of :meth:`presets`. A title shared by two presets gets its key added."""
        out: dict[str, str] = {}
        for key in self.presets():
            title = self.base_scenario(key).name
            if key == FILE_PRESET:
                title = f"{title} (your file)"
            out[title if title not in out else f"{title} ({key})"] = key
        return out

    def base_scenario(self, preset: str) -> Scenario:
        """The preset's scenario as its file has it (the picker's title and description)."""
        if preset == FILE_PRESET and self.scenario_file:
            return load_scenario(self.scenario_file)
        presets = preset_scenarios()
        return load_scenario(presets[preset]) if preset in presets else Scenario()

    def scenario(self, preset: str, seed: int,
                 overrides: dict[str, Any] | None = None) -> Scenario:
        """The preset's scenario, on the teaching region and scale, with events recorded
        (the child timeline needs them) and a burn-in of at least :data:`WARM_START_YEARS`."""
        base = self.base_scenario(preset)
        region = self.region if self.region != "synthetic" else TEACHING_REGION
        return teaching_scenario(base.with_overrides(
            {"run.region": region, "run.scale": self.scale, "run.seed": int(seed),
             "run.record_events": True, **(overrides or {})}, where="teaching app"),
            WARM_START_YEARS)


class TeachingSeries:
    """The weekly series the teaching app plots, and the loop monitor: an observer of any
    :class:`~sim.model.CareSystem` (``model.observers.on_week(series.record)``), so the app
    watches the model rather than overriding its step. Observers see only reported weeks
    (week 0 on): the warm start runs while the model is built, before this is attached, so the
    charts and the loop measure begin at year 1, never at the drawn start."""

    SERIES = ("week", "entries", "in_care", "breakdowns", "moves", "spend_early_help",
              "spend_social_work", "spend_placements", "overspend_ytd", "cla_rate")

    def __init__(self, window: int) -> None:
        self.history: dict[str, list[float]] = {k: [] for k in self.SERIES}
        self.monitor = LoopMonitor(window=window)
        self._assessed: tuple[int, Assessment] = (0, self.monitor.assess())

    @property
    def assessment(self) -> Assessment:
        """The loop assessment of the weeks recorded so far. Computed when asked for, not
        every week: it is a function of the recorded series alone, and the page looks at it
        every few weeks (the no-change baseline's worker never)."""
        n = len(self.monitor.weeks)
        if self._assessed[0] != n:
            self._assessed = (n, self.monitor.assess())
        return self._assessed[1]

    def record(self, model: CareSystem) -> None:
        """Append the week just stepped (called by the model at the end of each step)."""
        if model.week < 0:  # (a burn-in week: not shown)
            return
        wf, c = model.week_flows, model.pop.children
        h = self.history
        h["week"].append(model.week)
        h["entries"].append(wf.get("care_entries", 0.0))
        h["in_care"].append(float(c.in_care.sum()))
        h["breakdowns"].append(wf.get("placement_breakdowns", 0.0))
        h["moves"].append(wf.get("placement_moves", 0.0))
        h["spend_early_help"].append(wf.get("spend_early_help_gbp", 0.0))
        h["spend_social_work"].append(wf.get("spend_social_work_gbp", 0.0))
        h["spend_placements"].append(wf.get("spend_placements_gbp", 0.0))
        h["overspend_ytd"].append(overspend_to_date(model))
        h["cla_rate"].append(region_rate(model))
        self.monitor.record(model.week, observe(model))


def overspend_to_date(model: CareSystem) -> float:
    """This year's spending so far above the budget accrued so far, summed over the
    authorities that are over. The budget is the model's own weekly accrual (``budget_gbp``:
    each week at the lever values in force that week), so moving a lever changes the budget
    from that week on, not retrospectively, and the last week of a year equals that year's
    ``overspend_gbp`` (the year closes on the same sums)."""
    if (model.week + 1) % WEEKS_PER_YEAR == 0 and model.annual:
        return float(model.annual[-1].get("overspend_gbp", 0.0))  # the flows were reset
    total = np.zeros(model.n_la)
    for k in ("spend_early_help_gbp", "spend_social_work_gbp", "spend_placements_gbp"):
        if k in model.flows:
            total += model.flows[k]
    budget = model.flows.get("budget_gbp", np.zeros(model.n_la))
    return float(np.maximum(total - budget, 0.0).sum())


def region_rate(model: CareSystem) -> float:
    """Children in care per 10,000 children in the whole simulated region."""
    c = model.pop.children
    n = int((c.active | c.in_care).sum())
    return 1e4 * float(c.in_care.sum()) / n if n else 0.0


def _restore(cls: type) -> Any:
    """An empty ``cls`` for the unpickler to fill (:meth:`TeachingModel.__reduce_ex__`)."""
    return object.__new__(cls)


class TeachingModel(CareSystem):
    """The model the teaching page runs: a plain :class:`~sim.model.CareSystem` (it overrides
    none of its behaviour) with a :class:`TeachingSeries` observing it, a log of the class's
    lever moves and a few read-only views the page draws.

    It is a class, not a function returning a ``CareSystem``, because Mesa's ``SolaraViz``
    rebuilds the model on Reset by calling the model's class with the page's controls: so its
    constructor takes only keyword arguments a Solara control can hold.
    """

    SERIES = TeachingSeries.SERIES

    def __new__(cls, preset: str = "default", seed: int = 1, config: AppConfig | None = None,
                overrides: dict[str, Any] | None = None) -> TeachingModel:
        """The preset's model at week 0, after its warm start: a plain ``CareSystem`` loaded
        from the warm-start cache or run (:func:`sim.snapshot.teaching_warm_start`), made a
        ``TeachingModel``; ``__init__`` then attaches what the page needs."""
        config = config or AppConfig.from_env()
        region = synthetic(8, 0) if config.region == "synthetic" else None
        model = teaching_warm_start(config.scenario(preset, seed, overrides), region)
        model.__class__ = cls
        return model

    def __reduce_ex__(self, protocol: int) -> tuple:
        """Pickled as the object it is, and unpickled without calling ``__new__`` (whose warm
        start would build another model): the page's warm copies and the baseline's worker
        pickle models."""
        return (_restore, (type(self),), self.__getstate__())

    def __init__(self, preset: str = "default", seed: int = 1, config: AppConfig | None = None,
                 overrides: dict[str, Any] | None = None) -> None:
        # (no CareSystem.__init__: __new__ returned a model already built and warm)
        self.config = config or AppConfig.from_env()
        # Every row kept from week 0 (the warm start retired its rows as any run does): the page
        # follows a child for years, after it leaves.
        self.compact_rows = False
        self.preset = preset
        #: What the model was built from: its no-change baseline's key (sim.workflows.baseline).
        self.spec = (self.config, preset, int(seed), dict(overrides or {}))
        #: The class's lever moves: (page week when moved, lever, old value, new value).
        self.lever_log: list[tuple[int, str, float, float]] = []
        self.series = TeachingSeries(window=self.config.window)
        self.observers.on_week(self.series.record)

    @property
    def history(self) -> dict[str, list[float]]:
        return self.series.history

    @property
    def monitor(self) -> LoopMonitor:
        return self.series.monitor

    @property
    def assessment(self) -> Assessment:
        return self.series.assessment

    def move_lever(self, key: str, value: float) -> None:
        """Move a lever of the running model (from the next week) and log the move, for the
        charts' markers and the page's lever log; a value it already has is not a move."""
        from policies import set_lever

        old = float(getattr(self.params.levers, key))
        set_lever(self, key, float(value))
        new = float(getattr(self.params.levers, key))
        if new != old:
            self.lever_log.append((self.weeks_run, key, old, new))

    def baseline_key(self) -> tuple:
        """The key of this model's no-change baseline (:func:`sim.workflows.baseline.key_of`)."""
        from sim.workflows.baseline import key_of

        return key_of(*self.spec)

    @property
    def scale(self) -> float:
        return float(self.params.run.scale)

    @property
    def weeks_run(self) -> int:
        """Reported weeks stepped so far (the page's clock; the warm start is not counted)."""
        return len(self.history["week"])

    def overspend_to_date(self) -> float:
        """:func:`overspend_to_date` of this model."""
        return overspend_to_date(self)

    def la_rates(self) -> tuple[np.ndarray, np.ndarray]:
        """Children in care per 10,000 children, and children, per authority (home authority
        of the child's family, as the indicators count them)."""
        c, f = self.pop.children, self.pop.families
        la_c = f.la[c.family]
        children = np.bincount(la_c[c.active | c.in_care], minlength=self.n_la).astype(float)
        cla = np.bincount(la_c[c.in_care], minlength=self.n_la).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(children > 0, 1e4 * cla / children, 0.0), children

    def out_of_area_flows(self) -> np.ndarray:
        """Open placements of children in care by (home authority, placement authority)."""
        c, pl = self.pop.children, self.pop.placements
        ids = c.placement[c.in_care]
        ids = ids[pl.node[ids] >= 0]
        home = pl.home_la[ids].astype(np.int64)
        dest = self.region.node_la[pl.node[ids]].astype(np.int64)
        n = self.n_la
        return np.bincount(home * n + dest, minlength=n * n).reshape(n, n)

    def children_to_follow(self, limit: int = 200) -> list[int]:
        """Children in care now, those with the most placements first (the journeys with most
        to show), then by id."""
        c, pl = self.pop.children, self.pop.placements
        care = np.flatnonzero(c.in_care)
        if len(care) == 0:
            return []
        ids = c.serial[care]  # (children's ids: their serials, as in pl.child and the events)
        n_pl = np.bincount(pl.child[pl.child >= 0], minlength=int(ids.max()) + 1)[ids]
        order = np.lexsort((ids, -n_pl))
        return [int(j) for j in ids[order][:limit]]

    def child_label(self, j: int) -> str:
        c, f, pl = self.pop.children, self.pop.families, self.pop.placements
        n = int((pl.child == j).sum())
        row = int(self.pop.child_rows([j])[0])
        la = self.region.la_name[f.la[c.family[row]]]
        return f"child {j}: {years_old(int(c.age[row]))}, {la}, {n} placement{'s' * (n != 1)}"


def years_old(age_weeks: int) -> str:
    """Age in whole years, as people say it ("1 year old", "17 years old": a child of 17.9 is
    17, not 18, which would contradict being in care)."""
    y = int(age_weeks) // WEEKS_PER_YEAR
    return f"{y} year{'s' * (y != 1)} old"


def figure_png(fig: Figure, blit: bool = False) -> bytes:
    """A figure as PNG bytes, as the page sends it: no tight bounding box (that draws twice)
    and light compression (zlib level 1 saves about a third of the time over a loopback
    socket, where the bigger file costs nothing).

    ``blit=True`` is for a figure the page redraws every few weeks (the map, the charts): its
    ``draw_*`` function lists the artists that change in ``fig._cscsim_dynamic``, and the rest
    (axes, ticks, labels, the map's key: most of the text, and text is most of matplotlib's
    time) is drawn once and kept as a bitmap, redrawn only when the figure's
    ``_cscsim_static`` key changes, or, for a panel listed in ``fig._cscsim_panels`` (axes ->
    (key, band of rows)), only that panel's band when its key (its limits) changes. Each
    update pastes the bitmap and draws the changing artists on it, in the order a full draw
    takes: the map's update fell from about 83 to 40 ms of CPU, the charts' from 85 to 20-45
    (more when limits change). The picture is the one ``savefig`` draws but for a few
    antialiased pixels where a tick meets an axis line (``tests/test_app.py`` checks);
    exports and tests use the plain path.
    """
    if not blit:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})
        return buf.getvalue()
    canvas = fig.canvas
    if not isinstance(canvas, FigureCanvasAgg):
        canvas = FigureCanvasAgg(fig)
    dynamic = [a for a in getattr(fig, "_cscsim_dynamic", ()) if a.get_visible()]
    key = (getattr(fig, "_cscsim_static", None), canvas.get_width_height())
    panels = getattr(fig, "_cscsim_panels", {})  # axes -> its key, band of the figure
    bg = getattr(fig, "_cscsim_bg", None)
    changed: list = []
    for a in dynamic:  # a draw that is not a save leaves animated artists out (hidden ones
        a.set_animated(True)  # would be left out too, but a hidden title is placed wrongly
    try:  # when it is drawn again)
        if bg is None or bg[0] != key:
            canvas.draw()
        else:
            canvas.restore_region(bg[1])
            changed = [ax for ax, (k, _) in panels.items() if bg[2].get(ax) != k]
            if changed:  # only those panels: blank their bands, draw their axes again
                renderer = canvas.get_renderer()
                pixels = np.asarray(canvas.buffer_rgba())
                height = pixels.shape[0]
                for ax in changed:
                    y0, y1 = panels[ax][1]
                    pixels[max(height - int(y1), 0): height - int(y0)] = 255  # (white)
                    ax.draw(renderer)
        if bg is None or bg[0] != key or changed:
            bg = fig._cscsim_bg = (key, canvas.copy_from_bbox(fig.bbox),
                                   {ax: k for ax, (k, _) in panels.items()})
    finally:
        for a in dynamic:
            a.set_animated(False)
    renderer = canvas.get_renderer()
    rank = {ax: i for i, ax in enumerate(sorted(fig.axes, key=lambda ax: ax.get_zorder()))}
    for a in sorted(dynamic, key=lambda a: (rank.get(a.axes, len(rank)), a.get_zorder())):
        a.draw(renderer)
    from PIL import Image

    w, h = canvas.get_width_height()
    buf = io.BytesIO()
    Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).save(
        buf, format="png", compress_level=1)
    return buf.getvalue()


# --- the map --------------------------------------------------------------------------------


#: The map's size in inches at :data:`MAP_DPI`: 800 x 600 px, drawn a little larger than it is
#: shown at 1280 x 720 (about 640 px wide), so it stays sharp at 1920 x 1080.
MAP_SIZE = (10.0, 7.5)
MAP_DPI = 80
#: Out-of-area flows drawn: the largest ones only (a region of 24 authorities has hundreds of
#: pairs; drawn all at once they hide the hexagons). The title says how many are left out.
MAP_FLOWS = 16


def hex_layout(model: CareSystem) -> HexLayout:
    """The region's hex cartogram (the shipped layout, ``sim/data/hex_layout.csv``; placed
    now from the centroids only for a made-up region). Cached on the model."""
    lay = getattr(model, "_hex_layout", None)
    if lay is None:
        r = model.region
        lay = layout_for(r.la_code, r.la_name, r.la_lat, r.la_lon)
        model._hex_layout = lay
    return lay


def _flow_paths(xy: np.ndarray, src: np.ndarray, dst: np.ndarray,
                weight: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Curved arrows from ``xy[src]`` to ``xy[dst]`` in data units (one hexagon = 1): each a
    quadratic Bezier bent to its right (so A->B and B->A do not overlap), trimmed 0.32 from
    either centre so it starts and ends inside the hexagons' rims, with a triangular head
    sized by ``weight`` (0-1). Computed with numpy: matplotlib's FancyArrowPatch clips every
    arrow against its shrink circles at each draw, which cost half the map's time."""
    lines, heads = [], []
    for a, b, w in zip(src, dst, weight, strict=True):
        p, q = xy[a], xy[b]
        d = q - p
        length = float(np.hypot(*d))
        ctrl = (p + q) / 2 + 0.25 * np.array([d[1], -d[0]])
        cut = min(0.32 / length, 0.35)
        t = np.linspace(cut, 1 - cut, 14)[:, None]
        pts = (1 - t) ** 2 * p + 2 * (1 - t) * t * ctrl + t**2 * q
        tip, back = pts[-1], pts[-2]
        u = (tip - back) / max(float(np.hypot(*(tip - back))), 1e-9)
        size = 0.09 + 0.11 * w
        base = tip - u * size * 1.6
        n = np.array([-u[1], u[0]]) * size
        heads.append(np.array([tip, base + n, base - n]))
        lines.append(np.vstack([pts[:-1], base]))
    return lines, heads


def draw_map(model: TeachingModel, fig: Figure | None = None) -> Figure:
    """The region as a hex cartogram (one equal hexagon per authority, labelled with a short
    code and its rate, the key beside it): coloured by children in care per 10,000 children;
    arrows for the largest flows of children placed outside their home authority (thicker =
    more children), from the home authority to where they live.

    Given a figure this function drew before, it only updates what changes each week (the
    colours, the numbers, the arrows, the title): the page redraws the map every few weeks
    and building the figure again cost more than drawing it."""
    fig = fig or Figure(figsize=MAP_SIZE, dpi=MAP_DPI)
    art = getattr(fig, "_cscsim_map", None)
    if art is None:
        art = _build_map(model, fig)
        fig._cscsim_map = art
    xy = art["xy"]
    rate, _ = model.la_rates()
    art["hexes"].set_array(rate)
    for t, v in zip(art["rates"], rate, strict=True):
        t.set_text(f"{v:.0f}")
    flows = model.out_of_area_flows()
    np.fill_diagonal(flows, 0)
    src, dst = np.nonzero(flows)
    counts = flows[src, dst].astype(float)
    top = np.argsort(-counts, kind="stable")[:MAP_FLOWS]
    w = counts[top] / counts[top[0]] if len(top) else counts[top]
    lines, heads = _flow_paths(xy, src[top], dst[top], w)
    art["arrows"].set_segments(lines)
    art["arrows"].set_linewidths(1.0 + 7.0 * w)
    art["heads"].set_verts(heads)
    up = 1.0 / model.scale
    art["title"].set_text(f"{model.region.name}: {int(flows.sum()) * up:,.0f} children "
                          "placed outside their home authority (est.)")
    shown = (f"the largest {len(top)} of {len(src)} flows" if len(src) > len(top)
             else f"all {len(src)} flows")
    art["subtitle"].set_text(f"Arrows: home authority → where the child lives ({shown}; "
                             "thicker = more children)")
    return fig


def _build_map(model: TeachingModel, fig: Figure) -> dict[str, Any]:
    """The map's parts that do not change during a run, and the artists that do."""
    lay = hex_layout(model)
    xy = lay.xy
    ax = fig.add_axes((0.0, 0.1, 0.66, 0.8))
    ax.set_aspect("equal")
    ax.axis("off")
    cmap = matplotlib.colormaps["YlOrRd"]
    norm = Normalize(0.0, MAP_RATE_MAX)
    hexes = PatchCollection([RegularPolygon((x, y), 6, radius=0.575) for x, y in xy],
                            cmap=cmap, norm=norm, edgecolors="white", linewidths=2.5, zorder=1)
    hexes.set_array(np.zeros(len(xy)))
    ax.add_collection(hexes)
    pad = 0.75
    ax.set_xlim(xy[:, 0].min() - pad, xy[:, 0].max() + pad)
    ax.set_ylim(xy[:, 1].min() - pad, xy[:, 1].max() + pad)
    arrows = LineCollection([], colors="#1a4f8b", alpha=0.7, capstyle="round", zorder=2)
    heads = PolyCollection([], facecolors="#1a4f8b", edgecolors="none", alpha=0.8, zorder=2)
    ax.add_collection(arrows)
    ax.add_collection(heads)
    outline = [patheffects.withStroke(linewidth=3, foreground="white")]
    rates, codes = [], []
    for (x, y), code in zip(xy, lay.code, strict=True):
        codes.append(ax.text(x, y + 0.12, code, ha="center", va="center", fontsize=15,
                             fontweight="bold", color="#1a202c", path_effects=outline,
                             zorder=3))
        rates.append(ax.text(x, y - 0.2, "", ha="center", va="center", fontsize=12,
                             color="#1a202c", path_effects=outline, zorder=3))
    # the key: code and name of every authority, in as many columns as it needs
    key = fig.add_axes((0.66, 0.1, 0.34, 0.8))
    key.axis("off")
    names = [str(n) for n in model.region.la_name]
    order = np.argsort(lay.code)
    per_col = 17
    ncol = max(1, -(-len(order) // per_col))
    size, cut = (11.5, 22) if ncol == 1 else (9, 13)
    for i, j in enumerate(order):
        c, r_ = divmod(i, per_col)
        name = names[j] if len(names[j]) <= cut else names[j][: cut - 1] + "."
        key.text(c / ncol, 1 - r_ / per_col, f"{lay.code[j]}  {name}", fontsize=size,
                 va="top", transform=key.transAxes)
    cax = fig.add_axes((0.06, 0.075, 0.54, 0.03))
    cb = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax, orientation="horizontal")
    cb.ax.tick_params(labelsize=11)
    cb.set_label("children in care per 10,000 children (number under each code)", fontsize=11)
    title = fig.text(0.02, 0.975, "", fontsize=14, fontweight="bold", va="top")
    subtitle = fig.text(0.02, 0.925, "", fontsize=11, va="top", color="#2d3748")
    # what figure_png(blit=True) draws at each update; the codes do not change, but they are
    # drawn over the hexagons, which do. The rest (the key, the colour bar) never changes.
    fig._cscsim_dynamic = [hexes, arrows, heads, *codes, *rates, title, subtitle]
    fig._cscsim_static = "map"
    return {"xy": xy, "hexes": hexes, "rates": rates, "arrows": arrows, "heads": heads,
            "title": title, "subtitle": subtitle}


# --- live charts ----------------------------------------------------------------------------


def _rolling(x: np.ndarray, n: int = 4) -> np.ndarray:
    if len(x) < n:
        return x
    c = np.cumsum(np.insert(x, 0, 0.0))
    head = c[1:n] / np.arange(1, n)
    return np.concatenate([head, (c[n:] - c[:-n]) / n])


#: The charts' size in inches at :data:`CHART_DPI` (336 x 576 px): one column of five panels,
#: beside the map, shown about 320-540 px wide.
CHART_SIZE = (4.2, 7.2)
CHART_DPI = 80
BASELINE_STYLE = {"color": "#4a5568", "lw": 1.3, "alpha": 0.45, "ls": "-", "zorder": 1}
CHART_TITLES = ("Entries into care a week", "Children in care",
                "Breakdowns (solid), moves (dashed) a week", "Spend a week, £m",
                "Overspend so far this year, £m")


def draw_charts(model: TeachingModel, fig: Figure | None = None,
                baseline: dict[str, np.ndarray] | None = None) -> Figure:
    """Entries, children in care, breakdowns and moves, spend by kind, and overspend: one
    figure (one image to send per update keeps the page fast), one column beside the map.
    Estimates for the whole region: the sample divided by the scale.

    Every y-axis starts at zero (a class compares heights; an axis cut at 1,100 makes a 5%
    rise look like a doubling), and week 1 is the first week after the warm start
    (:data:`WARM_START_YEARS`), so no start-up spike. A faint grey line on each panel is the
    *no change* baseline (the same preset and seed without the class's lever moves,
    :mod:`sim.workflows.baseline`), and a dotted vertical line marks each week a lever was moved."""
    fig = fig or Figure(figsize=CHART_SIZE, dpi=CHART_DPI)
    axes = getattr(fig, "_cscsim_charts", None)
    if axes is None:  # a new figure: its panels; a figure drawn before: only its data go
        axes = fig._cscsim_charts = _chart_panels(fig)
    else:  # (removing artists is cheap; clearing an axes rebuilds its ticks, which is not)
        for ax in axes:
            for a in [*ax.lines, *ax.collections, *ax.texts]:
                a.remove()
            ax.ignore_existing_data_limits = True  # the limits are the new data's alone
            ax.autoscale(enable=True, axis="y")  # (set_ylim(bottom=0) below turned it off)
    h = {k: np.asarray(v, float) for k, v in model.history.items()}
    up = 1.0 / model.scale
    wk = h["week"] + 1
    b = ({k: np.asarray(v, float) for k, v in baseline.items()}
         if baseline is not None and len(baseline.get("week", ())) else None)
    bw = b["week"][: len(wk)] + 1 if b is not None else None

    def base(ax, values: np.ndarray) -> None:
        if b is not None:
            ax.plot(bw, values[: len(bw)], **BASELINE_STYLE)

    ax = axes[0]
    ax.fill_between(wk, h["entries"] * up, step="mid", color="#fbd38d", lw=0)
    ax.plot(wk, _rolling(h["entries"]) * up, color="#c05621")
    if b is not None:
        base(ax, _rolling(b["entries"]) * up)
    ax = axes[1]
    ax.plot(wk, h["in_care"] * up, color="#c53030", lw=2)
    if b is not None:
        base(ax, b["in_care"] * up)
    ax = axes[2]
    ax.plot(wk, _rolling(h["breakdowns"]) * up, color="#6b46c1")
    ax.plot(wk, _rolling(h["moves"]) * up, color="#d53f8c", ls="--")
    if b is not None:
        base(ax, _rolling(b["breakdowns"]) * up)
    ax = axes[3]
    spend = np.vstack([h["spend_early_help"], h["spend_social_work"], h["spend_placements"]])
    ax.stackplot(wk, spend * up / 1e6, colors=["#38a169", "#3182ce", "#e53e3e"], alpha=0.85,
                 lw=0)
    if b is not None:
        base(ax, (b["spend_early_help"] + b["spend_social_work"] + b["spend_placements"])
             * up / 1e6)
    ax = axes[4]
    ax.fill_between(wk, h["overspend_ytd"] * up / 1e6, color="#e53e3e", alpha=0.5, step="post",
                    lw=0)
    years = [float(y.get("overspend_gbp", 0.0)) for y in model.annual]
    if years:
        ax.scatter(np.arange(1, len(years) + 1) * WEEKS_PER_YEAR, np.array(years) * up / 1e6,
                   color="#9b2c2c", zorder=3, s=18)
    if b is not None:
        base(ax, b["overspend_ytd"] * up / 1e6)
    rate = f": {h['cla_rate'][-1]:.0f} per 10,000" if len(wk) else ""
    titles = list(CHART_TITLES)
    titles[1] += rate
    titles[3] += ": early help, social work, placements"  # green, blue, red
    # limits that move in steps (the x-axis a year at a time, the top of each panel to a round
    # number above its data): so the axes, their ticks and labels stay the same for many
    # updates, and the page redraws only the data on a kept picture of them (figure_png)
    right = float(X_STEP * (len(wk) // X_STEP + 1))
    for ax, title in zip(axes, titles, strict=True):
        ax.set_title(title, fontsize=9 if len(title) > 40 else 9.5, loc="left", pad=3)
        ax.autoscale_view()
        # every panel is a count or money: from zero, so heights compare; at week 0 an
        # empty axis from 0 to 1, not matplotlib's 0 to 0.05
        ax.set_ylim(0, _round_up(ax.get_ylim()[1]) if len(wk) else 1.0)
        ax.set_xlim(0, right)
    # one marker a week in which levers moved (a slider dragged from 1 to 0.5 moves it five
    # times in a second), labelled with where each lever moved that week ended up
    moved: dict[int, dict[str, float]] = {}
    for week, key, _old, new in model.lever_log:
        moved.setdefault(week, {})[key] = new
    for week, levers in moved.items():
        for ax in axes:
            ax.axvline(week + 0.5, color="#2b6cb0", lw=1.2, ls=":", zorder=0)
        label = ", ".join(f"{LEVER_SHORT.get(k, k)} {v:g}" for k, v in levers.items())
        axes[0].annotate(label, (week + 0.5, 1.0), xycoords=("data", "axes fraction"),
                         fontsize=7.5, color="#2b6cb0", rotation=90, ha="right", va="top",
                         xytext=(-1, -2), textcoords="offset points")
    # what figure_png(blit=True) draws at each update, in the order a draw takes artists of
    # the same zorder: the data, the markers, and the second panel's title (the rate in it
    # changes every week; a title set with loc="left" is not ax.title, hence the search)
    fig._cscsim_dynamic = []
    for i, ax in enumerate(axes):
        data = {*ax.lines, *ax.collections, *ax.texts}
        fig._cscsim_dynamic += [a for a in ax.get_children() if a in data or (
            i == 1 and isinstance(a, Text) and a.get_text() == titles[1])]
        # and the axis lines, which a draw puts over the data (the fills start on them)
        fig._cscsim_dynamic += [ax.spines["left"], ax.spines["bottom"]]
    # the kept bitmap of the axes is redrawn a panel at a time, when that panel's limits
    # changed (a whole redraw cost twice a panel's update): each panel owns a band of the
    # figure from just under its own axes (its tick marks) to just under the panel above
    # (its title is in between; the panels above show no tick labels: shared x)
    height = fig.bbox.height
    tops = [height] + [ax.get_position().y0 * height - 8 for ax in axes[:-1]]
    bottoms = [ax.get_position().y0 * height - 8 for ax in axes[:-1]] + [0.0]
    fig._cscsim_panels = {ax: ((ax.get_xlim(), ax.get_ylim()), (lo, hi))
                          for ax, lo, hi in zip(axes, bottoms, tops, strict=True)}
    fig._cscsim_static = tuple(ax.get_title(loc="left") for ax in axes if ax is not axes[1])
    return fig


#: The charts' x-axis grows a year at a time (see draw_charts).
X_STEP = 52
#: Round tops for the charts' y-axes (times a power of ten): at most a quarter above the data.
_NICE = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def _round_up(top: float) -> float:
    """The smallest round number (:data:`_NICE` times a power of ten) at or above ``top``."""
    if not np.isfinite(top) or top <= 0:
        return 1.0
    p = 10.0 ** np.floor(np.log10(top))
    return float(next(n * p for n in _NICE if n * p >= top * (1 - 1e-12)))


def _chart_panels(fig: Figure) -> list:
    """The charts' five panels, with what stays the same all run (ticks, spines, labels)."""
    axes = list(fig.subplots(5, 1, sharex=True))
    for ax in axes:
        ax.tick_params(labelsize=8.5, pad=1)
        ax.yaxis.set_major_locator(MaxNLocator(3))
        ax.xaxis.set_major_locator(MaxNLocator(6, integer=True))
        ax.spines[["top", "right"]].set_visible(False)
    axes[-1].set_xlabel("week (dotted: a lever moved; grey: no change)", fontsize=8.5)
    fig.subplots_adjust(left=0.14, right=0.97, top=0.96, bottom=0.07, hspace=0.45)
    return axes


#: Short names of the levers for the charts' markers and the lever log.
LEVER_SHORT = {"early_help_capacity": "early help", "health_visitor_fte": "HV FTE",
               "distance_cap_miles": "cap mi", "local_sufficiency": "LA places",
               "funding": "funding", "poverty": "poverty"}


def weekly_csv(model: TeachingModel, baseline: dict[str, np.ndarray] | None = None) -> str:
    """The charts' weekly series as CSV (the page's *Download* button): estimates for the whole
    region (the sample divided by the scale), one row per week as the charts number them, the
    no-change baseline beside each series where it has been computed, and the sample's own
    scale so a reader can undo it."""
    import csv

    h = model.history
    up = 1.0 / model.scale
    names = [k for k in model.SERIES if k != "week"]
    unscaled = {"cla_rate"}
    n = len(h["week"])
    b = baseline or {}
    nb = min(len(b.get("week", ())), n)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["week", "preset", "seed", "scale", *names, *(f"no_change_{k}" for k in names)])
    for i in range(n):
        row: list[Any] = [int(h["week"][i]) + 1, model.preset, model.params.run.seed,
                          model.scale]
        row += [_num(h[k][i] * (1 if k in unscaled else up)) for k in names]
        row += [_num(b[k][i] * (1 if k in unscaled else up)) if i < nb else "" for k in names]
        w.writerow(row)
    return buf.getvalue()


def _num(x: float) -> str:
    return f"{float(x):.6g}"


def lever_log_csv(model: TeachingModel) -> str:
    """The class's lever moves as CSV: the page's week when moved (it takes effect from the
    next week), the lever, its old and new value."""
    lines = ["week,lever,old,new"]
    lines += [f"{w},{k},{o:g},{n:g}" for w, k, o, n in model.lever_log]
    return "\n".join(lines) + "\n"


def levers_text(model: TeachingModel) -> str:
    """The levers as they stand, one line (the page prints it under the charts)."""
    lv = model.params.levers
    cap = f"{lv.distance_cap_miles:g} miles" if lv.distance_cap_miles else "none"
    return (f"Preset {model.preset}, seed {model.params.run.seed} | early help "
            f"x{lv.early_help_capacity:.2f} | health visitors x{lv.health_visitor_fte:.2f} | "
            f"distance cap {cap} | LA places x{lv.local_sufficiency:.2f} | for-profit share "
            f"{lv.for_profit_share:.0%} | funding x{lv.funding:.2f} | poverty x{lv.poverty:.2f}"
            f" | 1 in {1 / model.scale:.0f} families simulated, shown scaled up")


# --- the causal loop diagram -----------------------------------------------------------------

#: Hand-placed positions of the diagram's variables (x, y).
CLD_POS: dict[str, tuple[float, float]] = {
    "early_help": (0.9, 5.2), "support": (3.0, 6.4), "need": (5.2, 5.2),
    "entries": (5.2, 2.9), "spend": (3.0, 1.5), "overspend": (0.9, 2.9),
    "threshold": (7.6, 5.2), "workload": (7.6, 2.9),
    "inhouse_full": (6.0, 0.3), "for_profit": (9.6, 0.3), "breakdowns": (7.8, 1.45),
    "price": (9.8, 6.4), "supply": (9.8, 4.0),
}
LOOP_COLOURS = {"R1": "#c53030", "R2": "#6b46c1", "R3": "#dd6b20", "B1": "#2f855a",
                "B2": "#2b6cb0"}
#: Links drawn as arcs (the two directions between need and support, price and supply).
_CURVED = {("support", "need"): 0.3, ("need", "support"): 0.3, ("price", "supply"): 0.35,
           ("supply", "price"): 0.35}


#: The loop diagram's size in inches (at :data:`DPI`).
LOOPS_SIZE = (7.6, 6.2)


def diagram_key(assess: Assessment) -> tuple:
    """What the diagram shows, to redraw it only when that changes. Link widths are compared
    in steps of half a point and scores to one decimal (as the status lines print them): a
    redraw costs more than a page update's whole budget, and a change of a tenth of a point
    in a line's width is not one a class can see."""
    return (assess.ready,
            tuple((st.status, round(2 * min(5.0, 40.0 * st.strength)) / 2)
                  for st in assess.links.values()),
            tuple((st.driving, st.direction, round(st.score, 1)) for st in assess.loops.values()))


def _loop_of(assess: Assessment, key: tuple[str, str]) -> str | None:
    """The strongest driving loop a link belongs to, if any."""
    best, score = None, -1.0
    for lk, st in assess.loops.items():
        if st.driving and key in LOOPS[lk].links() and st.score > score:
            best, score = lk, st.score
    return best


class _Arrow(FancyArrowPatch):
    """A link's arrow. Its ends never move, so its path (clipped at the two boxes it joins:
    the dearest part of drawing it) is computed once for each line width it is drawn at, not
    at every draw."""

    def _get_path_in_displaycoord(self):
        key = (self.get_linewidth(), getattr(self, "_dpi_cor", 1.0),
               self.get_transform().get_matrix().tobytes())
        paths = self.__dict__.setdefault("_cscsim_paths", {})
        if key not in paths:
            if len(paths) > 32:
                paths.clear()
            paths[key] = super()._get_path_in_displaycoord()
        return paths[key]


def draw_loops(assess: Assessment, fig: Figure | None = None, window: int = 13) -> Figure:
    """The five loops; links thick and coloured when transmitting, loops filled when driving.

    Given a figure this function drew before, it keeps the figure's artists (the diagram has
    the same boxes, arrows, signs and lines every time) and sets only what they show:
    building them again, and clipping every arrow at its boxes again, was most of a redraw.
    A transmitting link's width is drawn in steps of half a point (:func:`diagram_key`
    compares widths so: a redraw happens when a class could see the difference)."""
    fig = fig or Figure(figsize=LOOPS_SIZE, dpi=DPI)
    art = getattr(fig, "_cscsim_loops", None)
    if art is None:
        art = fig._cscsim_loops = _build_loops(fig, window)
    for key in LINKS:
        st = assess.links[key]
        loop = _loop_of(assess, key)
        if st.status == "transmitting":
            colour = LOOP_COLOURS[loop] if loop else "#1a202c"
            lw, ls = 1.8 + round(2 * min(5.0, 40.0 * st.strength)) / 2, "-"
        elif st.status == "contrary":
            colour, lw, ls = "#a0aec0", 1.2, ":"
        else:
            colour, lw, ls = "#cbd5e0", 1.0, "-"
        arrow, sign = art["links"][key]
        arrow.set(linewidth=lw, linestyle=ls, color=colour)
        sign.set_color(colour if st.status != "quiet" else "#718096")
    for lk, st in assess.loops.items():
        on = st.driving
        mark = art["loops"][lk]
        mark.set_color("white" if on else LOOP_COLOURS[lk])
        mark.get_bbox_patch().set_facecolor(LOOP_COLOURS[lk] if on else "white")
    # status lines under the diagram
    for (lk, st), row in zip(assess.loops.items(), art["rows"], strict=True):
        if not assess.ready:
            state = "warming up"
        elif st.driving:
            state = f"DRIVING ({st.direction}), score {st.score:.1f}"
        else:
            n_on = sum(s.status == "transmitting" for s in st.links)
            state = f"{n_on}/{len(st.links)} links transmitting"
        row.set_text(f"{lk} {LOOPS[lk].name}: {state}")
        row.set_color(LOOP_COLOURS[lk])
        row.set_fontweight("bold" if st.driving else "normal")
    dom = assess.dominant
    if not assess.ready:
        head = f"Loops: warming up (needs {3 * window} weeks of history)"
    elif dom:
        st = assess.loops[dom]
        head = f"Dominant loop: {dom} {LOOPS[dom].name} ({st.direction})"
    else:
        head = "No loop is driving: no change goes all the way round a loop"
    art["head"].set_text(head)
    return fig


def _build_loops(fig: Figure, window: int) -> dict[str, Any]:
    """The loop diagram's artists, in their places (draw_loops sets what they show)."""
    ax = fig.add_axes((0.0, 0.2, 1.0, 0.72))
    ax.set_xlim(-0.4, 11.0)
    ax.set_ylim(-0.4, 7.0)
    ax.axis("off")
    links = {}
    for key, lk in LINKS.items():
        a, b = CLD_POS[lk.cause], CLD_POS[lk.effect]
        rad = _CURVED.get(key, 0.12)
        # add_artist, not add_patch: the limits are fixed, and updating data limits would
        # clip the arrow at its boxes once more
        arrow = ax.add_artist(_Arrow(a, b, connectionstyle=f"arc3,rad={rad}", arrowstyle="-|>",
                                     mutation_scale=14, shrinkA=24, shrinkB=26, zorder=1))
        (ax_, ay), (bx, by) = a, b
        mx, my = (ax_ + bx) / 2, (ay + by) / 2
        cx, cy = mx + rad * (by - ay), my - rad * (bx - ax_)
        sx, sy = 0.25 * ax_ + 0.5 * cx + 0.25 * bx, 0.25 * ay + 0.5 * cy + 0.25 * by
        sign = ax.text(sx, sy, "+" if lk.sign > 0 else "−", fontsize=11, fontweight="bold",
                       ha="center", va="center",
                       bbox={"boxstyle": "circle,pad=0.1", "fc": "white", "ec": "none"},
                       zorder=2)
        links[key] = (arrow, sign)
    for key, (x, y) in CLD_POS.items():
        ax.text(x, y, VARIABLES[key].label, ha="center", va="center", fontsize=8, zorder=3,
                bbox={"boxstyle": "round,pad=0.3", "fc": "#f7fafc", "ec": "#4a5568"})
    loops = {}
    for lk in LOOPS:
        pts = np.array([CLD_POS[v] for v in LOOPS[lk].cycle])
        x, y = pts.mean(axis=0)
        if lk == "B1":
            x, y = x, y + 0.15
        if lk == "B2":
            x -= 0.45
        loops[lk] = ax.text(x, y, lk, ha="center", va="center", fontsize=11,
                            fontweight="bold", zorder=4,
                            bbox={"boxstyle": "circle,pad=0.35", "fc": "white",
                                  "ec": LOOP_COLOURS[lk], "lw": 2})
    tx = fig.add_axes((0.0, 0.0, 1.0, 0.2))
    tx.axis("off")
    rows = [tx.text(0.02 + 0.5 * (i % 2), 0.85 - 0.27 * (i // 2), "", fontsize=8.5, va="top")
            for i in range(len(LOOPS))]
    head = fig.text(0.02, 0.975, "", fontsize=10.5, fontweight="bold", va="top")
    fig.text(0.02, 0.935, f"thick = link transmitting (cause moved, effect followed a "
             f"{window}-week window later, above noise); dotted = contrary", fontsize=7.5,
             va="top", color="#4a5568")
    return {"links": links, "loops": loops, "rows": rows, "head": head}


# --- one child's journey ----------------------------------------------------------------------

_SOCIAL = {"referral": ("o", "#3182ce"), "assessment": ("s", "#2c5282"),
           "child_in_need": ("D", "#805ad5"), "s47": ("^", "#dd6b20"),
           "protection_plan": ("P", "#c05621"), "proceedings": ("X", "#9b2c2c"),
           "early_help": ("*", "#38a169"), "hv_spotted": ("h", "#2f855a"),
           "case_closed": ("|", "#718096")}
_KIND_COLOURS = {"kinship": "#48bb78", "inhouse_foster": "#4299e1", "ifa": "#9f7aea",
                 "childrens_home": "#ed8936", "supported": "#ecc94b", "emergency": "#e53e3e"}


_KIND_SHORT = {"kinship": "kinship", "inhouse_foster": "LA foster", "ifa": "agency foster",
               "childrens_home": "children's home", "supported": "supported",
               "emergency": "emergency", "with_parents": "with parents"}


def care_spells(model: CareSystem, child: int) -> list[tuple[int, int | None]]:
    """The child's spells in care as (entry week, exit week or None if still in care), from
    the event log: the timeline draws them and the sentence states them, so they agree."""
    h = model.child(child).history
    entries = sorted(int(w) for w in h.week[h.event == "care_entry"])
    exits = sorted(int(w) for w in h.week[h.event == "care_exit"])
    spells: list[tuple[int, int | None]] = []
    for i, e in enumerate(entries):
        nxt = entries[i + 1] if i + 1 < len(entries) else None
        out = next((x for x in exits if x >= e and (nxt is None or x <= nxt)), None)
        spells.append((e, out))
    return spells


def draw_timeline(model: CareSystem, child: int, fig: Figure | None = None) -> Figure:
    """One child's journey: the family's contacts with services, each placement as a bar
    (coloured by kind, labelled with kind and miles where the bar is wide enough for the label
    not to overlap its neighbours), time in care, breakdowns, loss of contact, exit.

    The x-axis spans everything the sentence under it mentions (so the picture and the words
    cannot disagree); weeks before week 0 (the warm start, and before it) are shaded. A child
    who was already in care when the model started has a placement history the model did not
    simulate: the gap between entering care and the first simulated placement is hatched."""
    fig = fig or Figure(figsize=(7.8, 4.6), dpi=DPI)
    ax = fig.add_subplot()
    left, right = 0.2, 0.98
    ch = model.child(child)
    hist, pls = ch.history, ch.placements
    now = model.week + 1
    spells = care_spells(model, child)
    lanes = {"family and social work": 2.0, "placements": 1.0, "in care": 0.0}
    first = min([now - 52, *hist.week.tolist(), *pls.start.tolist()])
    span = now + 2 - (first - 2)
    ax.set_xlim(first - 2, now + 2)
    if first < 0:
        ax.axvspan(first - 2, 0, color="#edf2f7", zorder=0)
        ax.text(first - 1, 2.45, "before week 0", fontsize=7, color="#718096", va="center")
    for name, (marker, colour) in _SOCIAL.items():
        ev = hist[hist.event == name]
        if len(ev):
            ax.scatter(ev.week, np.full(len(ev), lanes["family and social work"]), marker=marker,
                       s=60, color=colour, label=name.replace("_", " "), zorder=3)
    px_per_week = fig.get_figwidth() * fig.dpi * (right - left) / span
    shown = set()
    for _, p in pls.iterrows():
        start, end = int(p.start), int(p.end) if p.end_reason != End.OPEN else now
        width = max(end - start, 0.6)
        kind = _KIND_SHORT.get(p.kind, p.kind.replace("_", " "))
        ax.barh(lanes["placements"], width, left=start, height=0.5,
                color=_KIND_COLOURS.get(p.kind, "#a0aec0"), edgecolor="#2d3748", zorder=2,
                label=None if p.kind in shown else kind)
        shown.add(p.kind)
        label = f"{kind}\n{p.miles:.0f} mi"
        if width * px_per_week >= 4.0 * max(len(line) for line in label.split("\n")) + 6:
            ax.text(start + width / 2, lanes["placements"], label, ha="center", va="center",
                    fontsize=7, zorder=4)
    for e, x in spells:
        stop = now if x is None else x
        ax.plot([e, stop], [lanes["in care"]] * 2, color="#4a5568", lw=3, zorder=1,
                solid_capstyle="butt")
        first_pl = pls.start[(pls.start >= e) & (pls.start <= stop)]
        if len(first_pl) and int(first_pl.min()) > e:  # in care before the model began
            ax.barh(lanes["placements"], int(first_pl.min()) - e, left=e, height=0.5,
                    color="white", edgecolor="#a0aec0", hatch="///", zorder=2,
                    label="before the model began (not simulated)")
    marks = {"care_entry": ("v", "#2d3748", "entered care"), "breakdown": ("x", "#e53e3e",
             "breakdown"), "contact_lost": ("d", "#9b2c2c", "contact with family lost"),
             "care_exit": ("^", "#2f855a", "left care")}
    for name, (marker, colour, label) in marks.items():
        ev = hist[(hist.event == name) & (hist.child == ch.id)]
        if len(ev):
            ax.scatter(ev.week, np.full(len(ev), lanes["in care"]), marker=marker, s=70,
                       color=colour, label=label, zorder=3)
    ax.axvline(now, color="#718096", lw=0.8, ls="--")
    ax.set_yticks(list(lanes.values()), list(lanes))
    ax.set_ylim(-0.6, 2.6)
    ax.set_xlabel("week (0: the start of year 1; dashed line: now)", fontsize=8)
    ax.tick_params(labelsize=8)
    open_pl = pls[pls.end_reason == End.OPEN]
    where = (f"now {open_pl.iloc[-1].miles:.0f} miles from home" if len(open_pl) and ch.in_care
             else "in care, not in a placement" if ch.in_care else "not in care now")
    contact = "has lost contact with family" if ch.contact_lost else "in contact with family"
    age = model.pop.children.age[model.pop.child_rows([child])[0]]
    ax.set_title(f"Child {ch.id}: {years_old(age)}, {len(pls)} "
                 f"placement{'s' * (len(pls) != 1)}, {where}, {contact}", fontsize=9.5)
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, fontsize=7, loc="upper center", bbox_to_anchor=(0.45, -0.2),
                  ncol=4, frameon=False)
    fig.subplots_adjust(left=left, right=right, top=0.92, bottom=0.36)
    return fig


def _week_words(w: int) -> str:
    return f"week {w}" + (" (before week 0)" if w < 0 else "")


def journey_text(model: CareSystem, child: int) -> str:
    """One child's journey in words (the page prints it under the timeline); every week it
    names is on the timeline's axis."""
    ch = model.child(child)
    h, pls = ch.history, ch.placements
    f, c = model.pop.families, model.pop.children
    row = model.pop.child_rows([child])[0]
    la = model.region.la_name[f.la[c.family[row]]]
    parts = [f"Child {ch.id} ({la}), {years_old(c.age[row])}"]
    now = model.week + 1
    for e, x in care_spells(model, child):
        if x is None:
            parts.append(f"in care since {_week_words(e)}: {now - e} weeks")
        else:
            parts.append(f"in care from {_week_words(e)} to week {x}")
        inside = pls.start[(pls.start >= e) & (pls.start <= (now if x is None else x))]
        if len(inside) and int(inside.min()) > e:
            parts.append(f"placements before week {int(inside.min())} not simulated "
                         "(in care before the model began)")
    refs = int((h.event == "referral").sum())
    if refs:
        parts.append(f"{refs} referral{'s' * (refs != 1)} of the family")
    if len(pls):
        miles = ", ".join(f"{_KIND_SHORT.get(k, k)} {m:.0f} mi" for k, m in zip(
            pls.kind, pls.miles, strict=True))
        parts.append(f"{len(pls)} placement{'s' * (len(pls) != 1)} ({miles})")
    nb = int(((h.event == "breakdown") & (h.child == ch.id)).sum())
    parts.append(f"{nb} breakdown{'s' * (nb != 1)}")
    lost = h.week[(h.event == "contact_lost") & (h.child == ch.id)].tolist()
    parts.append(f"lost contact with family in {_week_words(int(lost[0]))}" if lost
                 else "in contact with family")
    return "; ".join(parts) + "."
