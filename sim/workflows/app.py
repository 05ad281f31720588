"""``cscsim app``: a browser page for teaching the system's feedback loops (Mesa SolaraViz).

The page is Mesa's :func:`mesa.visualization.SolaraViz` with four components of our own (the
map, the live charts, the causal loop diagram, "follow a child"), Mesa's controls (step, play,
pause, reset, and the model parameters applied on Reset: the preset scenario, the seed and the
for-profit share), and a card of policy levers that move the *running* model through
:func:`policies.set_lever`, so a class sees a change take effect without starting again.

Offline by construction: the server is Solara's own (uvicorn on loopback by default); its
front-end files come from the ``solara-assets`` package, which Solara serves itself instead of
fetching from a CDN; every figure is a matplotlib PNG (Mesa's Altair backend loads Vega from the
internet, so it is not used); Solara's usage telemetry is switched off.

Why the imports are lazy: ``sim.workflows.cli`` imports this module to register the subcommand, and
Solara plus ``mesa.visualization`` take seconds to import. The page object ``Page`` is built on
first access (module ``__getattr__``), which is when Solara's server loads
``sim.workflows.app:Page``.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import os
import sys
from typing import Any

import numpy as np

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
#: Weeks stepped between page updates while playing (and by one press of Step), and the pause
#: between updates (ms). The server steps and draws in one thread, so its CPU seconds a week
#: are the model's (about 0.03) plus a page update's share: each update redraws the charts
#: (only their data, on a kept bitmap of the axes: mapview.figure_png), the map every
#: MAP_WEEKS, the loop diagram when it changed (looked at every LOOP_WEEKS) and the child's
#: timeline every TIMELINE_WEEKS or when the journey changed (benchmarks/app_speed.py,
#: ``frame``). Every 8 weeks the server needs about 0.055 CPU seconds a week in the page,
#: every 6 about 0.06 (py-spy on the served page: the model half, matplotlib most of the
#: rest); at 10 weeks a second, 8 is still more than an update a second.
RENDER_INTERVAL = 8
PLAY_INTERVAL_MS = 1
#: Weeks between redraws of the map (every other page update: it changes little in a few
#: weeks, and a redraw costs about two weeks of the model), and between looks at the loop
#: diagram (redrawn only when what it shows changed; the measure compares 13-week windows, so
#: a look every 12 weeks misses nothing a class could follow: two looks in three updates).
MAP_WEEKS = 16
LOOP_WEEKS = 12
#: Weeks between redraws of the followed child's timeline when the journey has not changed
#: (when it changes, it is redrawn at the next update): only the "now" line and the open
#: placement's bar move meanwhile, and a redraw costs about 95 ms of CPU, three weeks of the
#: model, so every 12 weeks it was the page's dearest picture (py-spy on the served page).
TIMELINE_WEEKS = 24
#: How long a page's session (its model) is kept after the page closes or its connection
#: drops, for a reconnect (Solara's default is 24 h): under a minute, so a class of 30 closing
#: their pages frees 30 models (10+ MB each) within a minute.
SESSION_TIMEOUT = "45s"
#: Set (by ``--no-baseline``) to draw no no-change line and start no worker process for it.
NO_BASELINE_ENV = "CSCSIM_APP_NO_BASELINE"
#: Set by ``cscsim app``: start the baseline's worker when the page is first built.
START_BASELINE_ENV = "CSCSIM_APP_START_BASELINE"
#: The levers a class can move while the model runs: (key, label, min, max, step).
LIVE_LEVERS: tuple[tuple[str, str, float, float, float], ...] = (
    ("early_help_capacity", "Early-help capacity (x today)", 0.0, 3.0, 0.1),
    ("health_visitor_fte", "Health-visitor FTE (x today)", 0.0, 3.0, 0.1),
    ("distance_cap_miles", "Place within (miles; 0 = anywhere)", 0.0, 100.0, 5.0),
    ("local_sufficiency", "LA foster and home places (x today)", 0.0, 3.0, 0.1),
    ("funding", "Funding (x today)", 0.3, 2.0, 0.05),
    ("poverty", "Poverty (x today)", 0.5, 2.0, 0.05),
)
#: The for-profit share only shapes the market when it is built, so it is a Reset parameter.
FOR_PROFIT_CHOICES = ("as preset", "0%", "25%", "50%", "80%", "90%", "100%")


def register(subparsers) -> None:
    """Add ``cscsim app`` (called by :mod:`sim.workflows.cli` through its ``PLUGINS``)."""
    ap = subparsers.add_parser(
        "app", help="open the teaching app in a browser (Mesa SolaraViz, works offline)",
        description="Serve the teaching page: a map, live charts, the five feedback loops, "
                    "policy levers and one child's journey. Open the printed address in a "
                    "browser.")
    ap.add_argument("--host", default=DEFAULT_HOST,
                    help=f"address to listen on (default {DEFAULT_HOST}: this computer only)")
    ap.add_argument("--port", type=int, default=DEFAULT_PORT,
                    help=f"port (default {DEFAULT_PORT})")
    ap.add_argument("--scenario", help="scenario file (TOML) offered first in the preset picker")
    ap.add_argument("--region", default=None,
                    help="'North East' (default), another region, or 'synthetic'")
    ap.add_argument("--scale", type=float, default=None,
                    help="share of families simulated (default 0.25; smaller is faster)")
    ap.add_argument("--no-baseline", action="store_true",
                    help="draw no faint 'no change' line (saves its worker process: for a "
                         "one-core computer)")
    ap.set_defaults(func=cmd_app)


def cmd_app(args: argparse.Namespace) -> int:
    """Check the options, then run Solara's server in this process until interrupted."""
    from sim.config import ConfigError, load_scenario
    from sim.region import REGIONS
    from sim.workflows.mapview import TEACHING_REGION, TEACHING_SCALE, AppConfig

    region = args.region or TEACHING_REGION
    if region not in (*REGIONS, "synthetic"):
        raise ConfigError(f"--region {region!r}: allowed: synthetic, " + ", ".join(REGIONS))
    scale = TEACHING_SCALE if args.scale is None else args.scale
    if not 0.0005 <= scale <= 1.0:
        raise ConfigError(f"--scale {scale!r}: allowed: a number from 0.0005 to 1")
    if not 0 < args.port < 65536:
        raise ConfigError(f"--port {args.port!r}: allowed: 1 to 65535")
    if args.scenario:
        load_scenario(args.scenario)  # fail now, in one line, not in the browser
    check_listen(args.host, args.port)
    config = AppConfig(region=region, scale=scale, scenario_file=args.scenario)
    # Solara keeps a closed or dropped page's session (its model: 10+ MB) for 24 hours by
    # default, in case the page reconnects; free it soon after instead (set before Solara
    # reads its settings; SOLARA_KERNEL_CULL_TIMEOUT in the environment still wins).
    os.environ.setdefault("SOLARA_KERNEL_CULL_TIMEOUT", SESSION_TIMEOUT)
    try:
        import solara
        import uvicorn
    except ImportError as e:
        print(f"cscsim: error: the app needs its extra: pip install 'cscsim[app]' ({e})",
              file=sys.stderr)
        return 2
    import solara.server.settings

    solara.server.settings.kernel.cull_timeout = os.environ["SOLARA_KERNEL_CULL_TIMEOUT"]
    give_back_closed_sessions()
    os.environ.update(config.to_env())
    if args.no_baseline:
        os.environ[NO_BASELINE_ENV] = "1"
    else:  # the server starts the no-change line's worker with its first page, not at the
        os.environ[START_BASELINE_ENV] = "1"  # first lever move (its imports take seconds)
    os.environ["SOLARA_APP"] = "sim.workflows.app:Page"
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    os.environ.setdefault("SOLARA_THEME_SHOW_BANNER", "False")
    if not is_loopback(args.host):
        print(f"cscsim: warning: --host {args.host} serves the app to every computer that can "
              f"reach this one, with no password; use it only on a network you trust "
              f"(default {DEFAULT_HOST}: this computer only)", file=sys.stderr)
    prewarm(config)
    print(f"cscsim app: {region} at scale {scale:g}; open http://{args.host}:{args.port}/ "
          "(Ctrl-C to stop)", file=sys.stderr, flush=True)
    uvicorn.run("solara.server.starlette:app", host=args.host, port=args.port,
                log_level="warning", ws_max_size=64 * 2**20)
    return 0


