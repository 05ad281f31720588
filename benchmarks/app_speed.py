"""How fast the teaching app runs: weeks per second of the model, of a page update, and of the
page itself in a real browser.

Prints three measurements of the default teaching model (North East, scale 0.25):

1. ``model``: ``TeachingModel.step()`` alone (the simulation plus the weekly series and the
   loop measure), weeks per second;
2. ``frame``: the server's side of page updates (see ``bench_frames``), in weeks per CPU
   second of this process;
3. ``page``: ``cscsim app`` served on a free loopback port, played in headless Debian chromium
   for ``--seconds`` (default 20) after one lever move (funding 1 -> 0.95), weeks advanced
   per second of wall time (the page's own week counter, which moves only with the pictures:
   weeks computed, drawn and shown), with the page's no-change baseline on (after the move it
   runs in the server's worker process, ``sim/workflows/baseline.py``), and the CPU seconds a
   week the server, its worker and the browser (chromium and Playwright's driver) used
   meanwhile. Needs chromium and Playwright
   (``scripts/install_browser.sh``); skipped with a message otherwise.

The load average is printed with each figure: the machine has 2 cores, and other jobs on it
slow every number here. The page's weeks a second are the server's: it steps and draws in one
thread, so on a busy machine they follow the share of a core it gets; its CPU seconds a week
are the steadier figure (they too rise a little with load). Usage::

    .venv/bin/python benchmarks/app_speed.py [--seconds 20] [--no-page] [--no-baseline]
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} {five:.1f} {fifteen:.1f}"


def bench_model(weeks: int = 104) -> float:
    from sim.workflows.mapview import AppConfig, TeachingModel

    model = TeachingModel(config=AppConfig())
    for _ in range(13):  # warm up
        model.step()
    t = time.perf_counter()
    for _ in range(weeks):
        model.step()
    return weeks / (time.perf_counter() - t)


def bench_frames(frames: int = 40) -> tuple[float, dict[str, float]]:
    """The server's side of a page update, as the page does it: the model stepped
    ``RENDER_INTERVAL`` weeks; the charts redrawn (with a baseline) on the figure kept for the
    model's life, only their data on a kept bitmap of the axes (``figure_png(blit=True)``);
    the map likewise every ``MAP_WEEKS`` weeks; the loop diagram on its kept figure when what
    it shows changed (looked at every ``LOOP_WEEKS`` weeks); the followed child's timeline
    when the journey changed, else every ``TIMELINE_WEEKS`` weeks. CPU seconds of this
    process per part and update; Solara's own work is not in it (the page measure has it)."""
    from matplotlib.figure import Figure

    from sim.workflows.app import (
        LOOP_WEEKS,
        MAP_WEEKS,
        RENDER_INTERVAL,
        TIMELINE_WEEKS,
        _journey_size,
    )
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
    )

    model = TeachingModel(config=AppConfig())
    for _ in range(40):
        model.step()
    fmap = Figure(figsize=MAP_SIZE, dpi=MAP_DPI)
    fcharts = Figure(figsize=CHART_SIZE, dpi=CHART_DPI)
    floops = Figure(figsize=LOOPS_SIZE, dpi=DPI)
    parts = {"step": 0.0, "charts": 0.0, "map": 0.0, "loops": 0.0, "timeline": 0.0}
    last = {"map": None, "look": None, "loops": None, "timeline": None}
    t0 = time.process_time()
    for _ in range(frames):
        t = time.process_time()
        for _ in range(RENDER_INTERVAL):
            model.step()
        parts["step"] += time.process_time() - t
        t = time.process_time()
        figure_png(draw_charts(model, fcharts, baseline=model.history), blit=True)
        parts["charts"] += time.process_time() - t
        if model.weeks_run // MAP_WEEKS != last["map"]:
            last["map"] = model.weeks_run // MAP_WEEKS
            t = time.process_time()
            figure_png(draw_map(model, fmap), blit=True)
            parts["map"] += time.process_time() - t
        look = model.weeks_run // LOOP_WEEKS
        if look != last["look"]:
            last["look"] = look
            if diagram_key(model.assessment) != last["loops"]:
                last["loops"] = diagram_key(model.assessment)
                t = time.process_time()
                figure_png(draw_loops(model.assessment, floops))
                parts["loops"] += time.process_time() - t
        if last["map"] != last.get("list"):  # the page's list of children, as it is kept
            last["list"] = last["map"]
            children = model.children_to_follow()
            if children and last.get("child") not in children:  # it stays with its child
                last["child"] = children[0]
        child = last.get("child")
        if child is not None:
            key = (child, *_journey_size(model, child), model.weeks_run // TIMELINE_WEEKS)
            if key != last["timeline"]:
                last["timeline"] = key
                t = time.process_time()
                figure_png(draw_timeline(model, child))
                parts["timeline"] += time.process_time() - t
    total = time.process_time() - t0
    return frames * RENDER_INTERVAL / total, {k: v / frames for k, v in parts.items()}


def _cpu(procs) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except Exception:  # a process that ended counts nothing more
            pass
    return total


def bench_page(seconds: float) -> tuple[float, float, float, float] | None:
    """Weeks a second of wall time in chromium, and the CPU seconds a week the server, its
    baseline worker and chromium used during the play.

    The weeks are the page's own clock ("Week N of the run", which the page updates with the
    pictures, every ``RENDER_INTERVAL`` weeks): weeks the server computed, drawn and sent, and
    the browser showed, counted from the first click on play to the last update that landed
    after pause, over the wall time from play to pause."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("page: skipped (no playwright; run scripts/install_browser.sh)")
        return None
    from sim.workflows.app import launch_chromium, served

    with (served() as url, sync_playwright() as pw,
          tempfile.TemporaryDirectory() as profile):
        ctx = launch_chromium(pw, profile)
        try:
            page = ctx.new_page()
            page.set_viewport_size({"width": 1600, "height": 1250})
            page.goto(url, timeout=90_000)
            page.locator(".cscsim-charts img").first.wait_for(timeout=90_000)

            def week() -> float:
                return float(re.search(r"Week (\d+) of the run", page.inner_text("body")).group(1))

            import psutil

            server = next(p for p in psutil.Process().children()
                          if "sim.workflows.cli" in p.cmdline())
            # a lever moved (funding 1 -> 0.95), so that the no-change line is a run of its
            # own: until the first move the page draws its own run, which is the same run
            slider = page.locator(".lever-funding [role=slider]").first
            slider.focus()
            slider.press("ArrowLeft")
            page.locator(".cscsim-levers", has_text="funding x0.95").wait_for(timeout=30_000)
            time.sleep(3)  # the baseline worker starts and takes the page's model
            workers = server.children(recursive=True)
            ours = {server.pid, *(w.pid for w in workers)}
            browser = [p for p in psutil.Process().children(recursive=True) if p.pid not in ours]
            c0, b0, r0 = _cpu([server]), _cpu(workers), _cpu(browser)
            w0, t0 = week(), time.monotonic()
            page.get_by_role("button", name="▶").click()
            time.sleep(seconds)
            page.get_by_role("button", name="❚❚").click()
            elapsed = time.monotonic() - t0
            time.sleep(1.5)  # the update in flight when paused still lands
            weeks = week() - w0
            return (weeks / elapsed, (_cpu([server]) - c0) / weeks,
                    (_cpu(workers) - b0) / weeks, (_cpu(browser) - r0) / weeks)
        finally:
            ctx.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="how long to play the page")
    ap.add_argument("--no-page", action="store_true", help="skip the browser measurement")
    ap.add_argument("--no-baseline", action="store_true",
                    help="serve the page without its no-change line (cscsim app --no-baseline)")
    args = ap.parse_args()
    if args.no_baseline:
        from sim.workflows.app import NO_BASELINE_ENV

        os.environ[NO_BASELINE_ENV] = "1"  # the served app inherits it
    from sim.workflows.app import RENDER_INTERVAL
    from sim.workflows.mapview import TEACHING_REGION, TEACHING_SCALE

    print(f"teaching model: {TEACHING_REGION}, scale {TEACHING_SCALE}, page update every "
          f"{RENDER_INTERVAL} weeks; {os.cpu_count()} cores")
    print(f"model: {bench_model():.1f} weeks/s ({load()})")
    rate, parts = bench_frames()
    detail = ", ".join(f"{k} {1000 * v:.0f} ms" for k, v in parts.items())
    print(f"frame: {rate:.1f} weeks per CPU second, server side of the page's updates "
          f"(CPU ms per update: {detail}; {load()})")
    if not args.no_page:
        page = bench_page(args.seconds)
        if page is not None:
            rate, server, worker, browser = page
            what = "without" if args.no_baseline else "with"
            print(f"page:  {rate:.1f} weeks/s in headless chromium, page updates included, "
                  f"{what} the no-change baseline; CPU seconds a week: server {server:.3f}, "
                  f"baseline worker {worker:.3f}, browser {browser:.3f} ({load()})")


if __name__ == "__main__":
    main()
