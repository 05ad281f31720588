"""Does the teaching app free a page's model when the page goes away abruptly?

Serves ``cscsim app`` on a free loopback port, then ``--sessions`` times: opens the page in a
fresh headless Debian chromium, waits until its charts are drawn (so the session's model is
built), and kills that browser outright (SIGKILL: no goodbye to the server, as when a laptop
lid closes). It prints the server's resident memory before any page, after the last page was
killed, and then every 10 s for ``--wait`` seconds; the app frees a session's model once its
connection has been gone for ``SOLARA_KERNEL_CULL_TIMEOUT`` (45 s, sim/workflows/app.py), and gives
the memory back to the system a few seconds later (``give_back_closed_sessions``).

    .venv/bin/python benchmarks/app_sessions.py [--sessions 20] [--wait 120]

Loopback only; needs chromium and Playwright (scripts/install_browser.sh).
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import tempfile
import time

import psutil


def _rss_mb(proc: psutil.Process) -> float:
    return proc.memory_info().rss / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--wait", type=float, default=120.0)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from sim.workflows.app import launch_chromium, served

    me = psutil.Process()
    with served() as url, sync_playwright() as pw:
        server = next(p for p in me.children() if "sim.workflows.cli" in " ".join(p.cmdline()))
        with tempfile.TemporaryDirectory() as profile:  # the first page loads the assets
            ctx = launch_chromium(pw, profile)
            page = ctx.new_page()
            page.goto(url, timeout=120_000)
            page.locator(".cscsim-charts img").first.wait_for(timeout=120_000)
            ctx.close()
        time.sleep(60)  # that first session is culled too
        base = _rss_mb(server)
        print(f"server RSS before the sessions: {base:.0f} MB")
        for i in range(args.sessions):
            with tempfile.TemporaryDirectory() as profile:
                before = {p.pid for p in me.children(recursive=True)}
                ctx = launch_chromium(pw, profile)
                page = ctx.new_page()
                page.goto(url, timeout=120_000)
                page.locator(".cscsim-charts img").first.wait_for(timeout=120_000)
                for p in me.children(recursive=True):
                    if p.pid not in before and p.pid != server.pid and "chrom" in p.name():
                        p.kill()  # abrupt: the browser is gone without closing anything
                with contextlib.suppress(Exception):  # the browser is already dead
                    ctx.close()
            print(f"session {i + 1}: server RSS {_rss_mb(server):.0f} MB", flush=True)
        peak = _rss_mb(server)
        print(f"after {args.sessions} sessions killed: {peak:.0f} MB (+{peak - base:.0f})")
        t0 = time.monotonic()
        while time.monotonic() - t0 < args.wait:
            time.sleep(10)
            now = _rss_mb(server)
            print(f"  {time.monotonic() - t0:.0f} s later: {now:.0f} MB (+{now - base:.0f})",
                  flush=True)
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    print(f"CPU seconds (this script): {cpu.ru_utime + cpu.ru_stime:.0f}")


if __name__ == "__main__":
    main()