def prewarm(config) -> None:
    """Run the first preset's warm start (seed 1) before the server listens, unless it is in
    the warm-start cache already: its 20 years take about 13 CPU seconds at the teaching
    scale, which the first page would otherwise wait for. Later runs of the same code find it
    on disk (sim/snapshot.py). A made-up region, or no cache, is not prepared."""
    from sim.snapshot import cache_folder, key
    from sim.workflows.mapview import TeachingModel

    folder = cache_folder()
    if folder is None or config.region == "synthetic":
        return
    preset = config.presets()[0]
    if (folder / f"burnin-{key(config.scenario(preset, 1))}.pkl").exists():
        return
    print(f"cscsim app: running the {preset!r} preset's warm start once for this version of the "
          f"model (about a quarter of a minute; kept in {folder})", file=sys.stderr, flush=True)
    TeachingModel(preset=preset, seed=1, config=config)


#: Seconds between a session's close and giving its memory back: longer than Solara's own
#: collection after a close (1 s), by which time the close has dropped its last references.
RELEASE_DELAY = 2.0
#: glibc malloc arenas the server may use (glibc's default is 8 per core). Each websocket is
#: served on a thread of its own and every thread may get an arena of its own, where freed
#: memory is stranded between the blocks still in use; CPython allocates under the GIL, so
#: more arenas buy little. Measured (20 killed sessions, benchmarks/app_sessions.py, with the
#: trim below): 45 MB left after the culls with glibc's default, 28 MB with 2, and no change
#: in the page's speed (benchmarks/app_speed.py). MALLOC_ARENA_MAX in the environment wins.
MALLOC_ARENAS = 2


