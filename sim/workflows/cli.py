"""The ``cscsim`` command.

Every mistake in what the user typed or wrote (an unknown key, a value out of range, a
malformed file) ends in one line on stderr naming the key and what is allowed, exit code 2, and
nothing written.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
import time
from pathlib import Path

from sim.config import ConfigError, Scenario, load_scenario, one_line
from sim.parameters import PARAMS, SCHEDULABLE

#: Modules that add their own subcommands through ``register(subparsers)``. They import heavy
#: dependencies inside their command functions so that ``cscsim --help`` stays fast.
PLUGINS: tuple[str, ...] = (
    "sim.workflows.sweep",
    "sim.workflows.compare",
    "sim.workflows.analyse",
    "sim.workflows.app",
    "sim.workflows.calibration",
    "sim.workflows.validation",
    "sim.workflows.ssda903",
    "sim.workflows.drivers",
    "sim.workflows.report",
    "sim.workflows.loops",
    "sim.workflows.attribution",
)

RUN_FLAGS = {"years": "run.years", "seed": "run.seed", "scale": "run.scale", "region": "run.region"}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's usage errors also exit 2, in one line
        self.exit(2, f"cscsim: error: {message}\n")


def _resolve(args) -> Scenario:
    scenario = load_scenario(args.scenario)
    overrides = {RUN_FLAGS[k]: getattr(args, k) for k in RUN_FLAGS}
    return scenario.with_overrides(overrides, where="command line")


def cmd_run(args) -> int:
    from sim.model import CareSystem
    from sim.output import write_run
    from sim.workflows.plots import summary_figure
    from sim.workflows.preflight import check_out, run_bytes
    from sim.workflows.progress import progress_bar

    scenario = _resolve(args)
    checked = check_out(args.out, run_bytes(scenario))
    if args.check:
        print(f"cscsim: checked {checked}; the scenario is valid (--check: nothing run)",
              file=sys.stderr)
        return 0
    if not args.quiet:
        print(f"cscsim: checked {checked}", file=sys.stderr)
    out = Path(args.out)
    t0 = time.perf_counter()
    with progress_bar(
        total=52 * scenario.run.burn_in_years,
        unit="week",
        desc="burn-in (not reported)",
        disable=args.quiet or scenario.run.burn_in_years == 0,
    ) as bar:
        model = CareSystem(scenario, burn_in_progress=lambda _w: bar.update(1))
    t1 = time.perf_counter()
    weeks = 52 * scenario.run.years
    with progress_bar(
        total=weeks,
        unit="week",
        desc=f"{scenario.name}: {scenario.run.region}",
        disable=args.quiet,
    ) as bar:
        model.run(progress=lambda _w: bar.update(1))
    t2 = time.perf_counter()
    timings = {"build": t1 - t0, "simulate": t2 - t1}
    write_run(model, out, timings, figure=summary_figure)
    timings["write"] = time.perf_counter() - t2
    if not args.quiet:
        _print_summary(model, out, timings)
    return 0


def _print_summary(model, out: Path, timings: dict[str, float]) -> None:
    annual = model.annual_frame()
    cols = {
        "cla_rate_per_10k": "in care /10k",
        "care_entries_rate_per_10k": "entries /10k",
        "cin_rate_per_10k": "in need /10k",
        "placement_breakdown_rate": "breakdowns /yr",
        "share_over_20_miles": ">20 miles",
        "sibling_separation_share": "siblings apart",
        "early_help_places": "EH places",
        "overspend_gbp": "overspend £",
    }
    table = annual.set_index("year")[list(cols)].rename(columns=cols)
    p = model.params.run
    print(
        f"\n{model.params.name}: {p.region}, scale {p.scale:g}, seed {p.seed}, "
        f"{len(annual)} years ({model.pop.families.n:,} families, {model.pop.children.n:,} "
        f"children ever simulated)"
    )
    print(table.to_string(float_format=lambda x: f"{x:,.3g}" if abs(x) < 1000 else f"{x:,.0f}"))
    total = sum(timings.values())
    print(
        f"\nwrote {out}/: annual.csv annual_by_la.csv placements.csv manifest.json summary.png "
        f"({total:.1f} s)"
    )


def cmd_params(args) -> int:
    if args.format == "markdown":
        print(params_markdown(), end="")
    elif args.format == "toml":
        print(default_toml(), end="")
    else:
        width = max(len(p.name) for p in PARAMS)
        print("(keys marked * accept a schedule by year, e.g. { 2010 = 2.0, 2021 = 1.0 })")
        for p in PARAMS:
            rng = "" if p.choices or isinstance(p.default, bool) else f"[{p.lo:g}, {p.hi:g}]"
            mark = "*" if p.name in SCHEDULABLE else " "
            print(
                f"{p.name:<{width}}{mark} {p.default!s:>12} {p.unit:<28} {rng:<18} {p.basis}: "
                f"{p.source or p.doc}"
            )
        from policies import KINDS

        print("\n[[policies]] kinds (size unit; docs/policies.md): " + ", ".join(
            f"{k} ({c.unit})" for k, c in KINDS.items()))
    return 0


def params_markdown() -> str:
    """docs/parameters.md: every parameter, with unit, range and the source of its default."""
    lines = [
        "# Parameters",
        "",
        "Generated by `cscsim params --format markdown` from `sim/parameters.py`; do not "
        "edit by hand. *basis*: `published` (read in the cited source), `derived` "
        "(arithmetic on published figures), `calibrated` (fitted to targets), `assumption` "
        "(a stated modelling judgement). *schedule*: the key accepts a schedule by year, "
        "e.g. `early_help_capacity = { 2010 = 2.0, 2021 = 1.0 }`, interpolated linearly "
        "between the years given and held flat outside them (sim/schedule.py).",
        "",
    ]
    section = None
    for p in PARAMS:
        if p.section != section:
            section = p.section
            lines += [
                "",
                f"## [{section}]",
                "",
                "| key | default | unit | allowed | schedule | basis | source | meaning |",
                "|---|---|---|---|---|---|---|---|",
            ]
        sched = "yes" if p.name in SCHEDULABLE else ""
        lines.append(
            f"| `{p.key}` | {p.default!r} | {p.unit} | {p.allowed()} | {sched} | {p.basis} | "
            f"{p.source} | {p.doc} |"
        )
    return "\n".join(lines) + "\n"


def default_toml() -> str:
    """A scenario file listing every parameter at its default, with where it comes from."""
    lines = [
        'name = "default"',
        'description = "Every parameter at its default (generated by cscsim params --format toml)"',
    ]
    section = None
    for p in PARAMS:
        if p.section != section:
            section = p.section
            lines += ["", f"[{section}]"]
        value = (
            f'"{p.default}"'
            if isinstance(p.default, str)
            else (str(p.default).lower() if isinstance(p.default, bool) else repr(p.default))
        )
        note = f"{p.basis}: {p.source}" if p.source else p.basis
        sched = "; or a schedule by year" if p.name in SCHEDULABLE else ""
        lines.append(f"# {p.doc} ({p.unit or 'no unit'}; {p.allowed()}{sched}). {note}")
        lines.append(f"{p.key} = {value}")
    return "\n".join(lines) + "\n"


def cmd_indicators(args) -> int:
    from sim.workflows.datadict import csv_text, markdown

    print(csv_text() if args.format == "csv" else markdown(), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="cscsim", description="Simulate children's social care in England.")
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="run a scenario and write its results")
    run.add_argument("scenario", nargs="?", help="scenario file (TOML); default: the defaults")
    run.add_argument("--out", default="results/run", help="output folder (default: results/run)")
    run.add_argument("--years", type=int, help="simulated years")
    run.add_argument("--seed", type=int, help="root random seed")
    run.add_argument("--scale", type=float, help="share of families simulated (0-1]")
    run.add_argument("--region", help="'England' or a region, e.g. 'North West'")
    run.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    run.add_argument("--check", action="store_true",
                     help="validate the scenario and check --out, then stop (nothing written)")
    run.set_defaults(func=cmd_run)
    params = sub.add_parser("params", help="list every parameter with its default and source")
    params.add_argument("--format", choices=("table", "markdown", "toml"), default="table")
    params.set_defaults(func=cmd_params)
    ind = sub.add_parser("indicators", help="print the data dictionary: every indicator and "
                         "every column of every output file (markdown or csv)")
    ind.add_argument("--format", choices=("markdown", "csv"), default="markdown")
    ind.set_defaults(func=cmd_indicators)
    for module in PLUGINS:
        importlib.import_module(module).register(sub)
    return ap


def _terminate(signum, frame) -> None:
    """SIGTERM (a job scheduler's kill, `kill PID`) unwinds like Ctrl-C, so process pools shut
    their workers down instead of leaving them running."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    try:
        return args.func(args)
    except ConfigError as e:
        print(f"cscsim: error: {one_line(str(e))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into head and closed early
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("cscsim: interrupted; no result files written (a sweep or a compare keeps its "
              "finished runs: run it again with --resume to complete it)", file=sys.stderr)
        return 130
    except Exception as e:
        # A bug, not a mistake of the user's: still one line (exit 1), with the traceback kept
        # for the report instead of printed over the user's terminal.
        if os.environ.get("CSCSIM_TRACEBACK"):
            raise
        report = _save_traceback(e)
        print(f"cscsim: internal error: {type(e).__name__}: {one_line(str(e))[:300]} (a bug in "
              f"cscsim; traceback saved to {report}; please report it)", file=sys.stderr)
        return 1


def _save_traceback(e: BaseException) -> str:
    import tempfile
    import traceback

    try:
        fd, path = tempfile.mkstemp(prefix="cscsim-traceback-", suffix=".txt")
        with os.fdopen(fd, "w") as fh:
            fh.write("".join(traceback.format_exception(e)))
        return path
    except OSError:
        return "nowhere (the temporary folder is not writable)"


if __name__ == "__main__":
    sys.exit(main())
