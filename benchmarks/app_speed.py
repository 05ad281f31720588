"""How fast the teaching app runs: weeks per second of the model, of a page update, and of the
page itself in a real browser.

Prints three measurements of the default teaching model (North East, scale 0.25):

1. ``model``: ``TeachingModel.step()`` alone (the simulation plus the weekly series and the
   loop measure), weeks per second;
2. ``frame``: the model stepped ``RENDER_INTERVAL`` weeks and then every picture a page update
   draws (map and charts every update; the loop diagram and the timeline when what they show
   changed, which the page detects; here they are counted every time, the worst case), as
   weeks per second;
3. ``page``: ``cscsim app`` served on a free loopback port, played in headless Debian chromium
   for ``--seconds`` (default 20), weeks advanced per second of wall time. Needs chromium and
   Playwright (``scripts/install_browser.sh``); skipped with a message otherwise.

The load average is printed with each figure: the machine has 2 cores, and other jobs on it
slow every number here. Usage::

    .venv/bin/python benchmarks/app_speed.py [--seconds 20] [--no-page]
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
    from sim.mapview import AppConfig, TeachingModel

    model = TeachingModel(config=AppConfig())
    for _ in range(13):  # warm up
        model.step()
    t = time.perf_counter()
    for _ in range(weeks):
        model.step()
    return weeks / (time.perf_counter() - t)


def bench_frames(frames: int = 12) -> tuple[float, dict[str, float]]:
    from sim.app import RENDER_INTERVAL
    from sim.mapview import (
        AppConfig,
        TeachingModel,
        draw_charts,
        draw_loops,
        draw_map,
        draw_timeline,
        figure_png,
    )

    model = TeachingModel(config=AppConfig())
    for _ in range(40):
        model.step()
    child = model.children_to_follow()[0]
    parts = {"step": 0.0, "map": 0.0, "charts": 0.0, "loops": 0.0, "timeline": 0.0}
    draws = {"map": lambda: draw_map(model), "charts": lambda: draw_charts(model),
             "loops": lambda: draw_loops(model.assessment),
             "timeline": lambda: draw_timeline(model, child)}
    t0 = time.perf_counter()
    for _ in range(frames):
        t = time.perf_counter()
        for _ in range(RENDER_INTERVAL):
            model.step()
        parts["step"] += time.perf_counter() - t
        for name, draw in draws.items():
            t = time.perf_counter()
            figure_png(draw())
            parts[name] += time.perf_counter() - t
    total = time.perf_counter() - t0
    return frames * RENDER_INTERVAL / total, {k: v / frames for k, v in parts.items()}


def bench_page(seconds: float) -> float | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("page: skipped (no playwright; run scripts/install_browser.sh)")
        return None
    from sim.app import launch_chromium, served

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

            w0, t0 = week(), time.monotonic()
            page.get_by_role("button", name="▶").click()
            time.sleep(seconds)
            page.get_by_role("button", name="❚❚").click()
            elapsed = time.monotonic() - t0
            time.sleep(1.5)  # the update in flight when paused still lands
            return (week() - w0) / elapsed
        finally:
            ctx.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="how long to play the page")
    ap.add_argument("--no-page", action="store_true", help="skip the browser measurement")
    args = ap.parse_args()
    from sim.app import RENDER_INTERVAL
    from sim.mapview import TEACHING_REGION, TEACHING_SCALE

    print(f"teaching model: {TEACHING_REGION}, scale {TEACHING_SCALE}, page update every "
          f"{RENDER_INTERVAL} weeks; {os.cpu_count()} cores")
    print(f"model: {bench_model():.1f} weeks/s ({load()})")
    rate, parts = bench_frames()
    detail = ", ".join(f"{k} {1000 * v:.0f} ms" for k, v in parts.items())
    print(f"frame: {rate:.1f} weeks/s with every picture redrawn each update ({detail}; "
          f"{load()})")
    if not args.no_page:
        page = bench_page(args.seconds)
        if page is not None:
            print(f"page:  {page:.1f} weeks/s in headless chromium, page updates included "
                  f"({load()})")


if __name__ == "__main__":
    main()