def give_back_closed_sessions() -> None:
    """After a session closes, hand the memory its model used back to the operating system.

    Solara culls a dropped page's session after ``SOLARA_KERNEL_CULL_TIMEOUT`` and its model
    is then freed (no :class:`~sim.model.CareSystem` is left alive), but freeing only returns
    the memory to glibc's malloc, which keeps it inside the server: measured with
    ``benchmarks/app_sessions.py``, ten pages whose browsers were killed left the server
    136 MB larger two minutes after the last one was culled, and each new session still grew
    it. So every close (a burst of closes at once) is followed, ``RELEASE_DELAY`` seconds
    later, by a garbage collection and glibc's ``malloc_trim(0)``, which returns the free
    pages of every malloc arena (a few milliseconds); and the arenas are capped
    (``MALLOC_ARENAS``) so less free memory is stranded between blocks still in use. Without
    glibc only the collection runs.

    Call it before the server starts serving (the arena cap applies to threads that allocate
    after it, such as the websockets'). The work is done on one daemon thread started here, in
    the server's main thread, so it belongs to no session; a session's close only passes it
    the session's ``closed_event``.
    """
    import gc
    import queue
    import threading
    import time

    import solara.lifecycle
    from solara.server import kernel_context

    libc = _glibc()
    if libc is not None and "MALLOC_ARENA_MAX" not in os.environ:
        libc.mallopt(-8, MALLOC_ARENAS)  # -8 is M_ARENA_MAX in glibc's malloc.h
    closing: queue.SimpleQueue[threading.Event] = queue.SimpleQueue()

    def on_session_start():
        closed = kernel_context.get_current_context().closed_event
        return lambda: closing.put(closed)  # Solara calls this when the session closes

    def give_back() -> None:
        while True:
            events = [closing.get()]
            time.sleep(RELEASE_DELAY)
            with contextlib.suppress(queue.Empty):
                while True:  # the rest of a burst of closes
                    events.append(closing.get_nowait())
            for closed in events:  # the close has finished (a session restarted by
                closed.wait(timeout=10)  # Solara's hot reload does not close: hence the cap)
            gc.collect()
            if libc is not None:
                libc.malloc_trim(0)

    solara.lifecycle.on_kernel_start(on_session_start)
    threading.Thread(target=give_back, name="cscsim-give-back", daemon=True).start()


def _glibc():
    """The C library when it is glibc (it has ``malloc_trim`` and ``mallopt``), else None
    (macOS, musl, Windows)."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    except (OSError, AttributeError):
        return None
    return libc


def notebook(region: str | None = None, scale: float | None = None,
             scenario: str | None = None) -> Any:
    """The teaching page as a Solara element, to show inline in Jupyter (make it a cell's last
    expression). It is the same page ``cscsim app`` serves, built afresh for the region, scale
    and scenario file given (the app's defaults otherwise); a bad option raises ConfigError.

    Solara renders elements in Jupyter through ipywidgets, so no server is started."""
    from sim.config import ConfigError, load_scenario
    from sim.region import REGIONS
    from sim.workflows.mapview import TEACHING_REGION, TEACHING_SCALE, AppConfig

    region = region or TEACHING_REGION
    if region not in (*REGIONS, "synthetic"):
        raise ConfigError(f"region {region!r}: allowed: synthetic, " + ", ".join(REGIONS))
    scale = TEACHING_SCALE if scale is None else scale
    if not 0.0005 <= scale <= 1.0:
        raise ConfigError(f"scale {scale!r}: allowed: a number from 0.0005 to 1")
    if scenario:
        load_scenario(scenario)
    os.environ.update(AppConfig(region=region, scale=scale, scenario_file=scenario).to_env())
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    return _build_page()()


def check_listen(host: str, port: int) -> None:
    """Raise a ConfigError (one line) unless the server could listen on ``host:port``."""
    import socket

    from sim.config import ConfigError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as e:
        raise ConfigError(f"--host {host!r}: not an address of this computer ({e})") from None
    family, kind, proto, _, addr = infos[0]
    try:
        with socket.socket(family, kind, proto) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(addr)
    except OSError as e:
        raise ConfigError(f"--host {host} --port {port}: cannot listen there ({e.strerror}); "
                          f"choose another --host or --port") from None


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this computer only (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def __getattr__(name: str) -> Any:
    """Build the Solara page on first access (see the module docstring for why)."""
    if name == "Page":
        page = _build_page()
        globals()["Page"] = page
        return page
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _build_page():  # the components are closures over the lazy imports
    import reacton.ipywidgets as rw
    import solara
    from matplotlib.figure import Figure
    from mesa.visualization import SolaraViz, solara_viz
    from mesa.visualization.utils import force_update, update_counter

    from sim.workflows import baseline
    from sim.workflows.mapview import (
        CHART_DPI,
        CHART_SIZE,
        DPI,
        LOOPS_SIZE,
        MAP_DPI,
        MAP_SIZE,
        AppConfig,
        TeachingModel,
        diagram_key,
        draw_charts,
        draw_loops,
        draw_map,
        draw_timeline,
        figure_png,
        journey_text,
        lever_log_csv,
        levers_text,
        weekly_csv,
    )

    config = AppConfig.from_env()
    _tile_layout(solara_viz)

    titles = config.preset_titles()
    first_title = next(iter(titles))

    def model_args(preset: str, seed: int, for_profit: str) -> tuple[str, int, dict]:
        over = {}
        if for_profit != FOR_PROFIT_CHOICES[0]:
            over["levers.for_profit_share"] = float(for_profit.rstrip("%")) / 100
        return titles.get(preset, preset), int(seed), over

    class AppModel(TeachingModel):
        """The model SolaraViz rebuilds on Reset from the Model Parameters card (the preset
        is chosen by its title; a preset's key is accepted too). A model already warm-started
        for the same preset and seed by another page is copied, not run again
        (sim.workflows.baseline.WarmStarts)."""

        def __new__(cls, preset: str = first_title, seed: int = 1,
                    for_profit: str = FOR_PROFIT_CHOICES[0]):
            key, seed, over = model_args(preset, seed, for_profit)
            warm = baseline.warm_starts().get(baseline.key_of(config, key, seed, over))
            if warm is None:
                return super().__new__(cls, preset=key, seed=seed, config=config,
                                       overrides=over)
            warm.__class__ = cls
            warm._copied = True  # so __init__ leaves it as it is
            return warm

        def __init__(self, preset: str = first_title, seed: int = 1,
                     for_profit: str = FOR_PROFIT_CHOICES[0]) -> None:
            if self.__dict__.pop("_copied", False):
                return
            key, seed, over = model_args(preset, seed, for_profit)
            super().__init__(preset=key, seed=seed, config=config, overrides=over)
            baseline.warm_starts().put(self.baseline_key(), self, as_class=TeachingModel)

    @solara.component
    def ShowWeek(model):  # noqa: N802
        """Replaces Mesa's "Time: <steps>" line: Mesa's clock counts the warm start's weeks
        too, the charts do not; the page's clock is the charts' (week 0 = start of year 1)."""
        update_counter.get()
        n = getattr(model, "weeks_run", 0)
        return solara.Text(f"Week {n} of the run (year {max(n - 1, 0) // 52 + 1}); "
                           f"warm start {model.burn_weeks // 52} years before week 0",
                           classes=["cscsim-week"])

    solara_viz.ShowSteps = ShowWeek

    @solara.component
    def Picture(make, key, css: str = "", blit: bool = False):  # noqa: N802
        """A figure as a PNG image, redrawn only when ``key`` changes. (The key is also what
        makes reacton re-render this component: ``make`` is a new lambda with the same code
        every time, which reacton counts as an unchanged argument.) ``blit``: the figure is
        kept for the model's life and only its changing artists are redrawn (figure_png)."""
        data = solara.use_memo(lambda: figure_png(make(), blit=blit), [key])
        with solara.Div(classes=[css]):
            rw.Image(value=data, format="png")

    @solara.component
    def MapView(model):  # noqa: N802 - Mesa components are named like components
        """The hex map, redrawn every MAP_WEEKS weeks on one figure kept for the model's
        life (only what changes: mapview.figure_png(blit=True))."""
        update_counter.get()
        fig = solara.use_memo(lambda: Figure(figsize=MAP_SIZE, dpi=MAP_DPI), [id(model)])
        Picture(lambda: draw_map(model, fig), key=(id(model), model.weeks_run // MAP_WEEKS),
                css="cscsim-map", blit=True)

    with_baseline = not os.environ.get(NO_BASELINE_ENV)
    if with_baseline and os.environ.get(START_BASELINE_ENV):
        baseline.shared().start()

    def no_change(model) -> dict[str, np.ndarray]:
        """The model's no-change baseline so far (sim.workflows.baseline: computed ahead in a worker
        process, shared by every page on the same preset and seed)."""
        if not with_baseline:
            return {}
        if not model.lever_log:  # no move yet: the baseline is this very run
            return model.history
        return baseline.shared().series(model.baseline_key(), model.weeks_run)

    @solara.component
    def Charts(model):  # noqa: N802
        update_counter.get()
        base = no_change(model)
        ready = min(len(base.get("week", ())), model.weeks_run)
        fig = solara.use_memo(lambda: Figure(figsize=CHART_SIZE, dpi=CHART_DPI), [id(model)])
        Picture(lambda: draw_charts(model, fig, baseline=base),
                key=(id(model), model.time, ready, len(model.lever_log)), css="cscsim-charts",
                blit=True)

    @solara.component
    def LoopDiagram(model):  # noqa: N802
        """The loop diagram, looked at every LOOP_WEEKS weeks and redrawn when what it shows
        changed (the measure compares 13-week windows, so a look every 12 weeks misses
        nothing a class could follow)."""
        update_counter.get()
        a = solara.use_memo(lambda: model.assessment, [id(model), model.weeks_run // LOOP_WEEKS])
        fig = solara.use_memo(lambda: Figure(figsize=LOOPS_SIZE, dpi=DPI), [id(model)])
        Picture(lambda: draw_loops(a, fig, window=model.monitor.window),
                key=(id(model), diagram_key(a)), css="cscsim-loops")

    @solara.component
    def FollowChild(model):  # noqa: N802
        update_counter.get()
        chosen = solara.use_reactive(None)  # (id(model), child id)
        # the picker's list changes every MAP_WEEKS weeks, not every update: a new list of 200
        # labels is sent to the browser each time it changes
        candidates = solara.use_memo(model.children_to_follow,
                                     [id(model), model.weeks_run // MAP_WEEKS])
        labels = {_label(model, j): j for j in candidates}
        current = chosen.value[1] if chosen.value and chosen.value[0] == id(model) else None
        # until a child is chosen, the page follows the first in the list and stays with that
        # child while they are in it (the list is re-sorted every MAP_WEEKS weeks: following
        # its head jumped from child to child, and redrew the timeline each time)
        auto = solara.use_ref(None)
        if current is None and candidates:
            if auto.current is None or auto.current[0] != id(model) or \
                    auto.current[1] not in candidates:
                auto.current = (id(model), candidates[0])
            current = auto.current[1]

        def choose(label):
            if label in labels:
                chosen.set((id(model), labels[label]))

        with solara.Column(classes=["cscsim-child"]):
            solara.HTML(tag="div", unsafe_innerHTML="<b>Follow a child</b> in care: their "
                        "journey so far (most moves first)")
            solara.Select(label="Child in care", values=list(labels),
                          value=_label(model, current) if current is not None else None,
                          on_value=choose, classes=["cscsim-child-select"])
            if current is None:
                solara.Info("No child is in care yet.")
            else:
                # redrawn when the journey changes, else every TIMELINE_WEEKS weeks
                key = (id(model), current, *_journey_size(model, current),
                       model.weeks_run // TIMELINE_WEEKS)
                Picture(lambda: draw_timeline(model, current), key=key, css="cscsim-timeline")
                solara.Text(journey_text(model, current), classes=["cscsim-journey"],
                            style={"font-size": "12px"})

    @solara.component
    def Levers(model: solara.Reactive):  # noqa: N802
        update_counter.get()
        m = model.value
        lv = m.params.levers

        def mover(key):
            def move(value):
                m = model.value
                if with_baseline and not m.lever_log:  # the no-change run parts here
                    baseline.shared().fork(m.baseline_key(), m, as_class=TeachingModel)
                m.move_lever(key, float(value))
                force_update()
            return move

        with solara.Card("Running now", classes=["cscsim-preset"]):
            solara.HTML(tag="div", unsafe_innerHTML=(
                f"<b>{html.escape(m.params.name)}</b>: {html.escape(m.params.description)}"
                f"<br><small>Choosing another preset under <i>Model Parameters</i> changes "
                f"nothing until you press <b>Reset</b>; Reset then runs the preset's warm start "
                f"({m.burn_weeks // 52} years here) first: a quarter of a minute the first time "
                f"a preset and seed are run, a moment after that.</small>"))
        with solara.Card("Policy levers"):
            solara.Text("Each takes effect from the next week.", style={"font-size": "13px"})
            for key, label, lo, hi, step in LIVE_LEVERS:
                value = float(getattr(lv, key))
                with solara.Div(classes=[f"lever-{key}"]):
                    solara.SliderFloat(f"{label}: {value:g}", value=value, min=lo, max=hi,
                                       step=step, on_value=mover(key), thumb_label=True)
            solara.HTML(tag="div", unsafe_innerHTML=(
                "Preset, seed and for-profit share are under <i>Model Parameters</i> and apply "
                "on <b>Reset</b>. Exercises: <code>docs/teaching.md</code>."))
            solara.Text(levers_text(m), classes=["cscsim-levers"],
                        style={"font-size": "12px", "color": "#4a5568"})
        Export(m)

    @solara.component
    def Export(m):  # noqa: N802
        """Downloads of this run: built when clicked, from the model as it is then."""
        stem = f"cscsim_{m.preset}_seed{m.params.run.seed}"

        def charts_png() -> bytes:
            fig = draw_charts(m, baseline=no_change(m))
            fig.set_dpi(160)
            return figure_png(fig)

        with solara.Card("Save this run", classes=["cscsim-export"]):
            with solara.Row(style={"flex-wrap": "wrap", "gap": "6px"}):
                solara.FileDownload(lambda: weekly_csv(m, no_change(m)), f"{stem}_weekly.csv",
                                    label="Weekly series (CSV)", mime_type="text/csv")
                solara.FileDownload(charts_png, f"{stem}_charts.png", label="Charts (PNG)",
                                    mime_type="image/png")
                solara.FileDownload(lambda: lever_log_csv(m), f"{stem}_levers.csv",
                                    label="Lever changes (CSV)", mime_type="text/csv")
            err = baseline.shared().error
            if err:
                solara.Text(err, style={"font-size": "12px", "color": "#9b2c2c"})

    @solara.component
    def Page():  # noqa: N802
        first = solara.use_memo(lambda: AppModel(), [])
        model = solara.use_reactive(first)
        solara.Title("cscsim: feedback loops in children's social care")
        solara.Style(PAGE_CSS)
        SolaraViz(
            model,
            components=[(MapView, 0), (Charts, 0), (LoopDiagram, 0), (FollowChild, 0)],
            model_params={
                "preset": {"type": "Select", "value": first_title,
                           "values": list(titles),
                           "label": "Preset scenario (applies on Reset)"},
                "seed": {"type": "SliderInt", "value": 1, "min": 1, "max": 50, "step": 1,
                         "label": "Seed (applies on Reset)"},
                "for_profit": {"type": "Select", "value": FOR_PROFIT_CHOICES[0],
                               "values": list(FOR_PROFIT_CHOICES),
                               "label": "For-profit share of independent places (on Reset)"},
            },
            play_interval=PLAY_INTERVAL_MS,
            render_interval=RENDER_INTERVAL,
            name=f"cscsim: {config.region}, 1 in {1 / config.scale:.0f} families",
        )
        with solara.Sidebar():
            Levers(model)

    return Page


#: Tiles of Mesa's draggable grid (12 columns, 30 px rows 10 px apart): the map (two thirds of
#: the width: at least 640 px at 1280 x 720) and the charts side by side, 15 rows (590 px)
#: tall so both fit a 720-pixel-high screen under the title bar; then the loop diagram and
#: the child's journey below them.
TILES = (
    {"i": 0, "x": 0, "y": 0, "w": 8, "h": 15},
    {"i": 1, "x": 8, "y": 0, "w": 4, "h": 15},
    {"i": 2, "x": 0, "y": 15, "w": 6, "h": 14},
    {"i": 3, "x": 6, "y": 15, "w": 6, "h": 14},
)
#: The page's own style: pictures scale to their tiles (so the page fits 1280 x 720 and
#: 1920 x 1080 alike), a sidebar of 270 px instead of Solara's 400 (the main area's padding
#: follows it only while the sidebar is open: its inline style then says 400px), and Mesa's
#: leftovers a class does not need hidden
#: (the "Page 0" tab of a one-page app, the "Use Threads" box).
PAGE_CSS = """
.v-navigation-drawer { min-width: 270px !important; width: 270px !important; }
main.v-content[style*="400px"] { padding-left: 270px !important; }
.v-tabs { display: none !important; }
.v-card .v-input--checkbox { display: none !important; }
.cscsim-map, .cscsim-charts { height: 100%; width: 100%; display: flex;
  justify-content: center; align-items: flex-start; }
.cscsim-map img, .cscsim-charts img { width: 100%; height: 100%; object-fit: contain;
  object-position: top; }
.cscsim-loops img, .cscsim-timeline img { max-width: 100%; height: auto; }
.cscsim-export .v-btn { text-transform: none; }
.v-navigation-drawer .v-input__slider .v-input__slot { flex-direction: column;
  align-items: stretch; }
.v-navigation-drawer .v-input__slider .v-label { max-width: none; white-space: normal;
  margin-bottom: 12px; }
.v-navigation-drawer .v-btn:not(.v-btn--icon) { min-width: 0 !important;
  padding: 0 12px !important; }
"""


def _tile_layout(solara_viz) -> None:
    """Give our four components taller tiles than Mesa 3.5's default (6 x 10, too short for a
    map or a chart panel, so they overlapped). Mesa has no parameter for it, so this replaces
    its ``make_initial_grid_layout`` for a page of exactly our four components and leaves any
    other page as Mesa lays it out."""
    original = getattr(solara_viz, "_cscsim_original_layout", solara_viz.make_initial_grid_layout)

    def layout(num_components: int) -> list[dict]:
        if num_components == len(TILES):
            return [{**t, "moved": False} for t in TILES]
        return original(num_components)

    solara_viz._cscsim_original_layout = original
    solara_viz.make_initial_grid_layout = layout


def _journey_size(model, j: int) -> tuple[int, int]:
    """How many placements and events child ``j`` has had (the timeline redraws when they
    change)."""
    return (int(np.count_nonzero(model.pop.placements.child == j)),
            int(np.count_nonzero(model.pop.events.child == j)))


def _label(model, j: int) -> str:
    """A stable picker label for child ``j`` (id and home authority do not change)."""
    f, c = model.pop.families, model.pop.children
    row = model.pop.child_rows([j])[0]
    return f"child {j} ({model.region.la_name[f.la[c.family[row]]]})"


# --- running the app from tests and benchmarks ------------------------------------------------

#: Chromium flags for a headless run that makes no connection of its own beyond the page.
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage")


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((DEFAULT_HOST, 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def served(args: tuple[str, ...] = (), timeout: float = 300.0, log=None):
    """Run ``cscsim app`` in a subprocess on a free loopback port; yield its URL; stop it.

    Waits (at most ``timeout`` seconds) until the server answers, and always terminates the
    process it started (then kills it if it does not stop within 10 s). The server answers only
    once the first preset's 20-year warm start is ready (:func:`prewarm`: about 13 CPU seconds
    when it is not in the cache, minutes of wall time on a loaded machine), hence the margin.
    """
    import subprocess
    import time
    import urllib.request

    port = free_port()
    url = f"http://{DEFAULT_HOST}:{port}/"
    cmd = [sys.executable, "-m", "sim.workflows.cli", "app", "--host", DEFAULT_HOST,
           "--port", str(port), *args]
    proc = subprocess.Popen(cmd, stdout=log or subprocess.DEVNULL,
                            stderr=subprocess.STDOUT if log else subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"cscsim app exited with code {proc.returncode}")
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"cscsim app did not answer at {url} in {timeout:.0f} s")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def launch_chromium(playwright, user_data_dir: str | None = None):
    """Debian's chromium (never a downloaded build) in headless mode, via Playwright."""
    import shutil

    path = shutil.which("chromium") or "/usr/bin/chromium"
    if user_data_dir:
        return playwright.chromium.launch_persistent_context(
            user_data_dir, executable_path=path, headless=True, args=list(CHROMIUM_ARGS))
    return playwright.chromium.launch(executable_path=path, headless=True,
                                      args=list(CHROMIUM_ARGS))
